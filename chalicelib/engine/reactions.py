"""The reactions creators ask about (interest, boredom, confusion, smiles), read per face sample from the
expression probabilities and the landmark signals.

These are heuristics read from the face only, with the definitions below (also in docs/analysis.md): they
say what a face did, not what its owner felt. Each is 0..1.

- `smile`: the mean of the happy probability and the landmark smile (lip corners raised, mouth widened).
- `confusion`: brows lowered while the expression is neutral or negative (not a smile, not surprise).
- `interest`: turned toward the screen, eyes open, and reacting (an expression other than neutral), with
  half the score for a still face that is watching.
- `boredom`: over the last `BOREDOM_WINDOW` seconds of the same face: looking away, eyes closing, yawns,
  and a face that stays neutral.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from chalicelib.engine.face_signals import attends
from chalicelib.engine.labels import LABELS

BOREDOM_WINDOW = 5.0
#: Eyes below this openness count as closing; a mouth above this as a yawn (when not smiling or surprised).
EYES_CLOSING, YAWN = 0.3, 0.6
_I = {label: i for i, label in enumerate(LABELS)}


def _moment(probs: np.ndarray, signals: Mapping[str, Any]) -> dict[str, float]:
    """The per-sample parts: smile, confusion, interest, and boredom's instantaneous evidence."""
    happy, neutral, surprise = probs[_I["happy"]], probs[_I["neutral"]], probs[_I["surprise"]]
    negative = probs[_I["angry"]] + probs[_I["disgust"]] + probs[_I["fear"]] + probs[_I["sad"]]
    eyes = float(np.mean(signals["eyes"]))
    looking = 1.0 if attends(signals) else 0.0
    yawn = float(signals["mouth"] > YAWN and happy + surprise < 0.5)
    return {
        "smile": 0.5 * (happy + float(signals["smile"])),
        "confusion": float(signals["brow"]) * min(1.0, neutral + negative),
        "interest": looking * min(1.0, eyes / 0.6) * (0.5 + 0.5 * (1.0 - neutral)),
        "away": 1.0 - looking,
        "closing": float(eyes < EYES_CLOSING),
        "yawn": yawn,
        "still": neutral,
    }


def face_reactions(
    times: Sequence[float], probs: np.ndarray, signals: Sequence[Mapping[str, Any] | None]
) -> list[dict[str, float] | None]:
    """Reactions of one face's samples (None where the mesh did not see the face).

    Boredom's parts are means over the trailing `BOREDOM_WINDOW`, kept as running sums over a sliding window,
    so an hour of one face (18,000 samples) costs as little per sample as ten seconds."""
    moments = [_moment(p, s) if s is not None else None for p, s in zip(probs, signals, strict=True)]
    keys = ("away", "closing", "yawn", "still")
    sums = dict.fromkeys(keys, 0.0)
    window: deque[tuple[float, dict[str, float]]] = deque()
    out: list[dict[str, float] | None] = []
    for t, moment in zip(times, moments, strict=True):
        if moment is None:
            out.append(None)
            continue
        window.append((t, moment))
        for key in keys:
            sums[key] += moment[key]
        while t - window[0][0] > BOREDOM_WINDOW:
            _, old = window.popleft()
            for key in keys:
                sums[key] -= old[key]
        mean = {key: max(0.0, sums[key] / len(window)) for key in keys}
        boredom = (
            0.4 * mean["away"]
            + 0.25 * mean["closing"]
            + 0.15 * min(1.0, 3 * mean["yawn"])
            + 0.2 * mean["still"]
        )
        out.append(
            {
                "interest": round(float(moment["interest"]), 4),
                "boredom": round(float(min(1.0, boredom)), 4),
                "confusion": round(float(moment["confusion"]), 4),
                "smile": round(float(moment["smile"]), 4),
            }
        )
    return out
