"""The malloc threshold pin (engine/memory.py): applied on glibc, once per process."""

from __future__ import annotations

import platform

from chalicelib.engine import memory


def test_the_threshold_is_pinned_on_glibc_once() -> None:
    pinned = memory.pin_mmap_threshold()
    assert pinned is (platform.libc_ver()[0] == "glibc")
    assert memory.pin_mmap_threshold() is pinned  # cached: one mallopt call per process
    assert memory.pin_mmap_threshold.cache_info().currsize == 1
