# ruff: noqa: E501  (one row per line keeps the data tables readable and diffable)
"""The demo's fixed tables: teams, environments, datasets, feature views and models.

Plain data, no registry calls: :mod:`cairn.demo.seed` turns these into a plan (with seeded
randomness for versions, dates and metrics) and then into registry writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TeamInfo:
    name: str
    display_name: str
    description: str
    repository: str
    regions: tuple[str, ...]


@dataclass(frozen=True)
class EnvironmentInfo:
    name: str
    stage: str
    description: str
    python: str
    cuda: str | None = None
    accelerator: str | None = None
    accelerators: int = 0
    memory_gb: float = 16.0


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset; ``fields`` grow by one per version after the first ``base`` ones."""

    ref: str
    description: str
    fields: tuple[tuple[str, str], ...]
    versions: int
    base: int
    rows: int


@dataclass(frozen=True)
class FeatureViewInfo:
    ref: str
    description: str
    entities: tuple[str, ...]
    features: tuple[tuple[str, str], ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ModelInfo:
    """One model of the catalogue. ``status`` drives documentation, deployment and review."""

    team: str
    name: str
    task: str
    family: str
    framework: str
    risk: str
    purpose: str
    datasets: tuple[str, ...]
    feature_view: str | None = None
    status: str = "live"  # live | experimental | deprecated
    tags: tuple[str, ...] = field(default_factory=tuple)


TEAMS: tuple[TeamInfo, ...] = (
    TeamInfo(
        "fraud",
        "Fraud Detection",
        "Real-time scoring of card, transfer and account-takeover fraud.",
        "https://github.com/acme-ml/fraud-models",
        ("eu", "us"),
    ),
    TeamInfo(
        "credit-risk",
        "Credit Risk",
        "Probability-of-default, limit setting and collections models for consumer lending.",
        "https://github.com/acme-ml/credit-risk",
        ("eu",),
    ),
    TeamInfo(
        "growth",
        "Growth & Marketing",
        "Churn, lifetime value, propensity and uplift models for the customer lifecycle.",
        "https://github.com/acme-ml/growth-models",
        ("eu", "us"),
    ),
    TeamInfo(
        "search",
        "Search & Recommendations",
        "Query understanding, ranking and recommendation models for the storefront.",
        "https://github.com/acme-ml/search-ranking",
        ("us", "eu"),
    ),
    TeamInfo(
        "vision",
        "Computer Vision",
        "Document, identity and product-image models running on GPUs.",
        "https://github.com/acme-ml/vision",
        ("eu",),
    ),
    TeamInfo(
        "platform",
        "ML Platform",
        "Forecasting and infrastructure models that keep the serving fleet healthy.",
        "https://github.com/acme-ml/platform-models",
        ("us",),
    ),
)

ENVIRONMENTS: tuple[EnvironmentInfo, ...] = (
    EnvironmentInfo("dev", "development", "Shared notebooks and training cluster.", "3.11"),
    EnvironmentInfo(
        "training-gpu",
        "development",
        "Batch training on A100 nodes.",
        "3.11",
        cuda="12.1",
        accelerator="nvidia-a100",
        accelerators=4,
        memory_gb=320,
    ),
    EnvironmentInfo("staging-eu", "staging", "Pre-production, eu-west-1.", "3.11"),
    EnvironmentInfo("staging-us", "staging", "Pre-production, us-east-1.", "3.11"),
    EnvironmentInfo("prod-eu", "production", "Online serving, eu-west-1.", "3.11", memory_gb=64),
    EnvironmentInfo("prod-us", "production", "Online serving, us-east-1.", "3.11", memory_gb=64),
    EnvironmentInfo(
        "prod-eu-gpu",
        "production",
        "GPU serving for vision models, eu-west-1.",
        "3.11",
        cuda="12.1",
        accelerator="nvidia-l4",
        accelerators=1,
        memory_gb=96,
    ),
)

_TX = (
    ("transaction_id", "string"),
    ("account_id", "string"),
    ("amount", "decimal(18,2)"),
    ("currency", "string"),
    ("merchant_category", "string"),
    ("country", "string"),
    ("event_time", "timestamp"),
    ("is_fraud", "boolean"),
    ("device_fingerprint", "string"),
    ("ip_risk_score", "float"),
)
_APPS = (
    ("application_id", "string"),
    ("customer_id", "string"),
    ("income", "decimal(18,2)"),
    ("debt_to_income", "float"),
    ("bureau_score", "int"),
    ("employment_months", "int"),
    ("requested_amount", "decimal(18,2)"),
    ("defaulted_12m", "boolean"),
    ("open_credit_lines", "int"),
)
_CUSTOMERS = (
    ("customer_id", "string"),
    ("signup_date", "date"),
    ("country", "string"),
    ("plan", "string"),
    ("sessions_30d", "int"),
    ("orders_90d", "int"),
    ("revenue_365d", "decimal(18,2)"),
    ("churned_60d", "boolean"),
    ("support_tickets_90d", "int"),
)
_QUERIES = (
    ("query_id", "string"),
    ("query_text", "string"),
    ("locale", "string"),
    ("product_id", "string"),
    ("position", "int"),
    ("clicked", "boolean"),
    ("purchased", "boolean"),
    ("dwell_ms", "int"),
)
_IMAGES = (
    ("image_id", "string"),
    ("uri", "string"),
    ("width", "int"),
    ("height", "int"),
    ("label", "string"),
    ("bbox", "array<float>"),
    ("source", "string"),
)
_METRICS = (
    ("service", "string"),
    ("region", "string"),
    ("window_start", "timestamp"),
    ("requests", "bigint"),
    ("p99_latency_ms", "float"),
    ("cpu_cores", "float"),
    ("gpu_hours", "float"),
)

DATASETS: tuple[DatasetInfo, ...] = (
    DatasetInfo("fraud/card-transactions", "Card authorisations with chargeback labels.", _TX, 6, 8, 48_000_000),
    DatasetInfo("fraud/account-logins", "Login events with takeover labels.", _TX[:2] + _TX[5:], 4, 5, 9_500_000),
    DatasetInfo("credit-risk/loan-applications", "Consumer loan applications with 12-month outcomes.", _APPS, 5, 7, 2_100_000),
    DatasetInfo("credit-risk/bureau-snapshots", "Monthly credit bureau extracts.", _APPS[:2] + _APPS[4:], 4, 4, 6_800_000),
    DatasetInfo("growth/customer-activity", "Daily customer activity aggregates.", _CUSTOMERS, 6, 7, 31_000_000),
    DatasetInfo("growth/campaign-responses", "Campaign exposures and conversions.", _CUSTOMERS[:4] + _CUSTOMERS[6:], 3, 4, 4_200_000),
    DatasetInfo("search/click-logs", "Search impressions, clicks and purchases.", _QUERIES, 6, 6, 120_000_000),
    DatasetInfo("search/product-catalog", "Product titles, attributes and categories.", _QUERIES[3:], 4, 3, 3_400_000),
    DatasetInfo("vision/id-documents", "Labelled identity-document images.", _IMAGES, 4, 5, 850_000),
    DatasetInfo("vision/product-images", "Product photos with category labels.", _IMAGES, 3, 6, 2_700_000),
    DatasetInfo("platform/service-metrics", "Per-service request and resource metrics.", _METRICS, 5, 5, 75_000_000),
)  # fmt: skip

FEATURE_VIEWS: tuple[FeatureViewInfo, ...] = (
    FeatureViewInfo(
        "fraud/card-velocity",
        "Transaction counts and amounts over sliding windows per card.",
        ("account_id",),
        (("tx_count_1h", "int"), ("tx_amount_24h", "float"), ("distinct_merchants_7d", "int")),
        ("fraud/card-transactions",),
    ),
    FeatureViewInfo(
        "credit-risk/applicant-profile",
        "Applicant affordability and bureau features.",
        ("customer_id",),
        (("debt_to_income", "float"), ("bureau_score_bucket", "string"), ("utilisation", "float")),
        ("credit-risk/loan-applications", "credit-risk/bureau-snapshots"),
    ),
    FeatureViewInfo(
        "growth/engagement",
        "Recency, frequency and monetary features per customer.",
        ("customer_id",),
        (("days_since_last_order", "int"), ("sessions_7d", "int"), ("revenue_90d", "float")),
        ("growth/customer-activity",),
    ),
    FeatureViewInfo(
        "search/query-product",
        "Query-product click-through and conversion statistics.",
        ("query_id", "product_id"),
        (("ctr_30d", "float"), ("cvr_30d", "float"), ("impressions_30d", "int")),
        ("search/click-logs", "search/product-catalog"),
    ),
    FeatureViewInfo(
        "platform/service-load",
        "Request rate and latency aggregates per service.",
        ("service",),
        (("rps_p50_1h", "float"), ("latency_p99_1h", "float"), ("cpu_per_request", "float")),
        ("platform/service-metrics",),
    ),
)

_F, _CR, _G, _S, _V, _P = "fraud", "credit-risk", "growth", "search", "vision", "platform"
_TXD, _LOG = ("fraud/card-transactions",), ("fraud/account-logins",)
_APP, _BUR = "credit-risk/loan-applications", "credit-risk/bureau-snapshots"
_ACT, _CMP = (
    ("growth/customer-activity",),
    ("growth/customer-activity", "growth/campaign-responses"),
)
_CLK, _CAT = ("search/click-logs",), ("search/click-logs", "search/product-catalog")
_IDS, _PIMG = ("vision/id-documents",), ("vision/product-images",)
_SVC = ("platform/service-metrics",)

MODELS: tuple[ModelInfo, ...] = (
    ModelInfo(_F, "card-fraud-gbm", "classification", "gradient-boosting", "xgboost", "high", "Score card authorisations for fraud in real time.", _TXD, "fraud/card-velocity", tags=("realtime", "pci")),
    ModelInfo(_F, "card-fraud-deep", "classification", "neural-network", "pytorch", "high", "Sequence model over a card's recent transactions.", _TXD, "fraud/card-velocity", "experimental", ("realtime",)),
    ModelInfo(_F, "ato-detector", "classification", "gradient-boosting", "lightgbm", "high", "Detect account takeover at login.", _LOG, tags=("realtime",)),
    ModelInfo(_F, "merchant-risk", "classification", "logistic-regression", "scikit-learn", "limited", "Rate merchants for onboarding risk.", _TXD, tags=("batch",)),
    ModelInfo(_F, "chargeback-forecast", "regression", "gradient-boosting", "lightgbm", "minimal", "Forecast weekly chargeback volume for reserves.", _TXD, tags=("batch", "finance")),
    ModelInfo(_F, "transfer-anomaly", "anomaly-detection", "isolation-forest", "scikit-learn", "high", "Flag unusual outgoing transfers for review.", _TXD, tags=("realtime",)),
    ModelInfo(_F, "mule-account-graph", "classification", "graph-neural-network", "pytorch", "high", "Find money-mule accounts from transfer graphs.", _TXD, status="deprecated", tags=("batch",)),
    ModelInfo(_F, "device-reputation", "classification", "random-forest", "scikit-learn", "limited", "Score device fingerprints for reuse across accounts.", _LOG, tags=("realtime",)),
    ModelInfo(_CR, "pd-retail", "classification", "logistic-regression", "scikit-learn", "high", "Probability of default within 12 months for retail loans.", (_APP, _BUR), "credit-risk/applicant-profile", tags=("regulated", "irb")),
    ModelInfo(_CR, "pd-retail-challenger", "classification", "gradient-boosting", "xgboost", "high", "Challenger to pd-retail with bureau trend features.", (_APP, _BUR), "credit-risk/applicant-profile", "experimental", ("regulated",)),
    ModelInfo(_CR, "lgd-mortgage", "regression", "beta-regression", "statsmodels", "high", "Loss given default for mortgages.", (_APP,), tags=("regulated", "irb")),
    ModelInfo(_CR, "credit-limit", "regression", "gradient-boosting", "lightgbm", "high", "Recommend initial credit limits.", (_APP, _BUR), "credit-risk/applicant-profile", tags=("regulated",)),
    ModelInfo(_CR, "collections-priority", "ranking", "gradient-boosting", "xgboost", "limited", "Prioritise accounts in early collections.", (_BUR,), tags=("batch",)),
    ModelInfo(_CR, "affordability-nlp", "classification", "transformer", "transformers", "high", "Classify income documents for affordability checks.", (_APP,), status="deprecated"),
    ModelInfo(_CR, "early-warning", "classification", "survival-analysis", "lifelines", "limited", "Warn of deteriorating borrowers 90 days ahead.", (_BUR,), tags=("batch",)),
    ModelInfo(_G, "churn-predictor", "classification", "gradient-boosting", "lightgbm", "limited", "Predict subscription churn in the next 60 days.", _ACT, "growth/engagement", tags=("batch", "crm")),
    ModelInfo(_G, "ltv-estimator", "regression", "gradient-boosting", "xgboost", "minimal", "Estimate 365-day customer lifetime value.", _ACT, "growth/engagement", tags=("batch",)),
    ModelInfo(_G, "uplift-email", "uplift-modeling", "meta-learner", "causalml", "minimal", "Choose who benefits from a retention email.", _CMP, tags=("crm",)),
    ModelInfo(_G, "next-best-offer", "ranking", "contextual-bandit", "vowpal-wabbit", "limited", "Pick the next offer to show in the app.", _CMP, tags=("realtime",)),
    ModelInfo(_G, "propensity-upgrade", "classification", "logistic-regression", "scikit-learn", "minimal", "Propensity to upgrade to a paid plan.", _ACT, "growth/engagement"),
    ModelInfo(_G, "winback-timing", "regression", "survival-analysis", "lifelines", "minimal", "When to contact a lapsed customer.", _ACT, status="experimental"),
    ModelInfo(_G, "referral-fraud", "classification", "random-forest", "scikit-learn", "limited", "Catch abuse of referral bonuses.", _CMP, tags=("batch",)),
    ModelInfo(_G, "push-send-time", "regression", "gradient-boosting", "lightgbm", "minimal", "Best hour to send push notifications.", _ACT, status="deprecated"),
    ModelInfo(_S, "query-ranker", "ranking", "learning-to-rank", "lightgbm", "limited", "Rank products for a search query.", _CAT, "search/query-product", tags=("realtime", "tier-1")),
    ModelInfo(_S, "query-ranker-bert", "ranking", "transformer", "pytorch", "limited", "Cross-encoder re-ranker for the top 50 results.", _CAT, "search/query-product", "experimental", ("realtime",)),
    ModelInfo(_S, "query-classifier", "classification", "transformer", "transformers", "minimal", "Map queries to product categories.", _CLK, tags=("realtime",)),
    ModelInfo(_S, "spell-corrector", "sequence-to-sequence", "transformer", "pytorch", "minimal", "Correct misspelt queries.", _CLK),
    ModelInfo(_S, "related-products", "recommendation", "matrix-factorization", "implicit", "minimal", "Recommend products bought together.", _CAT, tags=("batch",)),
    ModelInfo(_S, "home-feed", "recommendation", "two-tower", "tensorflow", "limited", "Personalised home-page feed.", _CAT, "search/query-product", tags=("realtime", "tier-1")),
    ModelInfo(_S, "autocomplete", "language-modeling", "n-gram", "kenlm", "minimal", "Suggest query completions.", _CLK, status="deprecated"),
    ModelInfo(_S, "product-embeddings", "embedding", "contrastive-learning", "pytorch", "minimal", "Embed products for retrieval.", _CAT, tags=("batch",)),
    ModelInfo(_V, "id-document-classifier", "image-classification", "convolutional-network", "pytorch", "high", "Recognise identity-document type and issuing country.", _IDS, tags=("kyc", "gpu")),
    ModelInfo(_V, "face-match", "verification", "siamese-network", "pytorch", "high", "Match a selfie to the photo on an identity document.", _IDS, tags=("kyc", "biometric", "gpu")),
    ModelInfo(_V, "document-ocr", "optical-character-recognition", "transformer", "pytorch", "limited", "Read fields from identity documents.", _IDS, tags=("kyc", "gpu")),
    ModelInfo(_V, "liveness-check", "classification", "convolutional-network", "onnx", "high", "Detect presentation attacks in selfie videos.", _IDS, status="experimental", tags=("kyc", "biometric")),
    ModelInfo(_V, "product-tagger", "image-classification", "vision-transformer", "pytorch", "minimal", "Tag product photos with attributes.", _PIMG, tags=("batch", "gpu")),
    ModelInfo(_V, "image-quality", "regression", "convolutional-network", "tensorflow", "minimal", "Score product-photo quality for sellers.", _PIMG, status="deprecated"),
    ModelInfo(_V, "logo-detector", "object-detection", "yolo", "pytorch", "limited", "Find brand logos for counterfeit review.", _PIMG, tags=("gpu",)),
    ModelInfo(_P, "capacity-forecast", "forecasting", "gradient-boosting", "lightgbm", "minimal", "Forecast request volume per service for autoscaling.", _SVC, "platform/service-load", tags=("batch",)),
    ModelInfo(_P, "latency-anomaly", "anomaly-detection", "isolation-forest", "scikit-learn", "minimal", "Detect latency regressions after releases.", _SVC, "platform/service-load", tags=("realtime",)),
    ModelInfo(_P, "gpu-cost-forecast", "forecasting", "prophet", "prophet", "minimal", "Forecast monthly GPU spend.", _SVC, tags=("finance",)),
    ModelInfo(_P, "incident-triage", "classification", "transformer", "transformers", "minimal", "Route incident tickets to the owning team.", _SVC, status="experimental"),
    ModelInfo(_P, "autoscaler-policy", "reinforcement-learning", "policy-gradient", "ray-rllib", "limited", "Choose replica counts ahead of load.", _SVC, "platform/service-load", tags=("realtime",)),
    ModelInfo(_P, "log-parser", "sequence-labeling", "conditional-random-field", "scikit-learn", "minimal", "Extract fields from unstructured service logs.", _SVC, tags=("batch",)),
)  # fmt: skip

#: PEP 508 requirements per framework; the seed picks a version window by training date.
LIBRARIES: dict[str, tuple[str, ...]] = {
    "xgboost": ("xgboost>=2.0,<2.2", "numpy>=1.26,<3", "pandas>=2.1,<3", "scikit-learn>=1.4,<1.6"),
    "lightgbm": ("lightgbm>=4.1,<4.6", "numpy>=1.26,<3", "pandas>=2.1,<3"),
    "scikit-learn": ("scikit-learn>=1.4,<1.6", "numpy>=1.26,<3", "scipy>=1.11", "joblib>=1.3"),
    "pytorch": ("torch>=2.2,<2.6", "torchvision>=0.17", "numpy>=1.26,<3"),
    "tensorflow": ("tensorflow>=2.15,<2.18", "numpy>=1.26,<2"),
    "transformers": ("transformers>=4.40,<4.47", "torch>=2.2,<2.6", "tokenizers>=0.19"),
    "statsmodels": ("statsmodels>=0.14,<0.15", "numpy>=1.26,<3", "pandas>=2.1,<3"),
    "lifelines": ("lifelines>=0.28", "pandas>=2.1,<3"),
    "causalml": ("causalml>=0.15", "scikit-learn>=1.4,<1.6", "xgboost>=2.0,<2.2"),
    "vowpal-wabbit": ("vowpalwabbit>=9.9",),
    "implicit": ("implicit>=0.7", "scipy>=1.11"),
    "kenlm": ("kenlm>=0.2",),
    "onnx": ("onnxruntime-gpu>=1.17,<1.20", "numpy>=1.26,<2"),
    "prophet": ("prophet>=1.1.5", "pandas>=2.1,<3"),
    "ray-rllib": ("ray[rllib]>=2.9,<2.40", "torch>=2.2,<2.6", "gymnasium>=0.29"),
}
GPU_FRAMEWORKS = frozenset({"pytorch", "tensorflow", "transformers", "onnx"})

METRICS: dict[str, tuple[tuple[str, float, float], ...]] = {
    # task -> (metric name, typical value, spread); lower-is-better metrics have spread < 0
    "classification": (("auc", 0.88, 0.08), ("f1", 0.71, 0.1), ("precision_at_1pct", 0.62, 0.15)),
    "regression": (("rmse", 12.0, -4.0), ("mae", 8.0, -3.0), ("r2", 0.74, 0.1)),
    "ranking": (("ndcg@10", 0.52, 0.08), ("mrr", 0.44, 0.08)),
    "recommendation": (("recall@50", 0.31, 0.06), ("ndcg@10", 0.27, 0.05)),
    "forecasting": (("mape", 0.09, -0.04), ("coverage_p90", 0.88, 0.05)),
    "anomaly-detection": (("auc", 0.83, 0.08), ("precision_at_100", 0.55, 0.15)),
    "object-detection": (("map_50", 0.71, 0.08), ("recall", 0.78, 0.06)),
    "image-classification": (("accuracy", 0.93, 0.04), ("macro_f1", 0.88, 0.05)),
}
DEFAULT_METRICS = (("accuracy", 0.86, 0.06), ("loss", 0.35, -0.1))
