"""Rewrite one measured section of docs/benchmarks.md, between `<!-- bench:NAME:begin/end -->` markers."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"


def write_section(name: str, heading: str, body: str) -> None:
    """`body` must start with the begin marker and end with the end marker of `name`."""
    begin, end = markers(name)
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\n"
    if begin in text:
        head, rest = text.split(begin, 1)
        text = head + body + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + f"\n\n## {heading}\n\n" + body + "\n"
    DOC.write_text(text)
