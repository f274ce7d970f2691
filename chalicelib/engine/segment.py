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

from chalicelib.engine.alignment import aligned_crop, eye_distance
from chalicelib.engine.blazeface import BlazeFaceDetector, Face
from chalicelib.engine.expressions import ExpressionClassifier, OnnxExpressionClassifier
from chalicelib.engine.eyelids import EyelidReader
from chalicelib.engine.face_signals import face_signals
from chalicelib.engine.faces import DETECTORS, Box, Detector, FaceDetector, crop_square, iou
from chalicelib.engine.landmarks import (
    ROI_SCALE,
    FaceMesh,
    Mesh,
    Region,
    landmark_angle,
    region_from_box,
    region_from_detection,
)
from chalicelib.engine.memory import pin_mmap_threshold
from chalicelib.engine.planning import FULL_PASS_SECONDS
from chalicelib.engine.tracking import FaceTracker
from chalicelib.engine.video import SeekPoint, VideoSource, sample_frames
from chalicelib.settings import engine_settings

SEGMENT_FORMAT = 1
TINY_FACE_FILE = "tiny_face_detector.onnx"
#: Crops are classified in batches of this many faces. The expression sessions keep a memory arena as large
#: as their largest run (onnx_sessions.load_session), so small batches keep the worker small: 30 s of the
#: real 720p clip took 3.38 CPU-s and 255-291 MB with batches of 16 and no arena, 3.08 CPU-s and
#: 214-232 MB with batches of 4 and the arena (263-296 MB with 8).
_BATCH = 4
#: The face mesh's face flag below this: no face in the region (no signals for that sample).
MESH_PRESENCE = 0.5
#: A full pass's doubtful detections (scored from this up to the detector's thresholds) count as faces when
#: the face mesh is this sure there is a face in their region.
DOUBTFUL_SCORE, CONFIRMED = 0.25, 0.9
#: Two followed faces whose boxes overlap this much are the same face.
DUPLICATE_IOU = 0.5
#: A followed head that turned more than this since its detection is placed by the detector again.
REANCHOR_DEGREES = 15.0


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


@lru_cache(maxsize=4)
def _eyelid_reader(model_dir: Path) -> EyelidReader:
    """One iris model per process, like the face mesh."""
    return EyelidReader(model_dir)


@dataclass(frozen=True)
class _Found:
    box: Box
    keypoints: np.ndarray | None  # the eyes first, when the detector gives keypoints (BlazeFace)
    mesh: Mesh | None = None  # the face mesh already run on its region (a confirmed doubtful detection)


def _find(detector: Detector, frame: np.ndarray, known: list[Box] | None) -> list[_Found]:
    """Faces near `known` boxes (None: anywhere), with keypoints where the detector has them."""
    if isinstance(detector, BlazeFaceDetector):
        faces = detector.detect_faces(frame) if known is None else detector.redetect_faces(frame, known)
        return [_Found(f.box, f.keypoints) for f in faces]
    boxes = detector.detect(frame) if known is None else detector.redetect(frame, known)
    return [_Found(b, None) for b in boxes]


def _region(found: _Found) -> Region:
    """The mesh's region for a detected face: turned by its eye keypoints where the detector gives them."""
    if found.keypoints is not None:
        return region_from_detection(found.box, found.keypoints[0], found.keypoints[1])
    return region_from_box(found.box)


@dataclass(frozen=True)
class _Followed:
    """A face the mesh follows between detector passes, with the detector's box convention kept.

    The box (tracker, classifier fallback) and the next mesh region are placed as the detector placed them at
    the last full pass, relative to the landmarks: centred at the same offset from the landmarks' centre and
    sized by the same multiple of the eye distance measured in 3-D (which a head turn barely changes, unlike
    the landmarks' 2-D extent). Sizing from the 2-D extent fed the mesh's own scale error back into its next
    region (on a face turned away the region shrank 15% in 3 s), and keeping the detection's size froze it
    through a quick turn; either way the head-pose reading, which depends on the region's scale, drifted.
    """

    box: Box
    mesh: Mesh
    signals: dict[str, Any]
    fit: tuple[float, float, float, float]  # box centre offset and size, in eye distances
    anchor_yaw: float  # the head's yaw when the detector last placed it

    @classmethod
    def from_detection(cls, box: Box, mesh: Mesh) -> _Followed:
        cx, cy, unit = _landmark_frame(mesh)
        x, y, w, h = box
        fit = ((x + w / 2 - cx) / unit, (y + h / 2 - cy) / unit, w / unit, h / unit)
        signals = face_signals(mesh.points).to_dict()
        yaw: Any = signals["yaw"]
        return cls(box, mesh, signals, fit, float(yaw))

    def moved_to(self, mesh: Mesh) -> _Followed:
        cx, cy, unit = _landmark_frame(mesh)
        dx, dy, sw, sh = self.fit
        w, h = sw * unit, sh * unit
        box = (round(cx + dx * unit - w / 2), round(cy + dy * unit - h / 2), round(w), round(h))
        return _Followed(box, mesh, face_signals(mesh.points).to_dict(), self.fit, self.anchor_yaw)

    @property
    def turned_since_detection(self) -> bool:
        """The head turned so far since the detector placed it that the fit no longer holds."""
        yaw: Any = self.signals["yaw"]
        return abs(float(yaw) - self.anchor_yaw) > REANCHOR_DEGREES

    def next_region(self) -> Region:
        """Where to look in the next sample: the box's region, turned by the landmarks' eye line."""
        x, y, w, h = self.box
        return Region(x + w / 2, y + h / 2, max(w, h) * ROI_SCALE, landmark_angle(self.mesh.points))


def _landmark_frame(mesh: Mesh) -> tuple[float, float, float]:
    """The landmarks' centre (x, y) and the eye distance in 3-D: the frame a followed face is placed in."""
    low, high = mesh.points[:, :2].min(axis=0), mesh.points[:, :2].max(axis=0)
    return float(low[0] + high[0]) / 2, float(low[1] + high[1]) / 2, max(eye_distance(mesh.points), 1.0)


class _FaceFinder:
    """Where the faces of each sample are, and their landmark signals.

    As MediaPipe's face mesh graph does, the detector runs only when it must: on the full-pass grid (every
    `FULL_PASS_SECONDS` of the video's own time, where new faces are found), when no face is known, and when
    a face is lost; in between, each face is followed from its previous sample's landmarks (one batched mesh
    call per sample). Faces the mesh cannot follow (its face flag low) are looked for near their last box by
    the detector, as without landmarks. A full pass replaces every followed face with what the detector
    finds, so what is found from a full pass on depends only on the frames from there: a video cut on that
    grid (`plan_segments`) gives the same faces as the video analysed whole.
    """

    def __init__(
        self,
        detector: Detector,
        mesh: FaceMesh,
        eyelids: EyelidReader,
        sample_fps: float,
        clock: dict[str, float],
    ) -> None:
        self._detector, self._mesh, self._eyelids = detector, mesh, eyelids
        self._fps, self._clock = sample_fps, clock
        self._followed: list[_Followed] = []
        self._unfollowed: list[Box] = []  # faces found whose mesh flag was low: re-detected near their box

    def find(self, t: float, frame: np.ndarray) -> tuple[list[Box], list[dict[str, Any] | None]]:
        """The faces of a sample and their landmark signals, with the eyelids read by the iris model."""
        known = self._followed or self._unfollowed
        result = self._follow(frame) if known and not _is_full_pass(t, self._fps) else None
        boxes, signals = result if result is not None else self._full_pass(frame)
        tick = time.process_time()
        lids = self._eyelids.lids(frame, [m.points if m is not None else None for m in self.meshes])
        self._clock["landmarks"] += time.process_time() - tick
        return boxes, [
            {**s, "lids": [round(v, 4) for v in lid]} if s is not None and lid is not None else s
            for s, lid in zip(signals, lids, strict=True)
        ]

    def _follow(self, frame: np.ndarray) -> tuple[list[Box], list[dict[str, Any] | None]] | None:
        """Every known face again from its landmarks or near its box; None if any is lost."""
        tick = time.process_time()
        meshes = self._mesh.run(frame, [f.next_region() for f in self._followed])
        self._clock["landmarks"] += time.process_time() - tick
        if any(m.presence < MESH_PRESENCE for m in meshes):
            return None
        tick = time.process_time()
        followed: list[_Followed] = []
        for face in (f.moved_to(m) for f, m in zip(self._followed, meshes, strict=True)):
            # Two followed faces that drifted onto one face (after an occlusion) are one face.
            if all(iou(face.box, other.box) < DUPLICATE_IOU for other in followed):
                followed.append(face)
        self._clock["landmarks"] += time.process_time() - tick
        tick = time.process_time()
        found: list[_Found] = []
        if self._unfollowed:
            found = _find(self._detector, frame, self._unfollowed)
            if len(found) < len(self._unfollowed):
                return None
        # A head that turned far since its detection is placed by the detector again (near its box).
        turned = [f for f in followed if f.turned_since_detection]
        if turned:
            placed = _find(self._detector, frame, [f.box for f in turned])
            again = [f for f in turned if any(iou(f.box, p.box) > 0.1 for p in placed)]
            followed = [f for f in followed if f not in again]
            found += placed
        self._clock["detect"] += time.process_time() - tick
        return self._adopt(frame, found, keep=followed)

    def _full_pass(self, frame: np.ndarray) -> tuple[list[Box], list[dict[str, Any] | None]]:
        tick = time.process_time()
        doubtful: list[Face] = []
        if isinstance(self._detector, BlazeFaceDetector):
            faces, doubtful = self._detector.find_faces(frame, doubtful_from=DOUBTFUL_SCORE)
            found = [_Found(f.box, f.keypoints) for f in faces]
        else:
            found = _find(self._detector, frame, None)
        self._clock["detect"] += time.process_time() - tick
        if doubtful:
            # A second opinion on what the detector half saw: the face mesh's own face flag. Blurry or
            # unusual faces score 0.25-0.5 with the detector and above 0.99 with the mesh; in face-free
            # frames (the landscape pan, textures) and beside the fixture videos' faces, the detector's
            # doubtful boxes score 0.1 at most with the mesh.
            tick = time.process_time()
            meshes = self._mesh.run(frame, [_region(_Found(f.box, f.keypoints)) for f in doubtful])
            found += [
                _Found(f.box, f.keypoints, m)
                for f, m in zip(doubtful, meshes, strict=True)
                if m.presence >= CONFIRMED
            ]
            self._clock["landmarks"] += time.process_time() - tick
        self._followed = []
        return self._adopt(frame, found, keep=[])

    def _adopt(
        self, frame: np.ndarray, found: list[_Found], keep: list[_Followed]
    ) -> tuple[list[Box], list[dict[str, Any] | None]]:
        """Run the mesh on newly detected faces; those it sees are followed from now on."""
        tick = time.process_time()
        unmeshed = [f for f in found if f.mesh is None]
        run = iter(self._mesh.run(frame, [_region(f) for f in unmeshed]))
        meshes = [f.mesh if f.mesh is not None else next(run) for f in found]
        fresh = [
            _Followed.from_detection(f.box, m)
            for f, m in zip(found, meshes, strict=True)
            if m.presence >= MESH_PRESENCE
            and all(iou(f.box, k.box) < DUPLICATE_IOU for k in keep)  # a kept face found again near it
        ]
        self._clock["landmarks"] += time.process_time() - tick
        self._followed = keep + fresh
        self._unfollowed = [f.box for f, m in zip(found, meshes, strict=True) if m.presence < MESH_PRESENCE]
        boxes = [f.box for f in self._followed] + self._unfollowed
        signals: list[dict[str, Any] | None] = [f.signals for f in self._followed]
        return boxes, signals + [None] * len(self._unfollowed)

    @property
    def meshes(self) -> list[Mesh | None]:
        """The mesh of each face of the last sample (None where it saw no face), in the order of its boxes."""
        return [f.mesh for f in self._followed] + [None] * len(self._unfollowed)


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
    seek: SeekPoint | None = None,
) -> SegmentResult:
    """Sample [start, end) of the video, find and track faces, and classify each face's expression.

    `seek`: where a recording without a seek index can start decoding (`probe_with_seek_points`)."""
    pin_mmap_threshold()  # a steady peak RSS per worker (engine/memory.py)
    opts = options or AnalysisOptions()
    model = classifier or _classifier(Path(opts.model_dir), opts.classifier)
    detector = _detector(opts.detector, Path(opts.model_dir))
    mesh = _face_mesh(Path(opts.model_dir)) if opts.landmarks else None
    tracker = FaceTracker(max_gap_seconds=max(1.0, 2.0 / opts.sample_fps))
    clock = {"decode": 0.0, "detect": 0.0, "landmarks": 0.0, "classify": 0.0}
    samples: list[tuple[float, int]] = []
    crops: list[np.ndarray] = []
    signals: list[dict[str, Any] | None] = []
    presences: list[float | None] = []  # the face mesh's face flag per face sample (None: not seen)
    started = time.process_time()
    finder = (
        _FaceFinder(detector, mesh, _eyelid_reader(Path(opts.model_dir)), opts.sample_fps, clock)
        if mesh is not None
        else None
    )
    frames = sample_frames(source, start, end, opts.sample_fps, seek=seek)
    while True:
        tick = time.process_time()
        item = next(frames, None)
        clock["decode"] += time.process_time() - tick
        if item is None:
            break
        t, frame = item
        if finder is not None:
            boxes, found_signals = finder.find(t, frame)
            signals.extend(found_signals)
            presences.extend(m.presence if m is not None else None for m in finder.meshes)
            # Eyes level, FER's framing: +4.6 points on tilted faces, +1.6 upright (model/README.md).
            tick = time.process_time()
            crops.extend(
                aligned_crop(frame, mesh.points) if mesh is not None else crop_square(frame, box)
                for box, mesh in zip(boxes, finder.meshes, strict=True)
            )
            clock["landmarks"] += time.process_time() - tick
        else:
            tick = time.process_time()
            boxes = _detect(detector, frame, tracker.live_boxes(t), t, opts.sample_fps)
            crops.extend(crop_square(frame, box) for box in boxes)
            clock["detect"] += time.process_time() - tick
        tracker.update(t, boxes)
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
        tracks=track_fragments(
            tracker,
            samples,
            probs,
            signals=signals if mesh is not None else None,
            presences=presences if mesh is not None else None,
        ),
        model={
            "backend": "onnx",
            "version": model.version,
            "detector": opts.detector,
            "crop": "aligned" if mesh is not None else "box",
        },
        timings={k: round(v, 4) for k, v in clock.items()},
    )


def _detect(
    detector: Detector, frame: np.ndarray, known: list[Box], t: float, sample_fps: float
) -> list[Box]:
    """Without landmarks: faces near the known boxes, a full pass on the grid or when one is lost."""
    found = [] if not known or _is_full_pass(t, sample_fps) else _find(detector, frame, known)
    if len(found) < len(known) or not known:
        found = _find(detector, frame, None)  # a face was lost (or none is known): look everywhere
    return [f.box for f in found]


def _is_full_pass(t: float, sample_fps: float) -> bool:
    """Full-frame detection every `FULL_PASS_SECONDS` of the global sample grid (and whenever no face is
    known or one is lost), so a video cut on that grid gets the same passes as the video analysed whole."""
    k = round(t * sample_fps)
    period = max(1, round(FULL_PASS_SECONDS * sample_fps))
    return abs(t * sample_fps - k) < 0.5 and k % period == 0


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
    presences: list[float | None] | None = None,
) -> list[dict[str, Any]]:
    """Tracks as JSON-ready fragments; `probs` rows follow the order boxes were detected in.

    `extras` (aligned with `probs`) are a backend's scores outside the 7 labels; each point carries them
    as `"x"`. `signals` (aligned too) are the landmark signals, carried as `"s"` where the mesh saw the
    face, and `presences` the mesh's face flag there, as `"m"` (merge's evidence for short tracks). Without
    any of them the points are exactly `{"t", "box", "p"}`.
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
            presence = presences[row] if presences is not None else None
            if presence is not None:
                point["m"] = round(presence, 4)
            points.append(point)
        fragments.append({"id": track.id, "points": points})
    return fragments


def _box_list(box: Box) -> list[int]:
    return [int(v) for v in box]
