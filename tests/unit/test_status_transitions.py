"""A video's status (chalicelib/storage/videos.py) on a fake collection: `pending_upload -> queued ->
processing -> done | failed`, never backwards, each pipeline step tied to its attempt."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.storage.videos import DONE, FAILED, PENDING_UPLOAD, PROCESSING, QUEUED, VideoRepository
from tests.unit.fakes import FakeDatabase

OWNER = "u_" + "ab" * 12
VIDEO = "0123456789abcdef" * 2


@pytest.fixture
def videos() -> VideoRepository:
    database: Any = FakeDatabase()
    repository = VideoRepository(database)
    repository.create({"_id": VIDEO, "owner": OWNER, "size": 10, "bucket": "b", "key": "k"})
    return repository


def _status(videos: VideoRepository) -> str:
    found = videos.get(OWNER, VIDEO)
    assert found is not None
    return str(found["status"])


def _to_processing(videos: VideoRepository, segments: int = 3) -> dict[str, Any]:
    queued = videos.mark_queued(VIDEO, OWNER)
    assert queued is not None
    started = videos.start_processing(VIDEO, segments, 12.0, queued["attempt"])
    assert started is not None
    return started


def test_the_happy_path_moves_forward_once(videos: VideoRepository) -> None:
    assert _status(videos) == PENDING_UPLOAD
    queued = videos.mark_queued(VIDEO, OWNER)
    assert queued is not None and queued["status"] == QUEUED and queued["attempt"] == 1
    assert videos.mark_queued(VIDEO, OWNER) is None, "a duplicated S3 event queues nothing"
    assert videos.mark_queued(VIDEO, "u_" + "cd" * 12) is None, "nor does another user's"
    started = videos.start_processing(VIDEO, 3, 12.0, attempt=1)
    assert started is not None and started["status"] == PROCESSING
    assert started["progress"] == {"done": 0, "total": 3} and started["duration"] == 12.0
    done = videos.mark_done(VIDEO, {"dominant": "happy"}, attempt=1)
    assert done is not None and done["status"] == DONE and done["progress"] == {"done": 3, "total": 3}


def test_a_segment_counts_once_however_often_its_step_is_retried(videos: VideoRepository) -> None:
    _to_processing(videos)
    for index in (0, 1, 1, 0, 2, 2):
        videos.segment_done(VIDEO, index, attempt=1)
    found = videos.get(OWNER, VIDEO)
    assert found is not None and found["progress"] == {"done": 3, "total": 3}


def test_a_finished_video_never_moves_backwards(videos: VideoRepository) -> None:
    _to_processing(videos)
    assert videos.mark_done(VIDEO, {}, attempt=1) is not None
    assert videos.mark_failed(VIDEO, "late failure", "unexpected", attempt=1) is None
    assert videos.start_processing(VIDEO, 3, 12.0, attempt=1) is None
    assert videos.mark_queued(VIDEO, OWNER) is None
    videos.segment_done(VIDEO, 0, attempt=1)
    assert _status(videos) == DONE
    found = videos.get(OWNER, VIDEO)
    assert found is not None and found["progress"]["done"] == 3


@pytest.mark.parametrize("reached", [PENDING_UPLOAD, QUEUED, PROCESSING])
def test_any_unfinished_status_can_fail_with_a_code(videos: VideoRepository, reached: str) -> None:
    if reached != PENDING_UPLOAD:
        videos.mark_queued(VIDEO, OWNER)
    if reached == PROCESSING:
        videos.start_processing(VIDEO, 1, 1.0)
    failed = videos.mark_failed(VIDEO, "the file is not a video", "unreadable_video")
    assert failed is not None and failed["status"] == FAILED and failed["error_code"] == "unreadable_video"
    assert videos.mark_done(VIDEO, {}) is None, "a failed analysis is not done by a late merge"


def test_a_step_of_an_older_attempt_cannot_touch_the_newer_one(videos: VideoRepository) -> None:
    _to_processing(videos)
    videos.mark_failed(VIDEO, "a service was down", "service_unavailable", attempt=1)
    again = videos.requeue(VIDEO, OWNER, FAILED)
    assert again is not None and again["attempt"] == 2 and again["status"] == QUEUED
    assert again["error"] is None and again["error_code"] is None and again["progress"]["done"] == 0
    assert videos.start_processing(VIDEO, 3, 12.0, attempt=1) is None, "the old execution's late probe"
    assert videos.mark_failed(VIDEO, "old", "unexpected", attempt=1) is None
    assert videos.start_processing(VIDEO, 3, 12.0, attempt=2) is not None
    videos.segment_done(VIDEO, 0, attempt=1)
    found = videos.get(OWNER, VIDEO)
    assert found is not None and found["progress"]["done"] == 0
    assert videos.mark_done(VIDEO, {}, attempt=2) is not None


def test_two_retries_at_once_start_one_analysis(videos: VideoRepository) -> None:
    _to_processing(videos)
    videos.mark_failed(VIDEO, "x", "service_unavailable")
    first = videos.requeue(VIDEO, OWNER, FAILED)
    second = videos.requeue(VIDEO, OWNER, FAILED)  # it saw `failed` too, but the video has moved on
    assert first is not None and second is None
    assert videos.requeue(VIDEO, "u_" + "cd" * 12, QUEUED) is None, "only the owner's"


def test_the_watchdogs_retries_are_counted_apart_from_the_users(videos: VideoRepository) -> None:
    _to_processing(videos)
    automatic = videos.requeue(VIDEO, OWNER, PROCESSING, automatic=True)
    assert automatic is not None and automatic["automatic_retries"] == 1
    automatic = videos.requeue(VIDEO, OWNER, QUEUED, automatic=True)
    assert automatic is not None and automatic["automatic_retries"] == 2 and automatic["attempt"] == 3
    users = videos.requeue(VIDEO, OWNER, QUEUED)
    assert users is not None and users["automatic_retries"] == 0, "the user's retry gets the help again"


def test_a_deleted_video_is_not_resurrected_by_a_late_step(videos: VideoRepository) -> None:
    _to_processing(videos)
    assert videos.delete(OWNER, VIDEO)
    assert videos.mark_done(VIDEO, {}, attempt=1) is None
    assert videos.mark_failed(VIDEO, "x", "unexpected", attempt=1) is None
    assert videos.get(OWNER, VIDEO) is None
