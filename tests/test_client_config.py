"""The web app's /config.json: the API URL and the limits the API enforces, from the same settings."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from chalicelib.client_config import LIMIT_SETTINGS, client_limits, site_config
from chalicelib.settings import EngineSettings, ServiceSettings
from devstack.services import free_port
from devstack.site_server import SiteServer

API_URL = "http://127.0.0.1:8000"


def test_limits_are_the_settings_the_api_enforces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOTIONFY_MAX_UPLOAD_BYTES", "12345")
    monkeypatch.setenv("EMOTIONFY_MAX_VIDEO_SECONDS", "90")
    monkeypatch.setenv("EMOTIONFY_QUOTA_VIDEOS_PER_DAY", "7")
    limits = client_limits()
    assert limits == {
        "maxUploadBytes": 12345,
        "maxVideoMinutes": 1.5,
        "videosPerDay": 7,
        "storageBytes": ServiceSettings().quota_storage_bytes,
        "analysisMinutesPerDay": 180,
    }
    assert all(type(v) is int for k, v in limits.items() if k != "maxVideoMinutes"), "no 180.0"
    assert [k for k, _, _ in LIMIT_SETTINGS] == list(limits)
    for _, name, _ in LIMIT_SETTINGS:
        assert hasattr(ServiceSettings(), name) or hasattr(EngineSettings(), name), name


def test_the_site_server_serves_the_config_uncached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOTIONFY_MAX_UPLOAD_BYTES", "4096")
    (tmp_path / "index.html").write_text("<!doctype html><title>app</title>")
    site = SiteServer(free_port(), API_URL, directory=tmp_path)
    site.start()
    try:
        response = requests.get(site.url + "/config.json", timeout=10)
    finally:
        site.stop()
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == site_config(API_URL) and response.json()["limits"]["maxUploadBytes"] == 4096
