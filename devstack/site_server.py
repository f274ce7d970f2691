"""Serves the built web app (frontend/dist) on loopback, like the S3 + CloudFront site in the cloud.

Unknown paths fall back to index.html (the app routes in the browser), and `/config.json` tells the app
where the API is and the limits the API enforces (`{"apiUrl": ..., "limits": {"maxUploadBytes": ...}}`,
chalicelib/client_config.py), so one build works against any API (the cloud writes the same file to the
bucket).

Every answer (the app, `/config.json`, errors) carries the security headers CloudFront's response headers
policy adds in the cloud (infra/terraform/modules/site, checked against `content_security_policy` here by
tests/test_infra.py): a Content-Security-Policy that lets the page load only its own scripts and styles,
talk only to itself, the API and S3 (the presigned upload), play media only from S3, and be framed by no
one; `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff` and a `Referrer-Policy`. The `Server` header
names no Python version. (HSTS is CloudFront's alone: browsers ignore it over plain HTTP.)
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from chalicelib.client_config import site_config

SITE_DIR = Path(__file__).resolve().parents[1] / "frontend" / "dist"
#: Connections the listening socket queues while the server is busy accepting (socketserver's default: 5).
ACCEPT_QUEUE = 128
REFERRER_POLICY = "strict-origin-when-cross-origin"


def origin(url: str) -> str:
    """`scheme://host[:port]` of a URL (a CSP source expression)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"not an absolute URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(api_origin: str, media_origins: Sequence[str]) -> str:
    """The web app's Content-Security-Policy: its own scripts and styles only (the Vite build has no inline
    script or style, and React sets styles through the DOM), requests to itself (`/config.json`), the API
    and the uploads bucket (the presigned POST), videos from the uploads bucket (presigned GETs) and from
    `blob:` URLs (a chosen file played locally to read its duration: frontend/src/lib/videoDuration.ts),
    no plugins, and no page may frame it. The same directives, with the cloud's origins, are CloudFront's."""
    media = " ".join(media_origins)
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        f"connect-src 'self' {api_origin} {media}".rstrip(),
        f"media-src 'self' blob: {media}".rstrip(),
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def security_headers(api_origin: str, media_origins: Sequence[str]) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(api_origin, media_origins),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": REFERRER_POLICY,
    }


class SiteRequestHandler(SimpleHTTPRequestHandler):
    config: ClassVar[dict[str, Any]] = {"apiUrl": "http://127.0.0.1:8000"}
    headers_to_send: ClassVar[dict[str, str]] = {}
    server_version = "emotionfy-site"

    def version_string(self) -> str:
        return self.server_version  # SimpleHTTP's default adds "Python/3.x"

    def end_headers(self) -> None:
        for name, value in self.headers_to_send.items():
            self.send_header(name, value)
        super().end_headers()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/config.json":
            body = json.dumps(self.config).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if not (Path(self.directory) / path.lstrip("/")).is_file():
            self.path = "/index.html"  # a route of the single-page app
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class AcceptingServer(ThreadingHTTPServer):
    request_queue_size = ACCEPT_QUEUE
    daemon_threads = True


class SiteServer:
    """The web app on `127.0.0.1:port`, its `/config.json` naming `api_url` and the limits of the settings
    in the environment when it is made (the stack's: the API's).

    `media_origins` are where presigned S3 URLs point (uploads and playback; the CSP allows them); by default
    the S3 endpoint the API presigns against here, `AWS_ENDPOINT_URL` (moto's), when it is set."""

    def __init__(
        self,
        port: int,
        api_url: str,
        directory: Path = SITE_DIR,
        media_origins: Sequence[str] | None = None,
    ) -> None:
        self.directory = directory
        if media_origins is None:
            endpoint = os.environ.get("AWS_ENDPOINT_URL")
            media_origins = [endpoint] if endpoint else []
        self.headers = security_headers(origin(api_url), [origin(url) for url in media_origins])
        self.config = site_config(api_url)
        handler = type(
            "Handler", (SiteRequestHandler,), {"config": self.config, "headers_to_send": self.headers}
        )
        self.server = AcceptingServer(("127.0.0.1", port), partial(handler, directory=str(directory)))
        self.thread = threading.Thread(target=self.server.serve_forever, name="site", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
