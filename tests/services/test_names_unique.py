"""One model per canonical name: lookalike spellings of ``fraud/churn`` are refused."""

from __future__ import annotations

import pytest
from tests.core.test_names import LOOKALIKES

from cairn.core.errors import Conflict, ValidationFailed
from cairn.local import LocalRegistry


@pytest.fixture
def churn(registry: LocalRegistry) -> LocalRegistry:
    registry.create_team("fraud")
    registry.create_model("fraud/churn", task="classification")
    return registry


@pytest.mark.parametrize("name", LOOKALIKES, ids=repr)
def test_lookalike_model_names_are_refused(churn: LocalRegistry, name: str) -> None:
    head = churn.log_head()
    with pytest.raises(ValidationFailed) as info:
        churn.create_model(f"fraud/{name}")
    assert info.value.rule in {"name", "namespaced"}
    assert [m.id for m in churn.list_models()] == ["model:fraud/churn"]
    assert churn.log_head() == head


@pytest.mark.parametrize("team", ["Fraud", "\uff46raud", "fraud\u200b", "fraud%20"], ids=repr)
def test_lookalike_team_names_are_refused(churn: LocalRegistry, team: str) -> None:
    with pytest.raises(ValidationFailed):
        churn.create_model(f"{team}/churn")
    with pytest.raises(ValidationFailed):
        churn.create_team(team)
    assert [t.name for t in churn.list_teams()] == ["fraud"]
    assert len(churn.list_models()) == 1


def test_creating_the_same_model_twice_conflicts(churn: LocalRegistry) -> None:
    head = churn.log_head()
    with pytest.raises(Conflict):
        churn.create_model("fraud/churn")
    assert len(churn.list_models()) == 1
    assert churn.log_head() == head
    assert churn.get_model("fraud/churn").task == "classification"


def test_lookalike_suggestion_reaches_the_caller(churn: LocalRegistry) -> None:
    with pytest.raises(ValidationFailed) as info:
        churn.create_model("fraud/Churn")
    assert "did you mean 'churn'" in info.value.diagnostics()
