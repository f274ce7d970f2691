"""The `videos` collection: one record per uploaded video, its status and progress.

Status moves `pending_upload -> queued -> processing -> done | failed`; every transition names the states
it may come from in its filter, so a duplicated or late pipeline step cannot move a video backwards (a
finished video never becomes `failed`, a deleted one is not resurrected).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from pymongo import DESCENDING, ReturnDocument
from pymongo.database import Database

from chalicelib.errors import BadRequest

PENDING_UPLOAD = "pending_upload"
QUEUED = "queued"
PROCESSING = "processing"
DONE = "done"
FAILED = "failed"
STATUSES = (PENDING_UPLOAD, QUEUED, PROCESSING, DONE, FAILED)


_VIDEO_ID = re.compile(r"[0-9a-f]{32}")


def new_video_id() -> str:
    """32 hex characters: valid as an S3 key part and as a Step Functions execution name."""
    return secrets.token_hex(16)


def _now() -> datetime:
    """Milliseconds: what BSON stores, so a record reads back with the time it was created with."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def encode_cursor(video: dict[str, Any]) -> str:
    raw = json.dumps([video["created_at"].isoformat(), video["_id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a page ends with; anything not made by `encode_cursor` is a 400."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, video_id = json.loads(raw)
        when = datetime.fromisoformat(created).astimezone(UTC)
        if not isinstance(video_id, str) or not _VIDEO_ID.fullmatch(video_id):
            raise ValueError("not a video id")
        return when, video_id
    except (ValueError, TypeError, OverflowError, binascii.Error, RecursionError):
        raise BadRequest(
            "the cursor is not valid; use the 'next' value of a previous page", code="invalid_cursor"
        ) from None


class VideoRepository:
    def __init__(self, db: Database) -> None:
        self._videos = db.videos

    def create(self, video: dict[str, Any]) -> dict[str, Any]:
        now = _now()
        record = {
            **video,
            "status": PENDING_UPLOAD,
            "progress": {"done": 0, "total": 0},
            "duration": None,
            "error": None,
            "attempt": 0,
            "created_at": now,
            "updated_at": now,
        }
        self._videos.insert_one(record)
        return record

    def get(self, owner: str, video_id: str) -> dict[str, Any] | None:
        return self._videos.find_one({"_id": video_id, "owner": owner})

    def page(self, owner: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first; `next` is the cursor of the following page, None on the last one."""
        query: dict[str, Any] = {"owner": owner}
        if cursor:
            created, video_id = decode_cursor(cursor)
            query["$or"] = [
                {"created_at": {"$lt": created}},
                {"created_at": created, "_id": {"$lt": video_id}},
            ]
        found = list(
            self._videos.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)]).limit(limit + 1)
        )
        items = found[:limit]
        return items, encode_cursor(items[-1]) if len(found) > limit else None

    def _move(
        self, video_id: str, sources: tuple[str, ...], changes: dict[str, Any]
    ) -> dict[str, Any] | None:
        update: dict[str, Any] = {"$set": {**changes.pop("$set", {}), "updated_at": _now()}, **changes}
        return self._videos.find_one_and_update(
            {"_id": video_id, "status": {"$in": list(sources)}}, update, return_document=ReturnDocument.AFTER
        )

    def mark_queued(self, video_id: str, owner: str) -> dict[str, Any] | None:
        """The upload arrived (S3 event). None: the video is unknown, not this owner's, or already queued."""
        return self._videos.find_one_and_update(
            {"_id": video_id, "owner": owner, "status": PENDING_UPLOAD},
            {"$set": {"status": QUEUED, "updated_at": _now()}, "$inc": {"attempt": 1}},
            return_document=ReturnDocument.AFTER,
        )

    def requeue(self, video_id: str, owner: str, status: str) -> dict[str, Any] | None:
        """A failed (or stuck) video tried again; `status` is the one it was seen in, so two retries at once
        cannot both start an analysis."""
        return self._videos.find_one_and_update(
            {"_id": video_id, "owner": owner, "status": status},
            {
                "$set": {
                    "status": QUEUED,
                    "error": None,
                    "error_code": None,
                    "progress": {"done": 0, "total": 0},
                    "updated_at": _now(),
                },
                "$inc": {"attempt": 1},
            },
            return_document=ReturnDocument.AFTER,
        )

    def set_execution(self, video_id: str, execution_arn: str) -> None:
        self._videos.update_one({"_id": video_id}, {"$set": {"execution_arn": execution_arn}})

    def start_processing(self, video_id: str, total: int, duration: float) -> dict[str, Any] | None:
        return self._move(
            video_id,
            (QUEUED, PROCESSING),
            {
                "$set": {
                    "status": PROCESSING,
                    "progress": {"done": 0, "total": total},
                    "segments_done": [],
                    "duration": duration,
                }
            },
        )

    def segment_done(self, video_id: str, index: int) -> None:
        """Count segment `index` once, even when Step Functions retries a step that already counted it."""
        self._videos.update_one(
            {"_id": video_id, "status": PROCESSING, "segments_done": {"$ne": index}},
            {"$inc": {"progress.done": 1}, "$addToSet": {"segments_done": index}},
        )

    def mark_done(self, video_id: str, summary: dict[str, Any]) -> dict[str, Any] | None:
        video = self._videos.find_one({"_id": video_id})
        total = (video or {}).get("progress", {}).get("total", 0)
        return self._move(
            video_id,
            (QUEUED, PROCESSING),
            {"$set": {"status": DONE, "summary": summary, "progress": {"done": total, "total": total}}},
        )

    def mark_failed(self, video_id: str, reason: str, code: str) -> dict[str, Any] | None:
        """`reason` is a sentence in English; `code` lets a client say it in the user's language."""
        return self._move(
            video_id,
            (PENDING_UPLOAD, QUEUED, PROCESSING),
            {"$set": {"status": FAILED, "error": reason, "error_code": code}},
        )

    def by_id(self, video_id: str) -> dict[str, Any] | None:
        return self._videos.find_one({"_id": video_id})

    def delete(self, owner: str, video_id: str) -> bool:
        return self._videos.delete_one({"_id": video_id, "owner": owner}).deleted_count == 1
