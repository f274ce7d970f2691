"""Refresh-token rotation (chalicelib/auth/sessions.py) on a fake Redis and a fake clock: each use spends a
token, a repeat within the grace gets the same successor, a later reuse revokes the whole family."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.auth import sessions
from chalicelib.auth.sessions import REUSE_GRACE_SECONDS, SessionStore
from chalicelib.errors import Unauthorized
from tests.unit.fakes import Clock, FakeRedis

USER = "u_" + "ab" * 12
DAY = 24 * 3600


@pytest.fixture
def store(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> SessionStore:
    monkeypatch.setattr(sessions, "time", clock)  # time.time, time.monotonic and time.sleep
    redis: Any = FakeRedis(clock)
    return SessionStore(redis, refresh_seconds=30 * DAY)


def _code(store: SessionStore, token: str) -> str:
    with pytest.raises(Unauthorized) as refused:
        store.rotate(token)
    return str(refused.value.code)


def test_each_use_spends_the_token_for_a_new_one_of_the_same_family(store: SessionStore) -> None:
    first = store.new_refresh_token(USER)
    grant, second = store.rotate(first)
    assert grant.user_id == USER and second != first
    assert second.split(".")[0] == first.split(".")[0] == grant.family
    grant2, third = store.rotate(second)
    assert grant2 == grant and third not in (first, second)
    assert store.owner_of(third) == grant


def test_a_repeat_within_the_grace_gets_the_same_successor(store: SessionStore, clock: Clock) -> None:
    token = store.new_refresh_token(USER)
    _, successor = store.rotate(token)
    clock.advance(REUSE_GRACE_SECONDS - 1)  # two tabs, or a client retrying after a lost answer
    _, again = store.rotate(token)
    assert again == successor
    assert not store.family_revoked(successor.split(".")[0])


def test_reuse_after_the_grace_revokes_every_token_of_the_family(store: SessionStore, clock: Clock) -> None:
    token = store.new_refresh_token(USER)
    _, successor = store.rotate(token)
    other_sign_in = store.new_refresh_token(USER)
    clock.advance(REUSE_GRACE_SECONDS + 1)
    assert _code(store, token) == "refresh_token_reused"
    assert store.family_revoked(token.split(".")[0])
    assert _code(store, successor) == "invalid_refresh_token", "the thief's or the owner's: both gone"
    assert store.rotate(other_sign_in)[0].user_id == USER, "another sign-in of the same user is untouched"


def test_a_repeat_whose_successor_never_appears_is_reuse(store: SessionStore, clock: Clock) -> None:
    """The concurrent winner marked the token used but died before writing its successor."""
    token = store.new_refresh_token(USER)
    digest = sessions._digest(token)
    fake: Any = store._redis
    fake.hsetnx(f"rt:{digest}", "used", str(clock.time()))
    started = clock.time()
    assert _code(store, token) == "refresh_token_reused"
    assert 2.0 <= clock.time() - started < 3.0, "it waited for the successor (2 s) before deciding"


def test_unknown_expired_and_signed_out_tokens_are_refused(store: SessionStore, clock: Clock) -> None:
    assert _code(store, "nope.nope") == "invalid_refresh_token"
    token = store.new_refresh_token(USER)
    store.revoke_family(token.split(".")[0])
    assert _code(store, token) == "invalid_refresh_token"
    late = store.new_refresh_token(USER, family=token.split(".")[0])  # a token minted for a revoked family
    assert _code(store, late) == "session_revoked"
    old = store.new_refresh_token(USER)
    clock.advance(30 * DAY + 1)
    assert _code(store, old) == "invalid_refresh_token"


def test_a_denied_access_token_is_denied_until_it_expires(store: SessionStore, clock: Clock) -> None:
    store.deny_access_token("jti-1", expires_at=int(clock.time()) + 60)
    store.deny_access_token("jti-2", expires_at=int(clock.time()) - 1)  # already expired: nothing to keep
    assert store.is_denied("jti-1") and not store.is_denied("jti-2")
    clock.advance(61)
    assert not store.is_denied("jti-1")
