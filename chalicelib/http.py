"""JSON responses and the one place where exceptions become HTTP errors.

`json_api` wraps a route: `ApiError`s answer with their status and `{"error": {"code", "message"}}`; an
unreachable MongoDB, Redis or S3 answers 503 (nothing was changed, try again); anything unexpected answers
500 `internal` with the request's id in `request_id` (API Gateway's request id, the correlation id of the
request's log lines: the traceback is logged under it), for a user or an operator to quote.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

import redis
from chalice import Response
from pymongo.errors import ConnectionFailure

from chalicelib.errors import UNAVAILABLE_ERRORS, ApiError, Unavailable
from chalicelib.observability import correlation_id, logger
from chalicelib.settings import ConfigurationError

JSON = {"Content-Type": "application/json"}


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body), status_code=status, headers={**JSON, **(headers or {})})


def no_content() -> Response:
    return Response(body="", status_code=204)


def error_response(error: ApiError) -> Response:
    return ok(error.body(), error.status, error.headers)


def internal_error(message: str = "something went wrong on our side") -> dict[str, Any]:
    """The body of a 500: `{"error": {"code": "internal", "message", "request_id"}}` (no `request_id` outside
    a request)."""
    error = {"code": "internal", "message": message}
    request_id = correlation_id()
    if request_id:
        error["request_id"] = request_id
    return {"error": error}


def with_error_shape(response: Response) -> Response:
    """Chalice's own error responses (415 for a non-JSON body, 500 from its handler) in our error shape; a
    500 with the request id, as `json_api`'s."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        if response.status_code == 500:
            response.body = internal_error()
        else:
            code = re.sub(r"(?<!^)(?=[A-Z])", "_", str(body["Code"])).lower()
            response.body = {"error": {"code": code, "message": str(body["Message"])}}
    return response


def service_of(exc: BaseException) -> str:
    if isinstance(exc, redis.RedisError):
        return "Redis"
    if isinstance(exc, ConnectionFailure):
        return "MongoDB"
    return "S3"


def json_api(view: Callable[..., Response]) -> Callable[..., Response]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except ApiError as exc:
            return error_response(exc)
        except UNAVAILABLE_ERRORS as exc:
            logger.warning(
                "backing service unavailable", extra={"service": service_of(exc), "error": str(exc)}
            )
            return error_response(
                Unavailable(f"{service_of(exc)} is unavailable right now; try again shortly")
            )
        except ConfigurationError as exc:
            logger.error("configuration error", extra={"error": str(exc)})
            return error_response(
                Unavailable("the service is not configured correctly", code="misconfigured")
            )
        except Exception:
            logger.exception("unhandled error")
            return ok(internal_error(), 500)

    return wrapper
