"""One registry of failure codes (chalicelib/failures.py): the API contract and the web app say the same."""

from __future__ import annotations

import re

import yaml

from chalicelib.failures import FAILURE_CODES, FAILURES, failure_reason, retryable
from chalicelib.settings import PROJECT_ROOT


def test_the_contract_and_the_web_app_know_every_failure_code() -> None:
    spec = yaml.safe_load((PROJECT_ROOT / "docs" / "openapi.yaml").read_text())
    assert spec["components"]["schemas"]["Video"]["properties"]["error_code"]["enum"] == list(FAILURE_CODES)
    types = (PROJECT_ROOT / "frontend" / "src" / "api" / "types.ts").read_text()
    union = re.search(r"error_code\?:([^;]*);", types)
    assert union is not None
    assert re.findall(r"'([a-z_]+)'", union.group(1)) == list(FAILURE_CODES)
    messages = (PROJECT_ROOT / "frontend" / "src" / "i18n" / "messages.ts").read_text()
    for code in FAILURE_CODES:
        assert messages.count(f"'videoError.{code}'") == 2, f"{code}: one message in English, one in Spanish"


def test_only_failures_of_the_service_are_retryable() -> None:
    for name, code in (("VideoError", "unreadable_video"), ("FrameTooLarge", "frame_too_large")):
        got, _ = failure_reason({"Error": name, "Cause": '{"errorMessage": "x: not a readable video"}'})
        assert got == code and not retryable(got)
    for name in ("TransientError", "States.Timeout", "Lambda.Unknown"):
        got, _ = failure_reason({"Error": name})
        assert retryable(got), name
    assert retryable(None) and set(FAILURES) == set(FAILURE_CODES)
