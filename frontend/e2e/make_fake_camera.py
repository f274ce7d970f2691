"""Write a fake webcam for Chromium: a fixture face video as a YUV4MPEG2 (.y4m) file.

Chromium plays such a file as its camera with `--use-fake-device-for-media-stream
--use-file-for-fake-video-capture=<file>.y4m`, so a browser journey can record a viewer's face. Chromium's
reader wants exactly: a header line of at most 200 bytes (W, H, F, I, A, C tokens; C one of 420, 420jpeg,
420mpeg2, 420paldv), then frames of `FRAME\\n` followed by the I420 planes (Y, then U, then V at half
size), and it loops at the end of the file.

    .venv/bin/python frontend/e2e/make_fake_camera.py /tmp/fake-camera.y4m [--seconds 20] [--fps 15]

The file is large (640x480 at 15 fps: 6.9 MB a second) and made from fixture footage of real people, so
it must stay out of git: a path inside the repository that git would not ignore is refused (`.local/` is
ignored).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = REPO.parent / "shared" / "fixtures" / "videos" / "liveportrait_driving_d6.mp4"
#: The background around the (square) fixture picture: a plain wall.
WALL = (96, 104, 112)


def header(width: int, height: int, fps: int) -> bytes:
    """The stream header: progressive, square pixels, 4:2:0 with JPEG chroma siting."""
    return f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii")


def source_frames(source: Path) -> Iterator[tuple[float, np.ndarray]]:
    """(time in seconds, BGR frame) of the source, looped for ever."""
    offset = 0.0
    while True:
        with av.open(str(source)) as container:
            stream = container.streams.video[0]
            rate, last = float(stream.average_rate or 30), None
            for frame in container.decode(stream):
                if frame.pts is None or stream.time_base is None:
                    continue
                last = float(frame.pts * stream.time_base)
                yield offset + last, frame.to_ndarray(format="bgr24")
        if last is None:
            raise ValueError(f"{source}: no frames")
        offset += last + 1 / rate


def camera_frames(source: Path, width: int, height: int, fps: int, seconds: float) -> Iterator[bytes]:
    """Each output frame's I420 planes: the source at that time, scaled to fit and centred on the wall."""
    frames = source_frames(source)
    shown = next(frames)[1]
    upcoming = next(frames)
    canvas = np.empty((height, width, 3), np.uint8)
    for index in range(round(seconds * fps)):
        t = index / fps
        while upcoming[0] <= t:
            shown = upcoming[1]
            upcoming = next(frames)
        scale = min(width / shown.shape[1], height / shown.shape[0])
        w, h = round(shown.shape[1] * scale) // 2 * 2, round(shown.shape[0] * scale) // 2 * 2
        x, y = (width - w) // 2, (height - h) // 2
        canvas[:] = WALL
        canvas[y : y + h, x : x + w] = cv2.resize(shown, (w, h), interpolation=cv2.INTER_AREA)
        planes = av.VideoFrame.from_ndarray(canvas, format="bgr24").reformat(format="yuv420p").to_ndarray()
        yield planes.tobytes()


def tracked_by_git(path: Path) -> bool:
    """The path is inside this repository and git would not ignore it."""
    target = path.resolve()
    if not target.is_relative_to(REPO):
        return False
    result = subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", str(target)], check=False)
    return result.returncode == 1  # 0: ignored; 1: not ignored; 128: no repository here


def write_camera(path: Path, *, source: Path, width: int, height: int, fps: int, seconds: float) -> int:
    """Write the .y4m file; returns the number of frames."""
    count = 0
    with path.open("wb") as out:
        out.write(header(width, height, fps))
        for planes in camera_frames(source, width, height, fps, seconds):
            out.write(b"FRAME\n")
            out.write(planes)
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="the .y4m file to write (outside git)")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="a face video")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    args = parser.parse_args(argv)
    if args.output.suffix.lower() != ".y4m":
        parser.error("Chromium recognises the format by the .y4m extension")
    if args.width % 2 or args.height % 2 or args.fps <= 0 or args.seconds <= 0:
        parser.error("width and height must be even, fps and seconds positive")
    if tracked_by_git(args.output):
        parser.error(f"{args.output} would end up in git: write it outside the repository or under .local/")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    count = write_camera(
        args.output,
        source=args.source,
        width=args.width,
        height=args.height,
        fps=args.fps,
        seconds=args.seconds,
    )
    print(f"{args.output}: {count} frames, {args.width}x{args.height} at {args.fps} fps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
