"""The face mesh on each face, and what its landmarks say: the mesh lands on the face, head pose follows
a known turn (a real face rendered turned, tests/rendered_faces.py, and a frame turned in the image), and
attention falls when the face turns away and recovers when it turns back."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from chalicelib.engine.blazeface import BlazeFaceDetector
from chalicelib.engine.face_signals import ATTENTION_YAW, face_signals
from chalicelib.engine.landmarks import FaceMesh, Mesh, Region, region_from_detection, region_from_landmarks
from chalicelib.engine.runner import analyze_video
from chalicelib.engine.segment import AnalysisOptions
from chalicelib.engine.video import sample_frames
from tests.rendered_faces import turn_face
from tests.synthetic import VIDEOS_DIR


@pytest.fixture(scope="module")
def models(model_dir: Path) -> tuple[BlazeFaceDetector, FaceMesh]:
    return BlazeFaceDetector(model_dir), FaceMesh(model_dir)


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    """A real frontal face, smiling with open eyes (the talking-head fixture 0.8 s in; at 1 s she blinks)."""
    return next(iter(sample_frames(VIDEOS_DIR / "sadtalker_WDA_KatieHill_000.mp4", 0.8, 1.8, 1.0)))[1]


def _mesh(models: tuple[BlazeFaceDetector, FaceMesh], image: np.ndarray) -> Mesh:
    detector, mesh = models
    face = detector.detect_faces(image)[0]
    return mesh.run(image, [region_from_detection(face.box, face.keypoints[0], face.keypoints[1])])[0]


def test_the_mesh_lands_on_the_face_and_follows_it(
    models: tuple[BlazeFaceDetector, FaceMesh], frame: np.ndarray
) -> None:
    detector, mesh = models
    face = detector.detect_faces(frame)[0]
    found = _mesh(models, frame)
    assert found.presence > 0.9
    eye_distance = face.eye_distance
    right_eye = found.points[[33, 133], :2].mean(axis=0)  # the subject's right eye, its two corners
    assert np.linalg.norm(right_eye - face.keypoints[0]) < 0.25 * eye_distance
    again = mesh.run(frame, [region_from_landmarks(found.points)])[0]  # tracking from its own landmarks
    assert np.abs(again.points[:, :2] - found.points[:, :2]).max() < 0.1 * eye_distance
    wall = Region(cx=70.0, cy=70.0, side=120.0, angle=0.0)  # the wall behind her: no face there
    assert mesh.run(frame, [wall])[0].presence < 0.5


def test_head_pose_follows_a_known_turn(
    models: tuple[BlazeFaceDetector, FaceMesh], frame: np.ndarray
) -> None:
    base = face_signals(_mesh(models, frame).points)
    points = _mesh(models, frame).points
    for yaw, pitch in ((15, 0), (30, 0), (0, 25), (0, -25)):
        turned = face_signals(_mesh(models, turn_face(frame, points, yaw=yaw, pitch=pitch)).points)
        assert turned.yaw - base.yaw == pytest.approx(yaw, abs=10), (yaw, pitch, turned)
        assert turned.pitch - base.pitch == pytest.approx(pitch, abs=10), (yaw, pitch, turned)
    height, width = frame.shape[:2]
    tilted = cv2.warpAffine(frame, cv2.getRotationMatrix2D((width / 2, height / 2), 20, 1.0), (width, height))
    # turned 20 degrees counter-clockwise in the image: the head's roll is 20 degrees the other way
    assert face_signals(_mesh(models, tilted).points).roll - base.roll == pytest.approx(-20, abs=7)


def test_attention_falls_when_the_face_turns_away_and_recovers(
    models: tuple[BlazeFaceDetector, FaceMesh], frame: np.ndarray, tmp_path: Path, model_dir: Path
) -> None:
    points = _mesh(models, frame).points
    away = turn_face(frame, points, yaw=55)
    assert face_signals(_mesh(models, away).points).yaw > ATTENTION_YAW, "the rendered turn reads as away"
    path = tmp_path / "turns.mp4"
    height, width = frame.shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10, options={"preset": "veryfast"})
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for image in [frame] * 30 + [away] * 30 + [frame] * 30:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode(None))
    analysis = analyze_video(path, AnalysisOptions(model_dir=model_dir, detector="blazeface", landmarks=True))
    assert analysis["format"] == 3

    def attention(start: float, end: float) -> float:
        values = [s["attention"] for s in analysis["timeline"] if start <= s["t"] < end and "attention" in s]
        assert values, (start, end)
        return float(np.mean(values))

    assert attention(0.2, 2.8) >= 0.9
    assert attention(3.4, 5.8) <= 0.1
    assert attention(6.4, 9.0) >= 0.9
    assert 0.5 < analysis["summary"]["attention"] < 0.8

    def reaction(name: str, start: float, end: float) -> float:
        values = [
            s["reactions"][name] for s in analysis["timeline"] if start <= s["t"] < end and "reactions" in s
        ]
        return float(np.mean(values))

    assert reaction("interest", 0.2, 2.8) > 0.4 and reaction("interest", 3.4, 5.8) < 0.05
    # Boredom builds up over its 5 s window while she looks away (measured 0.05 -> 0.20; looking away weighs
    # 0.4 of it, and her eyes stay open throughout, as the iris model reads them).
    bored_before, bored_away = reaction("boredom", 0.2, 2.8), reaction("boredom", 4.6, 5.8)
    assert bored_away > bored_before + 0.12 and bored_away > 3 * bored_before
    assert reaction("smile", 0.2, 2.8) > 0.5, "she smiles in this frame"
    summary = analysis["summary"]["reactions"]
    assert set(summary) == {"interest", "boredom", "confusion", "smile"}
    assert all(3.0 <= m["t"] < 6.4 for m in summary["boredom"]["moments"])
    point = analysis["faces"][0]["timeline"][0]
    assert set(point["signals"]) == {"yaw", "pitch", "roll", "eyes", "lids", "mouth", "brow", "smile"}
