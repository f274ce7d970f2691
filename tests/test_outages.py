"""Redis or MongoDB stopped while the API runs: clear 503s with a JSON error, nothing changed, and recovery
as soon as the server is back (same port, same data)."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from devstack.stack import LocalStack
from tests.api_client import Account, Api


def _eventually(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def _unavailable(response: requests.Response) -> str:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "unavailable" and error["message"]
    return str(error["message"])


def test_redis_down_is_503_and_the_api_recovers(api: Api, account: Account, stack: LocalStack) -> None:
    stack.redis.stop()
    try:
        _unavailable(api.call("GET", "/videos", account))  # the authorizer cannot read the denylist
        assert "Redis" in _unavailable(
            api.call("POST", "/auth/login", json={"email": account.email, "password": account.password})
        )
        assert "Redis" in _unavailable(
            api.call("POST", "/auth/refresh", json={"refresh_token": account.refresh_token})
        )
        health = api.call("GET", "/health")
        assert health.status_code == 503 and health.json()["checks"]["redis"]["ok"] is False
        assert health.json()["checks"]["mongodb"]["ok"] is True
    finally:
        stack.redis.start()
    assert _eventually(lambda: api.call("GET", "/videos", account).status_code == 200)
    # the session survived the restart: the refresh token still works, exactly once
    assert api.call("POST", "/auth/refresh", json={"refresh_token": account.refresh_token}).status_code == 200


def test_mongodb_down_is_503_and_the_api_recovers(api: Api, account: Account, stack: LocalStack) -> None:
    created = api.call(
        "POST",
        "/videos",
        account,
        json={"filename": "a.mp4", "content_type": "video/mp4", "size": 10, "consent": api.consent()},
    )
    assert created.status_code == 201
    stack.mongo.stop()
    try:
        assert "MongoDB" in _unavailable(api.call("GET", "/videos", account))
        assert "MongoDB" in _unavailable(api.call("GET", "/auth/me", account))
        assert "MongoDB" in _unavailable(
            api.call(
                "POST",
                "/videos",
                account,
                json={"filename": "b.mp4", "content_type": "video/mp4", "size": 9, "consent": api.consent()},
            )
        )
        health = api.call("GET", "/health")
        assert health.status_code == 503 and health.json()["checks"]["mongodb"]["ok"] is False
    finally:
        stack.mongo.start()
    assert _eventually(lambda: api.call("GET", "/videos", account).status_code == 200)
    items = api.call("GET", "/videos", account).json()["items"]
    assert [v["filename"] for v in items] == ["a.mp4"], (
        "the video created before survived; none was half-made"
    )
    assert api.call("GET", "/health").status_code == 200


def test_health_names_the_failure_without_internals(api: Api, stack: LocalStack) -> None:
    stack.redis.stop()
    try:
        check = api.call("GET", "/health").json()["checks"]["redis"]
    finally:
        stack.redis.start()
    assert check["ok"] is False and check["error"].endswith("Error") and "127.0.0.1" not in check["error"]
