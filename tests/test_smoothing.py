"""Temporal smoothing: the filter's own properties, and what it does on labelled synthetic videos.

The videos are made of FER2013 fixture faces (tests/synthetic.py): seven labelled expression intervals,
three times over, either `cycling` (a new face of the interval's expression every 0.2 s, so each reading
errs on its own) or `held` (one face per interval, so errors persist as a real face's do). The same
segment results are merged with smoothing off and on; run with `-s` to see the figures.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chalicelib.engine.labels import LABELS
from chalicelib.engine.merge import merge
from chalicelib.engine.segment import AnalysisOptions, analyze_segment
from chalicelib.engine.smoothing import SMOOTHING_SECONDS, smooth_track
from chalicelib.engine.video import probe
from tests.synthetic import Interval, Scene, fer_faces, interval_bounds, write_video

ORDER = ("neutral", "happy", "surprise", "sad", "angry", "fear", "disgust")
ROUNDS = 3  # every expression three times, with other faces each time
INTERVAL_SECONDS = 2.4
CYCLE = 0.2


def _onehot(label: int, confidence: float = 0.9) -> np.ndarray:
    row = np.full(len(LABELS), (1 - confidence) / (len(LABELS) - 1))
    row[label] = confidence
    return row


def test_no_smoothing_and_constant_tracks_are_unchanged() -> None:
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(7), size=12)
    times = np.arange(12) / 5
    assert np.allclose(smooth_track(probs, times, 0.0), probs)
    constant = np.tile(probs[0], (12, 1))
    for pooling in ("arithmetic", "geometric"):
        assert np.allclose(smooth_track(constant, times, 0.4, pooling), constant)
        assert np.allclose(smooth_track(probs, times, 0.4, pooling).sum(axis=1), 1.0)


def test_time_constant_is_in_seconds_not_samples() -> None:
    """A step change smoothed at 5 and at 10 samples per second reads the same at the same times."""
    readings = {}
    for fps in (5, 10):
        times = np.arange(0, 4, 1 / fps)
        probs = np.array([_onehot(3) if t < 2 else _onehot(4) for t in times])
        smoothed = smooth_track(probs, times, 0.4)
        readings[fps] = {round(float(t), 1): row for t, row in zip(times, smoothed, strict=True)}
    for t in (1.0, 1.8, 2.0, 2.4, 3.0):
        assert readings[5][t] == pytest.approx(readings[10][t], abs=0.06), t
    # No lag: the label changes at the change itself.
    assert int(np.argmax(readings[10][1.9])) == 3 and int(np.argmax(readings[10][2.0])) == 4


def test_single_flicker_is_removed_and_far_samples_weigh_nothing() -> None:
    times = np.arange(0, 3, 0.2)
    probs = np.array([_onehot(3, 0.7) for _ in times])
    probs[7] = _onehot(0, 0.7)  # one wrong reading inside a held smile
    assert int(np.argmax(smooth_track(probs, times)[7])) == 3
    # Across a 3 s hole in the track, the other side changes nothing.
    far = np.array([_onehot(3), _onehot(0)])
    assert smooth_track(far, np.array([0.0, 3.0]))[0][3] == pytest.approx(0.9, abs=0.01)


def test_out_of_order_samples_are_refused() -> None:
    with pytest.raises(ValueError):
        smooth_track(np.ones((3, 7)) / 7, np.array([0.0, 0.4, 0.2]))


def _scene(kind: str, seed: int) -> Scene:
    rng = random.Random(seed)
    count = round(INTERVAL_SECONDS / CYCLE) if kind == "cycling" else 1
    chosen = {label: rng.sample(fer_faces(label), count * ROUNDS) for label in ORDER}
    intervals = []
    for round_ in range(ROUNDS):
        for label in ORDER:
            faces = tuple(chosen[label][round_ * count : (round_ + 1) * count])
            intervals.append(Interval(INTERVAL_SECONDS, faces, label, CYCLE if kind == "cycling" else None))
    return Scene(intervals)


def _figures(analysis: dict[str, Any], raw: dict[str, Any], scene: Scene) -> dict[str, Any]:
    """Sample accuracy against the interval labels, and the delay of every change the unsmoothed
    classifier sees (it names the new label at most samples of the new interval)."""
    bounds = interval_bounds(scene)

    def labelled(doc: dict[str, Any]) -> list[tuple[int, float, int]]:
        out = []
        for sample in doc["timeline"]:
            if "emotions" not in sample:
                continue
            t = sample["t"]
            index = next(i for i, (start, end, _) in enumerate(bounds) if start - 1e-6 <= t < end - 1e-6)
            out.append((index, sample["t"], int(np.argmax([sample["emotions"][x] for x in LABELS]))))
        return out

    truth = [LABELS.index(interval.label or "") for _, _, interval in bounds]
    smoothed, unsmoothed = labelled(analysis), labelled(raw)
    delays = []
    for i in range(1, len(bounds)):
        seen = [label == truth[i] for index, _, label in unsmoothed if index == i]
        if not seen or np.mean(seen) <= 0.5:
            continue
        hits = [t for index, t, label in smoothed if index == i and label == truth[i]]
        delays.append((min(hits) if hits else bounds[i][1]) - bounds[i][0])
    return {
        "accuracy": float(np.mean([label == truth[i] for i, _, label in smoothed])),
        "raw_accuracy": float(np.mean([label == truth[i] for i, _, label in unsmoothed])),
        "samples": len(smoothed),
        "delays": [round(d, 2) for d in delays],
    }


@pytest.fixture(scope="module")
def labelled_runs(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> dict[str, dict[str, Any]]:
    runs = {}
    for kind, seed in (("cycling", 11), ("held", 12)):
        scene = _scene(kind, seed)
        path = write_video(scene, tmp_path_factory.mktemp("smoothing") / f"{kind}.mp4")
        info = probe(path)
        result = analyze_segment(path, 0.0, info.duration, AnalysisOptions(model_dir=model_dir))
        runs[kind] = _figures(merge(info, [result]), merge(info, [result], smoothing_seconds=0.0), scene)
        print(f"\n{kind}: {runs[kind]}")
    return runs


def test_smoothing_raises_accuracy_when_readings_err_independently(labelled_runs: dict[str, Any]) -> None:
    cycling = labelled_runs["cycling"]
    # A face in nearly every sample.
    assert cycling["samples"] >= 0.9 * ROUNDS * len(ORDER) * INTERVAL_SECONDS * 5
    assert cycling["accuracy"] >= cycling["raw_accuracy"] + 0.08, cycling


def test_smoothing_costs_little_when_errors_persist(labelled_runs: dict[str, Any]) -> None:
    held = labelled_runs["held"]
    # Only the 1-2 samples either side of each change can move.
    assert held["accuracy"] >= held["raw_accuracy"] - 0.05, held


def test_every_change_the_classifier_sees_is_reported_within_half_a_second(
    labelled_runs: dict[str, Any],
) -> None:
    for kind, run in labelled_runs.items():
        assert len(run["delays"]) >= 3, (kind, run)  # enough visible changes for the check to mean something
        assert max(run["delays"]) <= 0.5, (kind, run)
    assert SMOOTHING_SECONDS <= 0.5
