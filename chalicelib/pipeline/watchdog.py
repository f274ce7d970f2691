"""The watchdog: finds videos the pipeline lost and puts them back on track, with no one's help.

Runs on a schedule (EventBridge every 5 minutes in the cloud, a timer in the local stack). It looks only at
videos that have not changed for `watchdog_stale_seconds`:

- `pending_upload` whose object is in S3: the upload's event was lost (the handler failed while a store was
  down); it is handled now as the event would have been. Never uploaded and older than
  `pending_upload_expiry_seconds`: the record is removed (its upload URL expired long ago).
- `queued` or `processing` whose execution is not running (it failed beyond its retries while MongoDB was
  down, so not even `MarkFailed` could record it; or the local stack was killed): started again, up to
  `automatic_retries` times per video, then marked `failed` with a reason and a retry for the user.
- `failed` because a service was unavailable (`service_unavailable`): started again the same way, since
  the outage that failed it is likely over; other failures wait for the user.

No engine imports: this is a small zip function in the cloud.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.deps import Deps
from chalicelib.observability import logger
from chalicelib.pipeline.start import execution_status, handle_object_created, start_execution
from chalicelib.storage.videos import FAILED, PENDING_UPLOAD, PROCESSING, QUEUED
from chalicelib.uploads import delete_prefix, object_size, segments_prefix

INTERRUPTED = "the analysis was interrupted by a failure of our services; use retry to try again"
#: Failures of an outage, not of the video: the watchdog retries them by itself.
RETRIED_BY_ITSELF = ("service_unavailable",)


@dataclass
class SweepReport:
    """What one round did, by video id (logged, and asserted by tests)."""

    resumed_uploads: list[str] = field(default_factory=list)
    expired_uploads: list[str] = field(default_factory=list)
    restarted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    running: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.__dict__.items() if v}


def _pending(deps: Deps, video: dict[str, Any], now: datetime, report: SweepReport) -> None:
    size = object_size(deps.s3, video["bucket"], video["key"])
    if size is not None:
        outcome = handle_object_created(deps, video["bucket"], video["key"], size)
        logger.warning("upload event was lost; handled now", extra={"outcome": outcome})
        report.resumed_uploads.append(video["_id"])
        return
    expiry = now - timedelta(seconds=deps.settings.pending_upload_expiry_seconds)
    if video["created_at"].replace(tzinfo=UTC) < expiry and deps.videos.delete_if_pending(
        video["_id"], expiry
    ):
        report.expired_uploads.append(video["_id"])


def _restart(deps: Deps, video: dict[str, Any], report: SweepReport) -> bool:
    """Start the video again as a new attempt, if it has automatic retries left."""
    if int(video.get("automatic_retries") or 0) >= deps.settings.automatic_retries:
        return False
    queued = deps.videos.requeue(video["_id"], video["owner"], video["status"], automatic=True)
    if queued is not None:  # None: it moved meanwhile, nothing is lost
        delete_prefix(deps.s3, video["bucket"], segments_prefix(video["_id"]))
        start_execution(deps, queued, fail_on_error=False)
        report.restarted.append(video["_id"])
    return True


def _in_flight(deps: Deps, video: dict[str, Any], report: SweepReport) -> None:
    status = execution_status(deps, video)
    if status == "RUNNING":
        report.running.append(video["_id"])
        return
    logger.warning("analysis lost", extra={"status": video["status"], "execution": status or "none"})
    if _restart(deps, video, report):
        return
    if deps.videos.mark_failed(video["_id"], INTERRUPTED, "interrupted", video.get("attempt")) is not None:
        report.failed.append(video["_id"])


def _failed_by_an_outage(deps: Deps, video: dict[str, Any], report: SweepReport) -> None:
    if _restart(deps, video, report):
        logger.warning("analysis failed by an outage; started again", extra={"code": video.get("error_code")})


def sweep(deps: Deps, now: datetime | None = None) -> SweepReport:
    """One round over the videos that stopped changing; each video is handled on its own (one failure
    does not stop the round)."""
    now = now or datetime.now(UTC)
    stale = now - timedelta(seconds=deps.settings.watchdog_stale_seconds)
    report = SweepReport()
    videos = deps.videos.unfinished((PENDING_UPLOAD, QUEUED, PROCESSING), stale)
    videos += deps.videos.failed_with(RETRIED_BY_ITSELF, stale)
    for video in videos:
        logger.append_keys(video_id=video["_id"])
        try:
            if video["status"] == PENDING_UPLOAD:
                _pending(deps, video, now, report)
            elif video["status"] == FAILED:
                _failed_by_an_outage(deps, video, report)
            else:
                _in_flight(deps, video, report)
        except Exception as exc:  # one video's trouble (a store down again) waits for the next round
            logger.exception("watchdog could not handle a video")
            report.errors.append(f"{video['_id']}: {type(exc).__name__}")
        finally:
            logger.remove_keys(["video_id"])
    if report.as_dict():
        logger.info("watchdog round", extra=report.as_dict())
    return report
