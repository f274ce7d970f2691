"""The aligned crop (chalicelib/engine/alignment.py): a tilted face comes out with its eyes level, as the face
mesh run again on the crop reads it, and the geometry (turn, centre, side) follows the mesh's eyes exactly."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from chalicelib.engine.alignment import FRAMING, aligned_crop, eye_line_degrees
from chalicelib.engine.blazeface import BlazeFaceDetector
from chalicelib.engine.landmarks import FaceMesh, Mesh, region_from_detection
from chalicelib.engine.video import sample_frames
from tests.synthetic import FER_DIR, VIDEOS_DIR, background, fer_faces


@pytest.fixture(scope="module")
def models(model_dir: Path) -> tuple[BlazeFaceDetector, FaceMesh]:
    return BlazeFaceDetector(model_dir), FaceMesh(model_dir)


def _mesh(models: tuple[BlazeFaceDetector, FaceMesh], image: np.ndarray) -> Mesh:
    """Detector, then mesh, as the engine runs them on a full pass."""
    detector, mesh = models
    faces = detector.detect_faces(image)
    assert faces, "no face found"
    face = faces[0]
    found = mesh.run(image, [region_from_detection(face.box, face.keypoints[0], face.keypoints[1])])[0]
    assert found.presence > 0.5
    return found


def _turn(image: np.ndarray, degrees: float) -> np.ndarray:
    height, width = image.shape[:2]
    turn = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), degrees, 1.0)
    return cv2.warpAffine(image, turn, (width, height), borderMode=cv2.BORDER_REPLICATE)


def _fer_frame(degrees: float) -> np.ndarray:
    """A FER2013 fixture face (48 px) upscaled to 200 px and tilted inside its tile, on a 640x360 frame."""
    gray = cv2.imread(str(FER_DIR / fer_faces("happy")[0]), cv2.IMREAD_GRAYSCALE)
    assert gray is not None
    tile = _turn(cv2.resize(gray, (200, 200), interpolation=cv2.INTER_CUBIC), degrees)
    frame = background(640, 360, 5)
    frame[80:280, 220:420] = tile[:, :, None]
    return frame


def _video_frame() -> np.ndarray:
    """A real frontal face at video resolution (the talking-head fixture, 1 s in)."""
    return next(iter(sample_frames(VIDEOS_DIR / "sadtalker_WDA_KatieHill_000.mp4", 1.0, 2.0, 1.0)))[1]


@pytest.mark.parametrize(
    ("source", "degrees"),
    [("fer", 18.0), ("fer", -15.0), ("video", 20.0), ("video", -12.0)],
)
def test_a_tilted_face_comes_out_with_level_eyes(
    models: tuple[BlazeFaceDetector, FaceMesh], source: str, degrees: float
) -> None:
    image = _fer_frame(degrees) if source == "fer" else _turn(_video_frame(), degrees)
    points = _mesh(models, image).points
    assert abs(eye_line_degrees(points)) > 8, "the face in the frame is tilted"
    crop = aligned_crop(image, points)
    assert crop.ndim == 3 and crop.shape[0] == crop.shape[1] and crop.dtype == np.uint8
    # Run the detector and the mesh again on the crop (inside a margin, so the detector sees a face in a
    # scene): its eyes are level.
    pad = crop.shape[0] // 2
    again = _mesh(models, cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_REPLICATE)).points
    assert abs(eye_line_degrees(again)) < 3.0, eye_line_degrees(again)


def test_the_crop_follows_the_eyes_turn_centre_and_distance() -> None:
    """Synthetic mesh points: eyes `distance` apart, turned `degrees`; a dot drawn where the crop's centre
    must fall lands in the crop's middle, and the crop is FRAMING.side eye distances wide."""
    degrees, distance, mid = 25.0, 60.0, np.array([300.0, 200.0])
    a = math.radians(degrees)
    u = np.array([math.cos(a), -math.sin(a)])  # level turned counter-clockwise in the picture
    d = np.array([-u[1], u[0]])
    points = np.zeros((468, 3))
    right, left = mid - u * distance / 2, mid + u * distance / 2
    for index in (33, 133):
        points[index, :2] = right
    for index in (263, 362):
        points[index, :2] = left
    assert eye_line_degrees(points) == pytest.approx(degrees)
    frame = np.zeros((400, 600, 3), dtype=np.uint8)
    centre = mid + FRAMING.down * distance * d
    cv2.circle(frame, (round(centre[0]), round(centre[1])), 3, (255, 255, 255), -1)
    crop = aligned_crop(frame, points)
    assert crop.shape == (round(FRAMING.side * distance),) * 2 + (3,)
    ys, xs = np.nonzero(crop[:, :, 0] > 128)
    middle = (crop.shape[0] - 1) / 2
    assert abs(xs.mean() - middle) < 1.0 and abs(ys.mean() - middle) < 1.0
    assert aligned_crop(frame, points, size=112).shape == (112, 112, 3)
