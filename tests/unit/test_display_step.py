"""The display step (chalicelib/studies/audience.py `display_step`): the one rule for the step a curve is
shown on, which the API uses when a request names none and the pipeline precomputes; the web app asks
for no step any more, so this is its only definition."""

from __future__ import annotations

import math

import pytest

from chalicelib.studies import audience as calc


@pytest.mark.parametrize(
    ("duration", "step"),
    [
        (11.8, 0.5),
        (3.0, 0.5),
        (1000.0, 0.5),
        (1000.0001, 1.0),
        (1001.0, 1.0),
        (2000.0, 1.0),
        (2000.5, 1.5),
        (3600.0, 2.0),
        (20000.0, 10.0),
        (20001.0, 10.0),  # 10.5 by the rule: held at MAX_STEP, still a valid step
        (1e9, 10.0),
    ],
)
def test_exact_values(duration: float, step: float) -> None:
    assert calc.display_step(duration) == step


@pytest.mark.parametrize("duration", [0.0, -5.0, math.nan, math.inf, -math.inf])
def test_no_usable_duration_gives_the_default_step(duration: float) -> None:
    assert calc.display_step(duration) == calc.DEFAULT_STEP


@pytest.mark.parametrize(
    "duration", [0.1, 1.2, 59.9, 999.99, 1000.01, 1234.5, 3599.9, 3600.1, 9999.0, 19999.9]
)
def test_the_coarsest_step_needed_and_no_coarser(duration: float) -> None:
    """A multiple of 0.5 giving at most DISPLAY_POINTS intervals (so a valid grid of at most
    DISPLAY_POINTS + 1 points), and the next finer multiple would give more."""
    step = calc.display_step(duration)
    assert step >= calc.DEFAULT_STEP and (step / calc.DEFAULT_STEP).is_integer()
    assert len(calc.grid(duration, step)) <= calc.DISPLAY_POINTS + 1
    assert len(calc.compare_grid(duration, step)) <= calc.DISPLAY_POINTS + 1
    if step > calc.DEFAULT_STEP:
        assert duration / (step - calc.DEFAULT_STEP) > calc.DISPLAY_POINTS
