"""The audience curve (chalicelib/studies/audience.py): viewers' timelines binned on the content grid by
their offsets, n, means and Student-t bands, moments, comparison and CSV. Every expected number below is
worked out by hand from the inputs (the t quantiles from printed tables)."""

from __future__ import annotations

import json
import math
import random
import statistics
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from chalicelib.engine.labels import LABELS, REACTIONS
from chalicelib.studies.audience import (
    MAX_COMPARE_POINTS,
    MAX_POINTS,
    SERIES,
    StepError,
    ViewerInput,
    audience_curve,
    compare,
    compare_grid,
    grid,
    t_quantile_975,
    to_csv,
    viewer_curve,
)


def sample(t: float, happy: float = 0.0, faces: int = 1, **fields: Any) -> dict[str, Any]:
    """A timeline entry as merge writes it: emotions with `happy` (the rest neutral), and any of
    attention / the reactions given by keyword (absent otherwise)."""
    entry: dict[str, Any] = {"t": t, "faces": faces}
    emotions = {label: 0.0 for label in LABELS}
    emotions["happy"], emotions["neutral"] = happy, round(1.0 - happy, 4)
    entry["emotions"] = emotions
    if "attention" in fields:
        entry["attention"] = fields["attention"]
    reactions = {name: fields[name] for name in REACTIONS if name in fields}
    if reactions:
        entry["reactions"] = {name: reactions.get(name, 0.0) for name in REACTIONS}
    return entry


def full(t: float, happy: float = 0.0, smile: float = 0.1, attention: float = 1.0) -> dict[str, Any]:
    """A sample with every series present."""
    return sample(t, happy, attention=attention, interest=0.5, boredom=0.0, confusion=0.0, smile=smile)


def viewer(vid: str, timeline: list[dict[str, Any]], offset: float = 0.0) -> ViewerInput:
    return ViewerInput(id=vid, offset=offset, timeline=timeline)


def test_series_are_the_labels_then_attention_then_the_reactions() -> None:
    assert SERIES == (
        "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
        "attention", "interest", "boredom", "confusion", "smile",
    )  # fmt: skip


# --- grid -------------------------------------------------------------------------------------------


def test_grid_runs_from_zero_to_the_last_step_within_the_duration() -> None:
    assert grid(2.0, 0.5) == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert grid(1.2, 0.5) == [0.0, 0.5, 1.0]
    assert grid(0.3, 0.1) == [0.0, 0.1, 0.2, 0.3]  # 0.3 / 0.1 is 2.9999... in floats
    assert grid(9.0, 10.0) == [0.0]
    assert len(grid(1499.9, 0.1)) == MAX_POINTS


@pytest.mark.parametrize(
    ("duration", "step", "code"),
    [
        (10.0, 0.05, "step_too_small"),
        (10.0, 0.0, "step_too_small"),
        (10.0, -1.0, "step_too_small"),
        (10.0, 10.5, "invalid_step"),
        (10.0, math.nan, "invalid_step"),
        (10.0, math.inf, "invalid_step"),
        (1500.0, 0.1, "step_too_small"),  # 15001 points
    ],
)
def test_grid_refuses_steps_out_of_range_or_too_many_points(duration: float, step: float, code: str) -> None:
    with pytest.raises(StepError) as caught:
        grid(duration, step)
    assert caught.value.code == code


def test_too_many_points_names_the_smallest_step_that_fits() -> None:
    with pytest.raises(StepError, match=r"36001 points.*at least 0\.25 s"):
        grid(3600.0, 0.1)
    assert len(grid(3600.0, 0.25)) <= MAX_POINTS
    with pytest.raises(StepError):
        grid(3600.0, 0.24)  # 15001 points: 0.24 is not enough


def test_grid_refuses_a_duration_that_is_not_positive() -> None:
    for duration in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="duration"):
            grid(duration, 0.5)


# --- t quantile -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("df", "expected"),
    [(1, 12.7062), (2, 4.3027), (3, 3.1824), (4, 2.7764), (10, 2.2281), (29, 2.0452), (30, 2.0423),
     (60, 2.0003), (120, 1.9799)],
)  # fmt: skip
def test_t_quantile_matches_the_tables(df: int, expected: float) -> None:
    assert t_quantile_975(df) == pytest.approx(expected, abs=1e-4)


def test_t_quantile_is_continuous_where_the_expansion_takes_over_and_tends_to_the_normal() -> None:
    assert t_quantile_975(100) > t_quantile_975(101) > t_quantile_975(102)
    assert t_quantile_975(100) - t_quantile_975(101) < 3e-4
    assert t_quantile_975(100000) == pytest.approx(1.96, abs=1e-4)


# --- one viewer on the grid -------------------------------------------------------------------------


def test_a_viewers_offset_moves_their_samples_on_the_content() -> None:
    v = viewer("a", [sample(0.0, 0.8), sample(0.2, 0.4), sample(1.0, 0.1)], offset=10.0)
    curve = viewer_curve(v, grid(12.0, 0.5), 0.5)
    happy = curve["happy"]
    assert happy[20] == pytest.approx(0.6)  # content 10.0 and 10.2 fall on t = 10
    assert happy[22] == pytest.approx(0.1)  # content 11.0 on t = 11
    assert [i for i, value in enumerate(happy) if value is not None] == [20, 22]


def test_a_negative_offset_drops_what_was_recorded_before_the_content() -> None:
    v = viewer("a", [sample(2.0, 0.9), sample(3.0, 0.3), sample(4.1, 0.7)], offset=-3.0)
    happy = viewer_curve(v, grid(3.0, 0.5), 0.5)["happy"]
    # content -1.0 is before the first point's bin [-0.25, 0.25); content 0.0 -> t 0; 1.1 -> t 1.0
    assert happy == [0.3, None, 0.7, None, None, None, None]


def test_bins_are_half_open_a_sample_on_an_edge_belongs_to_the_later_point() -> None:
    timeline = [sample(-0.25, 0.1), sample(0.25, 0.2), sample(0.7499, 0.3), sample(0.75, 0.4)]
    timeline += [sample(1.2, 0.5), sample(1.25, 0.6)]
    happy = viewer_curve(viewer("a", timeline), grid(1.0, 0.5), 0.5)["happy"]
    # [-0.25, 0.25) -> 0.1; [0.25, 0.75) -> 0.2, 0.3; [0.75, 1.25) -> 0.4, 0.5; 1.25 is past the grid
    assert happy == [0.1, 0.25, 0.45]


def test_edges_hold_when_floats_do_not_add_up_exactly() -> None:
    # 0.25 + 0.1 is 0.35 but 0.4 - 0.05 is 0.35000000000000003 in floats: still on t = 0.4's edge
    v = viewer("a", [sample(0.25, 0.2), sample(0.3499, 0.4), sample(0.2499, 0.9)], offset=0.1)
    happy = viewer_curve(v, grid(0.5, 0.1), 0.1)["happy"]
    assert happy == [None, None, None, 0.9, 0.3, None]  # content 0.35 and 0.4499 -> t 0.4; 0.3499 -> 0.3


def test_samples_without_a_face_are_not_counted_and_missing_fields_are_skipped() -> None:
    timeline = [
        sample(0.0, 0.9, faces=0),  # emotions present but no face: not counted
        sample(0.1, 0.3, attention=0.5),
        sample(0.2, 0.5),  # no attention field
        {"t": 1.0, "faces": 0},
    ]
    curve = viewer_curve(viewer("a", timeline), grid(1.0, 0.5), 0.5)
    assert curve["happy"] == [0.4, None, None]
    assert curve["neutral"] == [0.6, None, None]
    assert curve["attention"] == [0.5, None, None]
    assert curve["smile"] == [None, None, None]


# --- the audience -----------------------------------------------------------------------------------


def three_overlapping() -> list[ViewerInput]:
    """On grid step 1 s over 4 s: A covers t 0-2, B (offset 1) t 1-3, C (offset 2) t 2 only."""
    return [
        viewer("A", [sample(0.0, 0.2), sample(1.0, 0.4), sample(2.0, 0.5)]),
        viewer("B", [sample(0.0, 0.6), sample(1.0, 0.6), sample(2.0, 0.9)], offset=1.0),
        viewer("C", [sample(0.0, 0.4)], offset=2.0),
    ]


def test_n_mean_and_band_where_viewers_overlap_partly() -> None:
    curve = audience_curve(4.0, 1.0, three_overlapping())
    assert curve["t"] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert curve["n"] == [1, 2, 3, 1, 0]
    happy, low, high = curve["mean"]["happy"], curve["low"]["happy"], curve["high"]["happy"]
    # t 0: A alone -> no band
    assert (happy[0], low[0], high[0]) == (0.2, None, None)
    # t 1: 0.4, 0.6 -> mean 0.5, sd 0.1414, 12.7062 * 0.1414 / sqrt 2 = 1.2706: clipped to [0, 1]
    assert (happy[1], low[1], high[1]) == (0.5, 0.0, 1.0)
    # t 2: 0.5, 0.6, 0.4 -> mean 0.5, sd 0.1, 4.3027 * 0.1 / sqrt 3 = 0.24841
    assert (happy[2], low[2], high[2]) == (0.5, 0.2516, 0.7484)
    # t 3: B alone (recorded at 2.0); t 4: nobody has a face -> gap
    assert (happy[3], low[3], high[3]) == (0.9, None, None)
    assert (happy[4], low[4], high[4]) == (None, None, None)
    assert curve["mean"]["neutral"][2] == 0.5 and curve["low"]["neutral"][2] == 0.2516
    assert curve["duration"] == 4.0 and curve["step"] == 1.0 and curve["series"] == list(SERIES)


def test_removing_a_viewer_changes_n_mean_and_band() -> None:
    viewers = [viewer(str(i), [sample(0.0, value)]) for i, value in enumerate((0.2, 0.4, 0.6, 0.8))]
    four = audience_curve(1.0, 1.0, viewers)
    # 0.2..0.8: mean 0.5, sd sqrt(0.2 / 3) = 0.2582, 3.1824 * 0.2582 / 2 = 0.41085
    assert four["n"][0] == 4
    assert (four["mean"]["happy"][0], four["low"]["happy"][0], four["high"]["happy"][0]) == (
        0.5,
        0.0891,
        0.9109,
    )
    three = audience_curve(1.0, 1.0, viewers[:3])
    # 0.2, 0.4, 0.6: mean 0.4, sd 0.2, 4.3027 * 0.2 / sqrt 3 = 0.49683 -> low clipped at 0
    assert three["n"][0] == 3
    assert (three["mean"]["happy"][0], three["low"]["happy"][0], three["high"]["happy"][0]) == (
        0.4,
        0.0,
        0.8968,
    )


def test_a_viewer_without_a_face_at_a_point_is_not_counted_there() -> None:
    viewers = [
        viewer("a", [sample(0.0, 0.2), sample(1.0, 0.6)]),
        viewer("b", [sample(0.0, 0.9, faces=0), sample(1.0, 0.8)]),
    ]
    curve = audience_curve(1.0, 1.0, viewers)
    assert curve["n"] == [1, 2]
    assert curve["mean"]["happy"] == [0.2, 0.7]


def test_n_by_series_only_when_a_series_count_differs() -> None:
    complete = audience_curve(1.0, 1.0, [viewer("a", [full(0.0)]), viewer("b", [full(0.0), full(1.0)])])
    assert "n_by_series" not in complete
    assert complete["n"] == [2, 1]

    partial = [viewer("a", [sample(0.0, 0.5, attention=0.25)]), viewer("b", [sample(0.0, 0.7)])]
    curve = audience_curve(1.0, 1.0, partial)
    assert curve["n"] == [2, 0]
    assert curve["n_by_series"] == {"attention": [1, 0], **{name: [0, 0] for name in REACTIONS}}
    assert curve["mean"]["attention"] == [0.25, None]
    assert curve["mean"]["happy"] == [0.6, None]


def test_no_viewers_gives_an_empty_curve() -> None:
    curve = audience_curve(1.0, 0.5, [])
    assert curve["n"] == [0, 0, 0]
    assert all(v is None for name in SERIES for v in curve["mean"][name] + curve["high"][name])
    assert curve["moments"] == []


def test_viewer_curve_is_what_the_audience_of_that_viewer_alone_shows() -> None:
    v = three_overlapping()[1]
    alone = audience_curve(4.0, 1.0, [v])
    assert viewer_curve(v, grid(4.0, 1.0), 1.0) == alone["mean"]


# --- moments ----------------------------------------------------------------------------------------


def smile_audience(
    peaks: Mapping[float, Sequence[float | None]], duration: float = 30.0
) -> list[ViewerInput]:
    """Viewers sampled once per 0.5 s point, smile 0.1 except at the given content times (one value per
    viewer there; None: that viewer has no face at that time)."""
    count = len(next(iter(peaks.values())))
    viewers = []
    for i in range(count):
        timeline = []
        for t in grid(duration, 0.5):
            value = peaks[t][i] if t in peaks else 0.1
            timeline.append(full(t, smile=value) if value is not None else {"t": t, "faces": 0})
        viewers.append(viewer(f"v{i}", timeline))
    return viewers


def test_a_clear_smile_peak_is_found_with_its_band_and_n() -> None:
    curve = audience_curve(30.0, 0.5, smile_audience({12.0: [0.85, 0.9, 0.95, 0.9]}))
    # 0.85, 0.9, 0.95, 0.9: mean 0.9, sd 0.04082, 3.1824 * 0.04082 / 2 = 0.06496
    assert curve["moments"] == [
        {"series": "smile", "kind": "peak", "t": 12.0, "value": 0.9, "low": 0.835, "high": 0.965, "n": 4}
    ]


def test_moments_keep_their_distance_and_come_strongest_first() -> None:
    peaks = {12.0: [0.9] * 4, 15.0: [0.6] * 4, 17.0: [0.7] * 4, 24.0: [0.5] * 4, 25.0: [0.5] * 4}
    moments = audience_curve(30.0, 0.5, smile_audience(peaks))["moments"]
    # 15 is under 5 s from the higher 12 and 17; 17 is exactly 5 s from 12: kept. 24 and 25 tie: the
    # earlier is kept, the other is 1 s from it.
    assert [(m["t"], m["value"]) for m in moments] == [(12.0, 0.9), (17.0, 0.7), (24.0, 0.5)]
    assert all(m["series"] == "smile" and m["kind"] == "peak" for m in moments)


def test_dips_are_moments_too() -> None:
    viewers = [
        viewer(f"v{i}", [full(t, attention=0.2 if t == 8.0 else 0.9) for t in grid(20.0, 0.5)])
        for i in range(3)
    ]
    moments = audience_curve(20.0, 0.5, viewers)["moments"]
    assert moments == [
        {"series": "attention", "kind": "dip", "t": 8.0, "value": 0.2, "low": 0.2, "high": 0.2, "n": 3}
    ]


def test_no_moment_for_a_small_bump_or_one_the_band_does_not_separate() -> None:
    # 0.18 is 0.08 over the median 0.1: too small, however tight the band
    assert audience_curve(30.0, 0.5, smile_audience({12.0: [0.18] * 4}))["moments"] == []
    # 0.1 and 0.9: mean 0.5 is 0.4 over the median, but the band (n = 2) runs down to 0
    assert audience_curve(30.0, 0.5, smile_audience({12.0: [0.1, 0.9]}))["moments"] == []
    # the same bump held by both viewers is a moment
    assert len(audience_curve(30.0, 0.5, smile_audience({12.0: [0.5, 0.5]}))["moments"]) == 1


def test_no_moment_where_too_few_viewers_have_a_face() -> None:
    # 4 viewers at most: a moment needs n >= 2. At 25 s only one viewer has a face.
    lonely: dict[float, list[float | None]] = {12.0: [0.9] * 4, 25.0: [0.95, None, None, None]}
    moments = audience_curve(30.0, 0.5, smile_audience(lonely))["moments"]
    assert [m["t"] for m in moments] == [12.0]
    # with a second viewer there, n = 2 is enough: (0.95 + 0.95) / 2 stands out
    pair: dict[float, list[float | None]] = {12.0: [0.9] * 4, 25.0: [0.95, 0.95, None, None]}
    moments = audience_curve(30.0, 0.5, smile_audience(pair))["moments"]
    assert [(m["t"], m["n"]) for m in moments] == [(25.0, 2), (12.0, 4)]


def test_a_higher_mean_less_than_five_seconds_away_takes_the_place_even_without_a_band() -> None:
    # 0.55 at 4.5 s (the farthest point within 5 s on a 0.5 s grid) is higher than 0.5 but its band
    # reaches the baseline: neither is a moment, on either side
    for other in (16.5, 7.5):
        split: dict[float, list[float | None]] = {12.0: [0.5] * 4, other: [0.1, 0.1, 1.0, 1.0]}
        assert audience_curve(30.0, 0.5, smile_audience(split))["moments"] == []
    # 5 s away it is out of reach: 0.5 stands
    split = {12.0: [0.5] * 4, 17.0: [0.1, 0.1, 1.0, 1.0]}
    assert [m["t"] for m in audience_curve(30.0, 0.5, smile_audience(split))["moments"]] == [12.0]


def test_at_most_twelve_moments() -> None:
    peaks = {float(t): [0.2 + t / 200] * 2 for t in range(0, 120, 6)}  # 20 separate peaks
    moments = audience_curve(120.0, 0.5, smile_audience(peaks, 120.0))["moments"]
    assert len(moments) == 12
    values = [m["value"] for m in moments]
    assert values == sorted(values, reverse=True)


# --- compare ----------------------------------------------------------------------------------------


def test_compare_pads_the_shorter_curve_and_differs_where_both_have_values() -> None:
    a = audience_curve(2.0, 1.0, [viewer("a", [sample(0.0, 0.5), sample(2.0, 0.5)])])
    b = audience_curve(4.0, 1.0, [viewer("b", [sample(t, 0.2) for t in (0.0, 1.0, 2.0, 3.0)])])
    out = compare(a, b)
    assert out["t"] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert out["difference"]["happy"] == [0.3, None, 0.3, None, None]
    assert out["difference"]["neutral"] == [-0.3, None, -0.3, None, None]
    assert out["a"]["n"] == [1, 0, 1, 0, 0]
    assert out["a"]["mean"]["happy"] == [0.5, None, 0.5, None, None]
    assert out["a"]["duration"] == 2.0
    assert out["b"]["n"] == [1, 1, 1, 1, 0]
    assert compare(b, a)["difference"]["happy"] == [-0.3, None, -0.3, None, None]
    assert len(a["t"]) == 3  # the inputs are left as they were


def test_compare_needs_the_same_step() -> None:
    a = audience_curve(2.0, 1.0, [])
    b = audience_curve(2.0, 0.5, [])
    with pytest.raises(StepError):
        compare(a, b)


# --- CSV --------------------------------------------------------------------------------------------


def test_csv_header_and_rows() -> None:
    viewers = [
        viewer("a", [full(0.0, happy=0.4, smile=0.3)]),
        viewer("b", [full(0.0, happy=0.6, smile=0.5)]),
    ]
    lines = to_csv(audience_curve(1.0, 1.0, viewers)).split("\r\n")
    header = ["t", "n"] + [f"{name}_{part}" for name in SERIES for part in ("mean", "low", "high")]
    assert lines[0] == ",".join(header)
    assert lines[0].startswith("t,n,angry_mean,angry_low,angry_high,disgust_mean,")
    assert lines[0].endswith(",smile_mean,smile_low,smile_high")
    zero = "0.0,0.0,0.0"
    # happy and smile: two values 0.2 apart -> the band is clipped to [0, 1]; the rest agree exactly
    expected = ",".join(
        ["0.0", "2", zero, zero, zero, "0.5,0.0,1.0", zero, zero, "0.5,0.0,1.0", "1.0,1.0,1.0",
         "0.5,0.5,0.5", zero, zero, "0.4,0.0,1.0"]
    )  # fmt: skip
    assert lines[1] == expected
    assert lines[2] == "1.0,0" + "," * 36
    assert lines[3] == "" and len(lines) == 4


# --- size -------------------------------------------------------------------------------------------


def test_twenty_viewers_ten_minutes_at_ten_samples_a_second() -> None:
    duration = 599.5  # 1200 points at 0.5 s
    viewers = [
        viewer(
            f"v{i}",
            [full(k / 10, happy=(k % 7) / 10, smile=((k + i) % 5) / 10) for k in range(6000)],
            offset=i * 0.01,
        )
        for i in range(20)
    ]
    curve = audience_curve(duration, 0.5, viewers)
    assert len(curve["t"]) == len(curve["n"]) == 1200
    assert all(len(curve[part][name]) == 1200 for part in ("mean", "low", "high") for name in SERIES)
    assert max(curve["n"]) == 20


def test_twenty_viewers_ten_minutes_take_well_under_a_second_of_cpu() -> None:
    """The API function computes the curve in pure Python: 20 viewers x 6000 samples on 1200 points
    took ~0.26 s of CPU when measured; a quadratic binning would take minutes."""
    viewers = [
        viewer(f"v{i}", [full(k / 10, happy=(k % 7) / 10, smile=((k + i) % 5) / 10) for k in range(6000)])
        for i in range(20)
    ]
    start = time.process_time()
    curve = audience_curve(599.5, 0.5, viewers)
    assert time.process_time() - start < 1.0
    assert max(curve["n"]) == 20


# --- compared with a reference written from the definitions ------------------------------------------


def _field(entry: dict[str, Any], name: str) -> Any:
    if name in LABELS:
        return (entry.get("emotions") or {}).get(name)
    if name == "attention":
        return entry.get("attention")
    return (entry.get("reactions") or {}).get(name)


def reference_viewer(v: ViewerInput, t: list[float], step: float) -> dict[str, list[float | None]]:
    """Per point, straight from docs/analysis.md: the samples with a face whose content time is in
    [t - step/2, t + step/2) (at microsecond precision), averaged per series; None with none."""
    out: dict[str, list[float | None]] = {name: [] for name in SERIES}
    for point in t:
        low, high = round(point - step / 2, 6), round(point + step / 2, 6)
        inside = [
            s for s in v.timeline if (s.get("faces") or 0) > 0 and low <= round(s["t"] + v.offset, 6) < high
        ]
        for name in SERIES:
            values = [x for x in (_field(s, name) for s in inside) if x is not None]
            out[name].append(statistics.fmean(values) if values else None)
    return out


def reference_audience(
    viewers: list[ViewerInput], t: list[float], step: float
) -> tuple[list[int], dict[str, list[tuple[int, float | None, float | None, float | None]]]]:
    """n (viewers with a face) per point, and per series and point (n, mean, low, high) from
    statistics.fmean/stdev and the t quantile."""
    curves = [reference_viewer(v, t, step) for v in viewers]
    faces = [
        sum(
            any(
                (s.get("faces") or 0) > 0
                and round(point - step / 2, 6) <= round(s["t"] + v.offset, 6) < round(point + step / 2, 6)
                for s in v.timeline
            )
            for v in viewers
        )
        for point in t
    ]
    stats: dict[str, list[tuple[int, float | None, float | None, float | None]]] = {}
    for name in SERIES:
        stats[name] = []
        for k in range(len(t)):
            values = [x for c in curves if (x := c[name][k]) is not None]
            n = len(values)
            if n == 0:
                stats[name].append((0, None, None, None))
                continue
            mean = statistics.fmean(values)
            if n == 1:
                stats[name].append((1, mean, None, None))
                continue
            half = t_quantile_975(n - 1) * statistics.stdev(values) / math.sqrt(n)
            stats[name].append((n, mean, min(max(mean - half, 0.0), 1.0), min(max(mean + half, 0.0), 1.0)))
    return faces, stats


def random_study(seed: int) -> tuple[float, float, list[ViewerInput]]:
    """Viewers at 5 Hz (times on the millisecond) with offsets, gaps, samples without a face, fields
    missing or null, and shared bumps that make moments."""
    rng = random.Random(seed)
    duration, step = rng.choice([30.0, 40.0, 45.5]), rng.choice([0.25, 0.3, 0.5, 1.0])
    # two bumps per series (up or down), 12 s or more apart: more moments than the 12 kept
    bumps = {}
    for name in SERIES:
        first = rng.uniform(2, duration / 2 - 6)
        bumps[name] = [(first, rng.choice([-0.5, 0.5])), (rng.uniform(first + 12, duration - 2), -0.4)]

    def value(name: str, at: float) -> float | None:
        if rng.random() < 0.03:
            return None
        base = 0.6 + sum(height for centre, height in bumps[name] if abs(at - centre) < 1)
        return round(min(max(base + rng.uniform(-0.04, 0.04), 0.0), 1.0), 4)

    viewers = []
    for i in range(rng.randint(3, 7)):
        offset = round(rng.uniform(-3, 6), 3)
        timeline: list[dict[str, Any]] = []
        r = 0.0
        while r + offset < duration + 1:
            r = round(r + (rng.uniform(2, 6) if rng.random() < 0.01 else 0.2), 3)
            at = r + offset
            entry: dict[str, Any] = {"t": r, "faces": 0 if rng.random() < 0.05 else 1}
            entry["emotions"] = {name: value(name, at) for name in LABELS if rng.random() < 0.98}
            if rng.random() < 0.9:
                entry["attention"] = value("attention", at)
            if rng.random() < 0.8:
                entry["reactions"] = {name: value(name, at) for name in REACTIONS}
            timeline.append(entry)
        viewers.append(viewer(f"v{i}", timeline, offset))
    return duration, step, viewers


def reference_moments(curve: dict[str, Any]) -> list[dict[str, Any]]:
    """The moments of a curve's rounded means, bands and counts, as docs/analysis.md words them."""
    n_faces, t = curve["n"], curve["t"]
    need = max(1, math.ceil(max(n_faces) / 2))
    found = []
    for order, name in enumerate(SERIES):
        n = curve.get("n_by_series", {}).get(name, n_faces)
        mean, low, high = curve["mean"][name], curve["low"][name], curve["high"][name]
        eligible = [k for k in range(len(t)) if mean[k] is not None and n[k] >= need]
        if not eligible:
            continue
        baseline = statistics.median(mean[k] for k in eligible)
        candidates = []
        for kind, sign in (("peak", 1), ("dip", -1)):
            for k in eligible:
                near = [sign * mean[j] for j in eligible if abs(t[j] - t[k]) < 5 - 1e-9]
                bound = low[k] if kind == "peak" else high[k]
                if (
                    sign * mean[k] == max(near)
                    and sign * (mean[k] - baseline) >= 0.1
                    and (bound is None or sign * (bound - baseline) > 0)
                ):
                    candidates.append((sign * (mean[k] - baseline), t[k], order, kind, k))
        taken: list[tuple[float, float, int, str, int]] = []
        for c in sorted(candidates, key=lambda c: (-c[0], c[1])):
            if all(abs(c[1] - other[1]) >= 5 - 1e-9 for other in taken):
                taken.append(c)
        found += taken
    found.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [
        {
            "series": SERIES[order],
            "kind": kind,
            "t": t[k],
            "value": curve["mean"][SERIES[order]][k],
            "low": curve["low"][SERIES[order]][k],
            "high": curve["high"][SERIES[order]][k],
            "n": curve.get("n_by_series", {}).get(SERIES[order], n_faces)[k],
        }
        for _, _, order, kind, k in found[:12]
    ]


@pytest.mark.parametrize("seed", range(4))
def test_random_studies_agree_with_the_reference(seed: int) -> None:
    duration, step, viewers = random_study(seed)
    curve = audience_curve(duration, step, viewers)
    t = grid(duration, step)
    faces, stats = reference_audience(viewers, t, step)
    assert curve["n"] == faces and max(faces) >= 3
    close = 5.0001e-5  # the curve is rounded to 4 decimals; the reference is not
    for name in SERIES:
        counts = curve.get("n_by_series", {}).get(name, curve["n"])
        assert counts == [n for n, *_ in stats[name]], name
        for part, index in (("mean", 1), ("low", 2), ("high", 3)):
            for got, row in zip(curve[part][name], stats[name], strict=True):
                expected = row[index]
                assert (got is None) == (expected is None), (name, part)
                if expected is not None:
                    assert got == pytest.approx(expected, abs=close), (name, part)
    assert len(curve["moments"]) == 12 and curve["moments"] == reference_moments(curve)
    for v in viewers[:2]:
        mine, theirs = viewer_curve(v, t, step), reference_viewer(v, t, step)
        for name in SERIES:
            assert [x is None for x in mine[name]] == [x is None for x in theirs[name]]
            assert [x for x in mine[name] if x is not None] == pytest.approx(
                [x for x in theirs[name] if x is not None], abs=close
            )


# --- limits: a response stays under 5 MB (Lambda answers at most 6 MB) ----------------------------------


def test_compare_refuses_a_common_grid_over_its_limit_and_names_the_smallest_step() -> None:
    with pytest.raises(StepError, match=r"7201 points.*at most 6000 to compare.*at least 0\.61 s") as caught:
        compare_grid(3600.0, 0.5)
    assert caught.value.code == "step_too_small"
    assert len(compare_grid(3600.0, 0.61)) <= MAX_COMPARE_POINTS < len(grid(3600.0, 0.5))
    with pytest.raises(StepError):
        compare_grid(3600.0, 0.6)  # 6001 points
    short, long = audience_curve(100.0, 0.5, []), audience_curve(3600.0, 0.5, [])
    with pytest.raises(StepError, match=r"7201 points for 3600 s.*at least 0\.61 s"):
        compare(short, long)
    assert len(compare(short, audience_curve(2999.5, 0.5, []))["t"]) == MAX_COMPARE_POINTS


def longest_curve(points: int) -> dict[str, Any]:
    """An audience curve of `points` points where every number is as long as it gets: times with 4
    decimals past 1000 s, means and bands of 4 significant decimals, every series with its own count
    (n_by_series) and 4-digit counts (as 1000 viewers give)."""
    rng = random.Random(7)
    step = 0.1799
    duration = (points - 1) * step
    first = []
    for t in grid(duration, step):
        entry = full(
            t, happy=rng.uniform(0.3, 0.7), smile=rng.uniform(0.3, 0.7), attention=rng.uniform(0.3, 0.7)
        )
        entry["emotions"] = {name: rng.uniform(0.3, 0.7) for name in LABELS}
        entry["reactions"] = {name: rng.uniform(0.3, 0.7) for name in REACTIONS}
        first.append(entry)
    second = [
        {
            **e,
            "emotions": {k: v + rng.uniform(0.001, 0.02) for k, v in e["emotions"].items()},
            "attention": e["attention"] + rng.uniform(0.001, 0.02),
            "reactions": {k: v + rng.uniform(0.001, 0.02) for k, v in e["reactions"].items()},
        }
        for e in first
    ]
    faces_only = [{"t": e["t"], "faces": 1} for e in first]
    curve = audience_curve(duration, step, [viewer("a", first), viewer("b", second), viewer("c", faces_only)])
    assert len(curve["t"]) == points and sorted(curve["n_by_series"]) == sorted(SERIES)
    assert all(
        v is not None for part in ("mean", "low", "high") for name in SERIES for v in curve[part][name]
    )
    assert sum(0.0 < v < 1.0 for v in curve["low"]["happy"]) > points * 0.9  # bands not clipped
    curve["n"] = [1000] * points
    curve["n_by_series"] = {name: [999] * points for name in SERIES}
    return curve


def route_response(curve: dict[str, Any]) -> dict[str, Any]:
    """What GET /studies/{id}/audience adds (chalicelib/studies/curves.py): 1000 viewers with 80-character
    labels."""
    viewers = [
        {
            "id": f"{i:032x}",
            "label": f"{i:04d}" + "x" * 76,
            "offset": 1234.567,
            "status": "processing",
            "included": True,
        }
        for i in range(1000)
    ]
    return {
        "study_id": "f" * 32,
        **curve,
        "viewers": viewers,
        "viewers_included": len(viewers),
        "computed_at": "2026-12-07T10:00:00.123456+00:00",
    }


def lambda_bytes(body: dict[str, Any]) -> int:
    """The body as Chalice writes it (compact JSON), escaped once more inside Lambda's response."""
    return len(json.dumps(json.dumps(body, separators=(",", ":"))).encode())


def test_the_longest_audience_and_comparison_stay_under_five_megabytes() -> None:
    audience = route_response(longest_curve(MAX_POINTS))
    size = lambda_bytes(audience)
    assert 4_000_000 < size < 5_000_000  # near the limit (the assumptions hold), and under it
    assert len(to_csv(audience).encode()) < 5_000_000
    one = route_response(longest_curve(MAX_COMPARE_POINTS))
    both = compare(one, one)
    assert 4_000_000 < lambda_bytes(both) < 5_000_000
