"""MediaPipe's BlazeFace face detectors (converted to ONNX by `python -m model.build`): anchors, decoding and
weighted non-maximum suppression as MediaPipe's face detection graphs do them.

- A full pass runs the full-range model (192x192, faces up to ~5 m) on the letterboxed frame and, on
  frames of 1000 px and more, on overlapping tiles of at most 768 px too (`tiles`: 2x2 at 720p, 3x2 at
  1080p), so the small faces of a wide shot (a classroom, an audience filmed from the stage) are not lost
  to the downscale; and the short-range model (128x128) on the whole frame, for faces that fill it. Over
  six scenes of 21 faces 48 px tall, 94% were found at 720p and 82% at 1080p (39% with the 2x2 tiles
  1080p had before; 56 px: 98% and 94%). A face seen twice (by the frame and a tile) is kept once.
- When a full pass finds nothing, the full-range model looks once more at the frame inside a black margin
  (a quarter of its longer side all round) and the faces whose box crosses the frame's edge are kept. A
  face cut off by the edge of the picture (a handheld camera swinging past, a selfie half out of view)
  scores low while the cut lies on the model's input border; beside black, the same half face scores like
  a face. On 2,268 fixture faces cut by an edge (20-50% of the face outside) 89.6% were found before and
  96.2% with the margin (of those cut in half: 69% -> 89%); it found no face in 428 face-free crops just
  below a face nor in the face-free frames of the fixture videos. It costs one 192x192 inference (a 640x480
  frame with no face: 5.4 -> 8.5 ms; 1080p: 35 -> 37 ms), and only when nothing else was found.
- Between full passes, `redetect` looks only around the faces already known: a window twice the face's
  size through the short-range model (128x128, faces that fill the window), about 1 ms per face.

Boxes are returned framed as the expression classifiers expect (the Haar cascade's framing, measured on
the fixture videos: 1.04x BlazeFace's box side, centred 0.097 sides higher); the six keypoints (eyes, nose,
mouth, ears) come with each face for alignment and the landmark model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from chalicelib.engine.faces import Box, iou
from chalicelib.engine.onnx_sessions import load_session, run_in_chunks

SHORT_RANGE_FILE = "face_detection_short_range.onnx"
FULL_RANGE_FILE = "face_detection_full_range.onnx"
SCORE_CLIP = 100.0
NMS_IOU = 0.3
KEYPOINTS = 6  # right eye, left eye, nose tip, mouth centre, right ear, left ear (the subject's)
#: From BlazeFace's box to the Haar-like box the classifiers were tuned on (median of 64 pairs).
HAAR_SIDE, HAAR_SHIFT_UP = 1.04, 0.097
#: Two detections are one face seen twice only if their sides are within this factor of each other.
SAME_FACE_SIDES = 2.0
#: Doubtful detections handed back for a second opinion: at most this many per full pass, best first.
MAX_DOUBTFUL = 3
#: Tiles of large frames: at most this many pixels a side (4x the full-range model's input), overlapping by at
#: least this share, and at most this many (measured in tests/test_blazeface.py, small faces in a wide shot).
#: 16 rather than 9: at 3840x2160, 15 tiles of 928 px found 88% of 48 px faces and 96% of 64 px ones over six
#: scenes of 21, against 27% and 56% with 8 tiles of 1234 px, for 125 ms a full pass instead of 93 (decoding
#: a second of 4K costs several times that). Up to 1080p nothing changes (4 or 6 tiles); 1440p gets 12
#: tiles of 768 px instead of 8 of 845 (~14 ms more a full pass).
TILE_SIDE, TILE_OVERLAP, MAX_TILES = 768, 0.2, 16
#: The black margin round the frame for faces cut by its edge, in units of the frame's longer side (0.25:
#: the frame fills the middle two thirds of the model's input; 0.125 and 0.5 found fewer cut faces).
EDGE_MARGIN = 0.25


@dataclass(frozen=True)
class Variant:
    """A BlazeFace model's input size and SSD anchor layout (MediaPipe's calculator options)."""

    file: str
    size: int
    strides: tuple[int, ...]
    interpolated_anchor: bool


SHORT_RANGE = Variant(SHORT_RANGE_FILE, 128, (8, 16, 16, 16), True)
FULL_RANGE = Variant(FULL_RANGE_FILE, 192, (4,), False)
#: Inputs per model run (onnx_sessions.run_in_chunks): a full pass's tiles one at a time cost 3.5 ms each
#: against 5.2-5.6 in one batch of 5-7.
_CHUNK = {FULL_RANGE: 1, SHORT_RANGE: 2}


def anchor_centres(variant: Variant) -> np.ndarray:
    """[A, 2] anchor centres (x, y) in 0..1, in the order of the model's outputs. Layers with the same
    stride share a grid; each layer adds an anchor of aspect 1 and, if interpolated, one more."""
    per_layer = 1 + int(variant.interpolated_anchor)
    centres = []
    layer = 0
    while layer < len(variant.strides):
        stride = variant.strides[layer]
        same = 0
        while layer + same < len(variant.strides) and variant.strides[layer + same] == stride:
            same += 1
        cells = -(-variant.size // stride)
        axis = (np.arange(cells) + 0.5) / cells
        ys, xs = np.meshgrid(axis, axis, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, same * per_layer, axis=0))
        layer += same
    return np.concatenate(centres).astype(np.float64)


@dataclass(frozen=True)
class Detection:
    """One face in normalised coordinates of the image it was found in."""

    score: float
    box: np.ndarray  # xmin, ymin, xmax, ymax
    keypoints: np.ndarray  # [6, 2] x, y


def decode(
    regressors: np.ndarray, logits: np.ndarray, anchors: np.ndarray, size: int, min_score: float
) -> list[Detection]:
    """Raw outputs [A,16] and [A,1] to detections above `min_score`, before suppression."""
    raw = np.asarray(regressors, np.float64).reshape(len(anchors), -1)
    logit = np.clip(np.asarray(logits, np.float64).reshape(-1), -SCORE_CLIP, SCORE_CLIP)
    scores = 1.0 / (1.0 + np.exp(-logit))
    keep = scores >= min_score
    raw, scores, centres = raw[keep] / size, scores[keep], anchors[keep]
    middle = raw[:, 0:2] + centres
    half = raw[:, 2:4] / 2
    boxes = np.concatenate([middle - half, middle + half], axis=1)
    points = raw[:, 4 : 4 + 2 * KEYPOINTS].reshape(-1, KEYPOINTS, 2) + centres[:, None, :]
    return [
        Detection(float(s), b, k)
        for s, b, k in zip(scores, boxes, points, strict=True)
        if b[2] > b[0] and b[3] > b[1]
    ]


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    union = (box[2] - box[0]) * (box[3] - box[1]) + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def weighted_nms(detections: list[Detection], threshold: float = NMS_IOU) -> list[Detection]:
    """MediaPipe's WEIGHTED suppression: the best remaining detection and every one overlapping it by more
    than `threshold` become one, their score-weighted mean box and keypoints with the best score."""
    if not detections:
        return []
    scores = np.array([d.score for d in detections])
    boxes = np.stack([d.box for d in detections])
    points = np.stack([d.keypoints for d in detections])
    order = np.argsort(-scores, kind="stable")
    out = []
    while order.size:
        best = order[0]
        overlap = _iou(boxes[best], boxes[order]) > threshold
        overlap[0] = True
        cluster, order = order[overlap], order[~overlap]
        weights = scores[cluster] / scores[cluster].sum()
        out.append(
            Detection(
                float(scores[best]),
                (boxes[cluster] * weights[:, None]).sum(0),
                (points[cluster] * weights[:, None, None]).sum(0),
            )
        )
    return out


def _split(detections: list[Detection], threshold: float) -> tuple[list[Detection], list[Detection]]:
    """Detections scored from `threshold` up, and the others."""
    return [d for d in detections if d.score >= threshold], [d for d in detections if d.score < threshold]


def _same_face(a: Detection, b: Detection) -> bool:
    """One face seen twice: boxes of similar size (sides within `SAME_FACE_SIDES` of each other), either's
    centre inside the other's box. A small face beside or behind a large one is not the same face."""
    side_a, side_b = a.box[2] - a.box[0], b.box[2] - b.box[0]
    if max(side_a, side_b) > SAME_FACE_SIDES * max(min(side_a, side_b), 1e-9):
        return False
    return _centre_inside(a, b)


def _centre_inside(a: Detection, b: Detection) -> bool:
    """Either box's centre inside the other box."""

    def inside(p: Detection, q: Detection) -> bool:
        cx, cy = (p.box[0] + p.box[2]) / 2, (p.box[1] + p.box[3]) / 2
        return bool(q.box[0] <= cx <= q.box[2] and q.box[1] <= cy <= q.box[3])

    return inside(a, b) or inside(b, a)


def _distinct(detections: list[Detection]) -> list[Detection]:
    """Drop a detection that is a better-scored one's face seen again (`_same_face`).

    Suppression by overlap (`weighted_nms`, IoU 0.3) keeps both when the whole frame and a tile, or two
    tiles, see a small face with boxes of different sizes (a 720p frame of 15 faces 48 px tall: 18
    detections)."""
    kept: list[Detection] = []
    for d in sorted(detections, key=lambda d: -d.score):
        if not any(_same_face(d, k) for k in kept):
            kept.append(d)
    return kept


@dataclass(frozen=True)
class Face:
    """A face found in a frame, in frame pixels."""

    box: Box  # framed like the Haar cascade's boxes (what the expression classifiers expect)
    score: float
    keypoints: np.ndarray  # [6, 2]

    @property
    def eye_distance(self) -> float:
        return float(np.linalg.norm(self.keypoints[1] - self.keypoints[0]))


def _to_face(detection: Detection) -> Face:
    """A detection in frame pixels to a face, its box framed as the classifiers expect."""
    box, points = detection.box, detection.keypoints
    width, height = box[2] - box[0], box[3] - box[1]
    face_side = max(width, height)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2 - HAAR_SHIFT_UP * face_side
    s = HAAR_SIDE * face_side
    haar: Box = (round(cx - s / 2), round(cy - s / 2), round(s), round(s))
    return Face(haar, detection.score, points)


class BlazeFaceDetector:
    """Full-range passes over the frame (and tiles of large frames); short-range windows around known
    faces. Implements the engine's `Detector` protocol, plus `detect_faces` with keypoints."""

    def __init__(
        self,
        model_dir: Path,
        min_score: float = 0.5,
        short_min_score: float = 0.4,
        tile_from_width: int = 1000,
    ) -> None:
        self.min_scores = {FULL_RANGE: min_score, SHORT_RANGE: short_min_score}
        self.tile_from_width = tile_from_width
        self._models: dict[Variant, tuple[Any, np.ndarray]] = {
            v: (load_session(model_dir / v.file), anchor_centres(v)) for v in (FULL_RANGE, SHORT_RANGE)
        }

    def _run(
        self, variant: Variant, inputs: list[_Letterbox], floor: float | None = None
    ) -> list[list[Detection]]:
        """Detections, in frame pixels, in letterboxed inputs made at this variant's size (from the variant's
        threshold up, or from `floor` when lower)."""
        session, anchors = self._models[variant]
        size = variant.size
        batch = np.stack([cv2.cvtColor(i.image, cv2.COLOR_BGR2RGB) for i in inputs]).astype(np.float32)
        batch = batch * (1 / 127.5) - 1.0
        regressors, logits = run_in_chunks(session, ["regressors", "classificators"], batch, _CHUNK[variant])
        threshold = self.min_scores[variant] if floor is None else min(floor, self.min_scores[variant])
        return [
            [i.to_frame(d) for d in decode(r, c, anchors, size, threshold)]
            for i, r, c in zip(inputs, regressors, logits, strict=True)
        ]

    def detect_faces(self, frame_bgr: np.ndarray) -> list[Face]:
        """Every face in the frame, largest first."""
        return self.find_faces(frame_bgr)[0]

    def find_faces(
        self, frame_bgr: np.ndarray, doubtful_from: float | None = None
    ) -> tuple[list[Face], list[Face]]:
        """Every face in the frame, largest first; and, given `doubtful_from`, the best few detections scored
        from there to the thresholds that are none of those faces, for a second opinion (the face mesh's)."""
        height, width = frame_bgr.shape[:2]
        regions = [_square_region(0, 0, width, height)]
        if max(width, height) >= self.tile_from_width:
            regions += [_square_region(*tile) for tile in tiles(width, height)]
        inputs = [_letterbox(frame_bgr, r, FULL_RANGE.size) for r in regions]
        found = [d for detections in self._run(FULL_RANGE, inputs, doubtful_from) for d in detections]
        sure, unsure = _split(found, self.min_scores[FULL_RANGE])
        # The short-range model on the whole frame too (about 1 ms): it finds faces that fill much of the
        # picture, and blurry tightly cropped ones, that the full-range model scores low (measured on
        # FER2013 faces placed in frames: 110 of 120 found at 0.5, against 92 for full range alone).
        whole = _letterbox(frame_bgr, regions[0], SHORT_RANGE.size)
        short_sure, short_unsure = _split(
            self._run(SHORT_RANGE, [whole], doubtful_from)[0], self.min_scores[SHORT_RANGE]
        )
        sure, unsure = sure + short_sure, unsure + short_unsure
        merged = _distinct(weighted_nms(sure)) or self._cut_by_the_edge(frame_bgr)
        faces = sorted((_to_face(d) for d in merged), key=lambda f: f.box[2] * f.box[3], reverse=True)
        if doubtful_from is None:
            return faces, []
        # Doubts about part of a face already found (whatever their size) are not another face.
        doubtful = [
            d for d in _distinct(weighted_nms(unsure)) if not any(_centre_inside(d, m) for m in merged)
        ]
        return faces, [_to_face(d) for d in doubtful[:MAX_DOUBTFUL]]

    def _cut_by_the_edge(self, frame_bgr: np.ndarray) -> list[Detection]:
        """Faces the frame's edge cuts off (in frame pixels): the full-range model on the frame inside a black
        margin, keeping only the faces whose box reaches beyond the frame (faces inside it had their chance).
        Not the short-range model: there it took skin-coloured cloth under the top edge for a chin (37 of 428
        crops just below a fixture face, none for the full-range model), and it added few true faces."""
        height, width = frame_bgr.shape[:2]
        side = (1 + 2 * EDGE_MARGIN) * max(width, height)
        region = (width / 2 - side / 2, height / 2 - side / 2, side)
        found = self._run(FULL_RANGE, [_letterbox(frame_bgr, region, FULL_RANGE.size)])[0]
        return [
            d
            for d in weighted_nms(found)
            if d.box[0] < 0 or d.box[1] < 0 or d.box[2] > width or d.box[3] > height
        ]

    def detect(self, frame_bgr: np.ndarray) -> list[Box]:
        return [face.box for face in self.detect_faces(frame_bgr)]

    def redetect_faces(self, frame_bgr: np.ndarray, known: list[Box]) -> list[Face]:
        """The faces near `known` boxes, each looked for in a window twice its size."""
        if not known:
            return []
        regions = []
        for x, y, w, h in known:
            window = 2.0 * max(w, h)
            regions.append((x + w / 2 - window / 2, y + h / 2 - window / 2, window))
        inputs = [_letterbox(frame_bgr, r, SHORT_RANGE.size) for r in regions]
        found = [d for detections in self._run(SHORT_RANGE, inputs) for d in detections]
        faces = [_to_face(d) for d in _distinct(weighted_nms(found))]
        faces = [f for f in faces if any(iou(f.box, k) > 0.1 for k in known)]  # only the faces looked for
        return sorted(faces, key=lambda f: f.box[2] * f.box[3], reverse=True)

    def redetect(self, frame_bgr: np.ndarray, known: list[Box]) -> list[Box]:
        return [f.box for f in self.redetect_faces(frame_bgr, known)]


def tiles(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Overlapping tiles (x, y, w, h) for a second look at a large frame, each then letterboxed like it.

    Along each side, two tiles of 60% of it (a fifth shared), or more when 60% would be more than
    `TILE_SIDE` px, so a face is shrunk at most about 4x on its way to the model's 192 px. 720p gets 2x2
    tiles of 768x432, 1080p 3x2 of 768x648; beyond, the tiles grow so there are at most `MAX_TILES`."""
    side = TILE_SIDE
    while _tile_count(width, side) * _tile_count(height, side) > MAX_TILES:
        side = int(side * 1.1)
    placed = [_tile_spans(length, side) for length in (width, height)]
    return [(x, y, xw, yh) for y, yh in placed[1] for x, xw in placed[0]]


def _tile_count(length: int, side: int) -> int:
    """Two tiles of 60% of `length`, or as many `side`-long ones as overlap by `TILE_OVERLAP` of a tile."""
    if 0.6 * length <= side:
        return 2
    return math.ceil((length - side) / (side * (1 - TILE_OVERLAP))) + 1


def _tile_spans(length: int, side: int) -> list[tuple[int, int]]:
    """The tiles' (start, length) along one side of the frame, evenly spread from edge to edge."""
    count = _tile_count(length, side)
    span = max(1, min(side, int(0.6 * length)))
    return [(round(i * (length - span) / (count - 1)), span) for i in range(count)]


def _square_region(x: int, y: int, w: int, h: int) -> tuple[float, float, float]:
    """The square (x0, y0, side) that letterboxes the rectangle: centred, black bands outside it."""
    side = max(w, h)
    return x + w / 2 - side / 2, y + h / 2 - side / 2, float(side)


@dataclass(frozen=True)
class _Letterbox:
    """A model input: a square region of the frame scaled to the model's size, black outside the frame,
    and the mapping back (frame pixel = `origin` + input pixel / `scale`, per axis)."""

    image: np.ndarray
    origin: np.ndarray  # (x, y) in frame pixels of the input's pixel (0, 0)
    scale: np.ndarray  # input pixels per frame pixel, (x, y)

    def to_frame(self, d: Detection) -> Detection:
        """A detection normalised to this input, in frame pixels."""
        size = self.image.shape[0]
        box = d.box * size / np.tile(self.scale, 2) + np.tile(self.origin, 2)
        return Detection(d.score, box, d.keypoints * size / self.scale + self.origin)


def _letterbox(frame: np.ndarray, region: tuple[float, float, float], size: int) -> _Letterbox:
    """The square region (x0, y0, side, in frame pixels) at `size` x `size`, black where it leaves the frame.

    Only the part inside the frame is resized, straight to the model's size: cutting the square at frame
    size first (a 1280x1280 square for a 720p frame, mostly black) and shrinking it cost twice as much. The
    mapping back uses the exact pixel extents, so rounding the placement never shifts a detection."""
    x0, y0, side = region
    height, width = frame.shape[:2]
    side = max(side, 1.0)  # a box rounded to nothing still makes a (black) input
    scale = size / side
    # Whole frame pixels inside both the region and the frame; their place in the input, inside it.
    sx0, sy0 = max(0, math.ceil(x0)), max(0, math.ceil(y0))
    sx1, sy1 = min(width, math.floor(x0 + side)), min(height, math.floor(y0 + side))
    out = np.zeros((size, size, 3), dtype=frame.dtype)
    if sx1 <= sx0 or sy1 <= sy0:
        return _Letterbox(out, np.array([x0, y0], np.float64), np.array([scale, scale]))
    dx0, dy0 = (min(size - 1, max(0, round((v - o) * scale))) for v, o in ((sx0, x0), (sy0, y0)))
    dx1 = min(size, max(dx0 + 1, round((sx1 - x0) * scale)))
    dy1 = min(size, max(dy0 + 1, round((sy1 - y0) * scale)))
    part = frame[sy0:sy1, sx0:sx1]
    out[dy0:dy1, dx0:dx1] = cv2.resize(
        part, (dx1 - dx0, dy1 - dy0), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    )
    stretch = np.array([(dx1 - dx0) / (sx1 - sx0), (dy1 - dy0) / (sy1 - sy0)])
    origin = np.array([sx0, sy0], np.float64) - np.array([dx0, dy0], np.float64) / stretch
    return _Letterbox(out, origin, stretch)
