"""Probe a video file and decode upright frames at a target sample rate over any time range.

Decoding is the floor under everything else, so it does as little as it can: seek to the keyframe before
the range, ask the decoder to skip non-reference frames when samples are sparse, and convert to pixels only
the frames that become samples. Sample times lie on one global grid (k / sample_fps), so analysing a video
in segments yields exactly the samples of analysing it in one piece.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
import cv2
import numpy as np

from chalicelib.engine.errors import VideoError

#: Demuxers that open still images; a picture renamed .mp4 is not a video.
_IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "gif", "tiff_pipe"}


@dataclass(frozen=True)
class VideoInfo:
    """What the pipeline needs to know about a video before analysing it.

    `width`/`height` are of the upright picture (after `rotation`, in degrees clockwise, is applied).
    """

    duration: float
    fps: float
    frame_count: int
    width: int
    height: int
    rotation: int
    codec: str


def _is_url(path: str | Path) -> bool:
    return isinstance(path, str) and path.startswith(("http://", "https://"))


def _open(path: str | Path) -> av.container.InputContainer:
    """Open a local file, or an HTTP(S) URL (a presigned S3 GET: FFmpeg reads it with range requests, so a
    segment step fetches only the part of the video it analyses)."""
    if _is_url(path):
        try:
            return av.open(str(path), mode="r", timeout=(10.0, 30.0))
        except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
            raise VideoError(f"the uploaded object is not a readable video ({_reason(exc)})") from exc
    file = Path(path)
    if not file.is_file():
        raise VideoError(f"{file}: no such file")
    if file.stat().st_size == 0:
        raise VideoError(f"{file.name}: the file is empty")
    try:
        return av.open(str(file), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise VideoError(f"{file.name}: not a readable video ({_reason(exc)})") from exc


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[0].strip() or type(exc).__name__


def _upright_rotation(frame: av.VideoFrame) -> int:
    """Degrees clockwise to turn a decoded frame so it displays upright (0, 90, 180 or 270)."""
    display_ccw = round(getattr(frame, "rotation", 0) or 0)
    return (-display_ccw) % 360


def rotate_upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """Apply a clockwise rotation of 0/90/180/270 degrees."""
    if rotation == 90:
        return cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    if rotation == 180:
        return cv2.rotate(image, cv2.ROTATE_180)
    if rotation == 270:
        return cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return image


def _upright_pixels(frame: av.VideoFrame) -> np.ndarray:
    return rotate_upright(frame.to_ndarray(format="bgr24"), _upright_rotation(frame))


def probe(path: str | Path) -> VideoInfo:
    """Read a video's properties and prove it decodes; raise `VideoError` with a clear reason if not."""
    name = "the video" if _is_url(path) else Path(path).name
    with _open(path) as container:
        if container.format.name in _IMAGE_FORMATS:
            raise VideoError(f"{name}: this is a still image, not a video")
        if not container.streams.video:
            raise VideoError(f"{name}: not a video (no video stream)")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        duration = _duration_seconds(container, stream)
        try:
            first = next(container.decode(stream), None)
        except av.error.FFmpegError as exc:
            raise VideoError(f"{name}: the video data cannot be decoded ({_reason(exc)})") from exc
        if first is None:
            raise VideoError(f"{name}: the video has no decodable frames")
        if duration <= 0 or fps <= 0:
            raise VideoError(f"{name}: the video has no duration or frame rate (a still image?)")
        rotation = _upright_rotation(first)
        width, height = first.width, first.height
        if rotation in (90, 270):
            width, height = height, width
        frames = stream.frames or round(duration * fps)
        if frames <= 1:
            raise VideoError(f"{name}: a single frame is not a video")
        return VideoInfo(
            duration=round(duration, 3),
            fps=round(fps, 3),
            frame_count=int(frames),
            width=int(width),
            height=int(height),
            rotation=rotation,
            codec=stream.codec_context.name,
        )


def _duration_seconds(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def sample_times(start: float, end: float, sample_fps: float) -> list[float]:
    """The global sample grid k / sample_fps restricted to [start, end)."""
    first = math.ceil(start * sample_fps - 1e-9)
    last = math.ceil(end * sample_fps - 1e-9)  # exclusive
    return [round(k / sample_fps, 4) for k in range(first, last)]


def sample_frames(
    path: str | Path, start: float, end: float, sample_fps: float, *, skip_nonref: bool = True
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield `(t, upright BGR frame)` for each grid time in [start, end) that has a frame near it.

    The frame used for grid time t is the first decoded frame at or after t (within half a video frame
    before it); a grid time with no frame within half a sample interval (a gap in variable frame rate
    video) is skipped rather than filled with a stale picture.
    """
    if sample_fps <= 0:
        raise ValueError("sample_fps must be positive")
    targets = sample_times(start, end, sample_fps)
    if not targets:
        return
    name = "the video" if _is_url(path) else Path(path).name
    with _open(path) as container:
        if not container.streams.video:
            raise VideoError(f"{name}: not a video (no video stream)")
        stream = container.streams.video[0]
        stream.thread_type = "SLICE"
        stream.codec_context.thread_count = 1
        rate = stream.average_rate or stream.guessed_rate
        video_fps = float(rate) if rate else 30.0
        if skip_nonref and sample_fps * 2 < video_fps:
            stream.codec_context.skip_frame = "NONREF"
        time_base = stream.time_base or Fraction(1, 1000)
        start_pts = stream.start_time or 0
        if targets[0] > 0:
            container.seek(start_pts + int(targets[0] / time_base), stream=stream, backward=True)
        frame_eps = 0.5 / video_fps
        max_gap = max(0.5 / sample_fps, 1.5 / video_fps)
        k = 0
        previous: tuple[float, av.VideoFrame] | None = None
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                t = float((frame.pts - start_pts) * time_base)
                while k < len(targets) and t - targets[k] > max_gap:
                    k += 1  # no frame near these grid times
                if k == len(targets) or t >= end:
                    break
                if t < targets[k] - frame_eps:
                    previous = (t, frame)
                    continue
                yield targets[k], _upright_pixels(frame)
                k += 1
            else:
                # The stream ended: the last frame is still on screen for one frame interval.
                if previous and k < len(targets) and targets[k] - previous[0] < 1.0 / video_fps:
                    yield targets[k], _upright_pixels(previous[1])
        except av.error.FFmpegError as exc:
            raise VideoError(
                f"{name}: the video data is corrupt near {targets[min(k, len(targets) - 1)]:.1f}s "
                f"({_reason(exc)})"
            ) from exc
