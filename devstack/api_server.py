"""Chalice's local API server, with API Gateway's authorizer outcomes in our JSON error shape.

In the cloud, Terraform's gateway responses give 401 (authorizer said "Unauthorized") and 503 (authorizer
failed) the same bodies; here the request handler maps the authorizer's exceptions and Chalice's local
gateway errors the same way, with the CORS headers a browser needs to read them. As in API Gateway, a
request's `requestContext.identity.sourceIp` is the client's address (the login limits count per address).
"""

from __future__ import annotations

import json
import threading
from typing import Any

from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    ForbiddenError,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
    NotAuthorizedError,
)

from chalicelib.auth.authorizer import (
    AUTHORIZER_UNAVAILABLE_BODY,
    UNAUTHORIZED_BODY,
    AuthorizerDenied,
    AuthorizerUnavailable,
)

FORBIDDEN_BODY = {"error": {"code": "forbidden", "message": "this route or method does not exist"}}


class ApiRequestHandler(ChaliceRequestHandler):
    cors_origin = "*"

    def setup(self) -> None:
        """Per connection, before its first request: report the client's real address.

        Chalice's local gateway puts a constant `LambdaEventConverter.LOCAL_SOURCE_IP` (127.0.0.1) into
        `requestContext.identity.sourceIp`, where API Gateway puts the caller's address; the login limits
        count per address, so they must see the real one. Each handler serves one connection with its own
        gateway and event converter, so the converter can carry this connection's address.
        """
        super().setup()
        self.local_gateway.event_converter.LOCAL_SOURCE_IP = self.client_address[0]

    def _json_error(self, status: int, body: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        headers = {
            "Content-Type": "application/json",
            "Access-Control-Allow-Origin": self.cors_origin,
            "Access-Control-Allow-Headers": "Authorization,Content-Type",
            **(extra or {}),
        }
        self._send_http_response(status, headers, json.dumps(body))

    def _generic_handle(self) -> None:
        try:
            super()._generic_handle()
        except AuthorizerDenied:
            self._json_error(401, UNAUTHORIZED_BODY, {"WWW-Authenticate": "Bearer"})
        except AuthorizerUnavailable:
            self._json_error(503, AUTHORIZER_UNAVAILABLE_BODY)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def _send_error_response(self, error: LocalGatewayException) -> None:
        if isinstance(error, NotAuthorizedError):
            self._json_error(401, UNAUTHORIZED_BODY, {"WWW-Authenticate": "Bearer"})
        elif isinstance(error, ForbiddenError):
            self._json_error(403, FORBIDDEN_BODY)
        else:
            super()._send_error_response(error)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ApiServer:
    """The API on `host:port` in a background thread; `stop()` shuts it down."""

    def __init__(self, app: Any, host: str, port: int, cors_origin: str) -> None:
        if not isinstance(app, LocalChalice):  # thread-local current_request, as `chalice local` does
            CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
            app.__class__ = CustomLocalChalice
        handler = type("Handler", (ApiRequestHandler,), {"cors_origin": cors_origin})
        config = Config.create(chalice_stage="dev", app_name="emotionfy", lambda_timeout=900)
        self.server = LocalDevServer(app, config, host, port, handler_cls=handler)
        self.thread = threading.Thread(target=self.server.server.serve_forever, name="api", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server.server_close()
