"""Everything an account holds, in one zip the user downloads: the account, every video record (with its
consent and retention), every Analysis as JSON and CSV, the studies (with their viewers and invites), and
on request the source videos and the studies' contents.

The zip is written to the uploads bucket under `exports/{user}/` and handed out as a presigned GET that
lives `EMOTIONFY_EXPORT_URL_SECONDS`; the retention sweep deletes it once that link has expired (and a
lifecycle rule a day later, should the sweep not run).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from chalicelib.deps import Deps
from chalicelib.engine.report import to_csv
from chalicelib.errors import BadRequest, NotFound, PayloadTooLarge
from chalicelib.privacy.retention import retention_days
from chalicelib.storage.bucket import export_key
from chalicelib.studies import invites, viewers
from chalicelib.studies import service as study_service
from chalicelib.uploads import object_size, presigned_get
from chalicelib.video_library import view

#: Kept in memory up to this size, then in a temporary file.
SPOOL_BYTES = 32 * 1024**2
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,10})$")


def _flag(params: dict[str, str] | None, name: str) -> bool:
    raw = (params or {}).get(name)
    if raw is None or raw == "false":
        return False
    if raw == "true":
        return True
    raise BadRequest(f"'{name}' must be true or false", code="invalid_parameter")


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False, default=_default).encode()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _extension(stored: dict[str, Any]) -> str:
    """The object's own extension, else the content type's subtype (`video/webm` -> `webm`)."""
    found = _EXTENSION.search(stored["key"])
    if found:
        return found[1].lower()
    return re.sub(r"[^a-z0-9]", "", stored["content_type"].split("/", 1)[-1].lower())[:10] or "bin"


def _studies(deps: Deps, user_id: str, studies: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Each study as GET /studies/{id} shows it, with its viewers and its invites (never a token: only
    their hashes are stored, and those are not exported)."""
    counts = deps.viewers.counts(user_id, [s["_id"] for s in studies])
    stale = deps.settings.watchdog_stale_seconds
    return [
        {
            **study_service.view(study, counts[study["_id"]], study_service.content_uploaded(deps, study)),
            "viewer_records": [viewers.view(v, stale) for v in deps.viewers.of_study(user_id, study["_id"])],
            "invites": [invites.view(i, now) for i in deps.invites.of_study(user_id, study["_id"])],
        }
        for study in studies
    ]


def _sources(
    deps: Deps, videos: list[dict[str, Any]], studies: list[dict[str, Any]]
) -> list[tuple[str, dict[str, Any], int]]:
    """(name in the zip, object, size) of every source video still stored and every study content
    uploaded; 413 when together they exceed the limit."""
    found = []
    for video in videos:
        if (video.get("retention") or {}).get("source_deleted_at") or video["status"] == "pending_upload":
            continue
        size = object_size(deps.s3, video["bucket"], video["key"])
        if size is not None:
            found.append((f"videos/{video['_id']}.{_extension(video)}", video, size))
    for study in studies:
        stored = study["content"]
        size = object_size(deps.s3, stored["bucket"], stored["key"])
        if size is not None:
            found.append((f"studies/{study['_id']}.{_extension(stored)}", stored, size))
    total, limit = sum(size for _, _, size in found), deps.settings.export_max_video_bytes
    if total > limit:
        raise PayloadTooLarge(
            f"your videos take {total:,} bytes, more than one export carries ({limit:,} bytes): export "
            "without videos (videos=false) and download each video from its page",
            code="export_too_large",
        )
    return found


def write_zip(deps: Deps, user_id: str, target: IO[bytes], with_videos: bool, now: datetime) -> None:
    user = deps.users.by_id(user_id)
    if user is None:
        raise NotFound("this account no longer exists")
    videos = deps.videos.owned_by(user_id)
    studies = deps.studies.owned_by(user_id)
    sources = _sources(deps, videos, studies) if with_videos else []
    stale = deps.settings.watchdog_stale_seconds
    account = {
        "id": user["_id"],
        "email": user["email"],
        "name": user.get("name") or "",
        "created_at": user.get("created_at"),
        "settings": {"retention_days": retention_days(deps, user_id)},
        "exported_at": now,
    }
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("account.json", _json(account))
        archive.writestr("videos.json", _json([view(v, stale) for v in videos]))
        for analysis in deps.analyses.owned_by(user_id):
            video_id = analysis["video_id"]
            archive.writestr(f"analyses/{video_id}.json", _json(analysis["analysis"]))
            archive.writestr(f"analyses/{video_id}.csv", to_csv(analysis["analysis"]))
        archive.writestr("studies.json", _json(_studies(deps, user_id, studies, now)))
        for name, stored, _ in sources:
            body = deps.s3.get_object(Bucket=stored["bucket"], Key=stored["key"])["Body"]
            # Videos are compressed already: stored as they are, streamed in 1 MiB blocks.
            with archive.open(zipfile.ZipInfo(name, now.timetuple()[:6]), "w") as entry:
                shutil.copyfileobj(body, entry, 1024 * 1024)


def export_account(
    deps: Deps, user_id: str, params: dict[str, str] | None, now: datetime | None = None
) -> dict[str, Any]:
    """Write the account's zip to S3; its presigned download link, when the link expires and the size."""
    with_videos = _flag(params, "videos")
    now = now or datetime.now(UTC)
    bucket, seconds = deps.settings.uploads_bucket, deps.settings.export_url_seconds
    key = export_key(user_id, f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(8)}")
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        write_zip(deps, user_id, spool, with_videos, now)
        size = spool.tell()
        spool.seek(0)
        filename = f"emotionfy-export-{now.date().isoformat()}.zip"
        deps.s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=spool,
            ContentLength=size,
            ContentType="application/zip",
            ContentDisposition=f'attachment; filename="{filename}"',
        )
    return {
        "url": presigned_get(deps.s3, bucket, key, seconds),
        "expires_at": (now + timedelta(seconds=seconds)).isoformat(),
        "size": size,
    }
