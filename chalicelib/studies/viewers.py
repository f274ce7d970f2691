"""Viewer sessions: each is a record of the `videos` collection, owned by the study's creator.

So a viewer's recording goes through the same upload key (`uploads/{owner}/{video_id}/{name}`), S3 event,
pipeline, progress, retry, retention, quotas and erasure as any video. The record adds `study_id` and
`viewer: {label, offset, source, upload_issued, invite_id?, withdraw_hash?, recording_until?}`, and keeps
the viewer's own consent in `consent`.

A creator adds a viewer with their recording at once (the upload is given with the record). A viewer
holding an invite joins first (consent, a label, a withdraw token shown once and stored hashed) and asks
for their one upload once the recording exists.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from chalicelib import video_library
from chalicelib.deps import Deps
from chalicelib.errors import Conflict, NotFound, PayloadTooLarge, TooManyRequests
from chalicelib.storage.mongo import now_ms
from chalicelib.storage.videos import new_video_id
from chalicelib.studies import content, curves, viewer_consent
from chalicelib.uploads import presigned_post, presigned_put, upload_key
from chalicelib.validation import required_string, string

CREATOR = "creator"
INVITE = "invite"
#: The name a joined viewer's record carries until their upload is asked for.
PLACEHOLDER_FILENAME = "recording.webm"


def view(video: dict[str, Any], stale_seconds: int | None = None) -> dict[str, Any]:
    """A viewer as its study's creator sees it (the video's status, progress, consent and errors)."""
    shown = video_library.view(video, stale_seconds)
    viewer = video["viewer"]
    out: dict[str, Any] = {
        "id": shown["id"],
        "label": viewer["label"],
        "offset": viewer["offset"],
        "source": viewer["source"],
        "status": shown["status"],
        "progress": shown["progress"],
        "consent": shown["consent"],
        "duration": shown["duration"],
        "retryable": shown["retryable"],
        "created_at": shown["created_at"],
        "updated_at": shown["updated_at"],
    }
    for optional in ("error", "error_code", "stalled"):
        if optional in shown:
            out[optional] = shown[optional]
    return out


def check_quotas(deps: Deps, owner: str, size: int, *, new_record: bool) -> None:
    """The creator's quotas, which viewer recordings count towards like any video: new videos per 24 hours
    (when a record is about to be made) and stored bytes (videos kept and study contents)."""
    stored, recent = deps.videos.usage(owner, hours=24)
    s = deps.settings
    if new_record and recent >= s.quota_videos_per_day:
        raise TooManyRequests(
            "the study's creator has reached the number of videos allowed per 24 hours; try again later",
            retry_after=3600,
            code="quota_exceeded",
        )
    if size and stored + size > s.quota_storage_bytes:
        raise PayloadTooLarge(
            f"this upload would bring the storage to {stored + size:,} bytes; the limit is "
            f"{s.quota_storage_bytes:,} bytes",
            code="storage_quota_exceeded",
        )


def _label(deps: Deps, study: dict[str, Any], requested: str | None) -> str:
    number = deps.studies.next_viewer_number(study["owner"], study["_id"])
    if number is None:
        raise NotFound("no such study")
    return requested or f"Viewer {number}"


def _record(
    deps: Deps,
    study: dict[str, Any],
    file: dict[str, Any],
    agreed: dict[str, Any],
    viewer: dict[str, Any],
) -> dict[str, Any]:
    video_id = new_video_id()
    bucket = deps.settings.uploads_bucket
    video = deps.videos.create(
        {
            "_id": video_id,
            "owner": study["owner"],
            "title": f"{study['title']} · {viewer['label']}"[:200],
            "filename": file["filename"],
            "content_type": file["content_type"],
            "size": file["size"],
            "backend": "onnx",
            "bucket": bucket,
            "key": upload_key(study["owner"], video_id, file["filename"]),
            "consent": agreed,
            "study_id": study["_id"],
            "viewer": viewer,
        }
    )
    # The study deleted (or its account erased) meanwhile: its deletion sweeps its viewers after removing
    # the study record, so a record written before this check is swept, and one this check finds orphaned
    # goes now (no upload is given for it).
    if deps.studies.get(study["owner"], study["_id"]) is None:
        deps.videos.delete(study["owner"], video_id)
        raise NotFound("no such study")
    return video


def _file(deps: Deps, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "filename": required_string(body, "filename", max_length=255),
        "content_type": content.video_type(body),
        "size": content.file_size(body, deps.settings.max_upload_bytes),
    }


def _upload(deps: Deps, video: dict[str, Any]) -> dict[str, Any]:
    seconds = deps.settings.upload_url_seconds
    bucket, key, kind, size = video["bucket"], video["key"], video["content_type"], video["size"]
    return {
        "upload": {**presigned_post(deps.s3, bucket, key, kind, size, seconds), "method": "POST"},
        "upload_put": presigned_put(deps.s3, bucket, key, kind, size, seconds),
        "expires_in": seconds,
    }


def add_by_creator(deps: Deps, study: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A recording the creator made of a viewer (who agreed to the viewer statement), placed on the
    content at `offset`: the record and its upload."""
    file = _file(deps, body)
    duration = float(study["content"]["duration"])
    offset = content.seconds(body, "offset", -duration, duration, low_inclusive=True)
    requested = (string(body, "label", required=False, max_length=80) or "").strip()
    agreed = viewer_consent.parse(body)
    check_quotas(deps, study["owner"], file["size"], new_record=True)
    label = _label(deps, study, requested)
    viewer = {"label": label, "offset": offset, "source": CREATOR, "upload_issued": True}
    video = _record(deps, study, file, agreed, viewer)
    return {"viewer": view(video), **_upload(deps, video)}


def join(
    deps: Deps, study: dict[str, Any], invite_id: str, agreed: dict[str, Any], withdraw_hash: str
) -> dict[str, Any]:
    """The record of a viewer who joined through an invite (their seat is already taken): offset 0, an
    assigned label, no upload yet. It is kept for the content's length plus the pending-upload expiry
    before the watchdog may remove it unrecorded (`recording_until`), so a long content can be watched
    before the upload is asked for. The caller checked the quotas before taking the seat."""
    label = _label(deps, study, None)
    duration = float(study["content"]["duration"])
    viewer = {
        "label": label,
        "offset": 0.0,
        "source": INVITE,
        "upload_issued": False,
        "invite_id": invite_id,
        "withdraw_hash": withdraw_hash,
        "recording_until": now_ms() + timedelta(seconds=math.ceil(duration)),
    }
    placeholder = {"filename": PLACEHOLDER_FILENAME, "content_type": "video/webm", "size": 0}
    return _record(deps, study, placeholder, agreed, viewer)


def give_upload(deps: Deps, video: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A joined viewer's one upload: 409 `already_uploaded` on a second request."""
    if video["viewer"].get("upload_issued"):
        raise Conflict("this recording was already uploaded", code="already_uploaded")
    file = _file(deps, body)
    check_quotas(deps, video["owner"], file["size"], new_record=False)
    changes = {**file, "key": upload_key(video["owner"], video["_id"], file["filename"])}
    updated = deps.viewers.set_upload(video["_id"], changes)
    if updated is None:
        raise Conflict("this recording was already uploaded", code="already_uploaded")
    return _upload(deps, updated)


def holder_view(video: dict[str, Any]) -> dict[str, Any]:
    """What the viewer holding the withdraw token sees of their own recording."""
    return {
        "id": video["_id"],
        "label": video["viewer"]["label"],
        "status": video["status"],
        "progress": video.get("progress") or {"done": 0, "total": 0},
    }


def remove(deps: Deps, video: dict[str, Any], *, refresh_curve: bool = True) -> None:
    """The recording, its segment results, its Analysis and its record, as `DELETE /videos` does (a
    running analysis is stopped). The audience's fingerprint changes with it: no cached curve counts it;
    with `refresh_curve` the curve without it is computed and cached now (best effort), so the next read
    is warm. A study's deletion passes False: its curves go with it."""
    video_library.delete_video(deps, video["owner"], video["_id"])
    if refresh_curve:
        curves.refresh(deps, video)
