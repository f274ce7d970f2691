"""Access tokens: short-lived HS256 JWTs carrying the user id (`sub`) and a unique id (`jti`).

Verification pins the algorithm and requires every claim we rely on, so `alg: none`, an algorithm swap
or a token signed with another key is rejected.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import jwt

from chalicelib.errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "emotionfy"
AUDIENCE = "emotionfy-api"


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    jti: str
    expires_at: int
    #: The refresh-token family (the sign-in session) this token was issued in: logout revokes all of it.
    family: str = ""


def issue_access_token(
    user_id: str, secret: str, lifetime_seconds: int, family: str, now: float | None = None
) -> str:
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": user_id,
        "fam": family,
        "jti": secrets.token_urlsafe(16),
        "iat": issued,
        "exp": issued + lifetime_seconds,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_access_token(token: str, secret: str) -> AccessClaims:
    """The token's claims, or `Unauthorized` saying why not (expired, bad signature, malformed)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["sub", "jti", "iat", "exp", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the access token has expired", code="token_expired") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"the access token is not valid ({exc})", code="invalid_token") from None
    if not isinstance(claims["sub"], str) or not isinstance(claims["jti"], str):
        raise Unauthorized("the access token is not valid", code="invalid_token")
    return AccessClaims(
        user_id=claims["sub"],
        jti=claims["jti"],
        expires_at=int(claims["exp"]),
        family=str(claims.get("fam", "")),
    )


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header."""
    if not header:
        raise Unauthorized("sign in first: the Authorization header is missing", code="missing_token")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'", code="invalid_token")
    return token.strip()
