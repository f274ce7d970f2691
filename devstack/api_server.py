"""Chalice's local API server, with API Gateway's authorizer outcomes in our JSON error shape.

In the cloud, Terraform's gateway responses give 401 (authorizer said "Unauthorized") and 503 (authorizer
failed) the same bodies; here the request handler maps the authorizer's exceptions and Chalice's local
gateway errors the same way, with the CORS headers a browser needs to read them. As in API Gateway, a
request's `requestContext.identity.sourceIp` is the client's address (the login limits count per address).

Also as in API Gateway: every request has an id (`requestContext.requestId` in the event, the
`x-amzn-RequestId` header on the answer: the correlation id of its log lines and the `request_id` of a 500),
the API and the authorizer run in Lambda contexts of their own (function names `api` and `authorizer`, as
the pipeline's functions are named by their keys here), and a burst of connections waits in a deep accept
queue instead of being refused (`socketserver`'s default queue holds 5).
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    EventType,
    ForbiddenError,
    HeaderType,
    LambdaContext,
    LocalAuthPair,
    LocalChalice,
    LocalDevServer,
    LocalGateway,
    LocalGatewayAuthorizer,
    LocalGatewayException,
    NotAuthorizedError,
    ThreadedHTTPServer,
)

from chalicelib.auth.authorizer import (
    AUTHORIZER_UNAVAILABLE_BODY,
    UNAUTHORIZED_BODY,
    AuthorizerDenied,
    AuthorizerUnavailable,
)

FORBIDDEN_BODY = {"error": {"code": "forbidden", "message": "this route or method does not exist"}}
#: The request headers the gateway's own error answers allow, as modules/api's `allow_headers` (and
#: LocalStack's): the JWT, JSON, and the viewer page's invite and withdraw tokens (app.py's CORSConfig).
GATEWAY_ALLOW_HEADERS = "Authorization,Content-Type,X-Invite-Token,X-Withdraw-Token"

#: Function names of the API and its authorizer here (handlers.json's keys; in the cloud, Lambda's names).
API_FUNCTION = "api"
AUTHORIZER_FUNCTION = "authorizer"
#: Connections the listening socket queues while the server is busy accepting (socketserver's default: 5).
ACCEPT_QUEUE = 128
REQUEST_ID_HEADER = "x-amzn-RequestId"


class LocalAuthorizer(LocalGatewayAuthorizer):
    """Runs the authorizer in a Lambda context of its own, as API Gateway invokes a separate function."""

    def authorize(
        self, raw_path: str, lambda_event: EventType, lambda_context: LambdaContext
    ) -> LocalAuthPair:
        own = LambdaContext(AUTHORIZER_FUNCTION, memory_size=512, max_runtime_ms=10_000)  # Terraform's
        event, _ = super().authorize(raw_path, lambda_event, own)
        return event, lambda_context


class LocalApiGateway(LocalGateway):
    """Chalice's local gateway with API Gateway's request id in each event and its own authorizer context."""

    def __init__(self, app_object: Chalice, config: Config) -> None:
        super().__init__(app_object, config)
        self._authorizer = LocalAuthorizer(app_object)
        self.request_id = ""

    def _generate_lambda_event(
        self, method: str, path: str, headers: HeaderType, body: bytes | None
    ) -> EventType:
        event = super()._generate_lambda_event(method, path, headers, body)
        event["requestContext"]["requestId"] = self.request_id
        return event


class AcceptingServer(ThreadedHTTPServer):
    request_queue_size = ACCEPT_QUEUE


class ApiRequestHandler(ChaliceRequestHandler):
    cors_origin = "*"
    #: Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the client's
    #: delayed ACK add ~40 ms to every response after the first on a kept-alive connection.
    disable_nagle_algorithm = True
    local_gateway: LocalApiGateway

    def __init__(
        self, request: Any, client_address: Any, server: Any, app_object: Chalice, config: Config
    ) -> None:
        # ChaliceRequestHandler.__init__ with our gateway (the request is served inside this call).
        self.local_gateway = LocalApiGateway(app_object, config)
        self.request_id = ""
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

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
            "Access-Control-Allow-Headers": GATEWAY_ALLOW_HEADERS,
            **(extra or {}),
        }
        self._send_http_response(status, headers, json.dumps(body))

    def _generic_handle(self) -> None:
        self.request_id = self.local_gateway.request_id = str(uuid.uuid4())
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

    def _send_headers(self, headers: HeaderType) -> None:
        """Every answer names its request, as API Gateway's do (instead of the id Chalice's errors carry)."""
        headers = {k: v for k, v in headers.items() if k.lower() != REQUEST_ID_HEADER.lower()}
        if self.request_id:
            headers[REQUEST_ID_HEADER] = self.request_id
        super()._send_headers(headers)

    def version_string(self) -> str:
        return "emotionfy-api"  # BaseHTTPRequestHandler's default names the Python version

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ApiServer:
    """The API on `host:port` in a background thread; `stop()` shuts it down."""

    def __init__(self, app: Any, host: str, port: int, cors_origin: str) -> None:
        if not isinstance(app, LocalChalice):  # thread-local current_request, as `chalice local` does
            CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
            app.__class__ = CustomLocalChalice
        handler = type("Handler", (ApiRequestHandler,), {"cors_origin": cors_origin})
        # Config.create drops function_name; the constructor keeps it (the API's Lambda context's name).
        config = Config(
            chalice_stage="dev",
            function_name=API_FUNCTION,
            user_provided_params={"app_name": "emotionfy", "lambda_timeout": 900, "lambda_memory_size": 1024},
        )
        self.server = LocalDevServer(app, config, host, port, handler_cls=handler, server_cls=AcceptingServer)
        self.thread = threading.Thread(target=self.server.server.serve_forever, name="api", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server.server_close()
