"""Browser recordings through the engine: WebM as Chromium's MediaRecorder writes it (live Matroska: no
Duration, no Cues, millisecond timestamps at a variable frame rate, VP8 or VP9 with Opus audio).

The probe finds the duration, rate and frame count from the packets and the keyframes' clusters; segments
start reading at those clusters, sample exactly the frames the whole recording gives, and read only their
own part of the S3 object; the local stack's pipeline hands each segment its seek point. Every recording
here is made from a fixture face video (tests/synthetic.py), as is the fake camera the browser journey
gives Chromium (frontend/e2e/make_fake_camera.py).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest

from chalicelib.engine.errors import FrameTooLarge, VideoError, VideoTooLong
from chalicelib.engine.faces import FaceDetector
from chalicelib.engine.limits import Limits
from chalicelib.engine.planning import plan_segments
from chalicelib.engine.runner import analyze_video
from chalicelib.engine.segment import AnalysisOptions
from chalicelib.engine.video import (
    SeekPoint,
    VideoInfo,
    probe,
    probe_with_seek_points,
    sample_frames,
    sample_times,
    seek_point_before,
)
from chalicelib.storage.objects import BLOCK_BYTES
from devstack.stack import LocalStack
from tests.api_client import Account, Api
from tests.synthetic import BrowserRecording, CountingBucket, _elements, _vint, write_browser_recording

#: name: what write_browser_recording is given (12 s each).
VARIANTS: dict[str, dict[str, Any]] = {
    "vp8": {},
    "vp9": {"codec": "libvpx-vp9"},
    "vp8-framerate": {"frame_rate": 30.0},  # Chromium may declare the camera's rate (FrameRate)
    "vp9-ffmpeg-layout": {"codec": "libvpx-vp9", "chromium_layout": False, "audio": False},
}
SAMPLE_FPS = 5.0
ONE_FRAME = 1 / 30


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], BrowserRecording]]:
    """Each variant written once, when a test first asks for it."""
    directory = tmp_path_factory.mktemp("webm")
    made: dict[str, BrowserRecording] = {}

    def get(name: str) -> BrowserRecording:
        if name not in made:
            made[name] = write_browser_recording(directory / f"{name}.webm", 12.0, **VARIANTS[name])
        return made[name]

    yield get


@pytest.fixture(scope="module")
def minute_recording(tmp_path_factory: pytest.TempPathFactory) -> BrowserRecording:
    """60 s, as long as a short study's content."""
    return write_browser_recording(tmp_path_factory.mktemp("webm") / "minute.webm", 60.0, codec="libvpx-vp9")


def _segment_header(data: bytes) -> dict[int, bytes]:
    """The Segment's elements before its first Cluster (id: body); the Segment must be of unknown size."""
    length = _vint(data, 0, marker=True)[1]
    size, width = _vint(data, length, marker=False)
    i = length + width + size  # after the EBML header
    assert data[i : i + 12] == bytes.fromhex("18538067 01ffffffffffffff"), "a Segment of unknown size"
    i, elements = i + 12, {}
    while data[i : i + 4] != bytes.fromhex("1f43b675"):
        eid, length = _vint(data, i, marker=True)
        size, width = _vint(data, i + length, marker=False)
        elements[eid] = data[i + length + width : i + length + width + size]
        i += length + width + size
    return elements


def _checksums(samples: Iterable[tuple[float, np.ndarray]]) -> dict[float, str]:
    return {t: hashlib.sha256(frame.tobytes()).hexdigest() for t, frame in samples}


def _in_range(samples: dict[float, str], start: float, end: float) -> dict[float, str]:
    return {t: c for t, c in samples.items() if start <= t < end}


def test_the_recordings_are_live_webm_as_a_browser_writes_them(
    recordings: Callable[[str], BrowserRecording],
) -> None:
    assert {"libvpx", "libvpx-vp9", "libopus"} <= set(av.codecs_available)
    recording = recordings("vp8")
    data = recording.path.read_bytes()
    with av.open(str(recording.path)) as container:
        video = container.streams.video[0]
        assert container.format.name.startswith("matroska")
        assert container.duration is None and video.duration is None
        assert video.time_base == Fraction(1, 1000) and video.average_rate is None
        assert video.guessed_rate is not None and float(video.guessed_rate) > Limits().max_fps  # 1000
        assert [s.type for s in container.streams] == ["audio", "video"]
    header = _segment_header(data)
    assert set(header) == {0x1549A966, 0x1654AE6B}, "Info and Tracks only: no SeekHead, Cues, Tags"
    assert 0x4489 not in {eid for eid, _, _ in _elements(header[0x1549A966])}, "no Duration in Info"
    assert b"\x1c\x53\xbb\x6b" not in data, "no Cues anywhere"
    intervals = np.diff(recording.frame_ms)
    assert 25 < np.median(intervals) < 40 and intervals.std() > 3  # ~30 fps, jittery
    assert intervals.max() > 55  # dropped frames


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_probe_reads_duration_rate_and_frames_from_the_packets(
    recordings: Callable[[str], BrowserRecording], variant: str
) -> None:
    recording = recordings(variant)
    info, points = probe_with_seek_points(recording.path)
    shown_until = recording.frame_ms[-1] / 1000 + ONE_FRAME
    assert info.duration == pytest.approx(shown_until, abs=ONE_FRAME)
    assert info.frame_count == len(recording.frame_ms)
    assert info.fps == pytest.approx(len(recording.frame_ms) / shown_until, abs=0.5)
    assert (info.width, info.height, info.rotation) == (640, 480, 0)
    assert info.codec == ("vp9" if "vp9" in variant else "vp8")
    assert [p.pts for p in points] == recording.keyframe_ms
    assert points[0].time == 0.0 and all(a.pos < b.pos for a, b in pairwise(points))
    assert probe(recording.path) == info


def test_the_probe_keeps_every_limit(
    recordings: Callable[[str], BrowserRecording], minute_recording: BrowserRecording, tmp_path: Path
) -> None:
    with pytest.raises(FrameTooLarge):
        probe(recordings("vp8").path, Limits(max_frame_pixels=640 * 480 - 1))
    bucket = CountingBucket(minute_recording.path.read_bytes())
    with pytest.raises(VideoTooLong, match=r"lasts more than 0\.1 minutes"):
        probe(bucket.opener(), Limits(max_duration=6.0))
    assert bucket.served < 0.3 * len(bucket.data), "the scan stops at the limit"
    fast = write_browser_recording(
        tmp_path / "fast.webm", 0.5, fps=400.0, width=160, height=120, jitter_ms=0, drop_share=0
    )
    with pytest.raises(VideoError, match="frames per second"):
        probe(fast.path)
    single = write_browser_recording(tmp_path / "single.webm", 0.01, width=160, height=120)
    assert len(single.frame_ms) == 1
    with pytest.raises(VideoError, match="single frame"):
        probe(single.path)


@pytest.mark.parametrize("variant", VARIANTS)
def test_segments_sample_exactly_the_frames_of_the_whole_recording(
    recordings: Callable[[str], BrowserRecording], variant: str
) -> None:
    """Segments cut every 2 s, each starting at its seek point's cluster (and, for comparison, at FFmpeg's
    own seek): the same sample times and the same pixels as one pass over the whole recording."""
    path = recordings(variant).path
    info, points = probe_with_seek_points(path)
    whole = _checksums(sample_frames(path, 0.0, info.duration, SAMPLE_FPS))
    assert list(whole) == sample_times(0.0, info.duration, SAMPLE_FPS)
    plan = plan_segments(info, 2.0)
    assert len(plan) == 6
    used = 0
    for segment in plan:
        expected = _in_range(whole, segment.start, segment.end)
        seek = seek_point_before(points, segment.start)
        used += seek is not None
        at_cluster = sample_frames(path, segment.start, segment.end, SAMPLE_FPS, seek=seek)
        assert _checksums(at_cluster) == expected, f"{segment} from {seek}"
        by_time = sample_frames(path, segment.start, segment.end, SAMPLE_FPS)
        assert _checksums(by_time) == expected, f"{segment} by FFmpeg's seek"
    assert used == len(plan) - 1  # all but the first segment start at a cluster


def test_a_late_segment_reads_only_its_own_part(minute_recording: BrowserRecording) -> None:
    """Without Cues FFmpeg's seek reads every cluster before the target; from the probe's seek point a
    segment reads the header block and its own clusters. The probe itself reads the object once."""
    bucket = CountingBucket(minute_recording.path.read_bytes())
    info, points = probe_with_seek_points(bucket.opener())
    assert bucket.served == len(bucket.data)
    start, end = 50.0, 52.0
    seek = seek_point_before(points, start)
    assert seek is not None and 46.0 < seek.time <= start
    whole = _in_range(_checksums(sample_frames(minute_recording.path, 0.0, info.duration, 5.0)), start, end)
    reads = {}
    for name, point in (("cluster", seek), ("ffmpeg", None)):
        bucket.served = 0
        assert _checksums(sample_frames(bucket.opener(), start, end, 5.0, seek=point)) == whole
        reads[name] = bucket.served
    assert reads["ffmpeg"] > 0.75 * len(bucket.data)
    # The header's block, then the blocks from the seek point's cluster to the next keyframe's after `end`.
    after = next(p for p in points if p.time > end)
    blocks = {0, *range(seek.pos // BLOCK_BYTES, after.pos // BLOCK_BYTES + 1)}
    assert reads["cluster"] <= len(blocks) * BLOCK_BYTES < 0.5 * len(bucket.data)


def test_a_seek_point_that_does_not_fit_the_file_falls_back_to_seeking_by_time(
    recordings: Callable[[str], BrowserRecording],
) -> None:
    """Offsets into the middle of a block, past the target or past the end still give the exact frames."""
    path = recordings("vp8").path
    info, points = probe_with_seek_points(path)
    whole = _in_range(_checksums(sample_frames(path, 0.0, info.duration, SAMPLE_FPS)), 8.0, 10.0)
    size = path.stat().st_size
    wrong = [
        SeekPoint(time=7.0, pts=7000, pos=size // 2 + 7),  # not a cluster
        SeekPoint(time=7.0, pts=7000, pos=points[-1].pos + 1),
        SeekPoint(time=1.0, pts=1000, pos=size - 100),  # near the end: after the target
        SeekPoint(time=7.0, pts=7000, pos=size + 10_000_000),  # past the end
    ]
    for seek in wrong:
        assert _checksums(sample_frames(path, 8.0, 10.0, SAMPLE_FPS, seek=seek)) == whole, seek


def test_the_engine_analyses_a_recording_end_to_end(
    recordings: Callable[[str], BrowserRecording], options: AnalysisOptions
) -> None:
    recording = recordings("vp8")
    analysis = analyze_video(recording.path, options, segment_seconds=4.0)
    info: VideoInfo = probe(recording.path)
    assert analysis["segments"] == len(plan_segments(info, 4.0)) == 4
    assert analysis["video"]["duration"] == pytest.approx(
        recording.frame_ms[-1] / 1000 + ONE_FRAME, abs=ONE_FRAME
    )
    assert analysis["video"]["duration"] == info.duration
    assert [s["t"] for s in analysis["timeline"]] == sample_times(0.0, info.duration, options.sample_fps)
    assert analysis["summary"]["face_presence"] >= 0.9
    main = max(analysis["faces"], key=lambda f: len(f["timeline"]))
    assert len(main["timeline"]) >= 0.9 * len(analysis["timeline"]), "one face, kept across segments"


def test_the_fake_camera_is_a_y4m_file_chromium_can_play(tmp_path: Path) -> None:
    """frontend/e2e/make_fake_camera.py: Chromium's header rules, `FRAME\\n` + I420 planes per frame, and
    a face in the picture; a path git would commit is refused."""
    script = Path(__file__).resolve().parents[1] / "frontend" / "e2e" / "make_fake_camera.py"
    out = tmp_path / "camera.y4m"
    run = subprocess.run(
        [sys.executable, str(script), str(out), "--seconds", "2"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    data = out.read_bytes()
    first_line = data[: data.index(b"\n") + 1]
    assert len(first_line) <= 200 and first_line.split()[0] == b"YUV4MPEG2"
    tags = {token[:1]: token[1:] for token in first_line.split()[1:]}
    assert (tags[b"W"], tags[b"H"], tags[b"F"], tags[b"C"]) == (b"640", b"480", b"15:1", b"420jpeg")
    frame_bytes = 640 * 480 * 3 // 2
    assert len(data) == len(first_line) + 30 * (6 + frame_bytes)
    starts = [len(first_line) + i * (6 + frame_bytes) for i in range(30)]
    assert all(data[s : s + 6] == b"FRAME\n" for s in starts)
    planes = np.frombuffer(data[starts[15] + 6 : starts[15] + 6 + frame_bytes], np.uint8)
    picture = cv2.cvtColor(planes.reshape(480 * 3 // 2, 640), cv2.COLOR_YUV2BGR_I420)
    assert len(FaceDetector().detect(picture)) == 1
    with av.open(str(out), format="yuv4mpegpipe") as container:  # FFmpeg reads it the same way
        decoded = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    assert len(decoded) == 30 and decoded[15].shape == (480, 640, 3)
    inside = script.parent / "camera.y4m"
    refused = subprocess.run([sys.executable, str(script), str(inside)], capture_output=True, check=False)
    assert refused.returncode != 0 and not inside.exists()


def test_the_pipeline_gives_each_segment_its_seek_point(
    recordings: Callable[[str], BrowserRecording],
    api: Api,
    account: Account,
    stack: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through the local stack's state machine (segments of 5 s): the probe step puts each later segment's
    seek point in its Map item, the segment step decodes from it, and the recording is analysed whole."""
    from chalicelib.pipeline import steps

    seeks: list[SeekPoint | None] = []
    real = steps.analyze_segment

    def spy(*args: Any, **kwargs: Any) -> Any:
        seeks.append(kwargs.get("seek"))
        return real(*args, **kwargs)

    monkeypatch.setattr(steps, "analyze_segment", spy)
    recording = recordings("vp8")
    info, points = probe_with_seek_points(recording.path)
    video_id = api.upload(account, recording.path, content_type="video/webm")
    video = api.wait(account, video_id)
    assert video["status"] == "done", video.get("error")
    assert video["duration"] == info.duration and video["progress"] == {"done": 3, "total": 3}
    plan = plan_segments(info, 5.0)
    assert sorted(seeks, key=lambda s: -1 if s is None else s.time) == [
        seek_point_before(points, s.start) for s in plan
    ]
    assert seeks.count(None) == 1
    analysis = api.call("GET", f"/videos/{video_id}/results", account).json()
    assert [s["t"] for s in analysis["timeline"]] == sample_times(0.0, info.duration, SAMPLE_FPS)
    assert analysis["summary"]["face_presence"] >= 0.9
