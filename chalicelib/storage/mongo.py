"""One MongoDB client per process (Lambda container or local server) and the indexes the queries need."""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.database import Database


def connect(uri: str, database: str, timeout_ms: int) -> Database:
    """A database handle; the client connects lazily and fails fast when the server is unreachable.

    Writes are acknowledged once journaled (`j: true`): without it a server crash right after the
    acknowledgement loses the write (measured: SecantusDB killed after an acknowledged update restarted
    without it), and a pipeline step would go on as if its status were stored."""
    client: MongoClient = MongoClient(
        uri,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=max(timeout_ms, 10_000),
        tz_aware=True,
        journal=True,
        appname="emotionfy",
    )
    return client[database]


def ensure_indexes(db: Database) -> None:
    """Idempotent: creating an index that exists is a no-op."""
    db.users.create_index([("email", ASCENDING)], unique=True, name="email_unique")
    db.videos.create_index(
        [("owner", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)], name="owner_created"
    )
    db.videos.create_index([("status", ASCENDING), ("updated_at", ASCENDING)], name="status_updated")
    db.analyses.create_index([("owner", ASCENDING)], name="analyses_owner")
    # The retention sweep: sources due for deletion (chalicelib/privacy/retention.py).
    db.videos.create_index([("retention.delete_source_after", ASCENDING)], name="retention_due")
    # Audience studies (chalicelib/studies): a user's studies, a study's viewer recordings and invites,
    # and an invite found by the hash of its token (unique: two invites never share a token).
    db.studies.create_index([("owner", ASCENDING), ("created_at", DESCENDING)], name="studies_owner_created")
    db.videos.create_index(
        [("owner", ASCENDING), ("study_id", ASCENDING), ("created_at", ASCENDING)], name="videos_study"
    )
    db.invites.create_index([("token_hash", ASCENDING)], unique=True, name="invites_token")
    db.invites.create_index(
        [("owner", ASCENDING), ("study_id", ASCENDING), ("created_at", DESCENDING)], name="invites_study"
    )


def now_ms() -> datetime:
    """Now, to the millisecond: what BSON stores, so a record reads back with the time it was made with."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
