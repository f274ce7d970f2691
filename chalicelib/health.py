"""Readiness of this deployment: can it analyse a video and serve the API right now?

Checks the ONNX models load, and that MongoDB, Redis and the uploads bucket answer. Each check reports
`ok` and, when not, the error; the status is 200 only when every check passes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from chalicelib.engine.errors import ModelError
from chalicelib.engine.expressions import OnnxExpressionClassifier
from chalicelib.observability import logger


def engine_health(model_dir: Path, classifier: str) -> tuple[int, dict[str, Any]]:
    """HTTP status and body: 200 when the classifier loads, 503 with the reason when it does not."""
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
