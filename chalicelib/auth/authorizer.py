"""The API's token authorizer, in API Gateway's terms.

API Gateway answers 401 when a Lambda authorizer fails with exactly the message "Unauthorized", and 500
(`AUTHORIZER_FAILURE`) for any other error; Terraform's gateway responses turn both into our JSON error
shape (401 and 503). The local API server maps these two exceptions the same way, so clients see one
behaviour everywhere.
"""

from __future__ import annotations

from chalicelib.auth import service
from chalicelib.auth.tokens import AccessClaims
from chalicelib.deps import Deps
from chalicelib.errors import UNAVAILABLE_ERRORS, Unauthorized
from chalicelib.observability import logger

UNAUTHORIZED_BODY = {
    "error": {
        "code": "unauthorized",
        "message": "sign in again: the access token is missing, invalid, expired or signed out",
    }
}
AUTHORIZER_UNAVAILABLE_BODY = {
    "error": {"code": "unavailable", "message": "sign-in checks are unavailable right now; try again shortly"}
}


class AuthorizerDenied(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__("Unauthorized")
        self.reason = reason


class AuthorizerUnavailable(Exception):
    """The denylist (Redis) cannot be read: fail closed, but as 503, not as a wrong-password 401."""


def check(deps: Deps, token: str | None) -> AccessClaims:
    try:
        return service.authorize(deps, token)
    except Unauthorized as exc:
        logger.info("token refused", extra={"reason": exc.code})
        raise AuthorizerDenied(exc.code) from None
    except UNAVAILABLE_ERRORS as exc:
        logger.warning("authorizer cannot reach Redis", extra={"error": str(exc)})
        raise AuthorizerUnavailable(str(exc)) from None
