"""What a face's landmarks say beyond its expression: head pose, eye and mouth openness, brow lowering
and smile intensity, from MediaPipe's 468-point face mesh (image coordinates, pixels).

Each measure is a ratio of distances within the face (scale-free) mapped to 0..1 with documented
bounds (docs/analysis.md), or an angle in degrees. They are geometry, not judgements: the reactions built
on them (chalicelib/engine/reactions.py) say so too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

# Mesh indices (MediaPipe face mesh topology). "Right"/"left" are the subject's.
NOSE_TIP, CHIN = 1, 152
RIGHT_EYE_OUTER, RIGHT_EYE_INNER, RIGHT_EYE_UPPER, RIGHT_EYE_LOWER = 33, 133, 159, 145
LEFT_EYE_OUTER, LEFT_EYE_INNER, LEFT_EYE_UPPER, LEFT_EYE_LOWER = 263, 362, 386, 374
MOUTH_RIGHT, MOUTH_LEFT, LIP_UPPER_INNER, LIP_LOWER_INNER = 61, 291, 13, 14
LIP_UPPER_OUTER, LIP_LOWER_OUTER = 0, 17
RIGHT_BROW_INNER, LEFT_BROW_INNER = 105, 334

#: A generic adult head (millimetres; camera axes: x right, y down, z away from the camera), nose tip at
#: the origin; enough for yaw/pitch/roll to a few degrees. Order matches `_POSE_POINTS`.
_MODEL_POINTS = np.array(
    [
        (0.0, 0.0, 0.0),  # nose tip
        (0.0, 63.6, 12.5),  # chin
        (-43.3, -32.7, 26.0),  # right eye, outer corner (image left)
        (43.3, -32.7, 26.0),  # left eye, outer corner
        (-28.9, 28.9, 24.1),  # mouth, right corner
        (28.9, 28.9, 24.1),  # mouth, left corner
    ],
    dtype=np.float64,
)
_POSE_POINTS = [NOSE_TIP, CHIN, RIGHT_EYE_OUTER, LEFT_EYE_OUTER, MOUTH_RIGHT, MOUTH_LEFT]

#: Eye aspect ratio (lid gap / eye width) of a wide-open eye and of a closed one: 1 and 0 between them.
EYE_OPEN, EYE_CLOSED = 0.30, 0.10
#: Inner-lip gap over mouth width: 0 closed, 1 at a wide yawn.
MOUTH_WIDE = 0.60
#: Brow-to-eye distance over eye distance, relaxed and lowered (a frown).
BROW_RELAXED, BROW_LOWERED = 0.30, 0.18


@dataclass(frozen=True)
class FaceSignals:
    yaw: float  # degrees, + = the subject turns to their left (the camera sees the right cheek)
    pitch: float  # degrees, + = looks up
    roll: float  # degrees, + = head tilted clockwise in the image
    eye_openness: tuple[float, float]  # right, left; 0 closed .. 1 wide open
    mouth_openness: float  # 0 closed .. 1 wide open
    brow_lowering: float  # 0 relaxed .. 1 lowered (frown)
    smile: float  # 0 .. 1, lip corners raised and mouth widened

    def to_dict(self) -> dict[str, float | list[float]]:
        return {
            "yaw": round(self.yaw, 1),
            "pitch": round(self.pitch, 1),
            "roll": round(self.roll, 1),
            "eyes": [round(v, 3) for v in self.eye_openness],
            "mouth": round(self.mouth_openness, 3),
            "brow": round(self.brow_lowering, 3),
            "smile": round(self.smile, 3),
        }


def _unit(value: float, low: float, high: float) -> float:
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


def _distance(points: np.ndarray, a: int, b: int) -> float:
    return float(np.linalg.norm(points[a, :2] - points[b, :2]))


def head_pose(points: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees: the rotation that best aligns a generic head's six points with the
    mesh's own 3-D points (x, y in pixels, z the mesh's relative depth in the same scale), by the Kabsch
    method. 3-D to 3-D has no perspective ambiguity, so no flipped solutions."""
    model = _MODEL_POINTS - _MODEL_POINTS.mean(axis=0)
    seen = points[_POSE_POINTS, :3].astype(np.float64)
    seen = seen - seen.mean(axis=0)
    u, _, vt = np.linalg.svd(model.T @ seen)
    d = np.sign(np.linalg.det(vt.T @ u.T)) or 1.0
    r = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    # r = Rz(roll) . Ry(yaw) . Rx(pitch) in camera axes; signs turned to the subject's point of view.
    yaw = float(np.degrees(np.arcsin(np.clip(-r[2, 0], -1.0, 1.0))))
    pitch = float(np.degrees(np.arctan2(r[2, 1], r[2, 2])))
    roll = float(np.degrees(np.arctan2(r[1, 0], r[0, 0])))
    return -yaw, -pitch, roll


def face_signals(points: np.ndarray) -> FaceSignals:
    """All signals of one face; `points` is the mesh `[468, 3]` in frame pixels."""
    yaw, pitch, roll = head_pose(points)
    eye_distance = max(_distance(points, RIGHT_EYE_OUTER, LEFT_EYE_OUTER), 1e-6)
    eyes = []
    for outer, inner, upper, lower in (
        (RIGHT_EYE_OUTER, RIGHT_EYE_INNER, RIGHT_EYE_UPPER, RIGHT_EYE_LOWER),
        (LEFT_EYE_OUTER, LEFT_EYE_INNER, LEFT_EYE_UPPER, LEFT_EYE_LOWER),
    ):
        ratio = _distance(points, upper, lower) / max(_distance(points, outer, inner), 1e-6)
        eyes.append(_unit(ratio, EYE_CLOSED, EYE_OPEN))
    mouth_width = max(_distance(points, MOUTH_RIGHT, MOUTH_LEFT), 1e-6)
    mouth = _unit(_distance(points, LIP_UPPER_INNER, LIP_LOWER_INNER) / mouth_width, 0.05, MOUTH_WIDE)
    brow_gap = (
        _distance(points, RIGHT_BROW_INNER, RIGHT_EYE_UPPER)
        + _distance(points, LEFT_BROW_INNER, LEFT_EYE_UPPER)
    ) / (2 * eye_distance)
    brow = _unit(BROW_RELAXED - brow_gap, 0.0, BROW_RELAXED - BROW_LOWERED)
    # Smile: lip corners above the lips' centre line (in the face's own up direction) and a wide mouth.
    up = points[RIGHT_EYE_OUTER, :2] + points[LEFT_EYE_OUTER, :2] - 2 * points[CHIN, :2]
    up = up / max(float(np.linalg.norm(up)), 1e-6)
    centre = (points[LIP_UPPER_OUTER, :2] + points[LIP_LOWER_OUTER, :2]) / 2
    corners = (points[MOUTH_RIGHT, :2] + points[MOUTH_LEFT, :2]) / 2
    lift = float(np.dot(corners - centre, up)) / eye_distance
    widen = mouth_width / eye_distance
    smile = 0.6 * _unit(lift, -0.02, 0.10) + 0.4 * _unit(widen, 0.55, 0.80)
    return FaceSignals(yaw, pitch, roll, (eyes[0], eyes[1]), mouth, brow, smile)


#: A face attends (is turned toward the camera, so toward a screen beside it) within these bounds. A
#: screen a little off the camera's axis is within them; a face turned to a neighbour or down at a phone
#: is not.
ATTENTION_YAW, ATTENTION_PITCH = 25.0, 20.0


def attends(signals: Mapping[str, Any]) -> bool:
    """Whether a face sample's signals (`FaceSignals.to_dict()`) say it is turned toward the camera."""
    return abs(float(signals["yaw"])) <= ATTENTION_YAW and abs(float(signals["pitch"])) <= ATTENTION_PITCH
