"""Erasing an account over real HTTP against the local stack: the password is asked again (through the
sign-in limiter), every token dies at once, a running analysis is stopped, and afterwards nothing of the
user is left in S3 (any version), MongoDB (any collection) or Redis (any key or value)."""

from __future__ import annotations

import logging
import time
from typing import Any, cast

import pytest
import redis

from chalicelib.auth.ratelimit import LoginLimiter
from devstack.stack import LocalStack
from tests.api_client import Account, Api
from tests.synthetic import VIDEOS_DIR

SHORT = VIDEOS_DIR / "openmpf_face_video_01.mp4"  # 3 s
LONG = VIDEOS_DIR / "liveportrait_driving_d6.mp4"  # 33.6 s: 7 segments, still running when erased


def _s3_traces(stack: LocalStack, needles: list[str]) -> list[str]:
    found = []
    s3 = stack.client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=stack.bucket):
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            if any(n in entry["Key"] for n in needles):
                found.append(entry["Key"])
    return found


def _mongo_traces(needles: list[str]) -> list[str]:
    from chalicelib.deps import deps

    db = deps().db
    return [
        f"{name}: {document.get('_id')}"
        for name in db.list_collection_names()
        for document in db[name].find()
        if any(n in repr(document) for n in needles)
    ]


def _redis_value(client: redis.Redis, key: bytes) -> Any:
    kind = cast(bytes, client.type(key)).decode()
    read = {
        "string": client.get,
        "hash": client.hgetall,
        "set": client.smembers,
        "list": lambda k: client.lrange(k, 0, -1),
        "zset": lambda k: client.zrange(k, 0, -1),
    }
    return read[kind](key) if kind in read else None


def _redis_traces(stack: LocalStack, needles: list[str]) -> list[str]:
    client = redis.Redis.from_url(stack.redis.url)
    found = []
    for key in client.scan_iter(count=1000):
        text = repr(key) + repr(_redis_value(client, key))
        if any(n in text for n in needles):
            found.append(key.decode())
    return found


def _status(api: Api, account: Account, video_id: str) -> str:
    return str(api.call("GET", f"/videos/{video_id}", account).json()["status"])


def _wait_for(check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return value


def test_erasing_an_account_leaves_nothing_of_the_user_in_any_store(
    api: Api, stack: LocalStack, caplog: pytest.LogCaptureFixture
) -> None:
    owner = api.new_account()
    other_session = api.call("POST", "/auth/login", json={"email": owner.email, "password": owner.password})
    assert other_session.status_code == 200
    other_tokens = other_session.json()

    analysed = api.upload(owner, SHORT, title="erase me")
    assert api.wait(owner, analysed)["status"] == "done"
    pending = api.create_video(owner, SHORT, title="never uploaded")["video"]["id"]
    assert api.call("GET", "/account/export?videos=true", owner).status_code == 200
    assert api.call("GET", "/stats", owner).status_code == 200  # a cached answer in Redis
    running = api.upload(owner, LONG, title="still running")
    assert _wait_for(lambda: _status(api, owner, running) == "processing")
    needles = [owner.user_id, owner.email, analysed, pending, running]
    assert _s3_traces(stack, needles) and _mongo_traces(needles) and _redis_traces(stack, needles), (
        "the checks below would see the user's data"
    )

    missing = api.call("DELETE", "/account", owner)
    wrong = api.call("DELETE", "/account", owner, json={"password": "not the password at all"})
    for refused in (missing, wrong):
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_credentials"
    assert api.call("GET", "/auth/me", owner).status_code == 200, "a refusal changes nothing"

    sfn = stack.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    (execution,) = [e for e in executions if e["name"].startswith(running)]
    arn = execution["executionArn"]
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"

    with caplog.at_level(logging.INFO, logger="emotionfy"):
        erased = api.call("DELETE", "/account", owner, json={"password": owner.password})
    assert erased.status_code == 204, erased.text
    (report,) = [r for r in caplog.records if r.getMessage() == "account erased"]
    counts = {k: getattr(report, k) for k in ("sessions", "executions_stopped", "videos", "analyses")}
    assert counts == {"sessions": 2, "executions_stopped": 1, "videos": 3, "analyses": 1}, counts
    # StopExecution was called on the running analysis. moto marks it ABORTED but lets its thread run on
    # to the next step, which ends as VideoGone and may write another status: it ends, one way or another.
    assert _wait_for(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING")
    # The sign-in limiter's counts of the email (its wrong guesses above) are gone too.
    client = redis.Redis.from_url(stack.redis.url)
    limiter = LoginLimiter.keys(owner.email, "127.0.0.1")
    assert not client.exists(limiter["account"], limiter["account_wait"], limiter["email_ip"])

    # Every token of every sign-in is dead at once.
    assert api.call("GET", "/auth/me", owner).status_code == 401
    other = {"Authorization": f"Bearer {other_tokens['access_token']}"}
    assert api.call("GET", "/videos", headers=other).status_code == 401
    for refresh in (owner.refresh_token, other_tokens["refresh_token"]):
        assert api.call("POST", "/auth/refresh", json={"refresh_token": refresh}).status_code == 401
    login = api.call("POST", "/auth/login", json={"email": owner.email, "password": owner.password})
    assert login.status_code == 401

    # The analysis wrote nothing after the erasure: a segment step mid-way ends as VideoGone.
    time.sleep(3)

    assert _s3_traces(stack, needles) == []
    assert _mongo_traces(needles) == []
    assert _redis_traces(stack, needles) == []


def test_erasing_needs_the_password_and_guesses_count_with_sign_in_failures(api: Api) -> None:
    account = api.new_account()
    for _ in range(5):  # EMOTIONFY_LOGIN_FAILURES_EMAIL: 5 per (email, IP) and window
        guess = api.call("DELETE", "/account", account, json={"password": "a wrong guess of it"})
        assert guess.status_code == 401 and guess.json()["error"]["code"] == "invalid_credentials"
    limited = api.call("DELETE", "/account", account, json={"password": account.password})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    login = api.call("POST", "/auth/login", json={"email": account.email, "password": account.password})
    assert login.status_code == 429, "one budget of guesses for the sign-in page and the erasure"
    assert api.call("GET", "/auth/me", account).status_code == 200, "the account is still there"
    assert api.call("DELETE", "/account").status_code == 401, "no token, no erasure"


def test_a_file_uploaded_after_the_erasure_through_an_earlier_url_is_removed(
    api: Api, stack: LocalStack
) -> None:
    """Upload URLs live 15 minutes: one handed out before an erasure still takes a file afterwards, and the
    upload handler removes it (its video no longer exists) instead of leaving a face video nobody owns."""
    owner = api.new_account()
    created = api.create_video(owner, SHORT, title="uploaded too late")
    video_id = str(created["video"]["id"])
    erased = api.call("DELETE", "/account", owner, json={"password": owner.password})
    assert erased.status_code == 204, erased.text
    response = api.post_upload(created, SHORT)
    assert response.status_code in (200, 201, 204), "the URL still works: S3 checks only its signature"
    assert _wait_for(lambda: not _s3_traces(stack, [owner.user_id, video_id]), timeout=30), _s3_traces(
        stack, [owner.user_id, video_id]
    )
    assert not _mongo_traces([owner.user_id, video_id]), "and no record comes back with it"
