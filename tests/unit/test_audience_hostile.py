"""The audience curve over Analysis timelines it was never meant to get (chalicelib/studies/audience.py):
an infinite value is skipped like a NaN, and a sample time too far out to bin is skipped like a NaN time,
so the curve stays strict JSON and its route answers instead of failing with a 500."""

from __future__ import annotations

import json
import math

from chalicelib.studies.audience import ViewerInput, audience_curve


def _sample(t: float, attention: float) -> dict[str, object]:
    return {"t": t, "faces": 1, "attention": attention}


def test_infinite_values_are_skipped_and_the_curve_is_strict_json() -> None:
    viewers = [
        ViewerInput("a", 0.0, [_sample(0.0, math.inf), _sample(0.5, 0.4)]),
        ViewerInput("b", 0.0, [_sample(0.0, 0.6), _sample(0.5, -math.inf)]),
    ]
    curve = audience_curve(1.0, 0.5, viewers)
    json.dumps(curve, allow_nan=False)
    assert curve["mean"]["attention"][:2] == [0.6, 0.4]


def test_sample_times_too_far_out_to_bin_are_skipped() -> None:
    viewers = [ViewerInput("a", 0.0, [_sample(1e308, 0.5), _sample(-1e308, 0.5), _sample(0.0, 0.3)])]
    curve = audience_curve(1.0, 0.5, viewers)
    assert curve["n"] == [1, 0, 0]
    assert curve["mean"]["attention"] == [0.3, None, None]
