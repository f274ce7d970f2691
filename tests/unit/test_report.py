"""The command line's HTML report: the web app's colours from the one palette file, round time ticks with
the web app's labels, and the palette shipped with the package."""

from __future__ import annotations

import fnmatch
import itertools
import json
import re
import tomllib

import pytest

from chalicelib.engine.labels import LABELS, REACTIONS
from chalicelib.engine.report import (
    PALETTE_PATH,
    TICK_STEPS,
    format_time,
    palette,
    tick_label,
    time_ticks,
    to_html,
)
from chalicelib.settings import PROJECT_ROOT

EMOTIONS_TS = PROJECT_ROOT / "frontend" / "src" / "lib" / "emotions.ts"


def _analysis(duration: float) -> dict:
    return {
        "format": 2,
        "video": {"duration": duration, "fps": 30.0, "width": 4, "height": 4, "rotation": 0, "codec": "h264"},
        "labels": list(LABELS),
        "timeline": [
            {"t": 0.0, "faces": 1, "emotions": dict.fromkeys(LABELS, 1 / 7)},
            {"t": duration, "faces": 0},
        ],
        "faces": [],
        "summary": {
            "dominant": "happy",
            "distribution": dict.fromkeys(LABELS, 1 / 7),
            "face_presence": 0.5,
            "valence": 0.0,
            "expressiveness": 0.0,
            "key_moments": [{"t": 12.96, "label": "happy", "score": 0.9}],
        },
        "model": {"backend": "onnx", "version": "calibrated/1", "detector": "blazeface", "sample_fps": 5.0},
        "segments": 1,
    }


def test_the_palette_names_every_series_the_charts_draw() -> None:
    colours = palette()
    assert list(colours["emotions"]) == list(LABELS)
    assert set(colours["reactions"]) == {*REACTIONS, "attention"}
    every = [*colours["emotions"].values(), *colours["reactions"].values(), colours["none"]]
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in every), every


def test_the_web_app_reads_the_same_file_and_defines_no_colour_of_its_own() -> None:
    source = EMOTIONS_TS.read_text()
    assert "import palette from '../../../chalicelib/engine/palette.json';" in source
    assert (EMOTIONS_TS.parent / "../../../chalicelib/engine/palette.json").resolve() == PALETTE_PATH
    assert not re.findall(r"#[0-9a-fA-F]{6}\b", source), "colours belong in palette.json"


def test_the_report_draws_with_the_palette() -> None:
    page = to_html(_analysis(33.6), "talk")
    embedded = re.search(r'<script id="data" type="application/json">(.*?)</script>', page, re.S)
    assert embedded is not None
    data = json.loads(embedded[1])
    assert data["colors"] == {**palette()["emotions"], **palette()["reactions"]}
    for label, colour in palette()["emotions"].items():
        assert f'<span style="color:{colour}">&#9632; {label}</span>' in page, "legend"
        assert f"background:{colour}" in page, "distribution bar"
    assert data["ticks"] == [[t, tick_label(t)] for t in time_ticks(33.6)]
    assert data["ticks"][-1] == [30, "0:30"]
    assert "<li>0:12.9 &mdash; happy (0.90)</li>" in page, "key moments cut to tenths, as the app shows them"


@pytest.mark.parametrize("duration", [0.4, 2.3, 3.0, 9.99, 10.0, 33.6, 59.9, 61.0, 600.4, 1799.0, 3600.0])
def test_ticks_fall_on_round_steps_inside_the_video(duration: float) -> None:
    ticks = time_ticks(duration)
    assert ticks[0] == 0 and ticks[-1] <= duration + 1e-9
    steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
    assert len(steps) <= 1 and steps <= set(TICK_STEPS), steps
    assert len(ticks) <= 11
    if len(ticks) > 1:
        assert duration - ticks[-1] < ticks[1], "the last tick is the last round step before the end"


@pytest.mark.parametrize(
    ("seconds", "label"),
    [(0, "0:00"), (5, "0:05"), (2.5, "0:02.5"), (120, "2:00"), (3600, "1:00:00"), (0.5, "0:00.5")],
)
def test_tick_labels_are_the_web_apps(seconds: float, label: str) -> None:
    assert tick_label(seconds) == label


def test_moments_are_cut_to_tenths_never_rounded_up() -> None:
    assert format_time(59.96) == "0:59.9"
    assert format_time(0.7 - 0.4) == "0:00.3"
    assert format_time(3723.45) == "1:02:03.4"
    assert format_time(float("nan")) == "0:00.0"


def test_every_file_chalicelib_reads_is_package_data() -> None:
    """Installed (pip, the Lambda image, the zip), chalicelib must still find its palette and template."""
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["chalicelib"]
    package = PROJECT_ROOT / "chalicelib"
    data = [
        p.relative_to(package).as_posix()
        for p in package.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    assert "engine/palette.json" in data
    missing = [f for f in data if not any(fnmatch.fnmatch(f, pattern) for pattern in patterns)]
    assert not missing, f"add to [tool.setuptools.package-data] in pyproject.toml: {missing}"
