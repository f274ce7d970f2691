"""The operations behind the /videos and /stats routes, for one signed-in user.

Every lookup is by (owner, id): another user's video is simply not found (404), never forbidden, so ids
reveal nothing about other accounts.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import stats
from chalicelib.deps import Deps
from chalicelib.engine.report import to_csv
from chalicelib.errors import BadRequest, Conflict, NotFound, PayloadTooLarge, TooManyRequests, Unavailable
from chalicelib.failures import retryable
from chalicelib.observability import logger
from chalicelib.pipeline.start import execution_arn, execution_status, start_execution
from chalicelib.privacy import consent, retention
from chalicelib.storage.bucket import purge
from chalicelib.storage.videos import DONE, FAILED, PENDING_UPLOAD, PROCESSING, QUEUED, new_video_id
from chalicelib.uploads import (
    delete_prefix,
    object_size,
    presigned_get,
    presigned_post,
    presigned_put,
    segments_prefix,
    upload_key,
)
from chalicelib.validation import integer, query_int, required_string, string

BACKENDS = ("onnx", "rekognition")
_CONTENT_TYPE = re.compile(r"^video/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,99}$", re.ASCII | re.IGNORECASE)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _stalled(video: dict[str, Any], stale_seconds: int | None) -> bool:
    """Queued or processing with no sign of life for a while: the watchdog will act, the user may retry."""
    updated = video.get("updated_at")
    if (
        stale_seconds is None
        or video["status"] not in (QUEUED, PROCESSING)
        or not isinstance(updated, datetime)
    ):
        return False
    return updated.replace(tzinfo=updated.tzinfo or UTC) < datetime.now(UTC) - timedelta(
        seconds=stale_seconds
    )


def view(video: dict[str, Any], stale_seconds: int | None = None) -> dict[str, Any]:
    """The public shape of a video record (no storage keys, no owner). `retryable`: whether a retry can
    help (a failure of ours, not of the file; or an analysis that stopped showing progress)."""
    shown: dict[str, Any] = {
        "id": video["_id"],
        "title": video.get("title") or "",
        "filename": video["filename"],
        "content_type": video["content_type"],
        "size": video["size"],
        "backend": video["backend"],
        "status": video["status"],
        "progress": video.get("progress") or {"done": 0, "total": 0},
        "duration": video.get("duration"),
        "created_at": _iso(video.get("created_at")),
        "updated_at": _iso(video.get("updated_at")),
    }
    if video.get("error"):
        shown["error"] = video["error"]
        shown["error_code"] = video.get("error_code") or "unexpected"
    stalled = _stalled(video, stale_seconds)
    if stalled:
        shown["stalled"] = True
    shown["consent"] = consent.view(video)
    shown["retention"] = retention.view(video)
    source_kept = shown["retention"]["source_deleted_at"] is None
    shown["retryable"] = source_kept and (
        stalled or (video["status"] == FAILED and retryable(shown.get("error_code")))
    )
    if video.get("summary"):
        shown["summary"] = video["summary"]
    return shown


def create_video(deps: Deps, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
    filename = required_string(body, "filename", max_length=255)
    content_type = required_string(body, "content_type", max_length=110).strip()
    if not _CONTENT_TYPE.match(content_type):
        raise BadRequest("only videos can be uploaded: 'content_type' must be video/…", code="not_a_video")
    content_type = content_type.lower()
    size = integer(body, "size", minimum=1)
    limit = deps.settings.max_upload_bytes
    if size > limit:
        raise PayloadTooLarge(f"the video is {size} bytes; the limit is {limit} bytes", code="too_large")
    title = (string(body, "title", required=False, max_length=200) or "").strip()
    backend = string(body, "backend", required=False, max_length=20) or "onnx"
    if backend not in BACKENDS:
        raise BadRequest(f"'backend' must be one of {', '.join(BACKENDS)}", code="invalid_field")
    agreed = consent.parse(body, deps.settings.consent_version)
    _check_upload_quotas(deps, user_id, size)
    video_id = new_video_id()
    bucket = deps.settings.uploads_bucket
    key = upload_key(user_id, video_id, filename)
    video = deps.videos.create(
        {
            "_id": video_id,
            "owner": user_id,
            "title": title or filename.replace("\\", "/").rsplit("/", 1)[-1].strip()[:200] or "video",
            "filename": filename,
            "content_type": content_type,
            "size": size,
            "backend": backend,
            "bucket": bucket,
            "key": key,
            "consent": agreed,
        }
    )
    seconds = deps.settings.upload_url_seconds
    return {
        "video": view(video),
        "upload": {**presigned_post(deps.s3, bucket, key, content_type, size, seconds), "method": "POST"},
        "upload_put": presigned_put(deps.s3, bucket, key, content_type, size, seconds),
        "expires_in": seconds,
    }


def _check_upload_quotas(deps: Deps, user_id: str, size: int) -> None:
    """Storage (announced bytes of every video kept) and new videos per 24 hours, before anything is made."""
    stored, recent = deps.videos.usage(user_id, hours=24)
    s = deps.settings
    if recent >= s.quota_videos_per_day:
        raise TooManyRequests(
            f"you have added {recent} videos in the last 24 hours, the most allowed; try again later",
            retry_after=3600,
            code="quota_exceeded",
        )
    if stored + size > s.quota_storage_bytes:
        raise PayloadTooLarge(
            f"this video would bring your storage to {stored + size:,} bytes; the limit is "
            f"{s.quota_storage_bytes:,} bytes: delete videos you no longer need",
            code="storage_quota_exceeded",
        )


def _owned(deps: Deps, user_id: str, video_id: str) -> dict[str, Any]:
    video = deps.videos.get(user_id, video_id) if re.fullmatch(r"[0-9a-f]{32}", video_id) else None
    if video is None:
        raise NotFound("no such video")
    return video


def list_videos(deps: Deps, user_id: str, params: dict[str, str] | None) -> dict[str, Any]:
    limit = query_int(params, "limit", 20, 1, 100)
    cursor = (params or {}).get("cursor") or None
    items, following = deps.videos.page(user_id, limit, cursor)
    stale = deps.settings.watchdog_stale_seconds
    return {"items": [view(v, stale) for v in items], "next": following}


def get_video(deps: Deps, user_id: str, video_id: str) -> dict[str, Any]:
    return view(_owned(deps, user_id, video_id), deps.settings.watchdog_stale_seconds)


def _analysis(deps: Deps, user_id: str, video_id: str) -> dict[str, Any]:
    video = _owned(deps, user_id, video_id)
    if video["status"] != DONE:
        raise Conflict(f"the video is {video['status']}; results exist once it is done", code="not_ready")
    analysis = deps.analyses.get(video_id, user_id)
    if analysis is None:
        raise NotFound("the results of this video are missing")
    return analysis


def results(deps: Deps, user_id: str, video_id: str) -> dict[str, Any]:
    return _analysis(deps, user_id, video_id)


def results_csv(deps: Deps, user_id: str, video_id: str) -> str:
    return to_csv(_analysis(deps, user_id, video_id))


def media_url(deps: Deps, user_id: str, video_id: str) -> dict[str, Any]:
    video = _owned(deps, user_id, video_id)
    if video["status"] == "pending_upload":
        raise Conflict("the video has not been uploaded yet", code="not_uploaded")
    retention.ensure_source(video)  # 410 once the retention deleted it; its results stay
    seconds = deps.settings.media_url_seconds
    url = presigned_get(deps.s3, video["bucket"], video["key"], seconds)
    return {"url": url, "expires_in": seconds, "content_type": video["content_type"]}


def delete_video(deps: Deps, user_id: str, video_id: str) -> None:
    """The upload, its segment artefacts, its Analysis and its record; a running analysis is stopped.

    Every version goes (the bucket is versioned in the cloud): a deleted video, or a viewer's withdrawn
    recording, must not stay behind as a previous version until the lifecycle rules get to it."""
    video = _owned(deps, user_id, video_id)
    if video["status"] in (QUEUED, PROCESSING):
        with contextlib.suppress(deps.stepfunctions.exceptions.ExecutionDoesNotExist):
            deps.stepfunctions.stop_execution(executionArn=execution_arn(deps, video), cause="video deleted")
    purge(deps.s3, video["bucket"], video["key"], exact=True)
    purge(deps.s3, video["bucket"], segments_prefix(video_id))
    deps.analyses.delete(video_id, user_id)
    deps.videos.delete(user_id, video_id)


def retry_video(deps: Deps, user_id: str, video_id: str) -> dict[str, Any]:
    """Analyse again a video that failed, or that is stuck: uploaded but never started (its S3 event was
    lost), or queued/processing with no running execution (a step failed beyond its retries)."""
    video = _owned(deps, user_id, video_id)
    status = video["status"]
    if status == DONE:
        raise Conflict("the video is already analysed; nothing to retry", code="not_failed")
    if retention.view(video)["source_deleted_at"] is not None:
        raise Conflict(
            "the video itself was deleted by the retention setting; upload it again", code="source_deleted"
        )
    if status == PENDING_UPLOAD and object_size(deps.s3, video["bucket"], video["key"]) is None:
        raise Conflict("the video has not been uploaded yet", code="not_uploaded")
    if status in (QUEUED, PROCESSING) and execution_status(deps, video) == "RUNNING":
        raise Conflict("the video is being analysed right now", code="not_failed")
    queued = deps.videos.requeue(video_id, user_id, status)
    if queued is None:
        raise Conflict("the video changed meanwhile; reload it", code="not_failed")
    delete_prefix(deps.s3, video["bucket"], segments_prefix(video_id))
    try:
        start_execution(deps, queued)
    except ClientError as exc:
        logger.error("retry could not start the analysis", extra={"error": str(exc)})
        raise Unavailable("the analysis could not be started; try again shortly") from exc
    return view(deps.videos.get(user_id, video_id) or queued, deps.settings.watchdog_stale_seconds)


def user_stats(deps: Deps, user_id: str) -> dict[str, Any]:
    return stats.user_stats(deps.db, deps.redis, user_id, deps.settings.stats_cache_seconds)
