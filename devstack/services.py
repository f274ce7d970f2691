"""The real servers of the local stack, each startable and stoppable on a fixed loopback port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0, what: str = "server") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start listening on 127.0.0.1:{port} within {timeout:.0f} s")


class ChildProcess:
    """A server in a child process of its own, with a pid file under its data folder.

    A child left behind by a stack that was killed (`kill -9` gives no chance to stop it) is found by its
    pid file and stopped at the next start, so the port is free again. Started from the main thread, the
    child is also asked to end with its parent (Linux `PR_SET_PDEATHSIG`). The fault tests use `pause`,
    `resume` and `kill` (SIGSTOP, SIGCONT, SIGKILL), as a stuck or crashed server would behave.
    """

    name = "server"
    #: A part of the command line that tells this server's process apart from others.
    marker = "server"

    def __init__(self, port: int, data_dir: Path) -> None:
        self.port = port
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid_file(self) -> Path:
        return self.data_dir / f"{self.name}.pid"

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        self.data_dir = self.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        stop_left_behind(self.pid_file, self.marker, self.data_dir)
        self.process = subprocess.Popen(
            self.command(),
            stdout=subprocess.DEVNULL,
            stderr=(self.data_dir / f"{self.name}.log").open("ab"),
            preexec_fn=_end_with_parent if threading.current_thread() is threading.main_thread() else None,
        )
        self.pid_file.write_text(f"{self.process.pid}\n")
        wait_for_port(self.port, what=self.name)

    def stop(self) -> None:
        if self.process is not None:
            self.resume()
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None
            self.pid_file.unlink(missing_ok=True)

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)

    def pause(self) -> None:
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        """Crash it: SIGKILL, nothing flushed, no goodbye; `start()` brings it back on the same data."""
        if self.process is not None:
            self._signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def _end_with_parent() -> None:
    """In the child before exec: SIGTERM when the parent dies (Linux); elsewhere nothing."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def stop_left_behind(pid_file: Path, marker: str, data_dir: Path) -> None:
    """Stop the process a killed stack left running, if the pid file names one that is still ours: its
    command line holds `marker`, and it names `data_dir` or works in it (redis-server rewrites its command
    line, but runs in its `--dir`)."""
    try:
        pid = int(pid_file.read_text().strip())
        proc = Path(f"/proc/{pid}")
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        cwd = Path(os.readlink(proc / "cwd"))
    except (OSError, ValueError):
        pid_file.unlink(missing_ok=True)  # no pid file, or its process is gone
        return
    ours = marker in cmdline and (str(data_dir) in cmdline or cwd == data_dir.resolve())
    if ours:
        for sig, wait in ((signal.SIGCONT, 0.0), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and proc.exists() and not _zombie(proc):
                time.sleep(0.05)
    pid_file.unlink(missing_ok=True)


def _zombie(proc: Path) -> bool:
    try:
        return " Z " in (proc / "stat").read_text()
    except OSError:
        return False


class RedisServer(ChildProcess):
    """Debian's `redis-server`, data (an append-only file, fsync every second) under `data_dir` so
    sessions survive restarts."""

    name = "redis-server"
    marker = "redis-server"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed: run `make setup` (apt-get install redis-server)"
            )
        return [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--protected-mode",
            "yes",
            "--loglevel",
            "warning",
        ]


class MongoServer(ChildProcess):
    """SecantusDB, a MongoDB wire-protocol server (WiredTiger storage with a journal), storing its data
    under `data_dir`, in a process of its own (`python -m devstack.mongo_process`)."""

    name = "secantus-mongodb"
    marker = "devstack.mongo_process"

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "devstack.mongo_process",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
        ]


class MotoServer:
    """moto in server mode (in this process, so the Lambda adapter can reach its backend)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        # Every failed state (even one a Catch handles) is logged with the whole parse tree; the video's
        # record carries the reason instead.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        wait_for_port(self.port, what="moto")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
