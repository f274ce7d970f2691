"""The `users` collection: accounts keyed by a random id, with a unique, normalised email."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from chalicelib.errors import BadRequest, Conflict

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def normalise_email(raw: str) -> str:
    """Trimmed and lower-cased, so `Ana@Example.com ` and `ana@example.com` are one account."""
    email = raw.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise BadRequest("that is not a valid email address", code="invalid_email")
    return email


def public(user: dict[str, Any]) -> dict[str, Any]:
    return {"id": user["_id"], "email": user["email"], "name": user.get("name") or ""}


class UserRepository:
    def __init__(self, db: Database) -> None:
        self._users = db.users

    def create(self, email: str, name: str, password_hash: str) -> dict[str, Any]:
        user = {
            "_id": f"u_{secrets.token_hex(12)}",
            "email": email,
            "name": name,
            "password_hash": password_hash,
            "created_at": datetime.now(UTC),
        }
        try:
            self._users.insert_one(user)
        except DuplicateKeyError:
            raise Conflict("an account with this email already exists", code="email_taken") from None
        return user

    def by_email(self, email: str) -> dict[str, Any] | None:
        return self._users.find_one({"email": email})

    def by_id(self, user_id: str) -> dict[str, Any] | None:
        return self._users.find_one({"_id": user_id})

    def settings(self, user_id: str) -> dict[str, Any] | None:
        """The choices the user made (`retention_days`, ...); None when there is no such user."""
        found = self._users.find_one({"_id": user_id}, {"settings": 1})
        if found is None:
            return None
        return dict(found.get("settings") or {})

    def set_retention_days(self, user_id: str, days: int | None) -> bool:
        """`days` None keeps source videos until the user deletes them."""
        result = self._users.update_one({"_id": user_id}, {"$set": {"settings.retention_days": days}})
        return result.matched_count == 1

    def delete(self, user_id: str) -> bool:
        return self._users.delete_one({"_id": user_id}).deleted_count == 1
