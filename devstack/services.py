"""The real servers of the local stack, each startable and stoppable on a fixed loopback port."""

from __future__ import annotations

import shutil
import socket
import subprocess
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


class RedisServer:
    """Debian's `redis-server`, data (an append-only file) under `data_dir` so sessions survive restarts."""

    def __init__(self, port: int, data_dir: Path) -> None:
        self.port = port
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed: run `make setup` (apt-get install redis-server)"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
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
            ],
            stdout=subprocess.DEVNULL,
            stderr=(self.data_dir / "redis-server.log").open("ab"),
        )
        wait_for_port(self.port, what="redis-server")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class MongoServer:
    """SecantusDB, a MongoDB wire-protocol server, storing its data under `data_dir`."""

    def __init__(self, port: int, data_dir: Path) -> None:
        self.port = port
        self.data_dir = data_dir
        self.server: Any = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self) -> None:
        from secantus import SecantusDBServer

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.server = SecantusDBServer(host="127.0.0.1", port=self.port, storage_path=str(self.data_dir))
        self.server.start()
        wait_for_port(self.port, what="SecantusDB")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


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
