"""Errors the engine raises. Input errors' messages are meant for the person who sent the video; they never
carry decoder internals (an FFmpeg error text can describe the decoder's environment)."""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error caused by the input rather than by a bug."""


class VideoError(EngineError):
    """The file is not a decodable video (empty, truncated, an image, a playlist, text renamed .mp4...)."""


class FrameTooLarge(VideoError):
    """The video's frames have more pixels than the analysis accepts (bounded memory per worker)."""


class VideoTooLong(VideoError):
    """The video lasts longer than the analysis accepts."""


class ModelError(EngineError):
    """The expression models are missing or unreadable (run `make models`)."""


class SourceUnavailable(Exception):
    """The video's bytes could not be read right now (storage unreachable or throttling): try again.

    Not an `EngineError`: nothing is wrong with the video, and the pipeline retries this one."""
