"""Server-side session state in Redis: refresh-token families and the access-token denylist.

A refresh token is opaque (`<family>.<random>`); Redis keeps only its SHA-256. Every use rotates it: the
old token is marked used and a new one of the same family is returned. Presenting a used token again means
it was stolen (or replayed), so the whole family is revoked and the user must sign in again, with one
exception: within `REUSE_GRACE_SECONDS` of its first use, a repeat (two tabs refreshing at once, a client
retrying after a lost response) gets the same successor token instead of a revocation.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any, cast

import redis

from chalicelib.errors import Unauthorized

_TOKEN = "rt:{}"  # hash of one refresh token -> {user, family, used}
_FAMILY = "rtf:{}"  # family id -> set of its token hashes
_REVOKED = "rtf:{}:revoked"
_DENIED = "deny:{}"  # access-token jti denied until it expires
_SUCCESSOR = "rt:{}:next"  # the token that replaced a spent one, kept for the grace period
_USER_FAMILIES = "rtu:{}"  # user id -> set of the families of their sign-ins (erasing an account)
REUSE_GRACE_SECONDS = 20


@dataclass(frozen=True)
class RefreshGrant:
    user_id: str
    family: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(self, client: redis.Redis, refresh_seconds: int) -> None:
        self._redis = client
        self._ttl = refresh_seconds

    def new_refresh_token(self, user_id: str, family: str | None = None) -> str:
        family = family or secrets.token_urlsafe(12)
        token = f"{family}.{secrets.token_urlsafe(32)}"
        digest = _digest(token)
        pipe = self._redis.pipeline()
        pipe.hset(_TOKEN.format(digest), mapping={"user": user_id, "family": family})
        pipe.expire(_TOKEN.format(digest), self._ttl)
        pipe.sadd(_FAMILY.format(family), digest)
        pipe.expire(_FAMILY.format(family), self._ttl)
        pipe.sadd(_USER_FAMILIES.format(user_id), family)
        pipe.expire(_USER_FAMILIES.format(user_id), self._ttl)
        pipe.execute()
        return token

    def rotate(self, token: str) -> tuple[RefreshGrant, str]:
        """Spend `token`: its grant and its family's new token. Reuse after the grace revokes the family."""
        digest = _digest(token)
        key = _TOKEN.format(digest)
        grant = self._grant(digest)
        if grant is None:
            raise Unauthorized("the refresh token is not valid or has expired", code="invalid_refresh_token")
        if self.family_revoked(grant.family):
            raise Unauthorized("this session was signed out; sign in again", code="session_revoked")
        if self._redis.hsetnx(key, "used", str(time.time())):
            successor = self.new_refresh_token(grant.user_id, grant.family)
            self._redis.set(_SUCCESSOR.format(digest), successor, ex=max(1, REUSE_GRACE_SECONDS))
            return grant, successor
        used_at = float(cast(Any, self._redis.hget(key, "used")) or 0)
        if time.time() - used_at <= REUSE_GRACE_SECONDS:
            repeated = self._await_successor(digest)
            if repeated is not None:
                return grant, repeated
        self.revoke_family(grant.family)
        raise Unauthorized(
            "this refresh token was already used; every session of its family is now signed out",
            code="refresh_token_reused",
        )

    def _await_successor(self, digest: str, wait_seconds: float = 2.0) -> str | None:
        """The concurrent winner writes the successor right after marking the token used: wait for it."""
        deadline = time.monotonic() + wait_seconds
        while True:
            value = self._redis.get(_SUCCESSOR.format(digest))
            if value is not None:
                return cast(bytes, value).decode()
            if time.monotonic() > deadline:
                return None
            time.sleep(0.02)

    def family_revoked(self, family: str) -> bool:
        return bool(self._redis.exists(_REVOKED.format(family)))

    def owner_of(self, token: str) -> RefreshGrant | None:
        return self._grant(_digest(token))

    def _grant(self, digest: str) -> RefreshGrant | None:
        record = cast(dict[bytes, bytes], self._redis.hgetall(_TOKEN.format(digest)))
        if not record:
            return None
        return RefreshGrant(user_id=record[b"user"].decode(), family=record[b"family"].decode())

    def revoke_family(self, family: str) -> None:
        members = cast(set[Any], self._redis.smembers(_FAMILY.format(family)))
        pipe = self._redis.pipeline()
        pipe.set(_REVOKED.format(family), 1, ex=self._ttl)
        for digest in members:
            pipe.delete(_TOKEN.format(digest.decode()), _SUCCESSOR.format(digest.decode()))
        pipe.delete(_FAMILY.format(family))
        pipe.execute()

    def revoke_user(self, user_id: str) -> int:
        """Sign the user out everywhere (an erased account): every family of theirs is revoked, so each
        access and refresh token of every sign-in stops working, and the index naming them is removed.
        What is left are the families' revocation marks, which name no user. The number of families."""
        key = _USER_FAMILIES.format(user_id)
        families = [member.decode() for member in cast(set[bytes], self._redis.smembers(key))]
        for family in families:
            self.revoke_family(family)
        self._redis.delete(key)
        return len(families)

    def deny_access_token(self, jti: str, expires_at: int) -> None:
        remaining = expires_at - int(time.time())
        if remaining > 0:
            self._redis.set(_DENIED.format(jti), 1, ex=remaining)

    def is_denied(self, jti: str) -> bool:
        return bool(self._redis.exists(_DENIED.format(jti)))
