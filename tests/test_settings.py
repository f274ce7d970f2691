"""Every setting the code reads is documented in .env.example (and nothing there is stale)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_env_example_documents_exactly_the_settings_read() -> None:
    source = (ROOT / "chalicelib" / "settings.py").read_text()
    read = set(re.findall(r"""_env(?:_int|_float)?\(\s*"([A-Z0-9_]+)\"""", source))
    read |= set(re.findall(r"""os\.environ\.get\(\s*"([A-Z0-9_]+)\"""", source))
    documented = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert read, "no settings found: the pattern is out of date"
    assert read - {"AWS_DEFAULT_REGION"} == documented, {
        "read but undocumented": sorted(read - documented - {"AWS_DEFAULT_REGION"}),
        "documented but never read": sorted(documented - read),
    }
