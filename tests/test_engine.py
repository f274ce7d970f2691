"""The engine end to end on real and synthetic videos: faces found, tracks kept, segments merge cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from chalicelib.engine.expressions import OnnxExpressionClassifier
from chalicelib.engine.faces import FaceDetector, crop_square
from chalicelib.engine.labels import LABELS
from chalicelib.engine.merge import merge
from chalicelib.engine.planning import plan_segments
from chalicelib.engine.runner import analyze_video
from chalicelib.engine.segment import AnalysisOptions, analyze_segment
from chalicelib.engine.video import probe, sample_frames
from tests.synthetic import VIDEOS_DIR, Interval, Scene, background, fer_faces, render_frame, write_video

#: Share of samples in which each fixture video must show at least one face (what is visible in it).
MIN_PRESENCE = {
    "liveportrait_driving_d3.mp4": 0.9,
    "liveportrait_driving_d6.mp4": 0.9,
    "openmpf_face_video_01.mp4": 0.9,
    "openmpf_new_face_video-90.mp4": 0.2,  # handheld, the face often leaves the frame or turns away
    "sadtalker_WDA_KatieHill_000.mp4": 0.9,
}


def test_every_fixture_video_is_analysed(fixture_analyses: dict[str, dict[str, Any]]) -> None:
    assert set(fixture_analyses) == set(MIN_PRESENCE)
    for name, analysis in fixture_analyses.items():
        info = probe(VIDEOS_DIR / name)
        assert analysis["labels"] == list(LABELS)
        assert analysis["video"]["duration"] == info.duration
        assert len(analysis["timeline"]) == pytest.approx(info.duration * 5, abs=1)
        assert analysis["summary"]["face_presence"] >= MIN_PRESENCE[name], name
        for sample in analysis["timeline"]:
            if sample["faces"]:
                assert sum(sample["emotions"].values()) == pytest.approx(1.0, abs=1e-3)
        assert analysis["summary"]["dominant"] in LABELS


def test_the_multi_face_clip_yields_several_tracks(fixture_analyses: dict[str, dict[str, Any]]) -> None:
    analysis = fixture_analyses["openmpf_face_video_01.mp4"]
    assert len(analysis["faces"]) >= 2
    assert max(s["faces"] for s in analysis["timeline"]) >= 2
    long_tracks = [f for f in analysis["faces"] if f["last_t"] - f["first_t"] >= 2.0]
    assert len(long_tracks) >= 2  # the same people keep their ids across the 3 s clip


def test_a_single_person_keeps_one_identity(fixture_analyses: dict[str, dict[str, Any]]) -> None:
    analysis = fixture_analyses["liveportrait_driving_d6.mp4"]  # 33.6 s in 4 segments
    main = max(analysis["faces"], key=lambda f: len(f["timeline"]))
    assert len(main["timeline"]) >= 0.9 * len(analysis["timeline"])


def test_rotated_clip_is_analysed_upright(options: AnalysisOptions) -> None:
    """Faces are found far more often in the frames as we turn them than upside down."""
    path = VIDEOS_DIR / "openmpf_new_face_video-90.mp4"
    detector = FaceDetector()
    frames = [frame for _, frame in sample_frames(path, 0.0, 17.0, 2.0)]
    upright = sum(1 for f in frames if detector.detect(f))
    flipped = sum(1 for f in frames if detector.detect(cv2.rotate(f, cv2.ROTATE_180)))
    assert frames[0].shape[:2] == (480, 640)
    assert upright >= 2 * max(flipped, 1)


def test_segmented_analysis_equals_single_segment(options: AnalysisOptions) -> None:
    path = VIDEOS_DIR / "liveportrait_driving_d3.mp4"
    info = probe(path)
    whole = merge(info, [analyze_segment(path, 0.0, info.duration, options)])
    parts = merge(info, [analyze_segment(path, s.start, s.end, options) for s in plan_segments(info, 3.0)])
    assert parts["segments"] == 4
    assert [s["t"] for s in parts["timeline"]] == [s["t"] for s in whole["timeline"]]
    assert [s["faces"] for s in parts["timeline"]] == [s["faces"] for s in whole["timeline"]]
    diffs = [
        abs(a["emotions"][label] - b["emotions"][label])
        for a, b in zip(parts["timeline"], whole["timeline"], strict=True)
        if a.get("emotions")
        for label in LABELS
    ]
    assert max(diffs) < 1e-3
    assert len(parts["faces"]) == len(whole["faces"])
    assert parts["summary"]["dominant"] == whole["summary"]["dominant"]


def _recognisable_faces(model_dir: Path, label: str, count: int) -> list[str]:
    """The first fixture faces of `label` that the detector finds and the classifier names correctly.

    This test is about time: sampling, tracking, stitching and aggregation must keep each interval's
    expression where it happened. Classifier accuracy is measured on the whole FER set elsewhere.
    """
    scene = Scene([])
    bg = background(scene.width, scene.height, scene.seed)
    detector, classifier = FaceDetector(), OnnxExpressionClassifier(model_dir)
    chosen = []
    for rel in fer_faces(label):
        frame = render_frame(scene, bg, Interval(1.0, (rel,)), 0.0)
        boxes = detector.detect(frame)
        if len(boxes) == 1:
            probs = classifier.classify([crop_square(frame, boxes[0])])[0]
            if LABELS[int(np.argmax(probs))] == label and probs.max() > 0.6:
                chosen.append(rel)
        if len(chosen) == count:
            return chosen
    raise AssertionError(f"not enough recognisable {label} faces in the fixtures")


@pytest.fixture(scope="module")
def labelled_video(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> tuple[Path, Scene]:
    happy, sad, surprise, angry, neutral = (
        _recognisable_faces(model_dir, label, 2) for label in ("happy", "sad", "surprise", "angry", "neutral")
    )
    scene = Scene(
        [
            Interval(3.0, (neutral[0],), "neutral"),
            Interval(3.0, (happy[0],), "happy"),
            Interval(2.0, (), None),
            Interval(3.0, (surprise[0],), "surprise"),
            Interval(3.0, (sad[0], sad[1]), "sad"),
            Interval(3.0, (angry[0],), "angry"),
            Interval(3.0, (happy[1], happy[0]), "happy"),
        ]
    )
    return write_video(scene, tmp_path_factory.mktemp("synthetic") / "labelled.mp4"), scene


def test_ground_truth_over_time(labelled_video: tuple[Path, Scene], options: AnalysisOptions) -> None:
    path, scene = labelled_video
    analysis = analyze_video(path, options, segment_seconds=4.0)  # boundaries fall inside intervals
    start = 0.0
    for interval in scene.intervals:
        end = start + interval.seconds
        # Leave out the first and last 0.4 s of each interval: smoothing straddles the cut.
        inner = [s for s in analysis["timeline"] if start + 0.4 <= s["t"] < end - 0.4]
        counts = [s["faces"] for s in inner]
        # Haar has real false positives (a tile edge here); the count must be right nearly always.
        assert max(set(counts), key=counts.count) == len(interval.faces), f"at {start}s: {counts}"
        assert counts.count(len(interval.faces)) >= 0.75 * len(counts), f"at {start}s: {counts}"
        if interval.label:
            mean = {lab: np.mean([s["emotions"][lab] for s in inner]) for lab in LABELS}
            assert max(mean, key=mean.__getitem__) == interval.label, f"interval at {start}s: {mean}"
        start = end
    assert analysis["summary"]["face_presence"] == pytest.approx(18 / 20, abs=0.03)
