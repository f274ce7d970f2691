"""The audience curve: many viewers' Analysis timelines put on one content-time grid, averaged with a
95% band, with the moments where the audience reacted together (definitions in docs/analysis.md,
"Audience curve"). Pure functions, no I/O: the backend reads, caches and serves."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from chalicelib.engine.labels import LABELS, REACTIONS

SERIES: tuple[str, ...] = (*LABELS, "attention", *REACTIONS)
DEFAULT_STEP = 0.5
MIN_STEP = 0.1
MAX_STEP = 10.0
MAX_POINTS = 20000
#: Moments of one series are at least this many seconds apart, and each is the extreme of its series
#: over the points less than this many seconds away.
MOMENT_SEPARATION = 5.0
MAX_MOMENTS = 12
#: A moment stands at least this far (in probability) from its series' median.
MOMENT_MIN_DELTA = 0.1
_ROUND = 4
#: Times are compared at microsecond precision, so a sample written on a bin edge (0.25) falls on the
#: later point however the float sum came out.
_TIME_DECIMALS = 6
_Z975 = 1.959963984540054
#: Up to this many degrees of freedom the t quantile is solved from the exact CDF; above, the series
#: expansion (Abramowitz & Stegun 26.7.5) is within 1e-10 of it.
_EXACT_DF = 100


class StepError(ValueError):
    """A grid step the curve cannot be computed on; `code` is the API error code."""

    def __init__(self, message: str, code: str = "invalid_step") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ViewerInput:
    """One viewer: the Analysis `timeline` of their recording, and where recording time 0 falls on the
    content (content time = recording time + offset)."""

    id: str
    offset: float
    timeline: list[dict[str, Any]]


def _check_step(step: float) -> float:
    if isinstance(step, bool) or not isinstance(step, int | float) or not math.isfinite(step):
        raise StepError("The step must be a number of seconds.")
    if step < MIN_STEP:
        raise StepError(f"The step must be at least {MIN_STEP} s.", "step_too_small")
    if step > MAX_STEP:
        raise StepError(f"The step must be at most {MAX_STEP} s.")
    return float(step)


def grid(duration: float, step: float) -> list[float]:
    """Content times t_k = k * step, k = 0..floor(duration / step); StepError when the step is out of
    range or gives more than MAX_POINTS points (the message says the smallest step that fits)."""
    step = _check_step(step)
    if isinstance(duration, bool) or not math.isfinite(duration) or duration <= 0:
        raise ValueError("The duration must be a positive number of seconds.")
    points = math.floor(duration / step + 1e-9) + 1
    if points > MAX_POINTS:
        smallest = math.ceil(duration / (MAX_POINTS - 1) * 100) / 100
        raise StepError(
            f"A step of {step:g} s gives {points} points for {duration:g} s of content (at most "
            f"{MAX_POINTS}); use a step of at least {smallest:g} s.",
            "step_too_small",
        )
    return [round(k * step, _TIME_DECIMALS) for k in range(points)]


def _samples(timeline: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Recording times and the (samples x SERIES) values of the samples with a face; NaN where a
    sample lacks a field."""
    times: list[float] = []
    rows: list[list[Any]] = []
    for sample in timeline:
        if not (sample.get("faces") or 0) > 0:
            continue
        emotions = sample.get("emotions") or {}
        reactions = sample.get("reactions") or {}
        times.append(sample["t"])
        rows.append(
            [emotions.get(label) for label in LABELS]
            + [sample.get("attention")]
            + [reactions.get(name) for name in REACTIONS]
        )
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(SERIES))
    return np.array(times, dtype=np.float64), values


def _bin_sums(viewer: ViewerInput, t: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per grid point: the sums and counts of the viewer's values per series (K x S), and whether any
    sample with a face fell there (K)."""
    k, s = len(t), len(SERIES)
    times, values = _samples(viewer.timeline)
    content = np.round(times + float(viewer.offset), _TIME_DECIMALS)
    lower = np.round(t - step / 2, _TIME_DECIMALS)
    end = round(float(t[-1]) + step / 2, _TIME_DECIMALS) if k else -math.inf
    index = np.searchsorted(lower, content, side="right") - 1
    inside = (index >= 0) & (content < end)
    index, values = index[inside], values[inside]
    present = ~np.isnan(values)
    flat = (index[:, None] * s + np.arange(s)[None, :])[present]
    sums = np.bincount(flat, weights=values[present], minlength=k * s).reshape(k, s)
    counts = np.bincount(flat, minlength=k * s).reshape(k, s)
    faces = np.bincount(index, minlength=k) > 0
    return sums, counts, faces


def _rounded(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else round(float(v), _ROUND) for v in values]


def viewer_curve(viewer: ViewerInput, t: list[float], step: float) -> dict[str, list[float | None]]:
    """One viewer's value per series at each grid time: the mean of their samples with a face in
    [t - step/2, t + step/2) of content time; None where there is none."""
    step = _check_step(step)
    sums, counts, _ = _bin_sums(viewer, np.array(t, dtype=np.float64), step)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    return {name: _rounded(means[:, i]) for i, name in enumerate(SERIES)}


def _t_mass(x: float, df: int) -> float:
    """P(|T| < x) for Student's t with integer df (the closed forms in Abramowitz & Stegun 26.7.3)."""
    theta = math.atan(x / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    if df % 2:
        total, term = 0.0, 1.0
        for j in range(1, (df - 1) // 2 + 1):
            total += term
            term *= 2 * j / (2 * j + 1) * c2
        inner = math.sin(theta) * math.cos(theta) * total if df > 1 else 0.0
        return 2 / math.pi * (theta + inner)
    total, term = 0.0, 1.0
    for j in range(1, df // 2 + 1):
        total += term
        term *= (2 * j - 1) / (2 * j) * c2
    return math.sin(theta) * total


@cache
def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with df degrees of freedom (the 95% two-sided factor)."""
    if df < 1:
        raise ValueError("df must be at least 1")
    if df > _EXACT_DF:
        z, v = _Z975, float(df)
        g1 = (z**3 + z) / 4
        g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
        g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
        g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
        return z + g1 / v + g2 / v**2 + g3 / v**3 + g4 / v**4
    low, high = 0.0, 64.0
    for _ in range(80):
        mid = (low + high) / 2
        low, high = (mid, high) if _t_mass(mid, df) < 0.95 else (low, mid)
    return (low + high) / 2


def audience_curve(duration: float, step: float, viewers: list[ViewerInput]) -> dict[str, Any]:
    """The audience on the content grid: per point, n (viewers with a face) and per series the mean of
    the viewers' values with its 95% Student-t band, and the audience's moments."""
    t_list = grid(duration, step)
    t = np.array(t_list, dtype=np.float64)
    k, s = len(t), len(SERIES)
    n_series = np.zeros((k, s), dtype=np.int64)
    total = np.zeros((k, s))
    total_sq = np.zeros((k, s))
    n_faces = np.zeros(k, dtype=np.int64)
    for viewer in viewers:
        sums, counts, faces = _bin_sums(viewer, t, step)
        has = counts > 0
        value = np.where(has, sums / np.maximum(counts, 1), 0.0)
        n_series += has
        total += value
        total_sq += value * value
        n_faces += faces
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_series > 0, total / n_series, np.nan)
        var = np.maximum(total_sq - n_series * mean * mean, 0.0) / (n_series - 1)
    factors = np.array(
        [np.nan, np.nan] + [t_quantile_975(df) for df in range(1, int(n_series.max(initial=1)))]
    )
    half = factors[n_series] * np.sqrt(np.where(n_series > 1, var, np.nan) / np.maximum(n_series, 1))
    low = np.clip(mean - half, 0.0, 1.0)
    high = np.clip(mean + half, 0.0, 1.0)
    curve: dict[str, Any] = {
        "duration": round(float(duration), _ROUND),
        "step": step,
        "t": [round(x, _ROUND) for x in t_list],
        "n": [int(x) for x in n_faces],
        "series": list(SERIES),
        "mean": {name: _rounded(mean[:, i]) for i, name in enumerate(SERIES)},
        "low": {name: _rounded(low[:, i]) for i, name in enumerate(SERIES)},
        "high": {name: _rounded(high[:, i]) for i, name in enumerate(SERIES)},
    }
    differs = {
        name: [int(x) for x in n_series[:, i]]
        for i, name in enumerate(SERIES)
        if not np.array_equal(n_series[:, i], n_faces)
    }
    curve["moments"] = _moments(curve, differs)
    if differs:
        curve["n_by_series"] = differs
    return curve


def _moments(curve: dict[str, Any], n_by_series: dict[str, list[int]]) -> list[dict[str, Any]]:
    """Peaks and dips of each series where at least half the best-covered point's viewers have a value:
    the extreme of the points less than MOMENT_SEPARATION away, at least MOMENT_MIN_DELTA from the
    series' median with the band (if any) not reaching it, MOMENT_SEPARATION apart; strongest first,
    MAX_MOMENTS in all."""
    n_faces = curve["n"]
    if not n_faces or max(n_faces) == 0:
        return []
    need = max(1, math.ceil(max(n_faces) / 2))
    t = np.array(curve["t"])
    window = math.ceil(MOMENT_SEPARATION / curve["step"] - 1e-9) - 1  # points less than 5 s away
    found: list[tuple[float, dict[str, Any]]] = []
    for name in curve["series"]:
        n = np.array(n_by_series.get(name, n_faces))
        raw = curve["mean"][name]
        mean = np.array([np.nan if v is None else v for v in raw], dtype=np.float64)
        eligible = (n >= need) & ~np.isnan(mean)
        if not eligible.any():
            continue
        median = float(np.median(mean[eligible]))
        chosen: list[tuple[float, dict[str, Any]]] = []
        for kind, sign in (("peak", 1.0), ("dip", -1.0)):
            signed = np.where(eligible, sign * mean, -np.inf)
            padded = np.pad(signed, window, constant_values=-np.inf)
            best = np.lib.stride_tricks.sliding_window_view(padded, 2 * window + 1).max(axis=1)
            for i in np.flatnonzero(eligible & (signed >= best)):
                delta = sign * (mean[i] - median)
                low, high = curve["low"][name][i], curve["high"][name][i]
                bound = low if kind == "peak" else high
                if delta < MOMENT_MIN_DELTA or (bound is not None and sign * (bound - median) <= 0):
                    continue
                moment = {
                    "series": name,
                    "kind": kind,
                    "t": float(t[i]),
                    "value": raw[i],
                    "low": low,
                    "high": high,
                    "n": int(n[i]),
                }
                chosen.append((float(delta), moment))
        kept: list[tuple[float, dict[str, Any]]] = []
        for delta, moment in sorted(chosen, key=lambda c: (-c[0], c[1]["t"])):
            if all(abs(moment["t"] - other["t"]) >= MOMENT_SEPARATION - 1e-9 for _, other in kept):
                kept.append((delta, moment))
        found.extend(kept)
    order = {name: i for i, name in enumerate(curve["series"])}
    found.sort(key=lambda c: (-c[0], c[1]["t"], order[c[1]["series"]]))
    return [moment for _, moment in found[:MAX_MOMENTS]]


def _padded(curve: dict[str, Any], t: list[float]) -> dict[str, Any]:
    """The curve on a longer grid: n = 0 and null values on the added points."""
    extra = len(t) - len(curve["t"])
    out = dict(curve)
    out["t"] = list(t)
    out["n"] = list(curve["n"]) + [0] * extra
    for key in ("mean", "low", "high"):
        out[key] = {name: list(values) + [None] * extra for name, values in curve[key].items()}
    if "n_by_series" in curve:
        out["n_by_series"] = {name: list(v) + [0] * extra for name, v in curve["n_by_series"].items()}
    return out


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two audience curves on one grid (the longer one's; the shorter padded with n = 0 and nulls) and
    per series the difference of the means, a - b, where both have one (null elsewhere)."""
    if not math.isclose(float(a["step"]), float(b["step"])):
        raise StepError("Both curves must be computed on the same step to be compared.")
    t = a["t"] if len(a["t"]) >= len(b["t"]) else b["t"]
    a, b = _padded(a, t), _padded(b, t)
    difference: dict[str, list[float | None]] = {}
    for name in a["series"]:
        if name not in b["mean"]:
            continue
        difference[name] = [
            None if x is None or y is None else round(x - y, _ROUND)
            for x, y in zip(a["mean"][name], b["mean"][name], strict=True)
        ]
    return {"t": list(t), "a": a, "b": b, "difference": difference}


def to_csv(curve: dict[str, Any]) -> str:
    """The curve as CSV (RFC 4180, CRLF): t, n, then mean, low and high of each series; empty cells for
    null."""
    out = io.StringIO()
    writer = csv.writer(out)
    series = curve["series"]
    writer.writerow(["t", "n", *(f"{name}_{part}" for name in series for part in ("mean", "low", "high"))])
    for i, t in enumerate(curve["t"]):
        cells: list[Any] = [t, curve["n"][i]]
        for name in series:
            for part in ("mean", "low", "high"):
                value = curve[part][name][i]
                cells.append("" if value is None else value)
        writer.writerow(cells)
    return out.getvalue()
