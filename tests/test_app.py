"""The Chalice app's health route, through Chalice's own test client (the real routing and serialisation)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chalice.test import Client

from app import app


def test_health_is_ok_when_the_models_load(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOTIONFY_MODEL_DIR", str(model_dir))
    with Client(app) as client:
        response = client.http.get("/health")
    assert response.status_code == 200
    assert json.loads(response.body)["checks"]["models"] == {"ok": True, "classifier": "ensemble+flip/1"}


def test_health_is_503_with_a_reason_without_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOTIONFY_MODEL_DIR", str(tmp_path))
    with Client(app) as client:
        response = client.http.get("/health")
    body = json.loads(response.body)
    assert response.status_code == 503
    assert body["status"] == "unavailable" and "make models" in body["checks"]["models"]["error"]
