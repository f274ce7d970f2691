"""When an analysis is tried again (chalicelib/failures.py, video_library.view/retry_video, the watchdog):
by the user only where a retry can help, by the watchdog by itself for lost or outage-failed analyses up to
its limit. The real Deps, with fakes of MongoDB's collection, S3 and Step Functions behind it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.deps import Deps
from chalicelib.errors import Conflict, Unavailable
from chalicelib.failures import FAILURES, retryable
from chalicelib.pipeline import watchdog
from chalicelib.settings import ServiceSettings
from chalicelib.storage.videos import FAILED, PENDING_UPLOAD, QUEUED
from chalicelib.uploads import segment_key, upload_key
from chalicelib.video_library import retry_video, view
from tests.unit.fakes import fake_deps

OWNER = "u_" + "ab" * 12
BUCKET = "uploads"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:emotionfy"
STALE = 120


@pytest.fixture
def deps() -> Deps:
    settings = ServiceSettings(
        uploads_bucket=BUCKET,
        state_machine_arn=MACHINE,
        watchdog_stale_seconds=STALE,
        automatic_retries=2,
        pending_upload_expiry_seconds=3600,
    )
    return fake_deps(settings)


def _video(deps: Deps, n: int = 1, *, uploaded: bool = True) -> str:
    video_id = f"{n:032x}"
    key = upload_key(OWNER, video_id, "talk.mp4")
    deps.videos.create(
        {
            "_id": video_id,
            "owner": OWNER,
            "filename": "talk.mp4",
            "content_type": "video/mp4",
            "size": 10,
            "backend": "onnx",
            "bucket": BUCKET,
            "key": key,
        }
    )
    if uploaded:
        deps.s3.objects[(BUCKET, key)] = 10
    return video_id


def _processing(deps: Deps, video_id: str) -> dict[str, Any]:
    queued = deps.videos.mark_queued(video_id, OWNER)
    assert queued is not None
    started = deps.videos.start_processing(video_id, 2, 12.0, queued["attempt"])
    assert started is not None
    return started


def _executions(deps: Deps) -> list[str]:
    return sorted(arn.rsplit(":", 1)[1] for arn in deps.stepfunctions.executions)


def _get(deps: Deps, video_id: str) -> dict[str, Any]:
    found = deps.videos.get(OWNER, video_id)
    assert found is not None
    return found


def _code(call: Any, *args: Any) -> str:
    with pytest.raises((Conflict, Unavailable)) as refused:
        call(*args)
    return str(refused.value.code)


# --- what the API tells the client -----------------------------------------------------------------------


def test_only_failures_of_the_service_are_offered_a_retry(deps: Deps) -> None:
    assert {c for c, can in FAILURES.items() if not can} == {
        "unreadable_video",
        "frame_too_large",
        "video_too_long",
        "size_mismatch",
        "wrong_name",
    }, "a retry of the same file cannot fix these"
    video_id = _video(deps)
    _processing(deps, video_id)
    for code in FAILURES:
        record = {**_get(deps, video_id), "status": FAILED, "error": "x", "error_code": code}
        assert view(record)["retryable"] is retryable(code) is FAILURES[code], code
    assert view({**_get(deps, video_id), "status": FAILED, "error": "x", "error_code": None})["retryable"]


def test_a_stalled_analysis_is_offered_a_retry_a_fresh_one_is_not(deps: Deps) -> None:
    video = _processing(deps, _video(deps))
    assert view(video, STALE)["retryable"] is False and "stalled" not in view(video, STALE)
    old = {**video, "updated_at": datetime.now(UTC) - timedelta(seconds=STALE + 1)}
    assert view(old, STALE)["retryable"] is True and view(old, STALE)["stalled"] is True
    done = {**old, "status": "done"}
    assert view(done, STALE)["retryable"] is False


# --- the user's retry ------------------------------------------------------------------------------------


def test_retry_refuses_what_it_cannot_help(deps: Deps) -> None:
    never_uploaded = _video(deps, 1, uploaded=False)
    assert _code(retry_video, deps, OWNER, never_uploaded) == "not_uploaded"
    running = _video(deps, 2)
    retry_video(deps, OWNER, running)  # its S3 event was lost: the retry starts it
    assert _code(retry_video, deps, OWNER, running) == "not_failed", "it is running right now"
    finished = _video(deps, 3)
    _processing(deps, finished)
    deps.videos.mark_done(finished, {})
    assert _code(retry_video, deps, OWNER, finished) == "not_failed"
    assert _executions(deps) == [running]


def test_retry_starts_a_new_attempt_and_clears_the_old_ones_segments(deps: Deps) -> None:
    video_id = _video(deps)
    _processing(deps, video_id)
    deps.s3.objects[(BUCKET, segment_key(video_id, 0, attempt=1))] = 1
    deps.videos.mark_failed(video_id, "a service was down", "service_unavailable", attempt=1)
    shown = retry_video(deps, OWNER, video_id)
    assert shown["status"] == QUEUED and "error_code" not in shown
    assert _get(deps, video_id)["attempt"] == 2
    assert _executions(deps) == [f"{video_id}-2"], "a new execution name per attempt"
    assert not [k for _, k in deps.s3.objects if k.startswith("segments/")]


def test_a_retry_that_cannot_start_says_so_and_can_be_retried(deps: Deps) -> None:
    video_id = _video(deps)
    _processing(deps, video_id)
    deps.videos.mark_failed(video_id, "x", "service_unavailable", attempt=1)
    deps.stepfunctions.refuse_starts = True
    assert _code(retry_video, deps, OWNER, video_id) == "unavailable"
    failed = _get(deps, video_id)
    assert failed["status"] == FAILED and failed["error_code"] == "start_failed" and retryable("start_failed")
    deps.stepfunctions.refuse_starts = False
    assert retry_video(deps, OWNER, video_id)["status"] == QUEUED


# --- the watchdog's own retries -------------------------------------------------------------------------


def _later() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=STALE + 5)


def test_a_lost_analysis_is_restarted_up_to_the_limit_then_failed_for_the_user(deps: Deps) -> None:
    video_id = _video(deps)
    _processing(deps, video_id)  # its execution never started (or died with MarkFailed unreachable)
    for attempt in (2, 3):
        report = watchdog.sweep(deps, now=_later())
        assert report.restarted == [video_id]
        assert _get(deps, video_id)["attempt"] == attempt
        arn = next(a for a in deps.stepfunctions.executions if a.endswith(f"{video_id}-{attempt}"))
        deps.stepfunctions.executions[arn]["status"] = "FAILED"
    report = watchdog.sweep(deps, now=_later())
    assert report.failed == [video_id] and not report.restarted
    failed = _get(deps, video_id)
    assert failed["status"] == FAILED and failed["error_code"] == "interrupted" and retryable("interrupted")
    assert retry_video(deps, OWNER, video_id)["status"] == QUEUED, "the user's retry still works"
    assert _get(deps, video_id)["automatic_retries"] == 0, "and earns the watchdog's help again"


def test_the_watchdog_leaves_running_fresh_and_the_files_own_failures_alone(deps: Deps) -> None:
    running = _video(deps, 1)
    retry_video(deps, OWNER, running)  # started: RUNNING
    bad_file = _video(deps, 2)
    _processing(deps, bad_file)
    deps.videos.mark_failed(bad_file, "not a video", "unreadable_video")
    outage = _video(deps, 3)
    _processing(deps, outage)
    deps.videos.mark_failed(outage, "redis was down", "service_unavailable")
    fresh = _video(deps, 4)
    _processing(deps, fresh)
    report = watchdog.sweep(deps, now=datetime.now(UTC) + timedelta(seconds=STALE - 30))
    assert report.as_dict() == {}, "nothing is stale yet"
    report = watchdog.sweep(deps, now=_later())
    assert report.running == [running]
    assert sorted(report.restarted) == sorted([outage, fresh]), "an outage's failure is retried by itself"
    assert _get(deps, bad_file)["status"] == FAILED, "a file that is not a video waits for the user"


def test_a_lost_upload_event_is_handled_and_an_abandoned_upload_removed(deps: Deps) -> None:
    uploaded = _video(deps, 1)
    abandoned = _video(deps, 2, uploaded=False)
    report = watchdog.sweep(deps, now=_later())
    assert report.resumed_uploads == [uploaded] and _get(deps, uploaded)["status"] == QUEUED
    assert _executions(deps) == [uploaded]
    assert _get(deps, abandoned)["status"] == PENDING_UPLOAD, "its upload URL may still be in use"
    report = watchdog.sweep(deps, now=datetime.now(UTC) + timedelta(seconds=3600 + STALE))
    assert report.expired_uploads == [abandoned] and deps.videos.get(OWNER, abandoned) is None
