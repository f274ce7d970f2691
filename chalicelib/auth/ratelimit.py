"""Login limits in Redis: fixed windows per email and per client IP.

Every attempt takes a slot *before* the password is checked (one atomic INCR per key), so parallel guesses
cannot slip past the limit; a successful sign-in gives its slots back and clears the email's count. Once a
key is over its limit every attempt is refused, the right password included (otherwise the limit would
only slow down people who type it wrong), with the seconds left in the window (HTTP 429, `Retry-After`).
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

    def attempt(self, email: str, ip: str) -> None:
        """Take a slot for this attempt on both keys; `TooManyRequests` when either is over its limit."""
        limits = {self._key("email", email): self._limits["email"], self._key("ip", ip): self._limits["ip"]}
        take_slots(self._redis, limits, self._window, "too many sign-in attempts")

    def succeeded(self, email: str, ip: str) -> None:
        pipe = self._redis.pipeline()
        pipe.delete(self._key("email", email))
        pipe.decr(self._key("ip", ip))
        pipe.execute()


def take_slots(client: redis.Redis, limits: dict[str, int], window_seconds: int, what: str) -> None:
    """Count one attempt on every key (atomically, in one round trip; a key's window starts with its first
    attempt); `TooManyRequests` naming `what` and the wait when a key is over its limit."""
    pipe = client.pipeline()
    for key in limits:
        pipe.incr(key)
        pipe.expire(key, window_seconds, nx=True)
    counts = cast(list[Any], pipe.execute())[::2]
    for (key, limit), count in zip(limits.items(), counts, strict=True):
        if int(count) > limit:
            ttl = int(cast(Any, client.ttl(key)))
            raise TooManyRequests(f"{what}; try again in {max(1, ttl)} seconds", retry_after=ttl)


def limit_registrations(client: redis.Redis, ip: str, per_ip: int, window_seconds: int) -> None:
    """Accounts created per client IP and window: bounds sign-up spam, argon2 CPU and email probing."""
    key = f"rl:register:ip:{hashlib.sha256(ip.encode()).hexdigest()[:32]}"
    take_slots(client, {key: per_ip}, window_seconds, "too many new accounts from this address")
