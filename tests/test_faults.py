"""Faults at every step of a run: Redis and MongoDB paused (SIGSTOP) or killed (SIGKILL) exactly at a
pipeline step's boundary, a merge retried after it marked the video done, storage throttling the reads of
a segment, and an outage longer than every retry. Each video must end `done` with its results, or
`failed` with a reason and a retry that then succeeds; nothing may be lost or stuck.

The servers are real processes (redis-server, SecantusDB in its own process); the boundaries come from the
in-process Lambda adapter's listeners, so a fault hits the run at the same point every time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

import pytest
import requests

from chalicelib.pipeline import watchdog
from devstack.services import ChildProcess
from devstack.stack import LocalStack
from tests.api_client import Account, Api
from tests.synthetic import VIDEOS_DIR

pytestmark = pytest.mark.faults

VIDEO = VIDEOS_DIR / "openmpf_face_video_01.mp4"  # 3 s, one face: one segment
BOUNDARIES = [
    ("after", "on_upload"),
    ("after", "pipeline_probe"),
    ("before", "pipeline_analyze_segment"),
    ("after", "pipeline_analyze_segment"),
    ("before", "pipeline_merge"),
    ("after", "pipeline_merge"),
]


def _server(stack: LocalStack, name: str) -> ChildProcess:
    return {"redis": stack.redis, "mongodb": stack.mongo}[name]


_TIMERS: list[threading.Timer] = []


def _fault(server: ChildProcess, action: str, seconds: float) -> None:
    """Pause or kill `server` now; resume or restart it `seconds` later, from another thread."""
    if action == "pause":
        server.pause()
        timer = threading.Timer(seconds, server.resume)
    else:
        server.kill()
        timer = threading.Timer(seconds, server.start)
    timer.start()
    _TIMERS.append(timer)


class _At:
    """A listener that fires once, at one boundary of one video's run."""

    def __init__(self, phase: str, function: str, act: Callable[[], None]) -> None:
        self.phase, self.function, self.act = phase, function, act
        self.video_id: str | None = None
        self.key: str | None = None
        self.fired = threading.Event()
        self._lock = threading.Lock()  # held while deciding and acting, so close() waits for an act under way
        self._closed = False

    def __call__(self, phase: str, function: str, event: Any) -> None:
        with self._lock:
            if self._closed or self.fired.is_set() or (phase, function) != (self.phase, self.function):
                return
            if not self._ours(event):
                return
            self.fired.set()
            self.act()

    def close(self) -> None:
        """Fire no more; return once an act under way on a pipeline thread is over (its timer listed)."""
        with self._lock:
            self._closed = True

    def _ours(self, event: Any) -> bool:
        if isinstance(event, dict) and "Records" in event:
            return bool(self.key) and unquote_plus(event["Records"][0]["s3"]["object"]["key"]) == self.key
        return isinstance(event, dict) and event.get("video_id") == self.video_id


@pytest.fixture
def listeners(stack: LocalStack) -> Iterator[list[Any]]:
    assert stack.lambdas is not None
    added: list[Any] = []
    yield added
    for listener in added:
        stack.lambdas.listeners.remove(listener)
    # A listener fires on a pipeline thread: the test may end (its video done) while that thread is still
    # inside the act, between the fault and its timer; close() waits for the act before the timers are joined.
    for listener in added:
        if isinstance(listener, _At):
            listener.close()
    while _TIMERS:
        _TIMERS.pop().join()
    for server in (stack.redis, stack.mongo):
        if server.process is None:
            server.start()
        server.resume()


def _poll(api: Api, account: Account, video_id: str) -> dict[str, Any] | None:
    try:
        response = api.call("GET", f"/videos/{video_id}", account)
    except requests.RequestException:
        return None
    return dict(response.json()) if response.status_code == 200 else None  # 503 while a store is down


def _watchdog_round(stack: LocalStack) -> watchdog.SweepReport | None:
    """A watchdog round as if its staleness delay had passed (the schedule would get there by itself)."""
    from chalicelib.deps import deps

    d = deps()
    later = datetime.now(UTC) + timedelta(seconds=d.settings.watchdog_stale_seconds + 1)
    try:
        return watchdog.sweep(d, now=later)
    except Exception:
        return None  # a store is still down: the next round


def _settle(api: Api, account: Account, stack: LocalStack, video_id: str, timeout: float = 150) -> dict:
    """Wait for done or failed, running the watchdog when the run stops moving."""
    deadline = time.monotonic() + timeout
    last_change, last_seen = time.monotonic(), None
    while time.monotonic() < deadline:
        video = _poll(api, account, video_id)
        if video is not None:
            if video["status"] in ("done", "failed"):
                return video
            seen = (video["status"], video["progress"]["done"], video["updated_at"])
            if seen != last_seen:
                last_change, last_seen = time.monotonic(), seen
        if time.monotonic() - last_change > 8:
            _watchdog_round(stack)
            last_change = time.monotonic()
        time.sleep(0.3)
    raise AssertionError(f"video {video_id} did not settle: {last_seen}")


def _execution_end(stack: LocalStack, video_id: str, timeout: float = 120) -> str:
    """The final status of the video's first execution."""
    client = stack.client("stepfunctions")
    arn = stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{video_id}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = str(client.describe_execution(executionArn=arn)["status"])
        except client.exceptions.ExecutionDoesNotExist:
            status = "RUNNING"  # not started yet
        if status != "RUNNING":
            return status
        time.sleep(0.5)
    raise AssertionError(f"the execution of {video_id} kept running")


def _results(api: Api, account: Account, video_id: str) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            response = api.call("GET", f"/videos/{video_id}/results", account)
        except requests.RequestException:
            response = None
        if response is not None and response.status_code != 503:
            assert response.status_code == 200, f"done without results: {response.text}"
            return dict(response.json())
        time.sleep(0.3)
    raise AssertionError("the results could not be read after the outage")


def _ends_well(api: Api, account: Account, stack: LocalStack, video_id: str) -> dict:
    """`done` with results; or `failed`, retryable, and done after the user's retry."""
    video = _settle(api, account, stack, video_id)
    if video["status"] == "failed":
        assert video["retryable"] is True, video
        assert api.call("POST", f"/videos/{video_id}/retry", account).status_code == 202
        video = _settle(api, account, stack, video_id)
    assert video["status"] == "done", video
    analysis = _results(api, account, video_id)
    assert analysis["video"]["duration"] == pytest.approx(video["duration"], abs=0.01)
    assert analysis["timeline"], "the results hold a timeline"
    return video


def _upload_watched(api: Api, account: Account, stack: LocalStack, listeners: list[Any], at: _At) -> str:
    """Upload the test video with `at` listening to its run; the video's id."""
    assert stack.lambdas is not None
    stack.lambdas.listeners.append(at)
    listeners.append(at)
    created = api.create_video(account, VIDEO)
    video_id: str = created["video"]["id"]
    at.video_id, at.key = video_id, created["upload"]["fields"]["key"]
    assert api.post_upload(created, VIDEO).status_code in (200, 204)
    return video_id


@pytest.mark.parametrize("server", ["redis", "mongodb"])
@pytest.mark.parametrize("action", ["pause", "kill"])
@pytest.mark.parametrize("boundary", BOUNDARIES, ids=[f"{p}-{f}" for p, f in BOUNDARIES])
def test_a_store_fault_at_a_step_boundary_loses_nothing(
    api: Api,
    account: Account,
    stack: LocalStack,
    listeners: list[Any],
    server: str,
    action: str,
    boundary: tuple[str, str],
) -> None:
    target = _server(stack, server)
    at = _At(*boundary, act=lambda: _fault(target, action, seconds=4.0))
    video_id = _upload_watched(api, account, stack, listeners, at)
    # Wait for the fault before judging the end: after the merge, `done` is already written when the hook
    # fires, so the video can look settled before the store goes down.
    assert at.fired.wait(120), "the fault was injected"
    _ends_well(api, account, stack, video_id)


def test_a_merge_retried_after_done_keeps_the_results(
    api: Api, account: Account, stack: LocalStack, listeners: list[Any]
) -> None:
    """The reported loss: a merge that wrote `done` then failed (a store error after the write) is retried
    by Step Functions; the retry finds the video done and must not delete its Analysis."""
    from chalicelib.pipeline.steps import TransientError

    def fail_once() -> None:
        raise TransientError("injected: the connection dropped after the status was written")

    at = _At("after", "pipeline_merge", fail_once)
    video_id = _upload_watched(api, account, stack, listeners, at)
    assert _execution_end(stack, video_id) == "SUCCEEDED"
    assert stack.lambdas is not None
    assert at.fired.is_set() and stack.lambdas.calls.count("pipeline_merge") >= 2, "the merge ran again"
    assert api.call("GET", f"/videos/{video_id}", account).json()["status"] == "done"
    assert api.call("GET", f"/videos/{video_id}/results", account).status_code == 200


def test_storage_throttling_a_segment_read_is_retried_not_unreadable(
    api: Api, account: Account, stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under load S3 answers 503 SlowDown; before, FFmpeg's own HTTP reads turned that into "not a
    readable video" (6 of 29 valid uploads). Now it is a `TransientError` the state machine retries."""
    from botocore.exceptions import ClientError

    from chalicelib.storage.objects import S3ObjectReader

    real = S3ObjectReader._call
    throttled: list[str] = []

    def throttle_first_reads(self: S3ObjectReader, what: str, **kwargs: Any) -> Any:
        if what == "get_object" and len(throttled) < 3:
            throttled.append(what)
            error = {"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}}
            raise ClientError(error, "GetObject")
        return real(self, what, **kwargs)

    monkeypatch.setattr(S3ObjectReader, "_call", throttle_first_reads)
    video_id = api.upload(account, VIDEO)
    video = api.wait(account, video_id)
    assert len(throttled) == 3
    assert video["status"] == "done", video


def test_an_outage_longer_than_every_retry_is_recovered_by_the_watchdog(
    api: Api, account: Account, stack: LocalStack, listeners: list[Any]
) -> None:
    """MongoDB down for longer than the state machine's retries (and MarkFailed's): the execution fails
    without being able to record it, and the video stays `processing`: the reported stuck video. The
    watchdog finds the dead execution and starts the analysis again."""
    at = _At("after", "pipeline_probe", act=stack.mongo.kill)
    video_id = _upload_watched(api, account, stack, listeners, at)
    assert at.fired.wait(60)
    assert _execution_end(stack, video_id) == "FAILED"
    stack.mongo.start()
    stuck = _poll(api, account, video_id)
    assert stuck is not None and stuck["status"] == "processing", "the run died without a record"
    report = _watchdog_round(stack)
    assert report is not None and video_id in report.restarted
    assert api.wait(account, video_id)["status"] == "done"
    assert api.call("GET", f"/videos/{video_id}/results", account).status_code == 200


def test_the_scheduled_watchdog_function_takes_a_scheduled_event(stack: LocalStack) -> None:
    """The cloud invokes `watchdog` with an EventBridge scheduled event; the local timer sends the same."""
    stack.run_watchdog_once()  # raises if the event were not one Chalice's scheduled handler accepts


def test_a_video_failed_by_an_outage_is_started_again_by_itself(
    api: Api, account: Account, stack: LocalStack
) -> None:
    """MarkFailed recorded `service_unavailable` (the outage outlived the step's retries but not
    MarkFailed's): once the outage is over the watchdog starts it again, no user needed. A video whose
    file is at fault is left alone."""
    from chalicelib.deps import deps

    video_id = api.upload(account, VIDEO)
    assert api.wait(account, video_id)["status"] == "done"
    videos = deps().videos
    videos._videos.update_one({"_id": video_id}, {"$set": {"status": "processing"}})
    videos.mark_failed(video_id, "a service the analysis needs was unavailable", "service_unavailable")
    bad_id = api.upload(account, VIDEOS_DIR.parent / "README.md")
    assert api.wait(account, bad_id)["error_code"] == "unreadable_video"
    report = _watchdog_round(stack)
    assert report is not None and video_id in report.restarted and bad_id not in report.restarted
    assert api.wait(account, video_id)["status"] == "done"
    assert api.call("GET", f"/videos/{video_id}/results", account).status_code == 200
