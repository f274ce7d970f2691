"""MediaPipe's face mesh (468 landmarks, converted to ONNX by `python -m model.build`) on each tracked face.

As MediaPipe's face landmark graph does, the model looks at a square region around the face, turned so the
eyes are level: from a detection, the box scaled 1.5x, turned by the eye keypoints; from the previous
sample's landmarks, their bounding box scaled 1.5x, turned by the outer eye corners. The crop is warped to
192x192 (values 0..1), and the 468 points come back to frame pixels through the inverse warp. The face
flag (a logit) says whether a face is in the region at all, so a track can follow a face from its own
landmarks until the flag drops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from chalicelib.engine.onnx_sessions import load_session, run_in_chunks

LANDMARK_FILE = "face_landmark.onnx"
INPUT = 192
POINTS = 468
ROI_SCALE = 1.5
#: Faces per mesh run (onnx_sessions.run_in_chunks): 1.6 ms a face in pairs, 2.5 in batches of 8.
CHUNK = 2
#: MediaPipe's outer eye corners (the subject's right, then left): the turn of a region from landmarks.
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263


@dataclass(frozen=True)
class Region:
    """A square region of a frame, turned by `angle` radians (counter-clockwise in the image)."""

    cx: float
    cy: float
    side: float
    angle: float

    def to_frame(self) -> np.ndarray:
        """2x3 affine from crop pixels (0..INPUT) to frame pixels."""
        scale = self.side / INPUT
        cos, sin = math.cos(self.angle) * scale, math.sin(self.angle) * scale
        half = INPUT / 2
        return np.array(
            [
                [cos, sin, self.cx - cos * half - sin * half],
                [-sin, cos, self.cy + sin * half - cos * half],
            ],
            dtype=np.float64,
        )


def _angle(right: np.ndarray, left: np.ndarray) -> float:
    """How far the line from the right eye to the left eye (image left to right) is turned from level."""
    return math.atan2(-(float(left[1]) - float(right[1])), float(left[0]) - float(right[0]))


def region_from_detection(
    box: tuple[float, float, float, float], right_eye: np.ndarray, left_eye: np.ndarray
) -> Region:
    """From a detector's box (x, y, w, h, pixels) and eye keypoints."""
    x, y, w, h = box
    return Region(x + w / 2, y + h / 2, max(w, h) * ROI_SCALE, _angle(right_eye, left_eye))


def region_from_box(box: tuple[float, float, float, float]) -> Region:
    """From a box alone (a detector without keypoints): not turned."""
    x, y, w, h = box
    return Region(x + w / 2, y + h / 2, max(w, h) * ROI_SCALE, 0.0)


def landmark_angle(points: np.ndarray) -> float:
    """How far the face's eye line (outer eye corners) is turned from level, radians."""
    return _angle(points[RIGHT_EYE_OUTER], points[LEFT_EYE_OUTER])


def region_from_landmarks(points: np.ndarray) -> Region:
    """From the previous sample's landmarks (the tracking step of MediaPipe's face mesh)."""
    angle = landmark_angle(points)
    # The bounding box in the face's own (turned) frame, so a tilted face does not inflate it.
    cos, sin = math.cos(angle), math.sin(angle)
    to_face = np.array([[cos, sin], [-sin, cos]])  # frame -> face axes (row vectors), see Region.to_frame
    turned = points[:, :2] @ to_face
    low, high = turned.min(axis=0), turned.max(axis=0)
    centre = ((low + high) / 2) @ to_face.T
    side = float(max(high - low)) * ROI_SCALE
    return Region(float(centre[0]), float(centre[1]), side, angle)


@dataclass(frozen=True)
class Mesh:
    points: np.ndarray  # [468, 3]: x, y in frame pixels; z in the same scale (relative depth)
    presence: float  # 0..1: a face is in the region

    def box(self) -> tuple[int, int, int, int]:
        """The landmarks' bounding box (x, y, w, h)."""
        low, high = self.points[:, :2].min(axis=0), self.points[:, :2].max(axis=0)
        return int(low[0]), int(low[1]), int(high[0] - low[0]), int(high[1] - low[1])


class FaceMesh:
    def __init__(self, model_dir: Path) -> None:
        self._session: Any = load_session(model_dir / LANDMARK_FILE)

    def run(self, frame_bgr: np.ndarray, regions: list[Region]) -> list[Mesh]:
        """Every region of a frame, two to a model run (`CHUNK`)."""
        if not regions:
            return []
        crops, forwards = [], []
        for region in regions:
            forward = region.to_frame()
            inverse = cv2.invertAffineTransform(forward)
            crop = cv2.warpAffine(
                frame_bgr, inverse, (INPUT, INPUT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
            )
            crops.append(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
            forwards.append((forward, region.side / INPUT))
        batch = np.stack(crops).astype(np.float32) * (1 / 255.0)
        landmarks, flags = run_in_chunks(self._session, ["landmarks", "face_flag"], batch, CHUNK)
        meshes = []
        for raw, flag, (forward, scale) in zip(
            landmarks.reshape(len(regions), POINTS, 3), flags.reshape(len(regions), -1), forwards, strict=True
        ):
            xy = raw[:, :2] @ forward[:, :2].T + forward[:, 2]
            points = np.concatenate([xy, raw[:, 2:3] * scale], axis=1)
            presence = 1.0 / (1.0 + math.exp(-float(np.clip(flag[0], -30, 30))))
            meshes.append(Mesh(points, presence))
        return meshes
