"""Readiness of this deployment: can it analyse a video and serve the API right now?

Checks the ONNX models load, and that MongoDB, Redis and the uploads bucket answer. Each check reports
`ok` and, when not, the error; the status is 200 only when every check passes.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chalicelib.observability import logger

#: The engine's native packages: in the pipeline image and on a developer's machine, not in the zip
#: functions (API, authorizer, upload event), which must import without them.
ENGINE_PACKAGES = ("numpy", "cv2", "av", "onnxruntime")


def engine_installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ENGINE_PACKAGES)


def engine_health(model_dir: Path, classifier: str) -> tuple[int, dict[str, Any]]:
    """HTTP status and body: 200 when the classifier loads, 503 with the reason when it does not."""
    from chalicelib.engine.errors import ModelError
    from chalicelib.engine.expressions import OnnxExpressionClassifier

    try:
        loaded = OnnxExpressionClassifier(model_dir, classifier)
    except ModelError as exc:
        return 503, {"status": "unavailable", "checks": {"models": {"ok": False, "error": str(exc)}}}
    return 200, {"status": "ok", "checks": {"models": {"ok": True, "classifier": loaded.version}}}


def service_health(checks: dict[str, Callable[[], Any]]) -> tuple[int, dict[str, Any]]:
    """Run each named probe; a probe passes when it returns without raising. The answer is public, so it
    names the kind of failure only; the details (hosts, paths) go to the log."""
    results: dict[str, Any] = {}
    for name, probe in checks.items():
        try:
            probe()
            results[name] = {"ok": True}
        except Exception as exc:
            logger.warning(
                "health check failed", extra={"check": name, "error": f"{type(exc).__name__}: {exc}"}
            )
            results[name] = {"ok": False, "error": type(exc).__name__}
    healthy = all(r["ok"] for r in results.values())
    return (200 if healthy else 503), {"status": "ok" if healthy else "unavailable", "checks": results}
