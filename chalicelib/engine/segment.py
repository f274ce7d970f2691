"""Analyse one time range of a video: the unit of work of a pipeline segment (one Lambda, one process).

A `SegmentResult` is small and JSON-serialisable: the sample times with their face counts, and each face
track fragment with its boxes and raw (unsmoothed) expression probabilities. Smoothing and identity across
segment boundaries are the merge step's job, so a video analysed in pieces merges into the same timeline as
one analysed whole.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from chalicelib.engine.blazeface import BlazeFaceDetector
from chalicelib.engine.expressions import ExpressionClassifier, OnnxExpressionClassifier
from chalicelib.engine.face_signals import face_signals
from chalicelib.engine.faces import DETECTORS, Box, Detector, FaceDetector, crop_square
from chalicelib.engine.landmarks import FaceMesh, region_from_box, region_from_detection
from chalicelib.engine.tracking import FaceTracker
from chalicelib.engine.video import VideoSource, sample_frames
from chalicelib.settings import engine_settings

SEGMENT_FORMAT = 1
TINY_FACE_FILE = "tiny_face_detector.onnx"
#: Crops are classified in batches of this many faces (fewer, larger inference calls).
_BATCH = 16
#: The face mesh's face flag below this: no face in the region (no signals for that sample).
MESH_PRESENCE = 0.5


@dataclass(frozen=True)
class AnalysisOptions:
    """How to analyse: sample rate, classifier and face detector. Defaults come from the settings module."""

    sample_fps: float = field(default_factory=lambda: engine_settings().sample_fps)
    classifier: str = field(default_factory=lambda: engine_settings().classifier)
    model_dir: Path = field(default_factory=lambda: engine_settings().model_dir)
    detector: str = field(default_factory=lambda: engine_settings().detector)
    #: Run the face mesh on every face: head pose, eyes, mouth, brows, smile (see face_signals.py).
    landmarks: bool = field(default_factory=lambda: engine_settings().landmarks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sample_fps": self.sample_fps,
            "classifier": self.classifier,
            "model_dir": str(self.model_dir),
            "detector": self.detector,
            "landmarks": self.landmarks,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalysisOptions:
        defaults = cls()
        return cls(
            sample_fps=float(data.get("sample_fps", defaults.sample_fps)),
            classifier=str(data.get("classifier", defaults.classifier)),
            model_dir=Path(data.get("model_dir", defaults.model_dir)),
            detector=str(data.get("detector", defaults.detector)),
            landmarks=bool(data.get("landmarks", defaults.landmarks)),
        )


@dataclass
class SegmentResult:
    """What one segment found; `tracks` hold per-sample points `{"t", "box", "p"}` of one face each."""

    start: float
    end: float
    sample_fps: float
    samples: list[tuple[float, int]]
    tracks: list[dict[str, Any]]
    model: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)
    format: int = SEGMENT_FORMAT

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "start": self.start,
            "end": self.end,
            "sample_fps": self.sample_fps,
            "samples": [[t, n] for t, n in self.samples],
            "tracks": self.tracks,
            "model": self.model,
            "timings": self.timings,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentResult:
        if data.get("format") != SEGMENT_FORMAT:
            raise ValueError(f"unsupported segment result format {data.get('format')!r}")
        return cls(
            start=float(data["start"]),
            end=float(data["end"]),
            sample_fps=float(data["sample_fps"]),
            samples=[(float(t), int(n)) for t, n in data["samples"]],
            tracks=list(data["tracks"]),
            model=dict(data["model"]),
            timings=dict(data.get("timings", {})),
        )


@lru_cache(maxsize=4)
def _classifier(model_dir: Path, name: str) -> OnnxExpressionClassifier:
    """One classifier per process and configuration: loading ONNX sessions costs far more than a sample."""
    return OnnxExpressionClassifier(model_dir, name)


_per_thread = threading.local()


def _detector(name: str, model_dir: Path) -> Detector:
    """One detector per thread and configuration: OpenCV's cascade classifier keeps scratch state, so threads
    (the local stack runs a Map's segments on threads of one process) must not share one."""
    cache: dict[tuple[str, Path], Detector] = _per_thread.__dict__.setdefault("detectors", {})
    if (name, model_dir) not in cache:
        cache[(name, model_dir)] = _new_detector(name, model_dir)
    return cache[(name, model_dir)]


@lru_cache(maxsize=4)
def _face_mesh(model_dir: Path) -> FaceMesh:
    """One face mesh per process (onnxruntime sessions are safe to share between threads)."""
    return FaceMesh(model_dir)


@dataclass(frozen=True)
class _Found:
    box: Box
    keypoints: np.ndarray | None  # the eyes first, when the detector gives keypoints (BlazeFace)


def _find(detector: Detector, frame: np.ndarray, known: list[Box] | None) -> list[_Found]:
    """Faces near `known` boxes (None: anywhere), with keypoints where the detector has them."""
    if isinstance(detector, BlazeFaceDetector):
        faces = detector.detect_faces(frame) if known is None else detector.redetect_faces(frame, known)
        return [_Found(f.box, f.keypoints) for f in faces]
    boxes = detector.detect(frame) if known is None else detector.redetect(frame, known)
    return [_Found(b, None) for b in boxes]


def _signals(mesh: FaceMesh, frame: np.ndarray, found: list[_Found]) -> list[dict[str, Any] | None]:
    """Each face's landmark signals, None where the mesh sees no face in the region."""
    regions = [
        region_from_detection(f.box, f.keypoints[0], f.keypoints[1])
        if f.keypoints is not None
        else region_from_box(f.box)
        for f in found
    ]
    out: list[dict[str, Any] | None] = []
    for face in mesh.run(frame, regions):
        out.append(face_signals(face.points).to_dict() if face.presence >= MESH_PRESENCE else None)
    return out


def _new_detector(name: str, model_dir: Path) -> Detector:
    # One thread per worker: parallelism comes from segments (processes, Lambdas), not inside a frame.
    cv2.setNumThreads(1)
    if name == "haar":
        return FaceDetector()
    if name == "tiny":
        from chalicelib.engine.tiny_faces import TinyFaceDetector

        return TinyFaceDetector(model_dir / TINY_FACE_FILE, input_size=224)
    if name == "blazeface":
        return BlazeFaceDetector(model_dir)
    raise ValueError(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}")


def analyze_segment(
    source: VideoSource,
    start: float,
    end: float,
    options: AnalysisOptions | None = None,
    *,
    classifier: ExpressionClassifier | None = None,
) -> SegmentResult:
    """Sample [start, end) of the video, find and track faces, and classify each face's expression."""
    opts = options or AnalysisOptions()
    model = classifier or _classifier(Path(opts.model_dir), opts.classifier)
    detector = _detector(opts.detector, Path(opts.model_dir))
    mesh = _face_mesh(Path(opts.model_dir)) if opts.landmarks else None
    tracker = FaceTracker(max_gap_seconds=max(1.0, 2.0 / opts.sample_fps))
    clock = {"decode": 0.0, "detect": 0.0, "landmarks": 0.0, "classify": 0.0}
    samples: list[tuple[float, int]] = []
    crops: list[np.ndarray] = []
    signals: list[dict[str, Any] | None] = []
    started = time.process_time()
    frames = sample_frames(source, start, end, opts.sample_fps)
    while True:
        tick = time.process_time()
        item = next(frames, None)
        clock["decode"] += time.process_time() - tick
        if item is None:
            break
        t, frame = item
        tick = time.process_time()
        known = tracker.live_boxes(t)
        found = [] if not known or _is_full_pass(t, opts.sample_fps) else _find(detector, frame, known)
        if len(found) < len(known) or not known:
            found = _find(detector, frame, None)  # a face was lost (or none is known): look everywhere
        boxes = [f.box for f in found]
        tracker.update(t, boxes)
        crops.extend(crop_square(frame, box) for box in boxes)
        clock["detect"] += time.process_time() - tick
        if mesh is not None:
            tick = time.process_time()
            signals.extend(_signals(mesh, frame, found))
            clock["landmarks"] += time.process_time() - tick
        samples.append((t, len(boxes)))

    tick = time.process_time()
    probs = _classify_all(model, crops)
    clock["classify"] = time.process_time() - tick
    clock["total"] = time.process_time() - started
    return SegmentResult(
        start=start,
        end=end,
        sample_fps=opts.sample_fps,
        samples=samples,
        tracks=track_fragments(tracker, samples, probs, signals=signals if mesh is not None else None),
        model={"backend": "onnx", "version": model.version, "detector": opts.detector},
        timings={k: round(v, 4) for k, v in clock.items()},
    )


def _is_full_pass(t: float, sample_fps: float) -> bool:
    """Full-frame detection once per second of video (and whenever no face is being tracked), on whole
    seconds of the global sample grid, so a video cut into whole-second segments gets the same passes as
    the video analysed in one piece."""
    return abs(t - round(t)) < 0.5 / sample_fps and round(t * sample_fps) % max(1, round(sample_fps)) == 0


def _classify_all(model: ExpressionClassifier, crops: list[np.ndarray]) -> np.ndarray:
    if not crops:
        return np.zeros((0, 7), dtype=np.float32)
    return np.concatenate([model.classify(crops[i : i + _BATCH]) for i in range(0, len(crops), _BATCH)])


def track_fragments(
    tracker: FaceTracker,
    samples: list[tuple[float, int]],
    probs: np.ndarray,
    extras: list[dict[str, float]] | None = None,
    signals: list[dict[str, Any] | None] | None = None,
) -> list[dict[str, Any]]:
    """Tracks as JSON-ready fragments; `probs` rows follow the order boxes were detected in.

    `extras` (aligned with `probs`) are a backend's scores outside the 7 labels; each point carries them
    as `"x"`. `signals` (aligned too) are the landmark signals, carried as `"s"` where the mesh saw the
    face. Without either the points are exactly `{"t", "box", "p"}`.
    """
    offset: dict[float, int] = {}
    running = 0
    for t, n in samples:
        offset[t] = running
        running += n
    fragments = []
    for track in tracker.tracks:
        points = []
        for t, box, index in track.points:
            row = offset[t] + index
            scores = [round(float(v), 5) for v in probs[row]]
            point: dict[str, Any] = {"t": t, "box": _box_list(box), "p": scores}
            if extras is not None:
                point["x"] = {key: round(float(v), 5) for key, v in extras[row].items()}
            if signals is not None and signals[row] is not None:
                point["s"] = signals[row]
            points.append(point)
        fragments.append({"id": track.id, "points": points})
    return fragments


def _box_list(box: Box) -> list[int]:
    return [int(v) for v in box]
