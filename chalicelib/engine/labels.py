"""The one label set the whole project speaks, and how expressions roll up into summary numbers."""

from __future__ import annotations

LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

#: Expressions counted as positive and negative when computing valence (surprise and neutral are neither).
POSITIVE: frozenset[str] = frozenset({"happy"})
NEGATIVE: frozenset[str] = frozenset({"angry", "disgust", "fear", "sad"})
#: The reactions read from faces (chalicelib/engine/reactions.py), in the order charts show them.
REACTIONS = ("interest", "boredom", "confusion", "smile")
