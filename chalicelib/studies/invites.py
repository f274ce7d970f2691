"""Invite links: a secret token that lets people without an account join one study as viewers.

The token (`secrets.token_urlsafe(32)`, 256 random bits) is shown once, at creation, inside the link
`{site}/watch/{token}`; only its SHA-256 is stored and a request's token is found by the hash of what it
sent, so a copy of the database opens nothing. A token opens only its own study's invite routes (the
viewer's content, joining, and the joined viewer's own recording with its withdraw token); it is no
access token, so every JWT route refuses it (401).

Missing or unknown token: 401 `invite_invalid`; past `expires_at`: 410 `invite_expired`; revoked: 410
`invite_revoked`. A joined viewer keeps the right to see their status and to withdraw after that.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.deps import Deps
from chalicelib.errors import ApiError, BadRequest, NotFound, Unauthorized
from chalicelib.storage.mongo import now_ms
from chalicelib.storage.videos import new_video_id

DEFAULT_EXPIRES_SECONDS = 7 * 24 * 3600
MIN_EXPIRES_SECONDS = 60
MAX_EXPIRES_SECONDS = 30 * 24 * 3600
DEFAULT_MAX_VIEWERS = 50
MAX_VIEWERS = 1000
#: Longer header values are not tokens of ours (and are not hashed).
MAX_TOKEN_LENGTH = 256


class InviteGone(ApiError):
    """The invite existed but no longer admits anyone (expired or revoked)."""

    status = 410
    code = "invite_expired"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link(site_url: str, token: str) -> str:
    return f"{site_url.rstrip('/')}/watch/{token}"


def _bounded(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"'{name}' must be an integer from {low} to {high}", code="invalid_field")
    return value


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def expired(invite: dict[str, Any], now: datetime) -> bool:
    return _aware(invite["expires_at"]) <= now


def view(invite: dict[str, Any], now: datetime) -> dict[str, Any]:
    """An invite as its creator lists it (never its token, which is not stored)."""
    return {
        "id": invite["_id"],
        "created_at": _aware(invite["created_at"]).isoformat(),
        "expires_at": _aware(invite["expires_at"]).isoformat(),
        "max_viewers": int(invite["max_viewers"]),
        "used": int(invite["used"]),
        "revoked": invite.get("revoked_at") is not None,
        "expired": expired(invite, now),
    }


def create(deps: Deps, study: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A new invite to `study`: its link and token (shown this once), expiry and capacity."""
    lifetime = _bounded(body, "expires_in", DEFAULT_EXPIRES_SECONDS, MIN_EXPIRES_SECONDS, MAX_EXPIRES_SECONDS)
    capacity = _bounded(body, "max_viewers", DEFAULT_MAX_VIEWERS, 1, MAX_VIEWERS)
    token = new_token()
    expires_at = now_ms() + timedelta(seconds=lifetime)
    invite = deps.invites.create(
        {
            "_id": new_video_id(),
            "study_id": study["_id"],
            "owner": study["owner"],
            "token_hash": token_hash(token),
            "expires_at": expires_at,
            "max_viewers": capacity,
        }
    )
    return {
        "id": invite["_id"],
        "url": link(deps.settings.site_url, token),
        "token": token,
        "expires_at": expires_at.isoformat(),
        "max_viewers": capacity,
        "used": 0,
    }


def listing(deps: Deps, study: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"items": [view(i, now) for i in deps.invites.of_study(study["owner"], study["_id"])]}


def revoke(deps: Deps, study: dict[str, Any], invite_id: str) -> None:
    """No one can join through it any more; viewers who joined keep their recordings (and their right to
    withdraw them)."""
    if not deps.invites.revoke(study["owner"], study["_id"], invite_id, now_ms()):
        raise NotFound("no such invite")


def check_live(invite: dict[str, Any], now: datetime) -> None:
    """410 when the invite no longer admits anyone."""
    if invite.get("revoked_at") is not None:
        raise InviteGone("this invite was withdrawn by the study's creator", code="invite_revoked")
    if expired(invite, now):
        raise InviteGone("this invite has expired", code="invite_expired")


def invalid() -> Unauthorized:
    return Unauthorized(
        "this invite link is not valid: send the token of the link in X-Invite-Token", code="invite_invalid"
    )


def resolve(deps: Deps, token: str | None, *, live: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """The invite and study a request's `X-Invite-Token` opens; 401 `invite_invalid` for a missing or
    unknown token, and with `live`, 410 once it expired or was revoked."""
    invite = None
    if token and len(token) <= MAX_TOKEN_LENGTH:
        invite = deps.invites.by_token_hash(token_hash(token))
    study = deps.studies.get(invite["owner"], invite["study_id"]) if invite else None
    if invite is None or study is None:
        raise invalid()
    if live:
        check_live(invite, datetime.now(UTC))
    return invite, study
