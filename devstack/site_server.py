"""Serves the built web app (frontend/dist) on loopback, like the S3 + CloudFront site in the cloud.

Unknown paths fall back to index.html (the app routes in the browser), and `/config.json` tells the app
where the API is, so one build works against any API URL (the cloud writes the same file to the bucket).
"""

from __future__ import annotations

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SITE_DIR = Path(__file__).resolve().parents[1] / "frontend" / "dist"


class SiteRequestHandler(SimpleHTTPRequestHandler):
    api_url = "http://127.0.0.1:8000"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/config.json":
            body = json.dumps({"apiUrl": self.api_url}).encode()
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


class SiteServer:
    def __init__(self, port: int, api_url: str, directory: Path = SITE_DIR) -> None:
        self.directory = directory
        handler = type("Handler", (SiteRequestHandler,), {"api_url": api_url})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), partial(handler, directory=str(directory)))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="site", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
