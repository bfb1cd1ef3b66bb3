from __future__ import annotations

from cairn.local import LocalRegistry

DIGEST = "sha256:" + "a" * 64


def test_register_and_read_back(registry: LocalRegistry) -> None:
    registry.create_team("fraud")
    registry.create_model("fraud/churn")
    version = registry.register_version("fraud/churn", "s3://b/churn/1", DIGEST, tags=["gbm"])
    assert version.id == "model:fraud/churn@1"
    assert registry.get_version("fraud/churn@1").tags == ["gbm"]
    assert registry.check_log().ok
