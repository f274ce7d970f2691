"""The statistics cache against a real Redis and MongoDB: never stale, even when a video finishes while
the statistics are being computed."""

from __future__ import annotations

import uuid

import pytest

from chalicelib import stats
from devstack.stack import LocalStack
from tests.api_client import Account


def test_a_change_during_the_computation_is_not_cached_over(
    stack: LocalStack, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.deps import deps

    d = deps()
    assert stats.user_stats(d.db, d.redis, account.user_id, 3600)["cached"] is False
    assert stats.user_stats(d.db, d.redis, account.user_id, 3600)["cached"] is True

    real_compute = stats.compute

    def finish_a_video() -> None:
        d.videos.create({"_id": uuid.uuid4().hex, "owner": account.user_id, "filename": "x.mp4"})

    def slow_compute(db: object, user_id: str) -> dict:
        result = real_compute(db, user_id)  # type: ignore[arg-type]
        finish_a_video()  # a video changed while we were computing
        return result

    finish_a_video()
    monkeypatch.setattr(stats, "compute", slow_compute)
    assert stats.user_stats(d.db, d.redis, account.user_id, 3600)["cached"] is False
    monkeypatch.setattr(stats, "compute", real_compute)
    assert stats.user_stats(d.db, d.redis, account.user_id, 3600)["cached"] is False, (
        "the stale result was served"
    )
    assert stats.user_stats(d.db, d.redis, account.user_id, 3600)["cached"] is True


def test_registrations_per_ip_are_limited(stack: LocalStack) -> None:
    from chalicelib.auth.ratelimit import limit_registrations
    from chalicelib.deps import deps
    from chalicelib.errors import TooManyRequests

    ip = f"203.0.113.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"
    for _ in range(3):
        limit_registrations(deps().redis, ip, per_ip=3, window_seconds=60)
    with pytest.raises(TooManyRequests):
        limit_registrations(deps().redis, ip, per_ip=3, window_seconds=60)
