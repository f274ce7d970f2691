"""A user's statistics across every analysed video, computed by one MongoDB aggregation and cached in Redis.

Each user's cache key carries a fingerprint of the user's videos read from MongoDB itself (how many there
are and when the latest one changed): a video finishing, failing or being deleted changes it, so a
computation that started before such a change stores its result under the old fingerprint, where nobody
reads it, and a cached answer is never stale. Nothing has to remember to invalidate the cache, and a Redis
outage cannot leave a stale entry behind; the TTL only bounds memory.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

import redis
from pymongo.database import Database

from chalicelib.engine.labels import LABELS
from chalicelib.storage.videos import VideoRepository

_KEY = "stats:{}:{}"


def cache_pattern(user_id: str) -> str:
    """A Redis SCAN pattern matching every cached answer of the user (erasing an account)."""
    return _KEY.format(user_id, "*")


def fingerprint(db: Database, user_id: str) -> str:
    """Changes whenever one of the user's videos is created, changes status or is deleted."""
    return VideoRepository(db).change_fingerprint(user_id)


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def compute(db: Database, user_id: str) -> dict[str, Any]:
    facets = VideoRepository(db).statistics(user_id)
    totals = facets["totals"][0] if facets["totals"] else {}
    duration = float(totals.get("duration") or 0.0)
    mass = {label: float(totals.get(label) or 0.0) for label in LABELS}
    total_mass = sum(mass.values())
    return {
        "videos": int(totals.get("videos") or 0),
        "total_duration": round(duration, 3),
        "distribution": {k: round(v / total_mass, 4) if total_mass else 0.0 for k, v in mass.items()},
        "averages": {
            key: round(float(totals.get(key) or 0.0), 4)
            for key in ("valence", "expressiveness", "face_presence")
        },
        "dominant_per_video": [
            {
                "id": v["_id"],
                "title": v.get("title") or "",
                "created_at": _iso(v.get("created_at")),
                "duration": v.get("duration"),
                "dominant": v.get("dominant"),
                "valence": v.get("valence"),
            }
            for v in facets["per_video"]
        ],
        "weekly": [
            {
                "week": w["_id"].date().isoformat(),
                "videos": w["videos"],
                "duration": round(float(w["duration"] or 0.0), 3),
                "valence": round(float(w["valence"] or 0.0), 4),
                "expressiveness": round(float(w["expressiveness"] or 0.0), 4),
            }
            for w in facets["weekly"]
        ],
    }


def user_stats(db: Database, cache: redis.Redis, user_id: str, ttl_seconds: int) -> dict[str, Any]:
    key = _KEY.format(user_id, fingerprint(db, user_id))
    cached = cache.get(key)
    if cached:
        return {**json.loads(cast(bytes, cached)), "cached": True}
    result = compute(db, user_id)
    cache.set(key, json.dumps(result), ex=ttl_seconds)
    return {**result, "cached": False}
