"""Hostile live WebM through the probe's packet scan (chalicelib/engine/video.py): a file an invite holder
or a creator uploads that declares no duration, whose packets the probe reads one by one. However many
packets it holds, the scan stops as soon as the file is beyond the limits it is refused for."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.engine.errors import VideoError
from chalicelib.engine.limits import Limits
from chalicelib.engine.video import probe
from chalicelib.storage.objects import S3ObjectReader
from tests.synthetic import CountingBucket, write_browser_recording

#: A Cluster of unknown size (as MediaRecorder writes them) at 3000 ms.
_CLUSTER = bytes([0x1F, 0x43, 0xB6, 0x75, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
_CLUSTER += bytes([0xE7, 0x82]) + (3000).to_bytes(2, "big")


def _tiny_blocks(count: int, track: int = 1) -> bytes:
    """`count` (a multiple of 30) 1-byte SimpleBlocks of the video track within 30 ms of their cluster: 8
    bytes each, so a 500 MB upload holds ~65 million of them, each a packet for the scan."""
    run = b"".join(
        bytes([0xA3, 0x85, 0x80 | track]) + ms.to_bytes(2, "big") + b"\x00\x00" for ms in range(30)
    )
    return run * (count // 30)


def test_a_flood_of_tiny_packets_is_refused_without_reading_the_whole_file(tmp_path: Path) -> None:
    real = write_browser_recording(tmp_path / "real.webm", 2.0, width=160, height=120, audio=False)
    data = (
        real.path.read_bytes() + _CLUSTER + _tiny_blocks(1_500_000)
    )  # 12 MB; the reader fetches 1 MiB blocks
    bucket = CountingBucket(data)
    limits = Limits(max_duration=60.0)  # at most 240 fps for 60 s: 14,401 frames
    with pytest.raises(VideoError, match="frames"):
        probe(lambda: S3ObjectReader(bucket, "bucket", "key", len(data)), limits)
    assert bucket.served < 0.25 * len(data), "the scan stops once the file has more frames than allowed"


def test_a_recording_within_the_limits_is_still_probed(tmp_path: Path) -> None:
    real = write_browser_recording(tmp_path / "real.webm", 2.0, width=160, height=120, audio=False)
    info = probe(real.path, Limits(max_duration=60.0, max_fps=31.0))
    assert info.frame_count == len(real.frame_ms)
