"""Eye openness from MediaPipe's iris model (chalicelib/engine/eyelids.py): closed where the fixture faces
close their eyes, open elsewhere, relative to each face's own usual lids; blinks counted from it.

Ground truth, looked at frame by frame: `sadtalker_WDA_KatieHill_000.mp4` (25 fps) closes both eyes on
frames 23-26, 32-33 and 170-172 and lowers its lids on 112-113; `liveportrait_driving_d3.mp4` keeps its eyes
shut from 3.4 to 5.2 s (a frown) and wide open from 5.6 to 6.8 s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chalicelib.engine.eyelids import CLOSED_SHARE, OPEN_SHARE, EyelidReader, relative_openness
from chalicelib.engine.runner import analyze_video
from chalicelib.engine.segment import AnalysisOptions
from tests.synthetic import VIDEOS_DIR


def _eyes(analysis: dict, start: float, end: float) -> list[float]:
    """Mean openness of both eyes in the first face's samples with signals in [start, end]."""
    return [
        sum(p["signals"]["eyes"]) / 2
        for p in analysis["faces"][0]["timeline"]
        if "signals" in p and start - 1e-6 <= p["t"] <= end + 1e-6
    ]


@pytest.fixture(scope="module")
def blinking(model_dir: Path) -> dict:
    path = VIDEOS_DIR / "sadtalker_WDA_KatieHill_000.mp4"
    return analyze_video(path, AnalysisOptions(model_dir=model_dir, sample_fps=25.0))


def test_closed_eyes_read_closed_and_open_eyes_open(blinking: dict) -> None:
    assert blinking["format"] == 3
    for t in (0.96, 1.28, 1.32, 6.8, 6.84):  # frames 24, 32, 33, 170, 171
        [eyes] = _eyes(blinking, t, t)
        assert eyes < 0.3, (t, eyes)
    open_eyes = _eyes(blinking, 0.0, 0.68) + _eyes(blinking, 2.0, 3.5) + _eyes(blinking, 5.6, 6.6)
    assert len(open_eyes) >= 80 and min(open_eyes) > 0.8
    point = next(p for p in blinking["faces"][0]["timeline"] if "signals" in p)
    assert len(point["signals"]["lids"]) == 2 and 0.1 < min(point["signals"]["lids"]) < 0.5


def test_blinks_are_counted_at_every_rate_they_can_be_seen(blinking: dict, model_dir: Path) -> None:
    """At 25 samples a second the three full closures are three blinks (8 s: 22.5 a minute; the mesh alone
    read 0); at the default 5 a second the samples land on two of them."""
    assert blinking["faces"][0]["blinks_per_minute"] == pytest.approx(3 * 60 / 8.0, abs=0.01)
    path = VIDEOS_DIR / "sadtalker_WDA_KatieHill_000.mp4"
    default = analyze_video(path, AnalysisOptions(model_dir=model_dir))
    assert default["summary"]["blinks_per_minute"] == pytest.approx(2 * 60 / 8.0, abs=0.01)


def test_eyes_shut_for_seconds_read_closed_and_count_as_eyes_closing(model_dir: Path) -> None:
    analysis = analyze_video(VIDEOS_DIR / "liveportrait_driving_d3.mp4", AnalysisOptions(model_dir=model_dir))
    shut, wide = _eyes(analysis, 3.4, 5.2), _eyes(analysis, 5.6, 6.8)
    assert sum(e < 0.3 for e in shut) >= 0.8 * len(shut) and len(shut) >= 9, shut
    assert min(wide) > 0.9, wide
    assert analysis["faces"][0]["blinks_per_minute"] == 0.0, "seconds with the eyes shut are no blink"


def test_openness_is_against_the_face_s_usual_lids() -> None:
    """Two faces, one with narrow eyes: the same share of their usual gap reads the same openness."""
    narrow = [(0.16, 0.17)] * 8 + [(0.08, 0.08), None, (0.16 * 0.65, 0.17 * 0.65)]
    wide = [(0.28, 0.30)] * 8 + [(0.14, 0.15), None, (0.28 * 0.65, 0.30 * 0.65)]
    a, b = relative_openness(narrow), relative_openness(wide)
    assert a[0] == b[0] == (1.0, 1.0)
    assert a[9] is None and b[9] is None
    assert a[8] is not None and max(a[8]) < 0.3, "half the usual gap reads closed"
    expected = (0.65 - CLOSED_SHARE) / (OPEN_SHARE - CLOSED_SHARE)
    assert a[10] == pytest.approx((expected, expected), abs=0.01) and b[10] == pytest.approx(a[10], abs=0.01)
    assert relative_openness([None, None]) == [None, None]


def test_tiny_or_missing_eyes_are_not_read(model_dir: Path) -> None:
    reader = EyelidReader(model_dir)
    frame = np.full((120, 160, 3), 128, np.uint8)
    points = np.zeros((468, 3))
    points[[33, 133, 362, 263], 0] = [50, 54, 60, 64]  # eyes 4 px wide
    assert reader.lids(frame, [None, points]) == [None, None]
    assert reader.lids(frame, []) == []
