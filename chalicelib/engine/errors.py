"""Errors the engine raises for bad input: their message is meant for the person who sent the video."""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error caused by the input rather than by a bug."""


class VideoError(EngineError):
    """The file is not a decodable video (empty, truncated, an image, text renamed .mp4...)."""


class ModelError(EngineError):
    """The expression models are missing or unreadable (run `make models`)."""
