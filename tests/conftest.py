"""Shared fixtures: the built models, the fixture data, and the analysis of each fixture video (once)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chalicelib.engine.segment import AnalysisOptions
from tests.synthetic import FER_DIR, FIXTURES, VIDEOS_DIR

FIXTURE_VIDEOS = sorted(VIDEOS_DIR.glob("*.mp4"))


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The ONNX models, built by the project's own build step (cached: a no-op when up to date)."""
    from model.build import build

    paths = build()
    return paths[0].parent


@pytest.fixture(scope="session")
def options(model_dir: Path) -> AnalysisOptions:
    return AnalysisOptions(sample_fps=5.0, classifier="ensemble", model_dir=model_dir)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    assert FIXTURES.is_dir(), f"test fixtures missing at {FIXTURES} (../shared/fixtures beside the checkout)"
    return FIXTURES


@pytest.fixture(scope="session")
def fer_dir(fixtures_dir: Path) -> Path:
    return FER_DIR


@pytest.fixture(scope="session")
def fixture_analyses(options: AnalysisOptions) -> dict[str, dict[str, Any]]:
    """Every fixture video analysed once, whole, in 10 s segments (shared by several tests)."""
    from chalicelib.engine.runner import analyze_video

    return {p.name: analyze_video(p, options, segment_seconds=10.0) for p in FIXTURE_VIDEOS}
