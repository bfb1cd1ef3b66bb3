"""``GET /api/v1/lineage/prov``: a version's provenance as W3C PROV-JSON and PROV-N that the
reference implementation reads back as the document Cairn built from the same graph."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prov.model import ProvDocument, ProvGeneration, ProvUsage

import cairn
from cairn.core.prov import prov_document, qualified_name
from tests.live import served_registry


def test_a_version_s_provenance_as_prov_json_and_prov_n(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with served_registry(tmp_path) as (url, token, _):
        registry = cairn.connect(url, token=token)
        request.addfinalizer(registry.close)
        registry.create_dataset("fraud/tx")
        registry.add_dataset_version("fraud/tx", uri="s3://lake/tx/1")
        registry.create_run(
            "fraud/train-1",
            inputs=["dataset:fraud/tx@1"],
            code={"repository": "https://git.acme.example/fraud/churn", "commit": "abcdef1"},
        )
        registry.register_version(
            "fraud/churn",
            "s3://models/churn/1",
            "sha256:" + "1" * 64,
            metadata={"run": "run:fraud/train-1"},
            inputs=["dataset:fraud/tx@1"],
        )
        node = "model:fraud/churn@1"
        headers = {"Authorization": f"Bearer {token}"}
        api = f"{url}/api/v1/lineage/prov"
        as_json = httpx.get(api, params={"node": node}, headers=headers)
        assert as_json.status_code == 200, as_json.text
        assert as_json.headers["content-type"].startswith("application/json")
        read_back = ProvDocument.deserialize(content=as_json.text, format="json")
        expected = prov_document(registry.lineage(node, direction="upstream"))
        assert read_back == expected
        used = {(u.args[0], u.args[1]) for u in read_back.get_records(ProvUsage)}
        assert (qualified_name("run:fraud/train-1"), qualified_name("dataset:fraud/tx@1")) in used
        [generated] = read_back.get_records(ProvGeneration)
        assert generated.args[:2] == (
            qualified_name(node),
            qualified_name("run:fraud/train-1"),
        )

        as_n = httpx.get(api, params={"node": node, "format": "provn"}, headers=headers)
        assert as_n.status_code == 200
        assert as_n.headers["content-type"].startswith("text/provenance-notation")
        assert as_n.text.startswith("document") and as_n.text.rstrip().endswith("endDocument")
        assert "wasDerivedFrom(cairn:model\\:fraud/churn@1, cairn:dataset\\:fraud/tx@1" in as_n.text

        refused = httpx.get(api, params={"node": node, "format": "rdf"}, headers=headers)
        assert refused.status_code == 422
        assert refused.headers["content-type"].startswith("application/problem+json")
