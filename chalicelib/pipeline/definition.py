"""The one state machine definition: the ASL file with `${..._function_arn}` placeholders.

Terraform renders it with `templatefile` and real Lambda ARNs; the local runner renders it with moto's.
`FUNCTIONS` maps each placeholder to the Chalice `@app.lambda_function` name that implements it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ASL_PATH = Path(__file__).with_name("state_machine.asl.json")

FUNCTIONS = {
    "probe_function_arn": "pipeline_probe",
    "analyze_segment_function_arn": "pipeline_analyze_segment",
    "merge_function_arn": "pipeline_merge",
    "mark_failed_function_arn": "pipeline_mark_failed",
}
_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")


def placeholders(text: str | None = None) -> set[str]:
    return set(_PLACEHOLDER.findall(text if text is not None else ASL_PATH.read_text()))


def render(arns: dict[str, str]) -> str:
    """The definition with every placeholder replaced; a missing ARN is an error, not an empty string."""
    text = ASL_PATH.read_text()
    missing = placeholders(text) - set(arns)
    if missing:
        raise KeyError(f"no ARN for {', '.join(sorted(missing))}")
    rendered = _PLACEHOLDER.sub(lambda m: arns[m.group(1)], text)
    json.loads(rendered)
    return rendered
