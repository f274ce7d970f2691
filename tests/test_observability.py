"""Log lines carry the context of the invocation that wrote them, and a 500 names its request.

The local stack runs API requests on many threads of one process while pipeline steps run on others, the
situation in which a request's warning once came out with a pipeline function's name and another video's
correlation id. Here requests to the API and to the authorizer are fired concurrently with a pipeline step,
and every captured JSON line must carry its own function's name and its own correlation id (API Gateway's
request id, which the local server also returns in `x-amzn-RequestId`), and never a video id unless it is a
pipeline step's line.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
import requests
from chalice.test import Client

from chalicelib.observability import logger
from devstack.api_server import API_FUNCTION, AUTHORIZER_FUNCTION, REQUEST_ID_HEADER
from devstack.stack import LocalStack
from tests.api_client import Api


@dataclass
class LambdaContext:
    """What Powertools reads from the Lambda runtime's context."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = ""


class _Lines(logging.Handler):
    """Every record of the Powertools logger, formatted by its own JSON formatter, parsed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        line = json.loads(logger.registered_formatter.format(record))
        with self._lock:
            self.lines.append(line)

    def where(self, **match: Any) -> list[dict[str, Any]]:
        return [line for line in self.lines if all(line.get(k) == v for k, v in match.items())]


@pytest.fixture
def lines() -> Iterator[_Lines]:
    capture = _Lines()
    level = logger.log_level
    logger.setLevel("INFO")  # the authorizer's refusals are INFO; the local stack runs at WARNING
    logger.addHandler(capture)
    try:
        yield capture
    finally:
        logger.handlers.remove(capture)
        logger.setLevel(level)


def _misbehaving_login(deps: Any, body: dict[str, Any], client_ip: str) -> Any:
    """A dependency of the login route that fails the way a bug does (not an ApiError, not an outage)."""
    raise RuntimeError(f"the session store returned garbage for {body['email']}")


def _app(stack: LocalStack) -> ModuleType:
    assert stack.app_module is not None
    return stack.app_module


def test_concurrent_requests_and_a_pipeline_step_log_with_their_own_context(
    stack: LocalStack, api: Api, lines: _Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(stack)
    monkeypatch.setattr(app.auth, "login", _misbehaving_login)
    requests_per_kind, steps = 8, 6
    start = threading.Barrier(2 * requests_per_kind + 1)
    video_ids = [uuid.uuid4().hex for _ in range(steps)]

    def crash(n: int) -> tuple[str, requests.Response]:
        email = f"crash-{n}-{uuid.uuid4().hex[:8]}@example.com"
        start.wait()
        return email, requests.post(
            f"{api.base_url}/auth/login", json={"email": email, "password": "irrelevant"}, timeout=30
        )

    def refused(n: int) -> requests.Response:
        start.wait()
        return requests.get(
            f"{api.base_url}/auth/me", headers={"Authorization": f"Bearer bogus.{n}"}, timeout=30
        )

    def pipeline() -> None:
        start.wait()
        for video_id in video_ids:  # one step after another, as a video's failure is handled
            event = {"video_id": video_id, "error": {"Error": "States.Timeout", "Cause": "{}"}}
            app.pipeline_mark_failed(event, LambdaContext(function_name="pipeline_mark_failed"))

    with ThreadPoolExecutor(max_workers=2 * requests_per_kind + 1) as pool:
        stepping = pool.submit(pipeline)
        crashes = [pool.submit(crash, n) for n in range(requests_per_kind)]
        refusals = [pool.submit(refused, n) for n in range(requests_per_kind)]
        stepping.result(timeout=120)
        crashed = [f.result(timeout=60) for f in crashes]
        refused_responses = [f.result(timeout=60) for f in refusals]

    # The API function: each forced 500 quotes its request id, logged under that id with its own traceback.
    for email, response in crashed:
        assert response.status_code == 500, response.text
        request_id = response.headers[REQUEST_ID_HEADER]
        error = response.json()["error"]
        assert error["code"] == "internal" and error["request_id"] == request_id, error
        (line,) = lines.where(correlation_id=request_id)
        assert line["function_name"] == API_FUNCTION and line["message"] == "unhandled error", line
        assert email in line["exception"], "the line of this request, not of a concurrent one"
        assert line["level"] == "ERROR" and line["function_request_id"]
        assert "video_id" not in line, line
    # The authorizer: one refusal per request, each under that request's id, with the authorizer's name.
    refused_ids = set()
    for response in refused_responses:
        assert response.status_code == 401, response.text
        refused_ids.add(response.headers[REQUEST_ID_HEADER])
    authorizer_lines = lines.where(function_name=AUTHORIZER_FUNCTION)
    assert sorted(line["correlation_id"] for line in authorizer_lines) == sorted(refused_ids)
    assert {line["message"] for line in authorizer_lines} == {"token refused"}
    # The pipeline step: its video, as key and correlation id, and only on its own lines.
    step_lines = lines.where(function_name="pipeline_mark_failed", message="analysis failed")
    assert sorted(line["video_id"] for line in step_lines) == sorted(video_ids)
    assert all(line["correlation_id"] == line["video_id"] for line in step_lines)
    for line in lines.lines:
        if line.get("function_name") in (API_FUNCTION, AUTHORIZER_FUNCTION):
            assert "video_id" not in line, line
            assert line["correlation_id"] in refused_ids | {r.headers[REQUEST_ID_HEADER] for _, r in crashed}
    assert len(lines.where(function_name=API_FUNCTION)) == requests_per_kind


def test_concurrent_health_checks_all_get_answers(api: Api) -> None:
    """64 connections at once: the local API's accept queue holds them (socketserver's default of 5 reset
    some), and each answer has its own request id."""

    def check(_: int) -> tuple[int, str]:
        response = requests.get(f"{api.base_url}/health", timeout=60)
        return response.status_code, response.headers[REQUEST_ID_HEADER]

    with ThreadPoolExecutor(max_workers=64) as pool:
        answers = list(pool.map(check, range(64)))
    assert [status for status, _ in answers] == [200] * 64
    assert len({request_id for _, request_id in answers}) == 64


# --- in process: Chalice's test client, no server ------------------------------------------------------


def test_a_500_quotes_the_id_it_is_logged_under_in_process(
    lines: _Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without API Gateway's request id in the event (Chalice's test client has none), the invocation's Lambda
    request id is the correlation id, and still the one the 500 quotes."""
    import app

    monkeypatch.setattr(app.auth, "login", _misbehaving_login)
    logger.append_keys(video_id="left-over-from-an-earlier-invocation")  # this thread's, to be cleared
    with Client(app.app) as client:
        response = client.http.post(
            "/auth/login",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"email": "ana@example.com", "password": "irrelevant"}),
        )
    assert response.status_code == 500
    error = json.loads(response.body)["error"]
    assert error["code"] == "internal" and error["request_id"]
    (line,) = lines.where(message="unhandled error")
    assert line["correlation_id"] == line["function_request_id"] == error["request_id"]
    assert "ana@example.com" in line["exception"] and "video_id" not in line


def _authorizer_event(token: str, **extra: Any) -> dict[str, Any]:
    """What API Gateway sends a TOKEN authorizer: no request context."""
    arn = "arn:aws:execute-api:us-east-1:123456789012:abc123/api/GET/auth/me"
    return {"type": "TOKEN", "authorizationToken": token, "methodArn": arn, **extra}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, "lambda-request-1"),  # API Gateway's TOKEN event: the authorizer's own Lambda request id
        ({"requestContext": {"requestId": "api-request-1"}}, "api-request-1"),  # the local server's
    ],
    ids=["token-event", "with-request-context"],
)
def test_the_authorizer_starts_clean_with_its_own_name_and_id(
    lines: _Lines, monkeypatch: pytest.MonkeyPatch, extra: dict[str, Any], expected: str
) -> None:
    import app
    from chalicelib.auth import authorizer
    from chalicelib.auth.tokens import AccessClaims

    def check(deps: Any, token: str | None) -> AccessClaims:
        logger.warning("checking", extra={"token_length": len(token or "")})
        return AccessClaims(user_id="u_1", jti="j", expires_at=2_000_000_000, family="f")

    monkeypatch.setattr(authorizer, "check", check)
    monkeypatch.setattr(app, "deps", lambda: None)
    logger.append_keys(video_id="stale", correlation_id="stale")  # a previous invocation on this thread
    context = LambdaContext(function_name="emotionfy-dev-authorizer", aws_request_id="lambda-request-1")
    result = app.jwt_auth(_authorizer_event("a.b.c", **extra), context)  # type: ignore[arg-type]

    assert result["principalId"] == "u_1"
    (line,) = lines.where(message="checking")
    assert line["function_name"] == "emotionfy-dev-authorizer"
    assert line["correlation_id"] == expected and line["function_request_id"] == "lambda-request-1"
    assert "video_id" not in line
    assert app.jwt_auth.config.handler_string == "app.jwt_auth", "still the handler Terraform deploys"


def test_keys_appended_in_one_thread_stay_out_of_another(lines: _Lines) -> None:
    """`logger.append_keys` (what the pipeline steps call) keeps its keys in the calling thread."""
    appended, logged = threading.Event(), threading.Event()

    def step() -> None:
        logger.append_keys(video_id="v_step")
        appended.set()
        logged.wait(10)
        logger.warning("step line")

    def request() -> None:
        appended.wait(10)
        logger.warning("request line")
        logged.set()

    threads = [threading.Thread(target=step), threading.Thread(target=request)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    (step_line,) = lines.where(message="step line")
    (request_line,) = lines.where(message="request line")
    assert step_line["video_id"] == "v_step" and "video_id" not in request_line
