"""One registry of failure codes (chalicelib/failures.py): the API contract, the web app's copy and every
place the code fails a video name the same codes."""

from __future__ import annotations

import ast
import json

import yaml

from chalicelib import failures
from chalicelib.failures import FAILURE_CODES, FAILURES, failure_reason, retryable
from chalicelib.settings import PROJECT_ROOT


def test_the_web_apps_copy_is_the_registry() -> None:
    copy = PROJECT_ROOT / failures.FRONTEND_COPY
    assert copy.read_text() == failures.as_json(), (
        f"{failures.FRONTEND_COPY} is out of date: run `.venv/bin/python -m chalicelib.failures > "
        f"{failures.FRONTEND_COPY}`"
    )
    codes = json.loads(copy.read_text())["codes"]
    assert list(codes) == list(FAILURE_CODES)
    assert {code: entry["retryable"] for code, entry in codes.items()} == FAILURES


def test_the_contract_lists_exactly_the_registrys_codes() -> None:
    spec = yaml.safe_load((PROJECT_ROOT / "docs" / "openapi.yaml").read_text())
    assert spec["components"]["schemas"]["Video"]["properties"]["error_code"]["enum"] == list(FAILURE_CODES)


def test_the_web_apps_types_take_the_codes_from_the_copy() -> None:
    types = (PROJECT_ROOT / "frontend" / "src" / "api" / "types.ts").read_text()
    assert "from './failures.json'" in types and "error_code?: FailureCode;" in types


def _codes_passed_to_mark_failed() -> list[tuple[str, int, str]]:
    """(file, line, code) of every `....mark_failed(video, reason, "code", ...)` with a literal code."""
    found = []
    for path in [PROJECT_ROOT / "app.py", *sorted((PROJECT_ROOT / "chalicelib").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "mark_failed"
                and len(node.args) >= 3
                and isinstance(node.args[2], ast.Constant)
            ):
                found.append((str(path.relative_to(PROJECT_ROOT)), node.lineno, str(node.args[2].value)))
    return found


def test_every_code_the_service_fails_a_video_with_is_registered() -> None:
    used = _codes_passed_to_mark_failed()
    assert {code for _, _, code in used} >= {"wrong_name", "size_mismatch", "start_failed", "interrupted"}
    unknown = [f"{path}:{line}: {code}" for path, line, code in used if code not in FAILURES]
    assert not unknown, "add these codes to chalicelib/failures.py:\n" + "\n".join(unknown)
    reasons = [
        {"Error": name} for name in ("VideoError", "FrameTooLarge", "VideoTooLong", "QuotaExceeded", "X")
    ]
    reasons += [{"Error": "States.Timeout"}, {"Error": "TransientError"}, {"Error": "ClientError"}]
    assert all(failure_reason(r)[0] in FAILURES for r in reasons)


def test_only_failures_of_the_service_are_retryable() -> None:
    for name, code in (("VideoError", "unreadable_video"), ("FrameTooLarge", "frame_too_large")):
        got, _ = failure_reason({"Error": name, "Cause": '{"errorMessage": "x: not a readable video"}'})
        assert got == code and not retryable(got)
    for name in ("TransientError", "States.Timeout", "Lambda.Unknown"):
        got, _ = failure_reason({"Error": name})
        assert retryable(got), name
    assert retryable(None) and set(FAILURES) == set(FAILURE_CODES)
