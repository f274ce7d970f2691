"""Build labelled videos from the FER2013 fixture faces: ground truth over time for tests and benchmarks.

A scene is a list of intervals, each showing zero or more faces (by fixture path) scaled up and drifting
slowly over a fixed textured background. Encoded as H.264 with PyAV, so no ffmpeg binary is needed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from chalicelib.storage.objects import S3ObjectReader

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
FER_DIR = FIXTURES / "faces" / "fer2013-publictest"
VIDEOS_DIR = FIXTURES / "videos"


@dataclass(frozen=True)
class Interval:
    seconds: float
    faces: tuple[str, ...] = ()  # fixture paths relative to FER_DIR
    label: str | None = None
    #: When set, the faces are shown one at a time in one place, the next every `cycle` seconds: one
    #: expression held by a "face" whose every reading is a different picture (uncorrelated errors).
    cycle: float | None = None


@dataclass
class Scene:
    intervals: list[Interval]
    width: int = 640
    height: int = 360
    fps: int = 25
    face_size: int = 168
    seed: int = 7
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def face(self, rel: str) -> np.ndarray:
        if rel not in self._cache:
            gray = cv2.imread(str(FER_DIR / rel), cv2.IMREAD_GRAYSCALE)
            if gray is None:
                raise FileNotFoundError(FER_DIR / rel)
            big = cv2.resize(gray, (self.face_size, self.face_size), interpolation=cv2.INTER_CUBIC)
            self._cache[rel] = cv2.cvtColor(big, cv2.COLOR_GRAY2BGR)
        return self._cache[rel]


def fer_faces(label: str) -> list[str]:
    """Fixture face paths of one label, in the order of labels.csv."""
    with open(FER_DIR / "labels.csv", newline="") as handle:
        return [row["path"] for row in csv.DictReader(handle) if row["label"] == label]


def background(width: int, height: int, seed: int) -> np.ndarray:
    """A fixed, mildly textured background (blurred noise plus soft gradients)."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 255, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    base = cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)
    base = cv2.GaussianBlur(base, (0, 0), 6)
    ramp = np.linspace(60, 160, width, dtype=np.float32)[None, :, None]
    return np.clip(base.astype(np.float32) * 0.35 + ramp, 0, 255).astype(np.uint8)


def render_frame(
    scene: Scene, bg: np.ndarray, interval: Interval, t: float, since: float = 0.0
) -> np.ndarray:
    """Place the interval's faces side by side (or, cycling, the one due `since` seconds into the
    interval), drifting a few pixels a second."""
    frame = bg.copy()
    faces = interval.faces
    if interval.cycle and faces:
        faces = (faces[int(since / interval.cycle + 1e-6) % len(faces)],)
    count = len(faces)
    for i, rel in enumerate(faces):
        face = scene.face(rel)
        size = face.shape[0]
        slot = scene.width / count
        x = int(slot * i + (slot - size) / 2 + 12 * np.sin(t * 0.8 + i))
        y = int((scene.height - size) / 2 + 8 * np.cos(t * 0.6 + i))
        frame[y : y + size, x : x + size] = face
    return frame


def write_video(scene: Scene, path: Path, codec: str = "libx264") -> Path:
    """Encode the scene; returns the path."""
    bg = background(scene.width, scene.height, scene.seed)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=scene.fps)
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = scene.width, scene.height, "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "veryfast", "crf": "20"}
        frame_index = 0
        for interval in scene.intervals:
            for local in range(round(interval.seconds * scene.fps)):
                t = frame_index / scene.fps
                image = render_frame(scene, bg, interval, t, local / scene.fps)
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                    container.mux(packet)
                frame_index += 1
        for packet in stream.encode():
            container.mux(packet)
    return path


def interval_bounds(scene: Scene) -> list[tuple[float, float, Interval]]:
    out, start = [], 0.0
    for interval in scene.intervals:
        out.append((start, start + interval.seconds, interval))
        start += interval.seconds
    return out


def detectable_faces(label: str, scene: Scene, count: int) -> list[str]:
    """The first fixture faces of `label` that the engine's detector finds alone in a frame of `scene`."""
    from chalicelib.engine.faces import FaceDetector

    detector = FaceDetector()
    bg = background(scene.width, scene.height, scene.seed)
    chosen: list[str] = []
    for rel in fer_faces(label):
        if len(detector.detect(render_frame(scene, bg, Interval(1.0, (rel,)), 0.0))) == 1:
            chosen.append(rel)
            if len(chosen) == count:
                return chosen
    raise ValueError(f"only {len(chosen)} detectable {label} faces")


# --- browser recordings: WebM laid out as Chromium's MediaRecorder writes it ---

_EBML_CLUSTER, _EBML_TRACKS, _EBML_INFO = 0x1F43B675, 0x1654AE6B, 0x1549A966
_UNKNOWN_SIZE = b"\x01\xff\xff\xff\xff\xff\xff\xff"


@dataclass(frozen=True)
class BrowserRecording:
    """A MediaRecorder-like WebM and the truth about it: each video frame's time in ms, in order."""

    path: Path
    frame_ms: list[int]
    keyframe_ms: list[int]

    @property
    def duration(self) -> float:
        """Last frame's time plus the interval before it: how long the last picture is shown."""
        return (2 * self.frame_ms[-1] - self.frame_ms[-2]) / 1000


def _vint(data: bytes, i: int, *, marker: bool) -> tuple[int, int]:
    length = 1
    while length <= 8 and not data[i] & (0x80 >> (length - 1)):
        length += 1
    value = int.from_bytes(data[i : i + length], "big")
    return (value if marker else value & ((1 << (7 * length)) - 1)), length


def _elements(data: bytes, i: int = 0, end: int | None = None) -> list[tuple[int, bytes, int]]:
    """(id, body, header length) of the known-size EBML elements in data[i:end]."""
    out, end = [], len(data) if end is None else end
    while i < end:
        eid, n = _vint(data, i, marker=True)
        size, m = _vint(data, i + n, marker=False)
        out.append((eid, data[i + n + m : i + n + m + size], n + m))
        i += n + m + size
    return out


def _element(eid: int, body: bytes) -> bytes:
    size = len(body)
    return eid.to_bytes((eid.bit_length() + 7) // 8, "big") + (size | (1 << 56)).to_bytes(8, "big") + body


def _rewrite_tracks(body: bytes, frame_rate: float | None) -> tuple[bytes, int]:
    """Tracks without DefaultDuration (MediaRecorder writes none); FrameRate in Video if asked. Returns
    the Tracks body and the video track's number."""
    entries, video_number = b"", 0
    for eid, entry, _ in _elements(body):
        children = b""
        fields = {cid: child for cid, child, _ in _elements(entry)}
        is_video = int.from_bytes(fields[0x83], "big") == 1
        if is_video:
            video_number = int.from_bytes(fields[0xD7], "big")
        for cid, child, _ in _elements(entry):
            if cid == 0x23E383:  # DefaultDuration
                continue
            if cid == 0xE0 and frame_rate is not None:  # Video: FrameRate (float) as Chromium sets it
                child += _element(0x2383E3, np.array(frame_rate, ">f4").tobytes())
            children += _element(cid, child)
        entries += _element(eid, children)
    return entries, video_number


def as_media_recorder(data: bytes, *, frame_rate: float | None = None) -> bytes:
    """Re-lay an FFmpeg `live=1` WebM as Chromium's muxer (libwebm, live mode) does: Segment and Clusters
    of unknown size, no SeekHead, Cues, Tags nor DefaultDuration, a new Cluster at every video keyframe
    (or when a block's 16-bit relative timecode would overflow)."""
    n = _vint(data, 0, marker=True)[1]
    size, m = _vint(data, n, marker=False)
    i = n + m + size  # after the EBML header
    segment_id, n = _vint(data, i, marker=True)
    size, m = _vint(data, i + n, marker=False)
    if segment_id != 0x18538067 or size != (1 << (7 * m)) - 1:
        raise ValueError("expected FFmpeg's live WebM (a Segment of unknown size)")
    top, video_number = b"", 0
    blocks: list[tuple[int, int, bytes]] = []  # (absolute ms, SimpleBlock or BlockGroup id, body)
    for eid, body, _ in _elements(data, i + n + m):
        if eid == _EBML_INFO:
            top += _element(eid, body)
        elif eid == _EBML_TRACKS:
            tracks, video_number = _rewrite_tracks(body, frame_rate)
            top += _element(eid, tracks)
        elif eid == _EBML_CLUSTER:
            children = _elements(body)
            cluster_ms = int.from_bytes(next(c for cid, c, _ in children if cid == 0xE7), "big")
            for cid, child, _ in children:
                if cid == 0xA3:  # SimpleBlock
                    block = child
                elif cid == 0xA0:  # BlockGroup: its Block
                    block = next(b for bid, b, _ in _elements(child) if bid == 0xA1)
                else:
                    continue
                blocks.append((cluster_ms + int.from_bytes(block[1:3], "big", signed=True), cid, child))
    out = data[:i] + data[i : i + n] + _UNKNOWN_SIZE + top
    start_ms: int | None = None
    for ms, cid, body in blocks:
        # FFmpeg writes a BlockGroup only for audio (Opus discard padding): never a video keyframe.
        key = cid == 0xA3 and body[0] & 0x7F == video_number and bool(body[3] & 0x80)
        if start_ms is None or key or ms - start_ms > 32767:
            start_ms = ms
            out += _EBML_CLUSTER.to_bytes(4, "big") + _UNKNOWN_SIZE + _element(0xE7, ms.to_bytes(4, "big"))
        rel = (ms - start_ms).to_bytes(2, "big", signed=True)
        if cid == 0xA3:
            out += _element(cid, body[:1] + rel + body[3:])
        else:
            group = b"".join(
                _element(bid, b[:1] + rel + b[3:] if bid == 0xA1 else b) for bid, b, _ in _elements(body)
            )
            out += _element(cid, group)
    return out


class _SourceFrames:
    """A fixture video's frames by time, looped, decoded forward only (no frame kept but the current)."""

    def __init__(self, path: Path) -> None:
        self.path, self.index = path, -1
        self.frame: np.ndarray = np.zeros((1, 1, 3), np.uint8)
        self._open()

    def _open(self) -> None:
        self.container = av.open(str(self.path))
        self.frames = self.container.decode(video=0)
        self.rate = float(self.container.streams.video[0].average_rate or 30)

    def at(self, seconds: float) -> np.ndarray:
        want = int(seconds * self.rate)
        while self.index < want:
            frame = next(self.frames, None)
            if frame is None:  # loop: start again, keep counting
                self.container.close()
                self._open()
                continue
            self.frame, self.index = frame.to_ndarray(format="bgr24"), self.index + 1
        return self.frame


def write_browser_recording(
    path: Path,
    seconds: float,
    *,
    codec: str = "libvpx",
    width: int = 640,
    height: int = 480,
    fps: float = 30.0,
    jitter_ms: float = 4.0,
    drop_share: float = 0.02,
    keyframe_interval: int = 100,
    audio: bool = True,
    frame_rate: float | None = None,
    source: Path | None = None,
    seed: int = 11,
    chromium_layout: bool = True,
) -> BrowserRecording:
    """A webcam recording as Chromium's MediaRecorder makes it: VP8/VP9 at ~`fps` with capture jitter and
    dropped frames, timestamps in ms, a keyframe every `keyframe_interval` frames (Chromium's libvpx
    setting is 100), Opus audio as the first track, in live WebM (no Duration, no Cues). The picture is a
    fixture face video (looped), scaled to the frame height and centred. `chromium_layout=False` keeps
    FFmpeg's own live layout (32 KB clusters that mostly hold no keyframe, DefaultDuration declared)."""
    import io
    from fractions import Fraction

    rng = np.random.default_rng(seed)
    frames = _SourceFrames(source or VIDEOS_DIR / "liveportrait_driving_d6.mp4")
    buffer = io.BytesIO()
    frame_ms: list[int] = []
    keyframe_ms: list[int] = []
    with av.open(buffer, "w", format="webm", options={"live": "1"}) as container:
        voice = container.add_stream("libopus", rate=48000, layout="mono") if audio else None
        video = container.add_stream(codec, rate=round(fps))
        assert isinstance(video, av.video.stream.VideoStream)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.time_base = Fraction(1, 1000)
        video.codec_context.gop_size = keyframe_interval
        # Chromium: real time, no lag, bitrate scaled from 256 kbit/s at 320x240.
        kbits = width * height * 256 // (320 * 240)
        video.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0", "b": f"{kbits}k"}
        canvas = np.full((height, width, 3), 96, np.uint8)
        side = min(width, height)
        x0, y0 = (width - side) // 2, (height - side) // 2

        def mux(packets: list[av.Packet]) -> None:
            for packet in packets:
                if packet.stream is video and packet.is_keyframe and packet.pts is not None:
                    keyframe_ms.append(int(packet.pts))
                container.mux(packet)

        t, audio_ms = 0.0, 0
        while t < seconds * 1000:
            ms = round(t)
            canvas[y0 : y0 + side, x0 : x0 + side] = cv2.resize(frames.at(ms / 1000), (side, side))
            frame = av.VideoFrame.from_ndarray(canvas, format="bgr24")
            frame.pts, frame.time_base = ms, Fraction(1, 1000)
            frame_ms.append(ms)
            mux(video.encode(frame))
            while voice is not None and audio_ms <= ms:
                tone = 0.05 * np.sin(2 * np.pi * 220 * (np.arange(960) + audio_ms * 48) / 48000)
                chunk = av.AudioFrame.from_ndarray(
                    (tone * 32767).astype(np.int16)[None, :], format="s16", layout="mono"
                )
                chunk.sample_rate, chunk.pts, chunk.time_base = 48000, audio_ms * 48, Fraction(1, 48000)
                mux(voice.encode(chunk))
                audio_ms += 20
            step = 1000 / fps + rng.normal(0, jitter_ms)
            if rng.random() < drop_share:
                step += 1000 / fps  # the camera dropped a frame
            t += float(np.clip(step, 1000 / fps / 2, 3000 / fps))
        mux(video.encode())
        if voice is not None:
            mux(voice.encode())
    data = buffer.getvalue()
    path.write_bytes(as_media_recorder(data, frame_rate=frame_rate) if chromium_layout else data)
    return BrowserRecording(path, frame_ms, sorted(keyframe_ms))


class CountingBucket:
    """An S3 client holding one object, counting the bytes its ranged GETs serve (the cost of a read)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.served = data, 0

    def head_object(self, Bucket: str, Key: str) -> dict[str, int]:  # boto3's argument names
        return {"ContentLength": len(self.data)}

    def get_object(self, Bucket: str, Key: str, Range: str) -> dict[str, Any]:
        match = re.fullmatch(r"bytes=(\d+)-(\d+)", Range)
        assert match is not None
        first, last = int(match[1]), int(match[2])
        self.served += last - first + 1
        return {"Body": io.BytesIO(self.data[first : last + 1])}

    def opener(self) -> Callable[[], S3ObjectReader]:
        """Opens the object as the pipeline does: a file read by ranged GETs."""
        return lambda: S3ObjectReader(self, "bucket", "key", len(self.data))
