"""Readiness of this deployment: can it analyse a video right now?

The backend issue extends this with MongoDB, Redis and S3 reachability; for now the engine's own needs
are checked: the ONNX models exist and load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chalicelib.engine.errors import ModelError
from chalicelib.engine.expressions import OnnxExpressionClassifier


def engine_health(model_dir: Path, classifier: str) -> tuple[int, dict[str, Any]]:
    """HTTP status and body: 200 when the classifier loads, 503 with the reason when it does not."""
    try:
        loaded = OnnxExpressionClassifier(model_dir, classifier)
    except ModelError as exc:
        return 503, {"status": "unavailable", "checks": {"models": {"ok": False, "error": str(exc)}}}
    return 200, {"status": "ok", "checks": {"models": {"ok": True, "classifier": loaded.version}}}
