"""Readiness: the engine's own check, and /health of the running stack (MongoDB, Redis, S3, models)."""

from __future__ import annotations

from pathlib import Path

from chalicelib.health import engine_health, service_health
from tests.api_client import Api


def test_engine_health_is_ok_when_the_models_load(model_dir: Path) -> None:
    status, body = engine_health(model_dir, "ensemble")
    assert status == 200 and body["checks"]["models"] == {"ok": True, "classifier": "ensemble+flip/1"}


def test_engine_health_is_503_with_a_reason_without_models(tmp_path: Path) -> None:
    status, body = engine_health(tmp_path, "ensemble")
    assert (
        status == 503
        and body["status"] == "unavailable"
        and "make models" in body["checks"]["models"]["error"]
    )


def test_service_health_names_the_failing_check() -> None:
    def broken() -> None:
        raise ConnectionError("refused")

    status, body = service_health({"redis": lambda: True, "mongodb": broken})
    assert status == 503
    assert body["checks"]["redis"] == {"ok": True}
    assert body["checks"]["mongodb"] == {"ok": False, "error": "ConnectionError"}  # no details in public


def test_health_of_the_running_stack(api: Api) -> None:
    response = api.call("GET", "/health")
    assert response.status_code == 200, response.text
    assert {name: check["ok"] for name, check in response.json()["checks"].items()} == {
        "mongodb": True,
        "redis": True,
        "s3": True,
        "models": True,
    }
