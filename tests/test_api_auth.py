"""Accounts and sessions over real HTTP against the local stack (Chalice local server, Redis, SecantusDB)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest

from devstack.stack import LocalStack
from tests.api_client import PASSWORD, Account, Api


def _email() -> str:
    return f"Someone-{uuid.uuid4().hex[:10]}@Example.COM "


def _error(response: object) -> dict:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return dict(body["error"])


def test_register_normalises_the_email_and_refuses_a_second_account(api: Api) -> None:
    raw = _email()
    created = api.call("POST", "/auth/register", json={"email": raw, "password": PASSWORD, "name": " Ana "})
    assert created.status_code == 201
    assert created.json()["email"] == raw.strip().lower() and created.json()["name"] == "Ana"
    again = api.call("POST", "/auth/register", json={"email": raw.strip().upper(), "password": PASSWORD})
    assert again.status_code == 409 and _error(again)["code"] == "email_taken"


@pytest.mark.parametrize(
    ("password", "why"),
    [("short1", "at least 10"), ("aaaaaaaaaaaaaa", "4 different"), ("x" * 300, "at most")],
)
def test_register_enforces_the_password_policy(api: Api, password: str, why: str) -> None:
    response = api.call("POST", "/auth/register", json={"email": _email(), "password": password})
    assert response.status_code == 400 and why in _error(response)["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"email": {"$ne": None}, "password": PASSWORD},
        {"email": "a@example.com", "password": {"$gt": ""}},
        {"email": ["a@example.com"], "password": PASSWORD},
        {"email": "not-an-email", "password": PASSWORD},
    ],
)
def test_operator_payloads_and_bad_types_are_400(api: Api, account: Account, body: dict) -> None:
    for path in ("/auth/register", "/auth/login"):
        response = api.call("POST", path, json=body)
        assert response.status_code == 400, (path, response.text)
        assert _error(response)["code"] in {"invalid_field", "invalid_email"}


def test_malformed_json_is_400(api: Api) -> None:
    response = api.call(
        "POST", "/auth/login", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and "JSON" in _error(response)["message"]


def test_login_returns_tokens_and_me_returns_the_user(api: Api, account: Account) -> None:
    tokens = api.call(
        "POST", "/auth/login", json={"email": account.email, "password": account.password}
    ).json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["sub"] == account.user_id and claims["jti"] and claims["exp"] - claims["iat"] == 900
    me = api.call("GET", "/auth/me", account)
    assert me.status_code == 200 and me.json() == {
        "id": account.user_id,
        "email": account.email,
        "name": "Test",
    }


def test_wrong_password_is_401_and_repeated_failures_are_429(api: Api, account: Account) -> None:
    wrong = {"email": account.email, "password": "not the password 1"}
    for _ in range(5):
        response = api.call("POST", "/auth/login", json=wrong)
        assert response.status_code == 401 and _error(response)["code"] == "invalid_credentials"
    limited = api.call("POST", "/auth/login", json={"email": account.email, "password": account.password})
    assert limited.status_code == 429 and _error(limited)["code"] == "rate_limited"
    assert 0 < int(limited.headers["Retry-After"]) <= 900


def test_the_per_ip_limit_counts_failures_across_emails(stack: LocalStack) -> None:
    from chalicelib.auth.ratelimit import LoginLimiter
    from chalicelib.deps import deps
    from chalicelib.errors import TooManyRequests

    limiter = LoginLimiter(deps().redis, per_email_ip=100, per_ip=3, per_account=100, window_seconds=60)
    ip = f"198.51.100.{uuid.uuid4().int % 250}"
    for i in range(3):
        limiter.attempt(f"user{i}-{ip}@example.com", ip)
    with pytest.raises(TooManyRequests) as raised:
        limiter.attempt(f"someone-else-{ip}@example.com", ip)
    assert 0 < raised.value.retry_after <= 60


def test_parallel_wrong_passwords_cannot_exceed_the_limit(api: Api, account: Account) -> None:
    wrong = {"email": account.email, "password": "not the password 1"}
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = Counter(
            pool.map(lambda _: api.call("POST", "/auth/login", json=wrong).status_code, range(12))
        )
    assert statuses == {401: 5, 429: 7}, statuses


def test_concurrent_refreshes_with_one_token_share_the_successor(api: Api, account: Account) -> None:
    """Two tabs refreshing at once must not sign the user out: both get the same new refresh token."""
    body = {"refresh_token": account.refresh_token}
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: api.call("POST", "/auth/refresh", json=body), range(4)))
    assert [r.status_code for r in responses] == [200] * 4
    assert len({r.json()["refresh_token"] for r in responses}) == 1
    successor = responses[0].json()["refresh_token"]
    assert api.call("POST", "/auth/refresh", json={"refresh_token": successor}).status_code == 200


def test_reuse_after_the_grace_period_revokes(
    api: Api, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.auth import sessions

    monkeypatch.setattr(sessions, "REUSE_GRACE_SECONDS", 0)
    assert api.call("POST", "/auth/refresh", json={"refresh_token": account.refresh_token}).status_code == 200
    time.sleep(0.05)
    replay = api.call("POST", "/auth/refresh", json={"refresh_token": account.refresh_token})
    assert replay.status_code == 401 and _error(replay)["code"] == "refresh_token_reused"


def test_refresh_rotates_and_reuse_revokes_the_whole_family(api: Api, account: Account) -> None:
    first = api.call("POST", "/auth/refresh", json={"refresh_token": account.refresh_token})
    assert first.status_code == 200
    second_token = first.json()["refresh_token"]
    assert second_token != account.refresh_token
    second = api.call("POST", "/auth/refresh", json={"refresh_token": second_token})
    assert second.status_code == 200
    third_token = second.json()["refresh_token"]

    time.sleep(0.05)
    with pytest.MonkeyPatch.context() as patch:
        from chalicelib.auth import sessions

        patch.setattr(sessions, "REUSE_GRACE_SECONDS", 0)  # the replay comes after the grace period
        replay = api.call("POST", "/auth/refresh", json={"refresh_token": account.refresh_token})
    assert replay.status_code == 401 and _error(replay)["code"] == "refresh_token_reused"
    # the newest token of the family is dead too: the thief and the user both have to sign in again
    after = api.call("POST", "/auth/refresh", json={"refresh_token": third_token})
    assert after.status_code == 401
    # another session (another family) of the same user is untouched
    other = api.call(
        "POST", "/auth/login", json={"email": account.email, "password": account.password}
    ).json()
    assert (
        api.call("POST", "/auth/refresh", json={"refresh_token": other["refresh_token"]}).status_code == 200
    )


def test_logout_ends_every_token_of_the_session_and_only_that_session(api: Api, account: Account) -> None:
    older_access = account.access_token
    refreshed = api.call("POST", "/auth/refresh", json={"refresh_token": account.refresh_token}).json()
    other = api.call(
        "POST", "/auth/login", json={"email": account.email, "password": account.password}
    ).json()
    newer = {"Authorization": f"Bearer {refreshed['access_token']}"}
    assert api.call("POST", "/auth/logout", headers=newer).status_code == 204  # no body needed
    for token in (older_access, refreshed["access_token"]):
        assert api.call("GET", "/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert (
        api.call("POST", "/auth/refresh", json={"refresh_token": refreshed["refresh_token"]}).status_code
        == 401
    )
    # the other sign-in (another device) is untouched
    assert (
        api.call("GET", "/auth/me", headers={"Authorization": f"Bearer {other['access_token']}"}).status_code
        == 200
    )


def test_logout_revokes_the_refresh_family_and_denies_the_access_token(api: Api, account: Account) -> None:
    assert api.call("GET", "/auth/me", account).status_code == 200
    out = api.call("POST", "/auth/logout", account, json={"refresh_token": account.refresh_token})
    assert out.status_code == 204
    assert api.call("GET", "/auth/me", account).status_code == 401
    again = api.call("POST", "/auth/refresh", json={"refresh_token": account.refresh_token})
    assert again.status_code == 401


def _token(claims: dict, key: str, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_bad_tokens_are_401_with_a_json_error(api: Api, account: Account) -> None:
    from chalicelib.deps import deps

    secret = deps().jwt_secret
    now = int(time.time())
    claims = {
        "sub": account.user_id,
        "jti": "x1",
        "iat": now,
        "exp": now + 600,
        "iss": "emotionfy",
        "aud": "emotionfy-api",
    }
    header, payload, signature = account.access_token.split(".")
    forged_payload = _b64(
        {**jwt.decode(account.access_token, options={"verify_signature": False}), "sub": "u_" + "0" * 24}
    )
    bad = {
        "expired": _token({**claims, "iat": now - 1000, "exp": now - 10}, secret),
        "tampered": f"{header}.{forged_payload}.{signature}",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "foreign key": _token(claims, "some-other-secret-that-is-long-enough-for-hs256"),
        "wrong audience": _token({**claims, "aud": "someone-else"}, secret),
        "no jti": _token({k: v for k, v in claims.items() if k != "jti"}, secret),
        "garbage": "not-a-jwt",
    }
    for name, token in bad.items():
        response = api.call("GET", "/videos", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert _error(response)["code"] == "unauthorized", name
    assert api.call("GET", "/videos").status_code == 401  # no header at all
    good = _token(claims, secret)  # the same claims, signed with the right key: accepted
    assert api.call("GET", "/videos", headers={"Authorization": f"Bearer {good}"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/auth/register", '{"email": "b@example.com", "password": "abcdefghij\\ud800"}'),
        ("/auth/register", '{"email": "a\\ud800@example.com", "password": "a long passphrase 7"}'),
        (
            "/auth/register",
            '{"email": "c@example.com", "password": "a long passphrase 7", "name": "x\\udfff"}',
        ),
        ("/auth/login", '{"email": "b@example.com", "password": "x\\ud800"}'),
        ("/auth/refresh", '{"refresh_token": "\\ud800"}'),
        ("/auth/login", '{"email": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ],
)
def test_unstorable_strings_and_deep_nesting_are_400_not_500(api: Api, path: str, raw: str) -> None:
    response = api.call("POST", path, data=raw.encode(), headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    _error(response)


def test_a_non_json_content_type_is_415_in_the_same_error_shape(api: Api) -> None:
    response = api.call("POST", "/auth/login", data=b"email=a", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415 and _error(response)["code"] == "unsupported_media_type"
