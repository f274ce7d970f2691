"""Uploads are untrusted: files that would make FFmpeg open other files or connections (playlists, concat
lists, SDP, `data:` URLs, image sequences) are refused as "not a video" and nothing connects anywhere;
failure reasons carry no decoder internals; and the limits on work (frame size, duration, daily minutes,
storage, videos per day, never-uploaded videos) refuse early with a clear error."""

from __future__ import annotations

import dataclasses
import io
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest

from chalicelib.engine.errors import FrameTooLarge, VideoError, VideoTooLong
from chalicelib.engine.limits import Limits
from chalicelib.engine.video import probe, sample_frames, sniff_container
from devstack.stack import LocalStack
from tests.api_client import Account, Api
from tests.synthetic import VIDEOS_DIR

pytestmark = pytest.mark.faults  # attacks belong with the faults: `pytest -m faults` runs both

VIDEO = VIDEOS_DIR / "openmpf_face_video_01.mp4"


class Listener:
    """A TCP server on loopback that counts the connections it receives (it must receive none)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def crafted(port: int) -> dict[str, bytes]:
    """Files an attacker would upload to make the decoder fetch from `port`."""
    url = f"http://127.0.0.1:{port}"
    return {
        "hls-media.m3u8": (
            f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{url}/segment.ts\n#EXT-X-ENDLIST\n".encode()
        ),
        "hls-master.m3u8": f"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000\n{url}/index.m3u8\n".encode(),
        "concat.ffconcat": f"ffconcat version 1.0\nfile '{url}/a.mp4'\n".encode(),
        "list.txt": f"file '{url}/a.mp4'\n".encode(),
        "stream.sdp": (
            "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\n"
            f"m=video {port} RTP/AVP 96\na=rtpmap:96 H264/90000\n"
        ).encode(),
        "playlist-in-mp4-clothes.mp4": b"\x00\x00\x00\x18ftypmp42" + f"#EXTM3U\n{url}/x.ts\n".encode() * 4,
    }


@pytest.mark.parametrize("name", list(crafted(1)))
def test_files_that_point_elsewhere_are_not_videos_and_connect_nowhere(
    tmp_path: Path, listener: Listener, name: str
) -> None:
    data = crafted(listener.port)[name]
    path = tmp_path / name
    path.write_bytes(data)
    for source in (path, lambda: io.BytesIO(data)):
        with pytest.raises(VideoError, match="not a readable video") as caught:
            probe(source)
        assert "127.0.0.1" not in str(caught.value) and str(listener.port) not in str(caught.value)
    assert listener.connections == 0


@pytest.mark.parametrize(
    "path",
    [
        "data:video/mp4;base64,AAAAGGZ0eXBtcDQy",
        "http://127.0.0.1:9/v.mp4",
        "concat:a.mp4|b.mp4",
        "img%03d.png",
    ],
)
def test_urls_protocols_and_patterns_are_never_opened(path: str) -> None:
    with pytest.raises(VideoError, match="no such file"):
        probe(path)


def test_a_file_named_like_a_protocol_is_read_as_a_file(tmp_path: Path) -> None:
    odd = tmp_path / "concat:x.mp4"
    odd.write_bytes(VIDEO.read_bytes())
    assert probe(odd).duration == pytest.approx(3.0, abs=0.1)


def test_the_allowed_containers_are_recognised_by_their_first_bytes(tmp_path: Path) -> None:
    frames = [np.full((64, 64, 3), 40 * i, np.uint8) for i in range(6)]
    for container, codec in (
        ("mp4", "libx264"),
        ("matroska", "libx264"),
        ("avi", "mpeg4"),
        ("mpegts", "mpeg2video"),
    ):
        path = tmp_path / f"clip.{container}"
        with av.open(str(path), "w", format=container) as out:
            stream = out.add_stream(codec, rate=5)
            assert isinstance(stream, av.video.stream.VideoStream)
            stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
            for frame in frames:
                out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
            out.mux(stream.encode(None))
        assert sniff_container(path.read_bytes()[:4096]) is not None, container
        assert probe(path).width == 64, container
    assert sniff_container(b"#EXTM3U\n") is None
    assert sniff_container(b"\x89PNG\r\n\x1a\n") is None


def test_decoder_errors_do_not_reach_the_user(tmp_path: Path) -> None:
    corrupt = tmp_path / "broken.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)
    with pytest.raises(VideoError) as caught:
        probe(corrupt)
    assert str(caught.value) == "broken.mp4: not a readable video"


# --- bounded work ---------------------------------------------------------------------------------


def _black_video(path: Path, width: int, height: int, frames: int = 3) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=5, options={"preset": "ultrafast"})
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        black = av.VideoFrame.from_ndarray(np.zeros((height, width, 3), np.uint8), format="bgr24")
        for _ in range(frames):
            out.mux(stream.encode(black))
        out.mux(stream.encode(None))
    return path


def test_huge_frames_are_refused_before_decoding(tmp_path: Path) -> None:
    big = _black_video(tmp_path / "big.mp4", 4352, 2448)  # 10.6 MP: above the 4096x2304 default
    assert big.stat().st_size < 200_000, "a tiny file can declare huge frames"
    with pytest.raises(FrameTooLarge, match="4352x2448"):
        probe(big)
    with pytest.raises(FrameTooLarge):
        next(iter(sample_frames(big, 0.0, 1.0, 5.0)))
    assert probe(VIDEO, Limits(max_frame_pixels=640 * 480)).width <= 640
    with pytest.raises(FrameTooLarge):
        probe(VIDEO, Limits(max_frame_pixels=100 * 100))


def test_too_long_videos_are_refused_at_the_probe() -> None:
    with pytest.raises(VideoTooLong, match="limit is"):
        probe(VIDEO, Limits(max_duration=2.0))


def test_a_too_long_video_fails_with_its_code_before_any_segment(
    api: Api, account: Account, stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMOTIONFY_MAX_VIDEO_SECONDS", "2")
    assert stack.lambdas is not None
    before = stack.lambdas.calls.count("pipeline_analyze_segment")
    video = api.wait(account, api.upload(account, VIDEO))
    assert video["status"] == "failed" and video["error_code"] == "video_too_long", video
    assert video["retryable"] is False
    assert stack.lambdas.calls.count("pipeline_analyze_segment") == before


def _set_quotas(monkeypatch: pytest.MonkeyPatch, **values: float) -> None:
    from chalicelib.deps import deps

    d = deps()
    monkeypatch.setattr(d, "settings", dataclasses.replace(d.settings, **values))  # type: ignore[arg-type]


def test_videos_per_day_and_storage_are_limited_before_anything_is_made(
    api: Api, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_quotas(monkeypatch, quota_videos_per_day=2, quota_storage_bytes=10_000)
    body = {"filename": "a.mp4", "content_type": "video/mp4", "size": 4_000, "consent": api.consent()}
    assert api.call("POST", "/videos", account, json=body).status_code == 201
    too_big = api.call("POST", "/videos", account, json={**body, "size": 6_001})
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "storage_quota_exceeded"
    assert api.call("POST", "/videos", account, json=body).status_code == 201
    third = api.call("POST", "/videos", account, json={**body, "size": 1})
    assert third.status_code == 429 and third.json()["error"]["code"] == "quota_exceeded"
    assert int(third.headers["Retry-After"]) > 0
    assert len(api.call("GET", "/videos", account).json()["items"]) == 2, "nothing was made"


def test_the_daily_analysis_minutes_are_limited_at_the_probe(
    api: Api, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_quotas(monkeypatch, quota_analysis_minutes_per_day=0.06)  # 3.6 s: one 3 s video, not two
    first = api.wait(account, api.upload(account, VIDEO))
    assert first["status"] == "done"
    second = api.wait(account, api.upload(account, VIDEO))
    assert second["status"] == "failed" and second["error_code"] == "quota_exceeded", second
    assert "limit is" in second["error"] and second["retryable"] is True


def test_never_uploaded_videos_expire(api: Api, account: Account, stack: LocalStack) -> None:
    from chalicelib.deps import deps
    from chalicelib.pipeline import watchdog

    d = deps()
    video_id = api.create_video(account, VIDEO)["video"]["id"]
    soon = datetime.now(UTC) + timedelta(seconds=d.settings.watchdog_stale_seconds + 1)
    assert video_id not in watchdog.sweep(d, now=soon).expired_uploads, "its upload URL may still be used"
    later = datetime.now(UTC) + timedelta(seconds=d.settings.pending_upload_expiry_seconds + 1)
    assert video_id in watchdog.sweep(d, now=later).expired_uploads
    assert api.call("GET", f"/videos/{video_id}", account).status_code == 404


def test_a_playlist_upload_fails_as_not_a_video_and_the_pipeline_connects_nowhere(
    api: Api, account: Account, tmp_path: Path, listener: Listener
) -> None:
    playlist = tmp_path / "p.m3u8"
    playlist.write_bytes(crafted(listener.port)["hls-master.m3u8"])
    video = api.wait(account, api.upload(account, playlist))
    assert video["status"] == "failed" and video["error_code"] == "unreadable_video", video
    assert "127.0.0.1" not in video["error"] and str(listener.port) not in video["error"]
    assert video["retryable"] is False
    assert listener.connections == 0
