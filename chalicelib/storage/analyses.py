"""The `analyses` collection: one Analysis document (see docs/analysis.md) per finished video."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database


class AnalysisRepository:
    def __init__(self, db: Database) -> None:
        self._analyses = db.analyses

    def put(self, video_id: str, owner: str, analysis: dict[str, Any]) -> None:
        """Replace (not add): a retried merge writes the same document again."""
        self._analyses.replace_one(
            {"_id": video_id},
            {"_id": video_id, "owner": owner, "created_at": datetime.now(UTC), "analysis": analysis},
            upsert=True,
        )

    def get(self, video_id: str, owner: str) -> dict[str, Any] | None:
        found = self._analyses.find_one({"_id": video_id, "owner": owner})
        return found["analysis"] if found else None

    def delete(self, video_id: str, owner: str) -> None:
        self._analyses.delete_one({"_id": video_id, "owner": owner})

    def owned_by(self, owner: str) -> list[dict[str, Any]]:
        """Every stored Analysis of `owner` as `{"video_id", "analysis"}` (an export)."""
        return [
            {"video_id": found["_id"], "analysis": found["analysis"]}
            for found in self._analyses.find({"owner": owner}).sort("_id", 1)
        ]

    def delete_all(self, owner: str) -> int:
        return int(self._analyses.delete_many({"owner": owner}).deleted_count)
