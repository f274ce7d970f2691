"""The one duration rule shared by the CLI and the web app: cut to whole seconds, as video players do."""

from __future__ import annotations

import math

import pytest

from chalicelib.engine.report import format_duration, to_html


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (33.6, "0:33"),  # liveportrait d6: the browser player shows 0:33; rounding would say 0:34
        (33.999, "0:33"),
        (34.0, "0:34"),
        (3.003, "0:03"),
        (59.9, "0:59"),
        (75.0, "1:15"),
        (3599.9, "59:59"),
        (3600.0, "1:00:00"),
        (3723.4, "1:02:03"),
        (0.7 - 0.4 + 0.7, "0:01"),  # 0.9999999999999999 is 1 s, not cut to 0
        (0.0, "0:00"),
        (-2.0, "0:00"),
        (math.nan, "0:00"),
    ],
)
def test_format_duration_cuts_to_whole_seconds(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown


def test_the_html_report_shows_the_duration_by_the_same_rule() -> None:
    analysis = {
        "format": 2,
        "video": {"duration": 33.6, "fps": 30.0, "width": 4, "height": 4, "rotation": 0, "codec": "h264"},
        "labels": ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
        "timeline": [{"t": 0.0, "faces": 0}],
        "faces": [],
        "summary": {
            "dominant": None,
            "distribution": {},
            "face_presence": 0.0,
            "valence": 0.0,
            "expressiveness": 0.0,
            "key_moments": [],
        },
        "model": {"backend": "onnx", "version": "calibrated/1", "detector": "blazeface", "sample_fps": 5.0},
        "segments": 1,
    }
    page = to_html(analysis, "d6.mp4")
    assert "0:33" in page
    assert "33.6 s" not in page
