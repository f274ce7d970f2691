"""The audience curve (chalicelib/studies/audience.py): viewers' timelines binned on the content grid by
their offsets, n, means and Student-t bands, moments, comparison and CSV. Every expected number below is
worked out by hand from the inputs (the t quantiles from printed tables)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from chalicelib.engine.labels import LABELS, REACTIONS
from chalicelib.studies.audience import (
    MAX_POINTS,
    SERIES,
    StepError,
    ViewerInput,
    audience_curve,
    compare,
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
    assert len(grid(1999.9, 0.1)) == MAX_POINTS


@pytest.mark.parametrize(
    ("duration", "step", "code"),
    [
        (10.0, 0.05, "step_too_small"),
        (10.0, 0.0, "step_too_small"),
        (10.0, -1.0, "step_too_small"),
        (10.0, 10.5, "invalid_step"),
        (10.0, math.nan, "invalid_step"),
        (10.0, math.inf, "invalid_step"),
        (2000.0, 0.1, "step_too_small"),  # 20001 points
    ],
)
def test_grid_refuses_steps_out_of_range_or_too_many_points(duration: float, step: float, code: str) -> None:
    with pytest.raises(StepError) as caught:
        grid(duration, step)
    assert caught.value.code == code


def test_too_many_points_names_the_smallest_step_that_fits() -> None:
    with pytest.raises(StepError, match=r"36001 points.*at least 0\.19 s"):
        grid(3600.0, 0.1)
    assert len(grid(3600.0, 0.19)) <= MAX_POINTS
    with pytest.raises(StepError):
        grid(3600.0, 0.18)  # 20001 points: 0.18 is not enough


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
