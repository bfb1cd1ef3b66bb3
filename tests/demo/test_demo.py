"""The demo seeds a realistic registry through the SDK and leaves a sound log behind."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PIL import Image
from typer.testing import CliRunner

from cairn.cli.app import main
from cairn.core.metadata import Metric
from cairn.demo import DEMO_TODAY, DemoSummary, seed
from cairn.local import LocalRegistry

Seeded = tuple[LocalRegistry, DemoSummary, list[tuple[str, int, int]]]


def key(metric: Metric) -> tuple[str, str | None, str]:
    return metric.key


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    registry = LocalRegistry.open(str(tmp_path_factory.mktemp("demo")), actor="user:demo")
    calls: list[tuple[str, int, int]] = []
    summary = seed(registry, progress=lambda what, done, total: calls.append((what, done, total)))
    yield registry, summary, calls
    registry.close()


def test_acceptance_counts(seeded: Seeded) -> None:
    registry, summary, _ = seeded
    assert summary.teams >= 5
    assert summary.models >= 40
    assert summary.versions >= 300
    assert summary.datasets >= 5
    assert summary.dataset_versions > summary.datasets
    assert summary.feature_views >= 1
    assert summary.feature_view_versions > summary.feature_views
    assert summary.environments >= 4
    assert summary.deployments > 0
    assert summary.evaluations > 0
    assert len(registry.list_teams()) == summary.teams
    models = registry.list_models(limit=1000)
    assert len(models) == summary.models
    assert sum(m.latest_version for m in models) == summary.versions


def test_runs_of_both_kinds(seeded: Seeded) -> None:
    registry, summary, _ = seeded
    runs = registry.list_runs(limit=1000)
    assert len(runs) == summary.runs
    kinds = {str(r.kind) for r in runs}
    assert kinds == {"training", "evaluation"}
    assert all(r.code is not None and r.code.commit for r in runs)


def test_models_carry_documentation_and_review_dates(
    seeded: Seeded,
) -> None:
    registry, _, _ = seeded
    models = registry.list_models(limit=1000)
    assert len({m.team for m in models}) >= 5
    assert all(m.task and m.framework and m.risk_class and m.contact for m in models)
    assert any(m.documentation.out_of_scope_uses and m.documentation.limitations for m in models)
    dues = [m.review_due for m in models if m.review_due]
    assert any(d < DEMO_TODAY for d in dues)
    assert any(d > DEMO_TODAY for d in dues)


def test_versions_carry_lineage_and_dependencies(
    seeded: Seeded,
) -> None:
    registry, _, _ = seeded
    version = registry.get_version("fraud/card-fraud-gbm@2")
    assert version.digest.startswith("sha256:")
    assert version.artifact_uri.startswith("s3://")
    assert version.run is not None
    assert version.inputs and version.inputs[0].digest
    assert version.dependencies.libraries and version.dependencies.runtime.python
    assert any(m.slice.startswith("region=") and m.dataset for m in version.metrics)


def test_deployments_in_staging_and_production(
    seeded: Seeded,
) -> None:
    registry, _, _ = seeded
    stages = {e.name: str(e.stage) for e in registry.list_environments()}
    deployed = {d.environment for d in registry.list_deployments(limit=1000)}
    deployed_stages = {stages[e.removeprefix("environment:")] for e in deployed}
    assert {"staging", "production"} <= deployed_stages


def test_serving_changes_over_time(seeded: Seeded) -> None:
    registry, _, _ = seeded
    then = registry.serving("prod-eu", datetime(2025, 6, 1, tzinfo=UTC))
    later = registry.serving("prod-eu", datetime(2026, 10, 1, tzinfo=UTC))
    assert then
    assert {s.version.id for s in then} != {s.version.id for s in later}


def test_log_is_sound_and_progress_reported(
    seeded: Seeded,
) -> None:
    registry, _, calls = seeded
    assert registry.check_log().ok
    assert calls
    assert calls[-1][1] == calls[-1][2]
    assert [done for _, done, _ in calls] == sorted(done for _, done, _ in calls)


def test_seed_is_deterministic(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> None:
    registry, summary, _ = seeded
    with LocalRegistry.open(str(tmp_path_factory.mktemp("again")), actor="user:demo") as other:
        assert seed(other) == summary
        for ref in ("growth/churn-predictor@3", "vision/face-match@1"):
            a, b = registry.get_version(ref), other.get_version(ref)
            # The store orders metrics of one registration by evaluation id (random), so sort.
            assert sorted(a.metrics, key=key) == sorted(b.metrics, key=key)
            assert (a.digest, a.inputs) == (b.digest, b.inputs)


def test_production_is_reached_through_reviewed_requests(seeded: Seeded) -> None:
    registry, summary, _ = seeded
    assert summary.policies == 2 * summary.teams
    assert [p.id for p in registry.list_policies("fraud")] == [
        "policy:fraud/high-risk@1",
        "policy:fraud/production-gate@1",
    ]
    requests = registry.list_transitions(limit=1000)
    assert len(requests) == summary.transition_requests
    approved = [r for r in requests if r.status == "approved"]
    assert len(approved) == summary.aliases > 20
    for request in approved:
        people = {a.by for a in request.approvals}
        assert len(people) == request.approvals_needed
        assert request.requested_by not in people and "user:demo" not in people
        [alias] = registry.list_aliases(request.model)
        assert (alias.alias, alias.version) == ("production", request.version)
    assert len([r for r in requests if r.status == "pending"]) == 1
    [refused] = [r for r in requests if r.status == "refused"]
    assert {u.field for u in refused.unmet} == {
        "model.documentation.intended_use",
        "model.documentation.limitations",
    }


def test_lineage_pictures_of_a_demo_model_show_what_shaped_it(
    seeded: Seeded, tmp_path: Path
) -> None:
    """`cairn lineage show` draws a deployed demo version as SVG and PNG; the pictures are
    opened and their labels checked against the registry."""
    registry = seeded[0]
    deployed = registry.list_deployments()[0]
    version = registry.get_version(deployed.version)
    assert version.run and version.inputs
    expected = {
        version.id.split("/", 1)[1],  # churn@3
        version.run.split("/", 1)[1],  # the run's name
        *(i.id.split("/", 1)[1] for i in version.inputs),
        deployed.environment.removeprefix("environment:"),
    }
    svg_file, png_file = tmp_path / "lineage.svg", tmp_path / "lineage.png"
    for fmt, target in (("svg", svg_file), ("png", png_file)):
        with CliRunner().isolation(env={"CAIRN_ACTOR": "user:demo"}) as (_, err, _):
            args = ["--registry", registry.url, "lineage", "show", version.id]
            with pytest.raises(SystemExit) as ended:
                main([*args, "--format", fmt, "--output", str(target)])
            assert ended.value.code == 0, err.getvalue().decode()
    tree = ElementTree.parse(svg_file)
    texts = {t.text for t in tree.iter("{http://www.w3.org/2000/svg}text")}
    assert expected <= texts
    root = next(
        g for g in tree.iter("{http://www.w3.org/2000/svg}g") if g.get("data-id") == version.id
    )
    assert root.get("data-kind") == "model-version"
    with Image.open(png_file) as picture:
        picture.load()
        assert picture.width > 600 and picture.height > 100
        described = picture.info["Description"]
        colours = {colour for _, colour in picture.getcolors(maxcolors=1 << 16) or []}
    assert all(label in described for label in expected)
    # Every kind drawn has its own fill: the boxes are there, not just the text.
    assert {(0xDC, 0xFC, 0xE7), (0xDB, 0xEA, 0xFE), (0xFE, 0xF3, 0xC7)} <= colours
