"""Why an analysis failed: one registry of stable codes a client can translate, which of them a retry can
fix, and the sentence for the person who uploaded the video (from the state machine's caught error).

No engine imports: the API reads this to tell clients whether to offer "try again". The web app reads the
same registry from `frontend/src/api/failures.json`, written by `python -m chalicelib.failures` (and
checked against this module by tests/test_failures.py), and docs/openapi.yaml's `error_code` enum is checked
against it too.
"""

from __future__ import annotations

import json
from typing import Any

#: code -> can analysing the same upload again succeed?
FAILURES: dict[str, bool] = {
    "unreadable_video": False,
    "frame_too_large": False,
    "video_too_long": False,
    "size_mismatch": False,
    "wrong_name": False,
    "quota_exceeded": True,
    "too_long": True,
    "service_unavailable": True,
    "aws_refused": True,
    "start_failed": True,
    "interrupted": True,
    "unexpected": True,
}
FAILURE_CODES = tuple(FAILURES)

#: Error names (exception class names, as Step Functions reports them) whose message is for people.
_INPUT_ERRORS = {
    "VideoError": "unreadable_video",
    "FrameTooLarge": "frame_too_large",
    "VideoTooLong": "video_too_long",
    "QuotaExceeded": "quota_exceeded",
}


#: Where the web app reads the registry (relative to the project root).
FRONTEND_COPY = "frontend/src/api/failures.json"


def as_json() -> str:
    """The registry for the web app: its codes in order (the TypeScript type `FailureCode` is their keys)."""
    document = {
        "source": f"chalicelib/failures.py (python -m chalicelib.failures > {FRONTEND_COPY})",
        "codes": {code: {"retryable": can_retry} for code, can_retry in FAILURES.items()},
    }
    return json.dumps(document, indent=2) + "\n"


def retryable(code: str | None) -> bool:
    return FAILURES.get(code or "unexpected", True)


def failure_reason(error: dict[str, Any] | None) -> tuple[str, str]:
    """A code and a sentence for the person who uploaded the video, from the state machine's caught error."""
    error = error or {}
    name = str(error.get("Error", ""))
    try:
        cause = json.loads(error.get("Cause") or "{}")
    except ValueError:
        cause = {}
    message = cause.get("errorMessage") if isinstance(cause, dict) else None
    if name in _INPUT_ERRORS and message:
        return _INPUT_ERRORS[name], str(message)
    if name in ("States.Timeout", "Sandbox.Timedout") or name.startswith("Runtime."):
        return (
            "too_long",
            "the analysis ran out of time or memory and was stopped; try a shorter or smaller video",
        )
    if name == "TransientError":
        return (
            "service_unavailable",
            "a service the analysis needs was unavailable; try again in a few minutes",
        )
    if name == "ClientError":
        return (
            "aws_refused",
            "an AWS service refused a request of the analysis; try again, or choose the ONNX backend",
        )
    return "unexpected", f"the analysis failed unexpectedly ({name or 'unknown error'}); try again"


if __name__ == "__main__":
    print(as_json(), end="")
