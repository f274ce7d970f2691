"""Probing and sampled decoding on the real fixture videos, and clear errors for what is not a video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chalicelib.engine.errors import VideoError
from chalicelib.engine.video import probe, sample_frames, sample_times
from tests.conftest import FIXTURE_VIDEOS
from tests.synthetic import FER_DIR, VIDEOS_DIR

EXPECTED = {
    # name: (width, height, rotation, codec, duration, fps) of the upright picture
    "liveportrait_driving_d3.mp4": (512, 512, 0, "h264", 11.8, 30.0),
    "liveportrait_driving_d6.mp4": (480, 480, 0, "h264", 33.6, 30.0),
    "openmpf_face_video_01.mp4": (640, 480, 0, "h264", 3.0, 29.97),
    "openmpf_new_face_video-90.mp4": (640, 480, 90, "h264", 17.05, 29.97),
    "sadtalker_WDA_KatieHill_000.mp4": (512, 512, 0, "mpeg4", 8.0, 25.0),
}


@pytest.mark.parametrize("path", FIXTURE_VIDEOS, ids=lambda p: p.name)
def test_probe_reads_fixture_properties(path: Path) -> None:
    info = probe(path)
    width, height, rotation, codec, duration, fps = EXPECTED[path.name]
    assert (info.width, info.height, info.rotation, info.codec) == (width, height, rotation, codec)
    assert info.duration == pytest.approx(duration, abs=0.05)
    assert info.fps == pytest.approx(fps, abs=0.01)
    assert info.frame_count == pytest.approx(duration * fps, abs=2)


@pytest.mark.parametrize("path", FIXTURE_VIDEOS, ids=lambda p: p.name)
def test_sampling_covers_the_whole_clip_upright(path: Path) -> None:
    info = probe(path)
    samples = list(sample_frames(path, 0.0, info.duration, 5.0))
    times = [t for t, _ in samples]
    assert times == sample_times(0.0, info.duration, 5.0)
    assert {frame.shape for _, frame in samples} == {(info.height, info.width, 3)}


def test_rotated_phone_clip_is_turned_upright() -> None:
    path = VIDEOS_DIR / "openmpf_new_face_video-90.mp4"
    _, frame = next(iter(sample_frames(path, 1.0, 2.0, 5.0)))
    assert frame.shape[:2] == (480, 640)  # stored 480 wide x 640 high, displayed landscape


def test_range_sampling_matches_whole_clip_sampling() -> None:
    path = VIDEOS_DIR / "liveportrait_driving_d3.mp4"
    whole = dict(sample_frames(path, 0.0, 11.8, 5.0))
    part = dict(sample_frames(path, 4.3, 7.1, 5.0))
    assert list(part) == [t for t in whole if 4.3 <= t < 7.1]
    for t, frame in part.items():
        assert np.array_equal(frame, whole[t]), f"frame at {t}s differs after seeking"


def test_sample_grid_is_global_and_half_open() -> None:
    assert sample_times(0.0, 1.0, 5.0) == [0.0, 0.2, 0.4, 0.6, 0.8]
    assert sample_times(0.9, 1.5, 5.0) == [1.0, 1.2, 1.4]
    assert sample_times(0.0, 1.0, 5.0)[-1] < sample_times(1.0, 2.0, 5.0)[0]


def _truncated(tmp_path: Path, name: str, fraction: float) -> Path:
    data = (VIDEOS_DIR / name).read_bytes()
    out = tmp_path / f"truncated-{fraction}-{name}"
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


def _write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


NOT_VIDEOS = {
    "empty": (lambda d: _write(d, "empty.mp4", b""), "empty"),
    "text": (lambda d: _write(d, "text.mp4", b"hello, not a video\n"), "not a readable"),
    "image": (
        lambda d: _write(d, "img.mp4", (FER_DIR / "happy/PublicTest_10130075.jpg").read_bytes()),
        "still image",
    ),
    "truncated-index": (lambda d: _truncated(d, "sadtalker_WDA_KatieHill_000.mp4", 0.5), "not a readable"),
    "missing": (lambda d: d / "missing.mp4", "no such file"),
}


@pytest.mark.parametrize("case", NOT_VIDEOS)
def test_non_videos_raise_a_clear_error(tmp_path: Path, case: str) -> None:
    make, message = NOT_VIDEOS[case]
    with pytest.raises(VideoError, match=message):
        probe(make(tmp_path))


def test_truncated_media_data_fails_while_decoding_with_the_time(tmp_path: Path) -> None:
    path = _truncated(tmp_path, "openmpf_new_face_video-90.mp4", 0.5)
    info = probe(path)  # the index is intact: only decoding can tell
    with pytest.raises(VideoError, match=r"corrupt near \d+\.\ds"):
        for _ in sample_frames(path, 0.0, info.duration, 5.0):
            pass
