"""The local site and API servers: the site's security headers on every answer, the API's accept queue.

No stack here: the site server serves a scratch directory, the API server a two-route Chalice app.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from chalice import Chalice

from devstack.api_server import ACCEPT_QUEUE, GATEWAY_ALLOW_HEADERS, REQUEST_ID_HEADER, ApiServer
from devstack.services import free_port
from devstack.site_server import REFERRER_POLICY, SiteServer, content_security_policy

API_URL = "http://127.0.0.1:8000"
MOTO_URL = "http://127.0.0.1:5005"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[SiteServer]:
    (tmp_path / "index.html").write_text("<!doctype html><title>app</title>")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "index.js").write_text("console.log('app')")
    server = SiteServer(free_port(), API_URL, directory=tmp_path, media_origins=[MOTO_URL + "/bucket"])
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/assets/index.js", 200),
        ("GET", "/config.json", 200),
        ("GET", "/videos/0123", 200),  # a route of the app: index.html
        ("HEAD", "/missing.png", 404),
        ("POST", "/", 501),
    ],
)
def test_site_sends_security_headers_on_every_answer(
    site: SiteServer, method: str, path: str, status: int
) -> None:
    response = requests.request(method, site.url + path, timeout=10)
    assert response.status_code == status
    csp = response.headers["Content-Security-Policy"]
    assert csp == content_security_policy(API_URL, [MOTO_URL])
    directives = dict(d.split(" ", 1) for d in csp.split("; "))
    assert directives["script-src"] == directives["style-src"] == "'self'", "no inline script or style"
    assert directives["connect-src"] == f"'self' {API_URL} {MOTO_URL}", "config.json, the API, the upload"
    assert directives["media-src"] == f"'self' blob: {MOTO_URL}", (
        "playback of presigned GETs, and of a chosen file (blob:) to read its duration"
    )
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == REFERRER_POLICY
    assert response.headers["Server"] == "emotionfy-site", "no Python version announced"
    assert csp.count("default-src") == 1, "sent once (requests joins repeated headers)"


def test_site_allows_the_s3_endpoint_the_api_presigns_against(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", MOTO_URL)
    assert SiteServer(free_port(), API_URL, directory=tmp_path).headers["Content-Security-Policy"] == (
        content_security_policy(API_URL, [MOTO_URL])
    )
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    assert (
        "connect-src 'self' http://127.0.0.1:8000;"
        in (SiteServer(free_port(), API_URL, directory=tmp_path).headers["Content-Security-Policy"])
    )


def _tiny_app() -> Chalice:
    app = Chalice(app_name="queue-test")

    @app.route("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def test_api_server_queues_64_connections_and_answers_them_all() -> None:
    """64 clients connect while the server is not accepting yet: all are queued by the kernel (with
    socketserver's default queue of 5, the seventh waited for a SYN retry or was reset), then each gets its
    answer, with a request id of its own."""
    assert ACCEPT_QUEUE >= 64
    port = free_port()
    server = ApiServer(_tiny_app(), "127.0.0.1", port, "*")
    assert server.server.server.request_queue_size == ACCEPT_QUEUE
    sockets = []
    try:
        for _ in range(64):
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=0.5))
        for sock in sockets:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        server.start()

        def answer(sock: socket.socket) -> tuple[int, str]:
            sock.settimeout(30)
            response = http.client.HTTPResponse(sock)
            response.begin()
            body = response.read()
            assert body == b'{"status":"ok"}'
            return response.status, response.getheader(REQUEST_ID_HEADER) or ""

        with ThreadPoolExecutor(max_workers=64) as pool:
            answers = list(pool.map(answer, sockets))
    finally:
        for sock in sockets:
            sock.close()
        if server.thread.is_alive():
            server.stop()
        else:
            server.server.server.server_close()
    assert [status for status, _ in answers] == [200] * 64
    request_ids = {request_id for _, request_id in answers}
    assert len(request_ids) == 64 and "" not in request_ids


def test_api_server_request_ids_reach_the_event_and_gateway_errors() -> None:
    """The id in `x-amzn-RequestId` is the event's `requestContext.requestId`, also on Chalice's own gateway
    errors (here: a route that does not exist)."""
    app = Chalice(app_name="request-id-test")
    seen: list[str] = []
    lock = threading.Lock()

    @app.route("/echo")
    def echo() -> dict[str, str]:
        assert app.current_request is not None
        request_id = app.current_request.context["requestId"]
        with lock:
            seen.append(request_id)
        return {"request_id": request_id}

    port = free_port()
    server = ApiServer(app, "127.0.0.1", port, "*")
    server.start()
    try:
        response = requests.get(f"http://127.0.0.1:{port}/echo", timeout=10)
        missing = requests.get(f"http://127.0.0.1:{port}/nowhere", timeout=10)
    finally:
        server.stop()
    assert response.json()["request_id"] == response.headers[REQUEST_ID_HEADER] == seen[0]
    assert missing.status_code == 403 and missing.headers[REQUEST_ID_HEADER]
    assert missing.headers["Access-Control-Allow-Headers"] == GATEWAY_ALLOW_HEADERS, "as API Gateway's"
    assert response.headers["Server"] == missing.headers["Server"] == "emotionfy-api", "no Python version"
    assert missing.headers[REQUEST_ID_HEADER] != response.headers[REQUEST_ID_HEADER]


def test_a_busy_port_is_named_with_the_way_out_and_no_traceback(tmp_path: Path) -> None:
    """`make run` with a port taken: one clear message and exit code 2, nothing started."""
    import subprocess
    import sys

    ports = {name: free_port() for name in ("api", "site", "moto", "redis", "mongo")}
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", ports["api"]))
        taken.listen(1)
        args = [f"--{name}-port={port}" for name, port in ports.items()]
        result = subprocess.run(
            [sys.executable, "-m", "devstack", "--data-dir", str(tmp_path / "data"), *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=Path(__file__).resolve().parents[1],
        )
    assert result.returncode == 2, result.stderr
    assert f"port {ports['api']} (api) is already in use" in result.stderr
    assert f"make run API_PORT={ports['api'] + 1}" in result.stderr
    assert "Traceback" not in result.stderr
    assert "starting" not in result.stdout  # nothing was started
