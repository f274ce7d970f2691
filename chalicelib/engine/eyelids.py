"""How open each eye is, from MediaPipe's iris model: the eyelids, where the face mesh is weakest.

The 468-point face mesh follows the eyelids poorly: it read the closed eyes of the fixture
`sadtalker_WDA_KatieHill_000.mp4` (full blinks on frames 24, 112-114 and 170-173) as 0.9-1.0 open. MediaPipe's
iris landmark model (`iris_landmark.tflite`, in the same wheel, converted by `python -m model.build`) looks at
one eye at a time, a 64x64 crop centred between the eye's corners, 2.3 times their distance wide and turned
level, and places 71 points on the eyelids and the brow. Its lower lid (points 1-7) and upper lid (9-15) give
the lid gap. The model is made for the image's left eye (the subject's right): the other eye is mirrored
first, so both read alike (fixture medians within 0.01-0.03 of each other; unmirrored, 0.05 apart).

Per face sample, `lids` = (right, left) mean lid gap / eye width. Open eyes measured 0.16-0.29 across the
fixture subjects and a full blink 0.35-0.5 of that person's open value, so merge reads openness relative to
the face's own usual lids (`relative_openness`), never against one value for everybody.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from chalicelib.engine.onnx_sessions import load_session, run_in_chunks

IRIS_FILE = "iris_landmark.onnx"
#: Eyes per iris-model run (onnx_sessions.run_in_chunks): one face's two, 1.5 ms an eye (2.9 in batches of 8).
CHUNK = 2
#: The model's input side and the crop's width in eye-corner distances (MediaPipe's iris graph: 2.3).
INPUT, CROP_SCALE = 64, 2.3
#: Mesh indices of each eye's corners, the image's left one first: (33, 133) the subject's right eye (outer,
#: inner), (362, 263) the subject's left eye (inner, outer).
RIGHT_EYE, LEFT_EYE = (33, 133), (362, 263)
#: Eyes narrower than this (corner to corner, in frame pixels) are too small to read lids from.
MIN_EYE_PIXELS = 8.0
_LOWER, _UPPER = slice(1, 8), slice(9, 16)
#: The usual lids of a face: this percentile of its samples' lid gaps (eyes are open most of the time).
USUAL_PERCENTILE = 80
#: Lid gap as a share of the face's usual gap: at or below CLOSED the eye reads 0, at or above OPEN 1.
#: Set on the fixture's three blinks (closed 0.35-0.5 of open) and its open eyes (0.95-1.05).
CLOSED_SHARE, OPEN_SHARE = 0.35, 0.95


def eye_crop(frame_bgr: np.ndarray, first: np.ndarray, second: np.ndarray, mirror: bool) -> np.ndarray:
    """The 64x64 crop of the eye between two corner points (the image's left one first), level."""
    centre = (first[:2] + second[:2]) / 2
    width = max(float(np.linalg.norm(second[:2] - first[:2])) * CROP_SCALE, 1.0)
    angle = math.degrees(math.atan2(float(second[1] - first[1]), float(second[0] - first[0])))
    warp = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, INPUT / width)
    warp[:, 2] += INPUT / 2 - centre
    crop = cv2.warpAffine(
        frame_bgr, warp, (INPUT, INPUT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return np.ascontiguousarray(crop[:, ::-1]) if mirror else crop


def lid_gap(contour: np.ndarray) -> float:
    """Mean distance between the upper and lower lid points / the distance between the eye's corners."""
    points = contour.reshape(-1, 3)[:16, :2]
    width = float(np.linalg.norm(points[8] - points[0]))
    return float(np.linalg.norm(points[_UPPER] - points[_LOWER], axis=1).mean()) / max(width, 1e-6)


class EyelidReader:
    """The iris model over both eyes of every face of a sample, a face's two eyes to a run (`CHUNK`)."""

    def __init__(self, model_dir: Path) -> None:
        self._session = load_session(model_dir / IRIS_FILE)

    def lids(
        self, frame_bgr: np.ndarray, meshes: Sequence[np.ndarray | None]
    ) -> list[tuple[float, float] | None]:
        """(right, left) lid gaps per face mesh ([468, 3] points); None without a mesh or for tiny eyes."""
        readable = [points if points is not None and _wide_enough(points) else None for points in meshes]
        crops = [
            eye_crop(frame_bgr, points[first], points[second], mirror)
            for points in readable
            if points is not None
            for (first, second), mirror in ((RIGHT_EYE, False), (LEFT_EYE, True))
        ]
        if not crops:
            return [None] * len(meshes)
        batch = np.stack([cv2.cvtColor(c, cv2.COLOR_BGR2RGB) for c in crops]).astype(np.float32) * (1 / 255)
        contours = run_in_chunks(self._session, ["eyes"], batch, CHUNK)[0]
        gaps = iter(lid_gap(c) for c in contours)
        return [(next(gaps), next(gaps)) if points is not None else None for points in readable]


def _wide_enough(points: np.ndarray) -> bool:
    """Both eyes at least MIN_EYE_PIXELS from corner to corner."""
    return all(
        float(np.linalg.norm(points[a, :2] - points[b, :2])) >= MIN_EYE_PIXELS
        for a, b in (RIGHT_EYE, LEFT_EYE)
    )


def relative_openness(lids: Sequence[Sequence[float] | None]) -> list[tuple[float, float] | None]:
    """Each sample's openness per eye (0 closed .. 1 open) against the track's usual lid gap of that eye."""
    seen = np.array([list(v) for v in lids if v is not None], dtype=np.float64).reshape(-1, 2)
    if not len(seen):
        return [None] * len(lids)
    usual = np.maximum(np.percentile(seen, USUAL_PERCENTILE, axis=0), 1e-6)
    out: list[tuple[float, float] | None] = []
    for v in lids:
        if v is None:
            out.append(None)
            continue
        share = np.asarray(v, np.float64) / usual
        opened = np.clip((share - CLOSED_SHARE) / (OPEN_SHARE - CLOSED_SHARE), 0.0, 1.0)
        out.append((round(float(opened[0]), 3), round(float(opened[1]), 3)))
    return out
