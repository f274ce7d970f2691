"""Build labelled videos from the FER2013 fixture faces: ground truth over time for tests and benchmarks.

A scene is a list of intervals, each showing zero or more faces (by fixture path) scaled up and drifting
slowly over a fixed textured background. Encoded as H.264 with PyAV, so no ffmpeg binary is needed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np

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
