"""The `videos` collection: one record per uploaded video, its status and progress.

Status moves `pending_upload -> queued -> processing -> done | failed`; every transition names the states
it may come from in its filter, so a duplicated or late pipeline step cannot move a video backwards (a
finished video never becomes `failed`, a deleted one is not resurrected). Pipeline transitions also name
the attempt they belong to (`attempt` goes up each time the video is queued), so a step of an older
execution cannot change the record of a newer one.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import DESCENDING, ReturnDocument
from pymongo.database import Database

from chalicelib.engine.labels import LABELS
from chalicelib.errors import BadRequest
from chalicelib.storage.mongo import now_ms as _now

PENDING_UPLOAD = "pending_upload"
QUEUED = "queued"
PROCESSING = "processing"
DONE = "done"
FAILED = "failed"
STATUSES = (PENDING_UPLOAD, QUEUED, PROCESSING, DONE, FAILED)


_VIDEO_ID = re.compile(r"[0-9a-f]{32}")

#: The retention of a video's source (chalicelib/privacy/retention.py): when its analysis ended, when the
#: source is to be deleted (absent or None: kept), when it was, and whether its S3 tag still has to follow.
ANALYSED_AT = "retention.analysed_at"
DELETE_AFTER = "retention.delete_source_after"
SOURCE_DELETED = "retention.source_deleted_at"
TAG_PENDING = "retention.tag_pending"
#: A viewer session of a study (chalicelib/studies) is a video record with its study's id; absent otherwise.
STUDY_ID = "study_id"
#: Until when a viewer who joined by invite may still be watching the content before asking for the upload.
RECORDING_UNTIL = "viewer.recording_until"
FINISHED = (DONE, FAILED)


def new_video_id() -> str:
    """32 hex characters: valid as an S3 key part and as a Step Functions execution name."""
    return secrets.token_hex(16)


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


def _statistics_pipeline(user_id: str) -> list[dict[str, Any]]:
    weighted = {
        label: {"$sum": {"$multiply": ["$duration", f"$summary.distribution.{label}"]}} for label in LABELS
    }
    return [
        # A study's recordings belong to their study: statistics are of the user's own videos.
        {"$match": {"owner": user_id, "status": DONE, STUDY_ID: None}},
        {
            "$facet": {
                "totals": [
                    {
                        "$group": {
                            "_id": None,
                            "videos": {"$sum": 1},
                            "duration": {"$sum": "$duration"},
                            "valence": {"$avg": "$summary.valence"},
                            "expressiveness": {"$avg": "$summary.expressiveness"},
                            "face_presence": {"$avg": "$summary.face_presence"},
                            **weighted,
                        }
                    }
                ],
                "per_video": [
                    {"$sort": {"created_at": -1}},
                    {"$limit": 100},
                    {
                        "$project": {
                            "title": 1,
                            "created_at": 1,
                            "duration": 1,
                            "dominant": "$summary.dominant",
                            "valence": "$summary.valence",
                        }
                    },
                ],
                "weekly": [
                    {
                        "$group": {
                            "_id": {
                                "$dateTrunc": {"date": "$created_at", "unit": "week", "startOfWeek": "monday"}
                            },
                            "videos": {"$sum": 1},
                            "duration": {"$sum": "$duration"},
                            "valence": {"$avg": "$summary.valence"},
                            "expressiveness": {"$avg": "$summary.expressiveness"},
                        }
                    },
                    {"$sort": {"_id": 1}},
                ],
            }
        },
    ]


class VideoRepository:
    def __init__(self, db: Database) -> None:
        self._videos = db.videos
        self._studies = db.studies

    def change_fingerprint(self, owner: str) -> str:
        """Changes whenever one of the owner's videos is created, changes status or is deleted."""
        found = next(
            self._videos.aggregate(
                [
                    {"$match": {"owner": owner}},
                    {"$group": {"_id": None, "n": {"$sum": 1}, "last": {"$max": "$updated_at"}}},
                ]
            ),
            None,
        )
        if not found:
            return "0"
        last = found["last"]
        return f"{found['n']}-{last.timestamp() if isinstance(last, datetime) else 0:.3f}"

    def statistics(self, owner: str) -> dict[str, Any]:
        """One aggregation over the owner's analysed videos: `totals` (counts, durations, averages and
        duration-weighted emotion mass), `per_video` (the latest 100) and `weekly`."""
        empty: dict[str, Any] = {"totals": [], "per_video": [], "weekly": []}
        return dict(next(self._videos.aggregate(_statistics_pipeline(owner)), empty))

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
        """Newest first; `next` is the cursor of the following page, None on the last one. A study's
        recordings are listed with their study, not here."""
        query: dict[str, Any] = {"owner": owner, STUDY_ID: None}
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
        self, video_id: str, sources: tuple[str, ...], changes: dict[str, Any], attempt: int | None = None
    ) -> dict[str, Any] | None:
        update: dict[str, Any] = {"$set": {**changes.pop("$set", {}), "updated_at": _now()}, **changes}
        query: dict[str, Any] = {"_id": video_id, "status": {"$in": list(sources)}}
        if attempt is not None:
            query["attempt"] = attempt
        return self._videos.find_one_and_update(query, update, return_document=ReturnDocument.AFTER)

    def mark_queued(self, video_id: str, owner: str) -> dict[str, Any] | None:
        """The upload arrived (S3 event). None: the video is unknown, not this owner's, or already queued."""
        return self._videos.find_one_and_update(
            {"_id": video_id, "owner": owner, "status": PENDING_UPLOAD},
            {"$set": {"status": QUEUED, "updated_at": _now()}, "$inc": {"attempt": 1}},
            return_document=ReturnDocument.AFTER,
        )

    def requeue(
        self, video_id: str, owner: str, status: str, *, automatic: bool = False
    ) -> dict[str, Any] | None:
        """A failed (or stuck) video tried again; `status` is the one it was seen in, so two retries at once
        cannot both start an analysis. `automatic`: the watchdog's retry, counted apart from the user's."""
        changes: dict[str, Any] = {
            "status": QUEUED,
            "error": None,
            "error_code": None,
            "progress": {"done": 0, "total": 0},
            "updated_at": _now(),
        }
        counters = {"attempt": 1}
        if automatic:
            counters["automatic_retries"] = 1
        else:
            changes["automatic_retries"] = 0  # the user's retry gets the watchdog's help again
        # A new analysis gets a new retention plan when it ends; a video whose source was deleted by its
        # retention cannot be analysed again.
        changes["retention"] = {}
        return self._videos.find_one_and_update(
            {"_id": video_id, "owner": owner, "status": status, SOURCE_DELETED: None},
            {"$set": changes, "$inc": counters},
            return_document=ReturnDocument.AFTER,
        )

    def set_execution(self, video_id: str, execution_arn: str) -> None:
        self._videos.update_one({"_id": video_id}, {"$set": {"execution_arn": execution_arn}})

    def start_processing(
        self, video_id: str, total: int, duration: float, attempt: int | None = None
    ) -> dict[str, Any] | None:
        """Probed: N segments to go. A retried probe of a video already processing starts the count again."""
        return self._move(
            video_id,
            (QUEUED, PROCESSING),
            {
                "$set": {
                    "status": PROCESSING,
                    "progress": {"done": 0, "total": total},
                    "segments_done": [],
                    "duration": duration,
                    "processing_started_at": _now(),
                }
            },
            attempt,
        )

    def segment_done(self, video_id: str, index: int, attempt: int | None = None) -> None:
        """Count segment `index` once, even when Step Functions retries a step that already counted it."""
        query: dict[str, Any] = {"_id": video_id, "status": PROCESSING, "segments_done": {"$ne": index}}
        if attempt is not None:
            query["attempt"] = attempt
        self._videos.update_one(
            query,
            {
                "$inc": {"progress.done": 1},
                "$addToSet": {"segments_done": index},
                "$set": {"updated_at": _now()},  # progress is a sign of life (the watchdog reads it)
            },
        )

    def mark_done(
        self, video_id: str, summary: dict[str, Any], attempt: int | None = None
    ) -> dict[str, Any] | None:
        """Only once the video's Analysis is stored (the merge step writes it first)."""
        video = self._videos.find_one({"_id": video_id})
        total = (video or {}).get("progress", {}).get("total", 0)
        return self._move(
            video_id,
            (QUEUED, PROCESSING),
            {"$set": {"status": DONE, "summary": summary, "progress": {"done": total, "total": total}}},
            attempt,
        )

    def mark_failed(
        self, video_id: str, reason: str, code: str, attempt: int | None = None
    ) -> dict[str, Any] | None:
        """`reason` is a sentence in English; `code` lets a client say it in the user's language."""
        return self._move(
            video_id,
            (PENDING_UPLOAD, QUEUED, PROCESSING),
            {"$set": {"status": FAILED, "error": reason, "error_code": code}},
            attempt,
        )

    def minutes_analysed_since(self, owner: str, hours: float, excluding: str | None = None) -> float:
        """Minutes of video whose analysis started in the last `hours` (the daily analysis quota)."""
        since = _now() - timedelta(hours=hours)
        query: dict[str, Any] = {"owner": owner, "processing_started_at": {"$gte": since}}
        if excluding:
            query["_id"] = {"$ne": excluding}
        found = self._videos.aggregate(
            [{"$match": query}, {"$group": {"_id": None, "seconds": {"$sum": "$duration"}}}]
        )
        total: dict[str, Any] = next(found, {})
        return float(total.get("seconds") or 0.0) / 60

    def usage(self, owner: str, hours: float) -> tuple[int, int]:
        """(bytes announced by every video kept and every study's content, videos created in the last
        `hours`): the upload quotas. Study recordings are videos and count like any other."""
        since = _now() - timedelta(hours=hours)
        found: dict[str, Any] = next(
            self._videos.aggregate(
                [
                    {"$match": {"owner": owner}},
                    {
                        "$group": {
                            "_id": None,
                            # a source deleted by its retention no longer takes storage
                            "bytes": {
                                "$sum": {"$cond": [{"$ifNull": [f"${SOURCE_DELETED}", False]}, 0, "$size"]}
                            },
                            "recent": {"$sum": {"$cond": [{"$gte": ["$created_at", since]}, 1, 0]}},
                        }
                    },
                ]
            ),
            {},
        )
        contents: dict[str, Any] = next(
            self._studies.aggregate(
                [{"$match": {"owner": owner}}, {"$group": {"_id": None, "bytes": {"$sum": "$content.size"}}}]
            ),
            {},
        )
        stored = int(found.get("bytes") or 0) + int(contents.get("bytes") or 0)
        return stored, int(found.get("recent") or 0)

    def unfinished(
        self, statuses: tuple[str, ...], changed_before: datetime, limit: int = 500
    ) -> list[dict[str, Any]]:
        """Videos in `statuses` that have not changed since `changed_before`, oldest first (the watchdog)."""
        return list(
            self._videos.find({"status": {"$in": list(statuses)}, "updated_at": {"$lt": changed_before}})
            .sort("updated_at", 1)
            .limit(limit)
        )

    def failed_with(
        self, codes: tuple[str, ...], changed_before: datetime, limit: int = 500
    ) -> list[dict[str, Any]]:
        """Failed videos whose `error_code` is one of `codes`, unchanged since `changed_before`."""
        query = {"status": FAILED, "error_code": {"$in": list(codes)}, "updated_at": {"$lt": changed_before}}
        return list(self._videos.find(query).sort("updated_at", 1).limit(limit))

    def delete_if_pending(self, video_id: str, changed_before: datetime) -> bool:
        """Remove a video that was never uploaded (and still is not), announced before `changed_before`. A
        viewer who joined a study by invite is given the content's length on top (`recording_until`):
        they may be watching it before they ask for their upload."""
        query = {
            "_id": video_id,
            "status": PENDING_UPLOAD,
            "updated_at": {"$lt": changed_before},
            "$or": [{RECORDING_UNTIL: None}, {RECORDING_UNTIL: {"$lt": changed_before}}],
        }
        return self._videos.delete_one(query).deleted_count == 1

    def by_id(self, video_id: str) -> dict[str, Any] | None:
        return self._videos.find_one({"_id": video_id})

    def delete(self, owner: str, video_id: str) -> bool:
        return self._videos.delete_one({"_id": video_id, "owner": owner}).deleted_count == 1

    # --- everything of one owner (export, erasure) ---

    def owned_by(self, owner: str) -> list[dict[str, Any]]:
        """Every video of `owner`, oldest first."""
        return list(self._videos.find({"owner": owner}).sort([("created_at", 1), ("_id", 1)]))

    def delete_all(self, owner: str) -> int:
        return int(self._videos.delete_many({"owner": owner}).deleted_count)

    # --- retention of the source video ---

    def plan_retention(
        self, video_id: str, analysed_at: datetime, delete_after: datetime | None
    ) -> dict[str, Any] | None:
        """Record when the analysis ended and when the source goes (None: kept); its S3 tag is to follow.
        None: the video is not finished, or its source is already gone."""
        return self._videos.find_one_and_update(
            {"_id": video_id, "status": {"$in": list(FINISHED)}, SOURCE_DELETED: None},
            {"$set": {ANALYSED_AT: analysed_at, DELETE_AFTER: delete_after, TAG_PENDING: True}},
            return_document=ReturnDocument.AFTER,
        )

    def unplanned(self, limit: int = 500) -> list[dict[str, Any]]:
        """Finished videos with no retention plan yet (the merge step could not plan it, or a video
        finished before retention existed, or one that failed)."""
        query = {"status": {"$in": list(FINISHED)}, ANALYSED_AT: {"$exists": False}}
        return list(self._videos.find(query).sort("updated_at", 1).limit(limit))

    def with_source_planned(self, owner: str) -> list[dict[str, Any]]:
        """The owner's finished videos that have a plan and still have their source (a new setting)."""
        query = {"owner": owner, "status": {"$in": list(FINISHED)}, ANALYSED_AT: {"$exists": True}}
        return list(self._videos.find({**query, SOURCE_DELETED: None}))

    def due_sources(self, now: datetime, owner: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Finished videos whose source is due for deletion at `now` and still there."""
        query: dict[str, Any] = {
            "status": {"$in": list(FINISHED)},
            DELETE_AFTER: {"$lte": now},
            SOURCE_DELETED: None,
        }
        if owner is not None:
            query["owner"] = owner
        return list(self._videos.find(query).sort(DELETE_AFTER, 1).limit(limit))

    def claim_source_deletion(self, video_id: str, now: datetime) -> dict[str, Any] | None:
        """Mark the source deleted before deleting it, so that no retry can start on a vanishing file;
        None when it is not due any more (a new setting, a retry, already deleted)."""
        query = {
            "_id": video_id,
            "status": {"$in": list(FINISHED)},
            DELETE_AFTER: {"$lte": now},
            SOURCE_DELETED: None,
        }
        return self._videos.find_one_and_update(
            query, {"$set": {SOURCE_DELETED: now}}, return_document=ReturnDocument.AFTER
        )

    def release_source_deletion(self, video_id: str) -> None:
        """The deletion failed (storage unreachable): the next sweep tries again."""
        self._videos.update_one({"_id": video_id}, {"$set": {SOURCE_DELETED: None}})

    def tags_pending(self, owner: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Videos whose source's S3 retention tag does not follow their plan yet."""
        query: dict[str, Any] = {TAG_PENDING: True, SOURCE_DELETED: None}
        if owner is not None:
            query["owner"] = owner
        return list(self._videos.find(query).limit(limit))

    def tag_done(self, video_id: str, delete_after: datetime | None) -> None:
        """The tag follows the plan it was computed from (a newer plan leaves it pending)."""
        self._videos.update_one({"_id": video_id, DELETE_AFTER: delete_after}, {"$set": {TAG_PENDING: False}})
