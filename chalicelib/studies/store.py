"""The `studies` and `invites` collections, and the study recordings kept in `videos`.

Every read a user can trigger is by owner: another user's study, invite or viewer is simply not found.
A viewer session is a record of the `videos` collection (same pipeline, retention and erasure) with a
`study_id` and a `viewer` sub-document; `ViewerRepository` is the study's view of those records, while
their status moves through `VideoRepository` like any video's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.database import Database

from chalicelib.storage.mongo import now_ms
from chalicelib.storage.videos import DONE, FAILED, PROCESSING, QUEUED


class StudyRepository:
    def __init__(self, db: Database) -> None:
        self._studies = db.studies

    def create(self, study: dict[str, Any]) -> dict[str, Any]:
        now = now_ms()
        record = {**study, "viewers_created": 0, "created_at": now, "updated_at": now}
        self._studies.insert_one(record)
        return record

    def get(self, owner: str, study_id: str) -> dict[str, Any] | None:
        return self._studies.find_one({"_id": study_id, "owner": owner})

    def latest(self, owner: str, limit: int) -> list[dict[str, Any]]:
        """Newest first."""
        found = self._studies.find({"owner": owner}).sort([("created_at", DESCENDING), ("_id", DESCENDING)])
        return list(found.limit(limit))

    def mark_uploaded(self, owner: str, study_id: str, when: datetime, size: int | None = None) -> bool:
        """The content object was seen in the bucket (by its S3 event, with the `size` S3 reported, or by a
        view's HEAD): later views need no HEAD (it stays until the study is deleted; its upload URL pins the
        key, type and size). Once only; a size comes to a study first marked without one. Whether anything
        changed (False: already recorded, or no such study)."""
        study = {"_id": study_id, "owner": owner}
        changes: dict[str, Any] = {"content.uploaded_at": when, "updated_at": when}
        if size is not None:
            changes["content.uploaded_size"] = size
        marked = self._studies.update_one({**study, "content.uploaded_at": None}, {"$set": changes})
        if marked.modified_count or size is None:
            return bool(marked.modified_count)
        sized = self._studies.update_one(
            {**study, "content.uploaded_size": None}, {"$set": {"content.uploaded_size": size}}
        )
        return bool(sized.modified_count)

    def next_viewer_number(self, owner: str, study_id: str) -> int | None:
        """The number of the study's next viewer ("Viewer N"), counted atomically so that two viewers
        joining at once never share a label; None when the study is gone."""
        found = self._studies.find_one_and_update(
            {"_id": study_id, "owner": owner},
            {"$inc": {"viewers_created": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return int(found["viewers_created"]) if found else None

    def delete(self, owner: str, study_id: str) -> bool:
        return self._studies.delete_one({"_id": study_id, "owner": owner}).deleted_count == 1

    def owned_by(self, owner: str) -> list[dict[str, Any]]:
        return list(
            self._studies.find({"owner": owner}).sort([("created_at", ASCENDING), ("_id", ASCENDING)])
        )

    def delete_all(self, owner: str) -> int:
        return int(self._studies.delete_many({"owner": owner}).deleted_count)


class InviteRepository:
    def __init__(self, db: Database) -> None:
        self._invites = db.invites

    def create(self, invite: dict[str, Any]) -> dict[str, Any]:
        record = {**invite, "used": 0, "revoked_at": None, "created_at": now_ms()}
        self._invites.insert_one(record)
        return record

    def by_token_hash(self, token_hash: str) -> dict[str, Any] | None:
        """The invite whose token hashes to `token_hash` (the token itself is never stored)."""
        return self._invites.find_one({"token_hash": token_hash})

    def get(self, owner: str, study_id: str, invite_id: str) -> dict[str, Any] | None:
        return self._invites.find_one({"_id": invite_id, "owner": owner, "study_id": study_id})

    def of_study(self, owner: str, study_id: str) -> list[dict[str, Any]]:
        """Newest first."""
        found = self._invites.find({"owner": owner, "study_id": study_id})
        return list(found.sort([("created_at", DESCENDING), ("_id", DESCENDING)]))

    def revoke(self, owner: str, study_id: str, invite_id: str, when: datetime) -> bool:
        """Revoke once (a second revocation keeps the first time); False when there is no such invite."""
        query = {"_id": invite_id, "owner": owner, "study_id": study_id}
        self._invites.update_one({**query, "revoked_at": None}, {"$set": {"revoked_at": when}})
        return self._invites.count_documents(query, limit=1) == 1

    def take_seat(self, invite: dict[str, Any], when: datetime) -> dict[str, Any] | None:
        """Count one more viewer on a live invite, atomically: `used` only goes up while it is below
        `max_viewers` (fixed at creation), so concurrent joins cannot exceed it. None when the invite is
        full, revoked, expired or gone meanwhile."""
        return self._invites.find_one_and_update(
            {
                "_id": invite["_id"],
                "used": {"$lt": int(invite["max_viewers"])},
                "revoked_at": None,
                "expires_at": {"$gt": when},
            },
            {"$inc": {"used": 1}},
            return_document=ReturnDocument.AFTER,
        )

    def by_id(self, invite_id: str) -> dict[str, Any] | None:
        return self._invites.find_one({"_id": invite_id})

    def delete_of_study(self, owner: str, study_id: str) -> int:
        return int(self._invites.delete_many({"owner": owner, "study_id": study_id}).deleted_count)

    def owned_by(self, owner: str) -> list[dict[str, Any]]:
        return list(
            self._invites.find({"owner": owner}).sort([("created_at", ASCENDING), ("_id", ASCENDING)])
        )

    def delete_all(self, owner: str) -> int:
        return int(self._invites.delete_many({"owner": owner}).deleted_count)


class ViewerRepository:
    """The study recordings among the `videos` records."""

    def __init__(self, db: Database) -> None:
        self._videos = db.videos

    def of_study(self, owner: str, study_id: str) -> list[dict[str, Any]]:
        """Oldest first (the order of their labels)."""
        found = self._videos.find({"owner": owner, "study_id": study_id})
        return list(found.sort([("created_at", ASCENDING), ("_id", ASCENDING)]))

    def get(self, owner: str, study_id: str, viewer_id: str) -> dict[str, Any] | None:
        return self._videos.find_one({"_id": viewer_id, "owner": owner, "study_id": study_id})

    def by_withdraw_hash(self, viewer_id: str, invite_id: str, withdraw_hash: str) -> dict[str, Any] | None:
        """The viewer that joined through `invite_id` and holds the withdraw token hashing to
        `withdraw_hash`; None for any other viewer."""
        return self._videos.find_one(
            {"_id": viewer_id, "viewer.invite_id": invite_id, "viewer.withdraw_hash": withdraw_hash}
        )

    def set_upload(self, viewer_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Give a joined viewer their one upload (file name, type, size and key); None when one was
        already given, or the viewer is gone. A new `updated_at` gives the upload its own hour before the
        watchdog expires the record."""
        return self._videos.find_one_and_update(
            {"_id": viewer_id, "status": "pending_upload", "viewer.upload_issued": False},
            {"$set": {**changes, "viewer.upload_issued": True, "updated_at": now_ms()}},
            return_document=ReturnDocument.AFTER,
        )

    def counts(self, owner: str, study_ids: list[str]) -> dict[str, dict[str, int]]:
        """Per study: viewers in all, done, being analysed (queued or processing) and failed."""
        found = self._videos.aggregate(
            [
                {"$match": {"owner": owner, "study_id": {"$in": study_ids}}},
                {"$group": {"_id": {"study": "$study_id", "status": "$status"}, "n": {"$sum": 1}}},
            ]
        )
        counts = {s: {"total": 0, "done": 0, "processing": 0, "failed": 0} for s in study_ids}
        for row in found:
            study, status, n = row["_id"]["study"], row["_id"]["status"], int(row["n"])
            shown = counts[study]
            shown["total"] += n
            if status == DONE:
                shown["done"] += n
            elif status in (QUEUED, PROCESSING):
                shown["processing"] += n
            elif status == FAILED:
                shown["failed"] += n
        return counts
