"""The unit tier: pure logic with the in-memory fakes of tests/unit/fakes.py, no servers, no models, no
network; the whole tier runs in seconds (`pytest -m unit`). Every test here is marked `unit` (by
tests/conftest.py) and any connection it tries is refused."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit.fakes import Clock


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a unit test tried to connect somewhere: {args[1:] or kwargs}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


@pytest.fixture
def clock() -> Clock:
    return Clock()
