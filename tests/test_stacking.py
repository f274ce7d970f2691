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


def test_members_are_parsed_from_the_command_line_form() -> None:
    assert stack.parse_members("own+flip,faceapi") == [("own", True), ("faceapi", False)]
    assert stack.members_text(stack.parse_members(stack.DEFAULT_MEMBERS)) == stack.DEFAULT_MEMBERS
    assert all(stack.members_text(stack.parse_members(v)) == v for v in stack.VARIANTS)
    for bad in ("own+mirror", "resnet", "own,own+flip"):
        with pytest.raises(ValueError):
            stack.parse_members(bad)
    with pytest.raises(ValueError, match="cannot be fitted here"):
        stack.combination_members("own+flip,mini_xception+flip")


def test_the_committed_combination_records_its_members_and_the_cheaper_alternatives() -> None:
    import json

    from model.build import TRAINED_DIR

    spec = json.loads((TRAINED_DIR / "calibrated.json").read_text())
    chosen = [(m["model"], m["flip"]) for m in spec["members"]]
    assert f"members {stack.members_text(chosen)} (--members)" in spec["fitted_on"]
    variants = [stack.members_text(chosen), *spec["alternatives"]]
    assert sorted(variants) == sorted(stack.VARIANTS)
    for fit in spec["alternatives"].values():
        assert len(fit["bias"]) == 7 and fit["validation"]["accuracy"] > 0.6
