"""The official OpenLineage Python client, configured with its HTTP transport, reports a run to
a live server unchanged — as Airflow, Spark and dbt integrations would — and the run is in the
graph, joined to the model trained on its output."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import schema_dataset
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

import cairn
from tests.live import served_registry

PRODUCER = "https://github.com/acme/pipelines"


def emit(client: OpenLineageClient, state: RunState, run_id: str) -> None:
    columns = [schema_dataset.SchemaDatasetFacetFields(name="amount", type="DOUBLE")]
    client.emit(
        RunEvent(
            eventType=state,
            eventTime=datetime.now(UTC).isoformat(),
            run=Run(runId=run_id),
            job=Job(namespace="airflow", name="fraud.build_features"),
            inputs=[InputDataset(namespace="postgres://db:5432", name="sales.public.orders")],
            outputs=[
                OutputDataset(
                    namespace="s3://lake",
                    name="features/fraud",
                    facets={"schema": schema_dataset.SchemaDatasetFacet(fields=columns)},
                )
            ],
            producer=PRODUCER,
        )
    )


def test_the_official_client_reports_a_run_into_the_graph(tmp_path: Path) -> None:
    with served_registry(tmp_path) as (url, token, _):
        transport = HttpTransport(HttpConfig(url=url, auth=ApiKeyTokenProvider({"apiKey": token})))
        client = OpenLineageClient(transport=transport)
        run_id = str(uuid.uuid4())
        try:
            emit(client, RunState.START, run_id)
            emit(client, RunState.COMPLETE, run_id)
        finally:
            client.close()
        registry = cairn.connect(url, token=token)
        graph = registry.lineage(f"ol-run:{run_id}")
        nodes = {n.id: n for n in graph.nodes}
        assert nodes[f"ol-run:{run_id}"].attributes["state"] == "COMPLETE"
        assert {
            "ol-job:airflow/fraud.build_features",
            "ol-dataset:postgres://db:5432/sales.public.orders",
            "ol-dataset:s3://lake/features/fraud",
        } <= nodes.keys()
        # A model names the pipeline's output as its training data; the graph joins them, so
        # a bad source table reaches the model.
        registry.create_dataset(
            "fraud/features", external_ids={"openlineage": "s3://lake/features/fraud"}
        )
        registry.add_dataset_version("fraud/features", uri="s3://lake/features/fraud/1")
        registry.register_version(
            "fraud/churn",
            "s3://models/churn/1",
            "sha256:" + "a" * 64,
            inputs=["dataset:fraud/features@1"],
        )
        impact = registry.impact("ol-dataset:postgres://db:5432/sales.public.orders")
        assert [v.id for v in impact.versions] == ["model:fraud/churn@1"]
        assert impact.versions[0].via == ["read_by", "produced", "versioned_as", "trained"]
        registry.close()


def test_the_endpoint_refuses_an_invalid_event_with_a_problem(tmp_path: Path) -> None:
    import httpx

    with served_registry(tmp_path) as (url, token, _):
        refused = httpx.post(
            f"{url}/api/v1/lineage",
            json={
                "eventType": "START",
                "eventTime": "2026-01-01T00:00:00Z",
                "run": {},
                "job": {"namespace": "a", "name": "b"},
                "producer": PRODUCER,
                "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert "runId" in refused.json()["detail"]
        anonymous = httpx.post(f"{url}/api/v1/lineage", json={})
        assert anonymous.status_code == 401


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
