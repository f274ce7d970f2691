"""Reactions from expressions and landmark signals: each definition gives the expected reaction in a
labelled sequence (smiling, watching, frowning, eyes closed, looking away), and a video where a face
turns away reads as interest falling and boredom rising."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from chalicelib.engine.face_signals import attends
from chalicelib.engine.labels import LABELS
from chalicelib.engine.reactions import BOREDOM_WINDOW, EYES_CLOSING, YAWN, face_reactions


def _probs(**weights: float) -> np.ndarray:
    row = np.array([weights.get(label, 0.0) for label in LABELS])
    return row / row.sum()


FRONTAL = {
    "yaw": 2.0,
    "pitch": -3.0,
    "roll": 0.0,
    "eyes": [0.9, 0.9],
    "mouth": 0.1,
    "brow": 0.1,
    "smile": 0.1,
}
SEQUENCE = [  # (seconds, expression, signals)
    (4.0, _probs(neutral=0.9, surprise=0.1), FRONTAL),  # watching, still
    (4.0, _probs(happy=0.9, neutral=0.1), {**FRONTAL, "smile": 0.85, "mouth": 0.3}),  # smiling
    (4.0, _probs(neutral=0.7, sad=0.3), {**FRONTAL, "brow": 0.9}),  # frowning at something unclear
    (6.0, _probs(neutral=1.0), {**FRONTAL, "eyes": [0.05, 0.05]}),  # eyes closed
    (6.0, _probs(neutral=1.0), {**FRONTAL, "yaw": 60.0}),  # looking away
]


@pytest.fixture(scope="module")
def reactions() -> list[tuple[str, list[dict[str, float]]]]:
    times, probs, signals, names = [], [], [], []
    t = 0.0
    for index, (seconds, row, sig) in enumerate(SEQUENCE):
        for _ in range(int(seconds * 5)):
            times.append(round(t, 2))
            probs.append(row)
            signals.append(sig)
            names.append(index)
            t += 0.2
    out = face_reactions(times, np.array(probs), signals)
    grouped: list[tuple[str, list[dict[str, float]]]] = []
    for index, label in enumerate(["watching", "smiling", "frowning", "eyes closed", "away"]):
        values = [r for r, n in zip(out, names, strict=True) if n == index and r is not None]
        grouped.append((label, values[int(len(values) * 0.6) :]))  # the end of each interval: windows filled
    return grouped


def _mean(values: list[dict[str, float]], name: str) -> float:
    return float(np.mean([v[name] for v in values]))


def test_each_interval_reads_as_its_reaction(reactions: list[tuple[str, list[dict[str, float]]]]) -> None:
    by = dict(reactions)
    assert _mean(by["smiling"], "smile") > 0.8 and _mean(by["watching"], "smile") < 0.2
    assert _mean(by["smiling"], "interest") > _mean(by["watching"], "interest") >= 0.5
    assert _mean(by["frowning"], "confusion") > 0.7
    assert max(_mean(by[k], "confusion") for k in ("watching", "smiling")) < 0.2
    assert _mean(by["eyes closed"], "interest") < 0.1 and _mean(by["away"], "interest") == 0.0
    assert _mean(by["away"], "boredom") > 0.55 and _mean(by["eyes closed"], "boredom") > 0.4
    assert max(_mean(by[k], "boredom") for k in ("smiling", "frowning")) < 0.25
    strongest = {name: max(reactions, key=lambda r: _mean(r[1], name))[0] for name in ("smile", "confusion")}
    assert strongest == {"smile": "smiling", "confusion": "frowning"}


def test_boredom_looks_back_a_window_not_the_whole_video() -> None:
    times = [round(0.2 * i, 2) for i in range(100)]  # 20 s: away for 10 s, then watching for 10 s
    signals = [{**FRONTAL, "yaw": 60.0} if t < 10 else FRONTAL for t in times]
    out = face_reactions(times, np.array([_probs(neutral=0.5, happy=0.5)] * 100), signals)
    assert out[49] is not None and out[49]["boredom"] > 0.4
    later = [r for t, r in zip(times, out, strict=True) if t >= 10 + BOREDOM_WINDOW + 0.2]
    assert later and all(r is not None and r["boredom"] < 0.15 for r in later)


def test_no_signals_no_reactions() -> None:
    assert face_reactions([0.0, 0.2], np.array([_probs(happy=1.0)] * 2), [None, FRONTAL])[0] is None


def test_the_sliding_window_equals_the_windowed_means_over_an_hour() -> None:
    """Boredom from running sums over the window equals the means taken directly, over an hour of samples with
    holes where the mesh lost the face; every value is a plain float (JSON and BSON take it as it is)."""
    rng = np.random.default_rng(7)
    times = [round(0.2 * i, 2) for i in range(18_000)]
    probs = rng.dirichlet(np.ones(len(LABELS)), size=len(times))
    signals: list[dict[str, Any] | None] = [
        None
        if rng.random() < 0.1
        else {
            **FRONTAL,
            "yaw": float(rng.choice([0.0, 60.0], p=[0.8, 0.2])),
            "eyes": [float(rng.random())] * 2,
            "mouth": float(rng.random()),
        }
        for _ in times
    ]
    out = face_reactions(times, probs, signals)
    assert len(out) == len(times)
    checked = 0
    for i in rng.choice(len(times), size=300, replace=False):
        if signals[i] is None:
            assert out[i] is None
            continue
        window = [j for j in range(i + 1) if times[i] - times[j] <= BOREDOM_WINDOW]
        seen = [(probs[j], s) for j in window if (s := signals[j]) is not None]
        happy, surprise, neutral = (LABELS.index(n) for n in ("happy", "surprise", "neutral"))
        away = float(np.mean([not attends(s) for _, s in seen]))
        closing = float(np.mean([float(np.mean(s["eyes"])) < EYES_CLOSING for _, s in seen]))
        yawn = float(np.mean([s["mouth"] > YAWN and p[happy] + p[surprise] < 0.5 for p, s in seen]))
        still = float(np.mean([p[neutral] for p, _ in seen]))
        expected = min(1.0, 0.4 * away + 0.25 * closing + 0.15 * min(1.0, 3 * yawn) + 0.2 * still)
        result = out[i]
        assert result is not None
        assert result["boredom"] == pytest.approx(expected, abs=1e-4)
        assert all(type(v) is float for v in result.values())
        checked += 1
    assert checked > 200
