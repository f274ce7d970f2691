"""The account operations behind the /auth routes: register, login, refresh, logout, who-am-I, authorize."""

from __future__ import annotations

from typing import Any

from chalicelib.auth.passwords import check_policy, hash_password, verify_password
from chalicelib.auth.ratelimit import limit_registrations
from chalicelib.auth.tokens import AccessClaims, bearer_token, issue_access_token, verify_access_token
from chalicelib.deps import Deps
from chalicelib.errors import NotFound, Unauthorized
from chalicelib.storage.users import normalise_email, public
from chalicelib.validation import required_string, string


def register(deps: Deps, body: dict[str, Any], client_ip: str) -> dict[str, Any]:
    email = normalise_email(required_string(body, "email", max_length=254))
    password = required_string(body, "password", max_length=1024)
    name = (string(body, "name", required=False, max_length=120) or "").strip()
    check_policy(password, email, name)
    s = deps.settings
    limit_registrations(deps.redis, client_ip, s.registrations_per_ip, s.registration_window_seconds)
    # Hash first and let the unique email index refuse a taken address (409 `email_taken`): a new and a
    # taken email then cost the same argon2 hash and one insert, so the time does not tell which it is.
    password_hash = hash_password(password)
    return public(deps.users.create(email, name, password_hash))


def _tokens(deps: Deps, user_id: str, refresh_token: str) -> dict[str, Any]:
    lifetime = deps.settings.access_token_seconds
    family = refresh_token.split(".", 1)[0]
    return {
        "access_token": issue_access_token(user_id, deps.jwt_secret, lifetime, family),
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
    }


def login(deps: Deps, body: dict[str, Any], client_ip: str) -> dict[str, Any]:
    email = normalise_email(required_string(body, "email", max_length=254))
    password = required_string(body, "password", max_length=1024)
    deps.login_limiter.attempt(email, client_ip)  # counts this attempt before the (slow) hash check
    user = deps.users.by_email(email)
    if not verify_password(user["password_hash"] if user else None, password) or user is None:
        raise Unauthorized("the email or the password is wrong", code="invalid_credentials")
    deps.login_limiter.succeeded(email, client_ip)
    return _tokens(deps, user["_id"], deps.sessions.new_refresh_token(user["_id"]))


def refresh(deps: Deps, body: dict[str, Any]) -> dict[str, Any]:
    token = required_string(body, "refresh_token", max_length=512)
    grant, rotated = deps.sessions.rotate(token)
    if deps.users.by_id(grant.user_id) is None:
        raise Unauthorized("this account no longer exists", code="invalid_refresh_token")
    return _tokens(deps, grant.user_id, rotated)


def logout(deps: Deps, body: dict[str, Any] | None, claims: AccessClaims) -> None:
    """End this sign-in session: revoke its refresh family (so every access and refresh token issued in it
    stops working) and deny this access token until it expires. The body's refresh token is optional."""
    token = string(body or {}, "refresh_token", required=False, max_length=512)
    grant = deps.sessions.owner_of(token) if token else None
    if grant is not None and grant.user_id == claims.user_id:
        deps.sessions.revoke_family(grant.family)
    if claims.family:
        deps.sessions.revoke_family(claims.family)
    deps.sessions.deny_access_token(claims.jti, claims.expires_at)


def me(deps: Deps, user_id: str) -> dict[str, Any]:
    user = deps.users.by_id(user_id)
    if user is None:
        raise NotFound("this account no longer exists")
    return public(user)


def authorize(deps: Deps, authorization_header: str | None) -> AccessClaims:
    """What the API's authorizer checks: a valid, unexpired, HS256 token whose `jti` was not signed out."""
    claims = verify_access_token(bearer_token(authorization_header), deps.jwt_secret)
    if deps.sessions.is_denied(claims.jti) or (claims.family and deps.sessions.family_revoked(claims.family)):
        raise Unauthorized("this access token was signed out", code="token_revoked")
    return claims
