"""Failed-login limits in Redis: fixed windows per email and per client IP.

Only failures count, so a user who types the password right is never slowed down; once a key reaches its
limit, further attempts are refused with the seconds left in the window (HTTP 429, `Retry-After`).
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

import redis

from chalicelib.errors import TooManyRequests


class LoginLimiter:
    def __init__(self, client: redis.Redis, per_email: int, per_ip: int, window_seconds: int) -> None:
        self._redis = client
        self._limits = {"email": per_email, "ip": per_ip}
        self._window = window_seconds

    @staticmethod
    def _key(kind: str, value: str) -> str:
        return f"rl:login:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"

    def check(self, email: str, ip: str) -> None:
        for kind, value in (("email", email), ("ip", ip)):
            key = self._key(kind, value)
            count = int(cast(Any, self._redis.get(key)) or 0)
            if count >= self._limits[kind]:
                ttl = int(cast(Any, self._redis.ttl(key)))
                raise TooManyRequests(
                    f"too many failed sign-ins; try again in {max(1, ttl)} seconds", retry_after=ttl
                )

    def record_failure(self, email: str, ip: str) -> None:
        pipe = self._redis.pipeline()
        for kind, value in (("email", email), ("ip", ip)):
            key = self._key(kind, value)
            pipe.incr(key)
            pipe.expire(key, self._window, nx=True)
        pipe.execute()

    def record_success(self, email: str) -> None:
        self._redis.delete(self._key("email", email))
