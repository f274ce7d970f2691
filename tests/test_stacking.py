"""The calibrated combination's fit (`model/training/stack.py`) on synthetic member outputs."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from model.training import stack


def test_stacking_recovers_weights_that_favour_the_better_member() -> None:
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 7, 3000)
    good = np.full((3000, 7), 0.05)
    good[np.arange(3000), truth] = 0.7
    noise = rng.dirichlet(np.ones(7), 3000)
    log_probs = np.log(np.stack([noise, good]))
    weights, bias = stack.fit_combination(log_probs, truth)
    assert weights[1] > 5 * abs(weights[0]) and bias.shape == (7,)
    combined = stack.combine(log_probs, weights, bias)
    assert (combined.argmax(1) == truth).mean() == 1.0
