"""Temporal smoothing of one face track's expression probabilities, with a time constant in seconds.

A classifier reads each sampled frame on its own, so a held expression flickers between neighbouring labels
from one sample to the next. The filter pools each sample with its neighbours in time:

    q(t) = sum_s w(t, s) * p(s) / sum_s w(t, s),   w(t, s) = exp(-|t - s| / tau)

It is a two-sided exponential filter (forward and backward first-order filters, the sample itself counted
once), so it does not lag: the analysis is offline and both neighbours are known. Weights depend on time,
not on sample counts, so a track sampled at 2 or 10 frames per second, or with holes where the face was
lost, is smoothed the same way, and a sample 2 s away weighs under 1%. The `geometric` pooling averages
log-probabilities instead (each floored at `FLOOR`) and renormalises.

The time constant and the pooling were chosen on the validation split of the training faces, never on
test data (`python -m model.smoothing`; the rule and the figures are in docs/model.md). Constant
`pooling` won there on streams whose errors persist in time, as a real face's do.
"""

from __future__ import annotations

import numpy as np

#: Time constant in seconds: a sample this far away weighs exp(-1) ~ 0.37 of the sample itself.
SMOOTHING_SECONDS = 0.4
#: How neighbouring readings are pooled: "arithmetic" (mean of probabilities) or "geometric" (mean of
#: log-probabilities, renormalised).
SMOOTHING_POOLING = "arithmetic"
POOLINGS = ("arithmetic", "geometric")
FLOOR = 1e-4


def smooth_track(
    probs: np.ndarray, times: np.ndarray, tau: float = SMOOTHING_SECONDS, pooling: str = SMOOTHING_POOLING
) -> np.ndarray:
    """Smoothed probabilities of one track, rows in time order; `tau <= 0` returns them unchanged."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}")
    probs = np.asarray(probs, dtype=np.float64)
    if tau <= 0 or len(probs) < 2:
        return probs.copy()
    times = np.asarray(times, dtype=np.float64)
    if np.any(np.diff(times) < 0):
        raise ValueError("samples must be in time order")
    values = np.log(np.clip(probs, FLOOR, 1.0)) if pooling == "geometric" else probs
    decay = np.exp(-np.diff(times) / tau)  # weight carried from one sample to the next
    forward_sum, forward_weight = _one_way(values, decay)
    backward_sum, backward_weight = _one_way(values[::-1], decay[::-1])
    # Both passes count the sample itself once; keep it once.
    total = forward_sum + backward_sum[::-1] - values
    weight = forward_weight + backward_weight[::-1] - 1.0
    smoothed = total / weight[:, None]
    if pooling == "geometric":
        smoothed = np.exp(smoothed - smoothed.max(axis=1, keepdims=True))
    return smoothed / smoothed.sum(axis=1, keepdims=True)


def _one_way(logs: np.ndarray, decay: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Running exponentially weighted sums of rows and of weights, first row to last."""
    sums = np.empty_like(logs)
    weights = np.empty(len(logs))
    sums[0], weights[0] = logs[0], 1.0
    for i in range(1, len(logs)):
        sums[i] = logs[i] + decay[i - 1] * sums[i - 1]
        weights[i] = 1.0 + decay[i - 1] * weights[i - 1]
    return sums, weights
