"""Errors the API answers with: each knows its HTTP status and a stable machine-readable code.

Every error body has the same shape, `{"error": {"code": ..., "message": ...}}`, so clients (the web app,
mobile apps, scripts) handle one format. Messages are written for the person reading them.
"""

from __future__ import annotations

from typing import Any

import redis
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from pymongo.errors import ConnectionFailure

#: A backing service (Redis, MongoDB, an AWS endpoint) could not be reached: the API answers 503, the
#: authorizer fails closed with 503, and a pipeline step asks Step Functions to retry.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    ConnectionFailure,
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
)


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self, message: str, *, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ApiError):
    status = 413
    code = "too_large"


class TooManyRequests(ApiError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = max(1, retry_after)


class Unavailable(ApiError):
    """A backing service (MongoDB, Redis, S3) cannot be reached: retry later, nothing was changed."""

    status = 503
    code = "unavailable"
