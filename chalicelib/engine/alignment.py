"""An aligned face crop from the face mesh: the eyes level, the margins fixed in units of the eye distance.

`crop_square` cuts the detector's box as it lies in the frame, so a tilted head reaches the expression
models tilted, and they were trained on upright faces (FER2013 crops). `aligned_crop` turns the crop so the
line between the eye centres (each the midpoint of the mesh's two corners of that eye) is level, and frames
it from the eyes alone: a square `FRAMING.side` eye distances wide, centred `FRAMING.down` eye distances
below the eyes' midpoint (in the face's own down direction).

The constants reproduce the framing of the 48x48 FER2013 crops the classifiers learned from; they were
measured on FER2013 *training* faces placed in frames (`python -m model.training.aligned_crops`,
model/README.md "Aligned crops"), never on test faces. The eye distance is taken in 3-D (the mesh's x, y
and depth z, in the same pixel scale), so a face turned sideways, whose eyes draw closer in the picture, is
not cropped tighter: on those training faces the tile's side over the 3-D distance varies less than over
the 2-D one (log standard deviation 0.174 against 0.208, 279 faces).

The output is what `crop_square` returns: a square BGR image at about the frame's own resolution (the
classifiers resize it), black where the square leaves the frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

#: MediaPipe face mesh indices of each eye's outer and inner corner (the subject's right eye, then left).
RIGHT_EYE_CORNERS = (33, 133)
LEFT_EYE_CORNERS = (263, 362)


@dataclass(frozen=True)
class Framing:
    """Where the crop lies relative to the eyes, in eye distances (the distance between the eye centres)."""

    side: float
    down: float


#: The median framing of FER2013 training faces placed upright in frames (279 of 300 found and meshed),
#: relative to the mesh's eyes. Today's `crop_square` on the same faces is tighter: 0.856 of the tile's side.
FRAMING = Framing(side=2.69, down=0.29)


def eye_centres(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The subject's right and left eye centres (x, y in frame pixels) from the 468 mesh points."""
    right = points[list(RIGHT_EYE_CORNERS), :2].astype(np.float64).mean(axis=0)
    left = points[list(LEFT_EYE_CORNERS), :2].astype(np.float64).mean(axis=0)
    return right, left


def eye_distance(points: np.ndarray) -> float:
    """The distance between the eye centres, in 3-D where the points carry the mesh's depth."""
    right = points[list(RIGHT_EYE_CORNERS)].astype(np.float64).mean(axis=0)
    left = points[list(LEFT_EYE_CORNERS)].astype(np.float64).mean(axis=0)
    return float(np.linalg.norm(left - right))


def eye_line_degrees(points: np.ndarray) -> float:
    """The eye line's turn from level, degrees, counter-clockwise in the picture positive (0: level)."""
    right, left = eye_centres(points)
    return math.degrees(math.atan2(-(left[1] - right[1]), left[0] - right[0]))


def aligned_transform(
    points: np.ndarray, framing: Framing = FRAMING, size: int | None = None
) -> tuple[np.ndarray, int]:
    """The 2x3 affine from crop pixels to frame pixels and the crop's side in pixels (`size`, or None: the
    frame's own resolution, the square's side in frame pixels rounded)."""
    right, left = eye_centres(points)
    across = left - right
    length = float(np.hypot(across[0], across[1]))
    distance = eye_distance(points)
    if length < 1e-6:
        raise ValueError("the eyes coincide in the picture: no alignment is possible")
    u = across / length  # the face's own x axis (towards the subject's left eye) in the frame
    d = np.array([-u[1], u[0]])  # its down axis: u turned by 90 degrees (image y points down)
    centre = (right + left) / 2 + framing.down * distance * d
    side = framing.side * distance
    n = size or max(1, round(side))
    step = side / n
    origin = centre - (n - 1) / 2 * step * (u + d)  # pixel centres at integer coordinates, as in OpenCV
    return np.array([[step * u[0], step * d[0], origin[0]], [step * u[1], step * d[1], origin[1]]]), n


def aligned_crop(
    frame_bgr: np.ndarray, points: np.ndarray, framing: Framing = FRAMING, size: int | None = None
) -> np.ndarray:
    """The face turned eyes-level and framed from the eyes: a square BGR crop like `crop_square`'s.

    `points` are the face's `Mesh.points` ([468, 3] or [468, 2], frame pixels) on this same frame.
    """
    transform, n = aligned_transform(points, framing, size)
    return cv2.warpAffine(
        frame_bgr,
        transform,
        (n, n),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
