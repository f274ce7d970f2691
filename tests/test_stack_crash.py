"""`kill -9` of the local stack (`python -m devstack`, what `make run` runs) in the middle of analyses: its
server processes do not outlive it, the next start finds its ports free, every upload is still there,
and every video ends `done` with no one's help (the watchdog restarts the analyses that died with it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devstack.services import RedisServer, free_port
from tests.api_client import Api
from tests.synthetic import VIDEOS_DIR

pytestmark = pytest.mark.faults

VIDEO = VIDEOS_DIR / "openmpf_face_video_01.mp4"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


class Devstack:
    def __init__(self, data_dir: Path, model_dir: Path) -> None:
        self.data_dir = data_dir
        self.ports = {p: free_port() for p in ("api", "site", "moto", "redis", "mongo")}
        self.env = {
            **os.environ,
            "EMOTIONFY_MODEL_DIR": str(model_dir),
            "EMOTIONFY_SEGMENT_SECONDS": "5",
            "EMOTIONFY_WATCHDOG_INTERVAL_SECONDS": "1",
            "EMOTIONFY_WATCHDOG_STALE_SECONDS": "3",
            "POWERTOOLS_LOG_LEVEL": "CRITICAL",
        }
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    def start(self) -> None:
        command = [sys.executable, "-m", "devstack", "--data-dir", str(self.data_dir)]
        for name, port in self.ports.items():
            command += [f"--{name}-port", str(port)]
        self.process = subprocess.Popen(
            command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        stdout = self.process.stdout
        assert stdout is not None
        running = threading.Event()

        def drain() -> None:  # read everything it prints, so it never blocks on a full pipe
            for line in stdout:
                self.output.append(line)
                if "Emotionfy is running." in line:
                    running.set()

        threading.Thread(target=drain, daemon=True).start()
        deadline = time.monotonic() + 120
        while not running.wait(0.2):
            assert self.process.poll() is None and time.monotonic() < deadline, (
                "the stack did not start:\n" + "".join(self.output)
            )

    def child_pids(self) -> list[int]:
        return [int(p.read_text()) for p in self.data_dir.rglob("*.pid")]

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


@pytest.fixture
def devstack(tmp_path: Path, model_dir: Path) -> Iterator[Devstack]:
    stack = Devstack(tmp_path / "local", model_dir)
    yield stack
    stack.stop()


def test_a_killed_stack_loses_no_upload_and_finishes_every_analysis(devstack: Devstack) -> None:
    devstack.start()
    api = Api(devstack.api_url)
    account = api.new_account()
    video_ids = [api.upload(account, VIDEO, title=f"video {i}") for i in range(4)]
    children = devstack.child_pids()
    assert len(children) == 2, "redis-server and SecantusDB run as processes with pid files"

    devstack.kill()  # kill -9, mid-analysis: nothing is flushed, nothing stopped
    assert all(_wait_gone(pid) for pid in children), "the servers ended with the stack"

    devstack.start()  # same ports, same data
    account.access_token = api.call(
        "POST", "/auth/refresh", json={"refresh_token": account.refresh_token}
    ).json()["access_token"]
    original = VIDEO.read_bytes()
    for video_id in video_ids:
        media = api.call("GET", f"/videos/{video_id}/media", account)
        assert media.status_code == 200, media.text
        assert requests.get(media.json()["url"], timeout=30).content == original, "the upload survived"
    for video_id in video_ids:
        video = api.wait(account, video_id, timeout=240)
        assert video["status"] == "done", (video, "".join(devstack.output[-50:]))
        assert api.call("GET", f"/videos/{video_id}/results", account).status_code == 200


def test_a_server_left_behind_by_a_killed_stack_is_stopped_at_start(tmp_path: Path) -> None:
    """A leftover redis-server (no parent-death signal: say the stack ran it from a thread) holding the
    port: the next start stops it by its pid file and starts afresh on the same port and data."""
    port = free_port()
    first = RedisServer(port, tmp_path / "redis")
    first.start()
    assert first.process is not None
    leftover = first.process.pid
    first.process = None  # the stack that owned it was killed: nobody will stop it
    second = RedisServer(port, tmp_path / "redis")
    try:
        second.start()
        assert _wait_gone(leftover), "the leftover was stopped"
        assert second.process is not None and second.process.pid != leftover
        assert second.process.poll() is None
    finally:
        second.stop()


def test_a_pid_file_naming_someone_elses_process_is_left_alone(tmp_path: Path) -> None:
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        server = RedisServer(free_port(), tmp_path / "redis")
        server.data_dir.mkdir(parents=True)
        server.pid_file.write_text(f"{bystander.pid}\n")
        server.start()
        server.stop()
        assert bystander.poll() is None, "a process that is not ours was not touched"
    finally:
        bystander.kill()
        bystander.wait()
