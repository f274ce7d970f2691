"""All configuration, read from environment variables in one place.

Defaults make the project run on one machine with no set-up; the cloud overrides them through the
Lambda environment (Terraform) or Powertools Parameters.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


@dataclass(frozen=True)
class EngineSettings:
    """Settings of the analysis engine (the segment and merge steps)."""

    model_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("EMOTIONFY_MODEL_DIR", PROJECT_ROOT / "model" / "onnx"))
    )
    sample_fps: float = field(default_factory=lambda: _env_float("EMOTIONFY_SAMPLE_FPS", 5.0))
    segment_seconds: float = field(default_factory=lambda: _env_float("EMOTIONFY_SEGMENT_SECONDS", 30.0))
    max_segments: int = field(default_factory=lambda: _env_int("EMOTIONFY_MAX_SEGMENTS", 200))
    classifier: str = field(default_factory=lambda: os.environ.get("EMOTIONFY_CLASSIFIER", "ensemble"))
    detector: str = field(default_factory=lambda: os.environ.get("EMOTIONFY_DETECTOR", "haar"))


def engine_settings() -> EngineSettings:
    return EngineSettings()
