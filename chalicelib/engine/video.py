"""Probe a video file and decode upright frames at a target sample rate over any time range.

Decoding is the floor under everything else, so it does as little as it can: seek to the keyframe before
the range, ask the decoder to skip non-reference frames when samples are sparse, and convert to pixels only
the frames that become samples. Sample times lie on one global grid (k / sample_fps), so analysing a video
in segments yields exactly the samples of analysing it in one piece.

Uploads are untrusted. FFmpeg never sees a URL or a file name it could read as a protocol or a playlist:
the container is recognised from its first bytes against an allow-list (MP4/MOV/3GP, Matroska/WebM, AVI,
MPEG-TS/PS, FLV, ASF/WMV, Ogg) and that demuxer alone is forced, over a local file or a Python file object
(an S3 object read by ranges). HLS and other playlists, concat lists, SDP, `data:` and image sequences are
therefore refused as "not a video", and nothing in a file can make the decoder open a connection.

Browser recordings (MediaRecorder WebM) are "live" Matroska: no duration in the header, no seek index
(Cues), millisecond timestamps at a variable frame rate, so FFmpeg reports no duration and a "rate" of
1000 fps (the time base). For such files the probe demuxes every packet once, decoding only the first
frame: duration, frame count and frame rate come from the packets' timestamps, and the keyframes FFmpeg
passes become `SeekPoint`s (a keyframe's time and the byte offset of the Matroska cluster holding it,
from FFmpeg's own index). A segment given a seek point starts demuxing at that cluster instead of letting
FFmpeg's seek read every cluster before it; it checks that it landed on a keyframe at or before its
first sample and otherwise seeks by time as for any other file. An offset only says where FFmpeg goes
on reading the same file object: the demuxer is still forced from the first bytes, no URL is opened.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol, cast

import av
import av.error
import cv2
import numpy as np

from chalicelib.engine.errors import FrameTooLarge, SourceUnavailable, VideoError, VideoTooLong
from chalicelib.engine.limits import Limits


class SeekableFile(Protocol):
    """What the decoder needs of a file object (`open(path, "rb")` and `S3ObjectReader` are ones)."""

    def read(self, size: int = ..., /) -> bytes | None: ...

    def seek(self, offset: int, whence: int = ..., /) -> int: ...

    def close(self) -> None: ...


#: A local path, or a function that opens a fresh seekable binary file object on each call.
Opener = Callable[[], SeekableFile]
VideoSource = str | Path | Opener

#: How many leading bytes decide the container.
_SNIFF_BYTES = 4096
_MP4_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot", b"uuid"}
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")


def sniff_container(head: bytes) -> str | None:
    """The FFmpeg demuxer for a file that starts with `head`, or None when it is not an allowed container."""
    if len(head) >= 12 and head[4:8] in _MP4_BOXES:
        return "mov"  # MP4, MOV, 3GP, M4V: one demuxer
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"  # Matroska and WebM
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(b"\x00\x00\x01\xba"):
        return "mpeg"  # MPEG program stream (.mpg, .vob)
    if head.startswith(b"FLV\x01"):
        return "flv"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "asf"  # WMV
    if head.startswith(b"OggS"):
        return "ogg"
    for size, offset in ((188, 0), (192, 4), (204, 0)):  # MPEG-TS, M2TS (Blu-ray/AVCHD), TS with FEC
        if len(head) >= offset + 2 * size + 1 and all(head[offset + k * size] == 0x47 for k in range(3)):
            return "mpegts"
    return None


def _not_a_video(name: str, head: bytes) -> VideoError:
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return VideoError(f"{name}: this is a still image, not a video")
    return VideoError(
        f"{name}: not a readable video "
        "(accepted: MP4, MOV, 3GP, Matroska/WebM, AVI, MPEG-TS/PS, FLV, WMV, Ogg)"
    )


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


@dataclass(frozen=True)
class SeekPoint:
    """Where decoding can start without reading what comes before: a keyframe at `time` seconds (`pts` in
    the stream's time base) and the byte offset `pos` of the Matroska cluster that holds it."""

    time: float
    pts: int
    pos: int

    def to_dict(self) -> dict[str, float | int]:
        return {"time": self.time, "pts": self.pts, "pos": self.pos}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SeekPoint:
        return cls(time=float(data["time"]), pts=int(data["pts"]), pos=int(data["pos"]))


#: A seek point serves a segment starting at least this long after it (the first sample may take a frame
#: up to half a frame interval before the segment's start).
SEEK_MARGIN = 0.1


def seek_point_before(points: tuple[SeekPoint, ...] | list[SeekPoint], start: float) -> SeekPoint | None:
    """The last seek point a segment starting at `start` can decode from (None: start at the beginning)."""
    if start <= 0:
        return None
    usable = [p for p in points if p.time <= start - SEEK_MARGIN]
    return max(usable, key=lambda p: p.time) if usable else None


def source_name(source: VideoSource) -> str:
    return "the video" if callable(source) else Path(source).name


class _Opened:
    """An open container over a local file or a file object, closing both; read errors of the file object
    (an S3 outage) surface as `SourceUnavailable` (retry), never as "not a video"."""

    def __init__(self, source: VideoSource) -> None:
        self.name = source_name(source)
        self.file: SeekableFile | None = None
        if callable(source):
            self.file = source()
            head = self.file.read(_SNIFF_BYTES) or b""
            self.file.seek(0)
            target: Any = self.file
        else:
            path = Path(source)
            if not path.is_file():
                raise VideoError(f"{path.name}: no such file")
            if path.stat().st_size == 0:
                raise VideoError(f"{path.name}: the file is empty")
            with path.open("rb") as file:
                head = file.read(_SNIFF_BYTES)
            target = "file:" + str(path.resolve())  # `file:` so no part of the name reads as a protocol
        if not head:
            self.close()
            raise VideoError(f"{self.name}: the file is empty")
        demuxer = sniff_container(head)
        if demuxer is None:
            self.close()
            raise _not_a_video(self.name, head)
        try:
            self.container = cast(
                av.container.InputContainer,
                av.open(target, mode="r", format=demuxer, options={"protocol_whitelist": "file"}),
            )
        except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
            self.close()
            raise self.read_error(exc) or VideoError(f"{self.name}: not a readable video") from exc
        except Exception:
            self.close()
            raise

    def read_error(self, exc: BaseException) -> SourceUnavailable | None:
        """The file object's own failure behind a decoder error, if there was one."""
        error = getattr(self.file, "error", None)
        if isinstance(error, SourceUnavailable):
            return error
        return exc if isinstance(exc, SourceUnavailable) else None

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def __enter__(self) -> _Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            container = getattr(self, "container", None)
            if container is not None:
                container.close()
        finally:
            self.close()


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


def _check_frame_size(name: str, width: int, height: int, limits: Limits) -> None:
    if width * height > limits.max_frame_pixels:
        raise FrameTooLarge(
            f"{name}: its frames are {width}x{height} pixels, more than the {limits.max_frame_pixels:,} "
            "pixels analysed per frame; export it at 4K or less"
        )


def probe(source: VideoSource, limits: Limits | None = None) -> VideoInfo:
    """Read a video's properties and prove it decodes; raise `VideoError` with a clear reason if not, and
    `FrameTooLarge`/`VideoTooLong` when it is beyond `limits`, before any costly decoding."""
    return probe_with_seek_points(source, limits)[0]


def probe_with_seek_points(
    source: VideoSource, limits: Limits | None = None
) -> tuple[VideoInfo, tuple[SeekPoint, ...]]:
    """`probe`, and the seek points of a recording without a seek index (empty when the container's own
    index serves, as in MP4 or Matroska with Cues).

    A container that declares no duration, or no frame rate but its time base (1000 "fps" for
    millisecond timestamps), is scanned: every packet demuxed once, none decoded but the first frame."""
    limits = limits or Limits()
    with _Opened(source) as opened:
        name, container = opened.name, opened.container
        if not container.streams.video:
            raise VideoError(f"{name}: not a video (no video stream)")
        stream = container.streams.video[0]
        _check_frame_size(name, stream.codec_context.width, stream.codec_context.height, limits)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        duration = _duration_seconds(container, stream)
        scan: _Scan | None = None
        if duration <= 0 or not rate or _is_time_base(rate, stream, limits):
            scan = _scan(opened, stream, limits, _declared_fps(stream, limits))
            duration, fps = scan.duration, scan.fps
        else:
            fps = float(rate)
        if fps > limits.max_fps:
            raise VideoError(
                f"{name}: {fps:.0f} frames per second is more than the {limits.max_fps:.0f} analysed"
            )
        if duration > limits.max_duration:
            raise _too_long(name, duration, limits)
        if scan is not None:
            first = scan.first
        else:
            try:
                first = next(container.decode(stream), None)
            except av.error.FFmpegError as exc:
                raise opened.read_error(exc) or VideoError(
                    f"{name}: the video data cannot be decoded"
                ) from exc
        if first is None:
            raise VideoError(f"{name}: the video has no decodable frames")
        _check_frame_size(name, first.width, first.height, limits)
        if scan is not None and scan.frames == 1:
            raise VideoError(f"{name}: a single frame is not a video")
        if duration <= 0 or fps <= 0:
            raise VideoError(f"{name}: the video has no duration or frame rate (a still image?)")
        rotation = _upright_rotation(first)
        width, height = first.width, first.height
        if rotation in (90, 270):
            width, height = height, width
        frames = scan.frames if scan is not None else stream.frames or round(duration * fps)
        if frames <= 1:
            raise VideoError(f"{name}: a single frame is not a video")
        info = VideoInfo(
            duration=round(duration, 3),
            fps=round(fps, 3),
            frame_count=int(frames),
            width=int(width),
            height=int(height),
            rotation=rotation,
            codec=stream.codec_context.name,
        )
        return info, scan.seek_points if scan is not None else ()


def _too_long(name: str, duration: float, limits: Limits, *, at_least: bool = False) -> VideoTooLong:
    return VideoTooLong(
        f"{name}: the video lasts {'more than ' if at_least else ''}{duration / 60:.1f} minutes; "
        f"the limit is {limits.max_duration / 60:.0f} minutes"
    )


def _declared_fps(stream: av.video.stream.VideoStream, limits: Limits) -> float | None:
    """The stream's frame rate as its header gives it, None when it gives none or only its time base."""
    rate = stream.average_rate or stream.guessed_rate
    return float(rate) if rate and not _is_time_base(rate, stream, limits) else None


def _is_time_base(rate: Fraction, stream: av.video.stream.VideoStream, limits: Limits) -> bool:
    """A "frame rate" that is only the time base's tick rate (1000 for Matroska's milliseconds), which
    FFmpeg reports for variable frame rate streams that declare no rate: not a rate at all."""
    if float(rate) <= limits.max_fps or stream.time_base is None:
        return False
    return stream.time_base == Fraction(1, 1000) or float(rate) >= 1 / float(stream.time_base)


@dataclass(frozen=True)
class _Scan:
    """What every packet of a stream tells when the header does not: timing, and where keyframes are."""

    first: av.VideoFrame | None
    frames: int
    duration: float
    fps: float
    seek_points: tuple[SeekPoint, ...]


def _scan(
    opened: _Opened, stream: av.video.stream.VideoStream, limits: Limits, declared_fps: float | None
) -> _Scan:
    """Demux every packet of `stream` (decoding only until the first frame): the duration is the last
    frame's time plus how long it stays on screen (a frame at the declared rate, else the interval
    before it, as `sample_frames` holds it), the rate the mean over the whole stream; it stops, too long,
    as soon as a packet lies beyond `limits.max_duration`."""
    name, container = opened.name, opened.container
    time_base = stream.time_base or Fraction(1, 1000)
    origin = stream.start_time or 0
    first: av.VideoFrame | None = None
    count, low, high, before_high = 0, None, None, None
    # No video within both limits has more frames (plus the demuxer's closing empty packet): a file that
    # does is refused as soon as it shows it, not after millions of tiny packets more.
    max_packets = limits.max_fps * limits.max_duration + 2
    packets = 0
    try:
        for packet in container.demux(stream):
            packets += 1
            if packets > max_packets:
                raise VideoError(
                    f"{name}: more than {max_packets - 2:.0f} frames, more than {limits.max_fps:.0f} frames "
                    f"per second over {limits.max_duration / 60:.0f} minutes"
                )
            if first is None:
                decoded = packet.decode()
                first = decoded[0] if decoded else None
            pts = packet.pts
            if pts is None:
                continue
            count += 1
            low = pts if low is None else min(low, pts)
            if high is None or pts > high:
                high, before_high = pts, high
            elif before_high is None or pts > before_high:
                before_high = pts
            if float((pts - origin) * time_base) > limits.max_duration:
                raise _too_long(opened.name, limits.max_duration, limits, at_least=True)
    except av.error.FFmpegError as exc:
        raise opened.read_error(exc) or VideoError(f"{name}: the video data cannot be decoded") from exc
    if count < 2 or low is None or high is None or before_high is None or high <= low:
        return _Scan(first, count, 0.0, 0.0, ())
    span = float((high - low) * time_base)
    shown = 1 / declared_fps if declared_fps else float((high - before_high) * time_base)
    duration = float((high - origin) * time_base) + shown
    return _Scan(first, count, duration, (count - 1) / span, _seek_points(container, stream, origin))


def _seek_points(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, origin: int
) -> tuple[SeekPoint, ...]:
    """The keyframes FFmpeg indexed while demuxing. Only Matroska's are used: its index positions are
    cluster starts, where demuxing can begin; other containers keep FFmpeg's own seek."""
    if "matroska" not in container.format.name:
        return ()
    time_base = stream.time_base or Fraction(1, 1000)
    points = {
        entry.timestamp: SeekPoint(float((entry.timestamp - origin) * time_base), entry.timestamp, entry.pos)
        for entry in stream.index_entries
        if entry.is_keyframe and entry.pos >= 0
    }
    return tuple(points[pts] for pts in sorted(points))


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
    source: VideoSource,
    start: float,
    end: float,
    sample_fps: float,
    *,
    skip_nonref: bool = True,
    limits: Limits | None = None,
    seek: SeekPoint | None = None,
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield `(t, upright BGR frame)` for each grid time in [start, end) that has a frame near it.

    The frame used for grid time t is the first decoded frame at or after t (within half a video frame
    before it); a grid time with no frame within half a sample interval (a gap in variable frame rate
    video) is skipped rather than filled with a stale picture. A frame larger than `limits` allow (the
    stream changed size midway) stops decoding with `FrameTooLarge`. `seek` (from
    `probe_with_seek_points`) lets a recording without a seek index start at its keyframe's cluster.
    """
    if sample_fps <= 0:
        raise ValueError("sample_fps must be positive")
    limits = limits or Limits()
    targets = sample_times(start, end, sample_fps)
    if not targets:
        return
    with _Opened(source) as opened:
        name, container = opened.name, opened.container
        if not container.streams.video:
            raise VideoError(f"{name}: not a video (no video stream)")
        stream = container.streams.video[0]
        _check_frame_size(name, stream.codec_context.width, stream.codec_context.height, limits)
        stream.thread_type = "SLICE"
        stream.codec_context.thread_count = 1
        time_base = stream.time_base or Fraction(1, 1000)
        # No rate, or only the time base's (variable frame rate): the timestamps alone place the frames.
        video_fps = _declared_fps(stream, limits)
        if skip_nonref and (video_fps is None or sample_fps * 2 < video_fps):
            stream.codec_context.skip_frame = "NONREF"
        start_pts = stream.start_time or 0
        frame_eps = 0.5 / video_fps if video_fps else 0.5 * float(time_base)
        max_gap = max(0.5 / sample_fps, 1.5 / video_fps) if video_fps else 0.5 / sample_fps
        k = 0
        previous: tuple[float, av.VideoFrame] | None = None
        interval = 1.0 / video_fps if video_fps else 0.0  # how long the last frame stays on screen
        last_t: float | None = None
        try:
            frames = (
                _decoded_from(container, stream, targets[0] - frame_eps, start_pts, seek)
                if targets[0] > 0
                else container.decode(stream)
            )
            for frame in frames:
                if frame.pts is None:
                    continue
                _check_frame_size(name, frame.width, frame.height, limits)
                t = float((frame.pts - start_pts) * time_base)
                if video_fps is None and last_t is not None and t > last_t:
                    interval = t - last_t
                last_t = t
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
                if previous and k < len(targets) and targets[k] - previous[0] < interval:
                    yield targets[k], _upright_pixels(previous[1])
        except av.error.FFmpegError as exc:
            raise opened.read_error(exc) or VideoError(
                f"{name}: the video data is corrupt near {targets[min(k, len(targets) - 1)]:.1f}s"
            ) from exc


def _decoded_from(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    before: float,
    start_pts: int,
    seek: SeekPoint | None,
) -> Iterator[av.VideoFrame]:
    """Frames decoded from a keyframe at or before `before` seconds.

    With a seek point, demuxing starts at its cluster (a byte offset: Matroska without Cues, where
    FFmpeg's own seek reads every cluster before the target) and decoding at the first keyframe there.
    If that keyframe is not at or before `before` (the file is not the one probed), FFmpeg seeks by time.
    """
    time_base = stream.time_base or Fraction(1, 1000)
    keyframe: av.Packet | None = None
    if seek is not None and seek.time <= before:
        try:
            container.seek(seek.pos, unsupported_byte_offset=True)
            packets = container.demux(stream)
            for packet in packets:
                if packet.pts is None:
                    continue
                if float((packet.pts - start_pts) * time_base) > before:
                    break  # landed after the first sample: no usable keyframe here
                if packet.is_keyframe:
                    keyframe = packet
                    break
        except av.error.FFmpegError:
            keyframe = None  # an offset past the end, or into nothing readable
    if keyframe is not None:
        yield from keyframe.decode()
        for packet in packets:
            yield from packet.decode()
        return
    container.seek(start_pts + int(before / time_base), stream=stream, backward=True)
    yield from container.decode(stream)
