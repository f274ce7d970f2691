"""The sign-in and sign-up limits (chalicelib/auth/ratelimit.py): the real Lua scripts, run by Lua 5.1 on a
fake Redis with a fake clock, so windows and back-off are checked in milliseconds."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.auth.ratelimit import LoginLimiter, limit_registrations
from chalicelib.errors import TooManyRequests
from tests.unit.fakes import Clock, FakeRedis

WINDOW = 900
EMAIL = "ana@example.com"


@pytest.fixture
def redis(clock: Clock) -> Any:
    """A FakeRedis, typed as what the code takes (a redis.Redis)."""
    return FakeRedis(clock)


@pytest.fixture
def limiter(redis: Any) -> LoginLimiter:
    return LoginLimiter(redis, per_email_ip=5, per_ip=20, per_account=50, window_seconds=WINDOW)


def _refused(limiter: LoginLimiter, email: str, ip: str) -> int:
    """The wait of a refused attempt (fails the test if the attempt was let through)."""
    with pytest.raises(TooManyRequests) as refused:
        limiter.attempt(email, ip)
    wait = refused.value.retry_after
    assert wait is not None and wait > 0
    return int(wait)


def _counts(redis: Any, email: str, ip: str) -> dict[str, int]:
    keys = LoginLimiter.keys(email, ip)
    return {name: int(redis.get(keys[name]) or 0) for name in ("ip", "email_ip", "account")}


def test_five_failures_from_one_address_lock_that_address_out_of_that_account(
    limiter: LoginLimiter, redis: Any, clock: Clock
) -> None:
    for _ in range(5):
        limiter.attempt(EMAIL, "10.0.0.1")
    clock.advance(100)
    assert _refused(limiter, EMAIL, "10.0.0.1") == WINDOW - 100, "the rest of the window"
    limiter.attempt(EMAIL, "192.0.2.7")  # the owner elsewhere is not locked out
    limiter.attempt("bo@example.com", "10.0.0.1")  # nor is another account from that address
    clock.advance(WINDOW - 100)
    limiter.attempt(EMAIL, "10.0.0.1")  # the window is over


def test_a_refused_attempt_counts_nowhere(limiter: LoginLimiter, redis: Any) -> None:
    for _ in range(5):
        limiter.attempt(EMAIL, "10.0.0.1")
    before = _counts(redis, EMAIL, "10.0.0.1")
    for _ in range(10):
        _refused(limiter, EMAIL, "10.0.0.1")
    assert _counts(redis, EMAIL, "10.0.0.1") == before == {"ip": 5, "email_ip": 5, "account": 5}


def test_success_clears_the_address_and_gives_back_the_slots(limiter: LoginLimiter, redis: Any) -> None:
    for _ in range(3):
        limiter.attempt(EMAIL, "10.0.0.1")
    limiter.succeeded(EMAIL, "10.0.0.1")  # the third attempt was the right password
    assert _counts(redis, EMAIL, "10.0.0.1") == {"ip": 2, "email_ip": 0, "account": 2}
    limiter.succeeded("nobody@example.com", "10.0.0.9")  # never below zero, never a key without a window
    assert _counts(redis, "nobody@example.com", "10.0.0.9") == {"ip": 0, "email_ip": 0, "account": 0}
    assert not redis.exists(*LoginLimiter.keys("nobody@example.com", "10.0.0.9").values())


def test_one_address_guessing_across_accounts_is_stopped_at_twenty(limiter: LoginLimiter) -> None:
    for n in range(20):
        limiter.attempt(f"user{n}@example.com", "10.0.0.1")
    assert _refused(limiter, "user99@example.com", "10.0.0.1") == WINDOW


def test_a_distributed_guess_backs_off_exponentially_instead_of_locking(
    limiter: LoginLimiter, clock: Clock
) -> None:
    for n in range(49):
        limiter.attempt(EMAIL, f"10.0.{n // 4}.{n % 4}")  # four tries per address: under every other limit
    limiter.attempt(EMAIL, "10.1.0.0")  # the 50th failure: the account's ceiling
    waits = []
    for n in range(1, 6):
        waits.append(_refused(limiter, EMAIL, f"10.2.0.{n}"))  # too soon: told the remaining wait
        clock.advance(waits[-1])
        limiter.attempt(EMAIL, f"10.2.0.{n}")  # let through once the wait is over, and it counts
    assert waits == [1, 2, 4, 8, 16]
    clock.advance(WINDOW)  # every window is over: no back-off left
    limiter.attempt(EMAIL, "10.3.0.1")
    limiter.attempt(EMAIL, "10.3.0.1")


def test_the_back_off_is_capped_at_the_window(limiter: LoginLimiter, redis: Any, clock: Clock) -> None:
    keys = LoginLimiter.keys(EMAIL, "10.9.9.9")
    redis.set(keys["account"], 50 + 40)
    redis.expire(keys["account"], WINDOW)
    limiter.attempt(EMAIL, "10.9.9.9")
    assert redis.ttl(keys["account_wait"]) == WINDOW, "2**41 s would be absurd"


def test_sign_ups_per_address_are_limited_in_a_window(redis: Any, clock: Clock) -> None:
    for _ in range(3):
        limit_registrations(redis, "10.0.0.1", per_ip=3, window_seconds=3600)
    clock.advance(600)
    with pytest.raises(TooManyRequests) as refused:
        limit_registrations(redis, "10.0.0.1", per_ip=3, window_seconds=3600)
    assert refused.value.retry_after == 3000
    limit_registrations(redis, "10.0.0.2", per_ip=3, window_seconds=3600)
    clock.advance(3000)
    limit_registrations(redis, "10.0.0.1", per_ip=3, window_seconds=3600)
