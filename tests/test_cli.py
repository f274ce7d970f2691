"""`emotionfy analyze`: the reports it writes, and a one-line error with exit code 2 for bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from chalicelib.engine.labels import LABELS
from chalicelib.engine.smoothing import SMOOTHING_POOLING, SMOOTHING_SECONDS
from tests.synthetic import FER_DIR, VIDEOS_DIR


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", *args], capture_output=True, text=True, timeout=600
    )


def test_analyze_writes_json_csv_and_html(tmp_path: Path, model_dir: Path) -> None:
    video = VIDEOS_DIR / "sadtalker_WDA_KatieHill_000.mp4"
    out_json, out_csv, out_html = tmp_path / "a.json", tmp_path / "a.csv", tmp_path / "r" / "a.html"
    result = _run(
        "analyze",
        str(video),
        "--segment-seconds",
        "3",
        "--workers",
        "2",
        "--json",
        str(out_json),
        "--csv",
        str(out_csv),
        "--html",
        str(out_html),
    )
    assert result.returncode == 0, result.stderr
    assert "3/3 segments" in result.stderr  # the progress bar reached the end
    assert "dominant" in result.stdout

    analysis = json.loads(out_json.read_text())
    assert set(analysis) >= {"video", "labels", "timeline", "faces", "summary", "model"}
    assert analysis["segments"] == 3
    assert analysis["model"] == {
        "backend": "onnx",
        "version": "calibrated/1",
        "detector": "blazeface",
        "crop": "aligned",
        "sample_fps": 5.0,
        "smoothing": {
            "filter": "two-sided exponential",
            "pooling": SMOOTHING_POOLING,
            "tau": SMOOTHING_SECONDS,
        },
    }
    assert set(analysis["summary"]) >= {
        "dominant",
        "distribution",
        "face_presence",
        "valence",
        "expressiveness",
        "key_moments",
        "looking_away",  # the face mesh is on by default: gaze and blinks are summarised
        "blinks_per_minute",
    }
    assert all("blinks_per_minute" in face for face in analysis["faces"])

    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == len(analysis["timeline"]) == 40
    assert list(rows[0]) == ["t", "faces", *LABELS, "dominant"]
    assert float(rows[5]["t"]) == analysis["timeline"][5]["t"]

    page = out_html.read_text()
    assert "<script src" not in page and "http://" not in page.replace("http://www.w3.org", "")
    assert json.dumps(analysis["timeline"][0]["t"]) in page and "mousemove" in page
    assert 'id="reactions"' in page and "Attention" in page, "the reactions chart and the attention card"
    assert "Looking away" in page and "Blinks per minute" in page and "lower bound at 5 samples/s" in page


def test_time_ticks_are_round_and_end_inside_the_video() -> None:
    from chalicelib.engine.report import time_ticks

    assert time_ticks(10.0) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert time_ticks(33.6) == [0, 5, 10, 15, 20, 25, 30]
    assert time_ticks(3.0) == [0, 0.5, 1, 1.5, 2, 2.5, 3]
    assert time_ticks(600.0)[-1] == 600 and len(time_ticks(600.0)) <= 11


def test_bad_input_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    image = tmp_path / "face.mp4"
    image.write_bytes((FER_DIR / "happy/PublicTest_10130075.jpg").read_bytes())
    for path in (text, image, tmp_path / "missing.mp4"):
        result = _run("analyze", str(path))
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("emotionfy: error:"), result.stderr
        assert "Traceback" not in result.stderr


def test_bad_options_are_refused() -> None:
    result = _run("analyze", str(VIDEOS_DIR / "openmpf_face_video_01.mp4"), "--fps", "0")
    assert result.returncode == 2
    assert "--fps" in result.stderr
