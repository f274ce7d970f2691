"""Sign-in and sign-up hardening: login limits per (account, address) with a growing wait past a per-account
ceiling, a password policy that refuses guessable passwords and control characters, and registrations
that take as long for a taken email as for a new one.

The limiter's arithmetic runs against the stack's real Redis; the HTTP tests drive the local API from
several loopback source addresses (127.0.0.1, 127.0.0.2, ...: Linux routes all of 127/8 to loopback),
which the local server reports as `sourceIp`, as API Gateway does.
"""

from __future__ import annotations

import http.client
import json
import re
import statistics
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from chalicelib.auth.ratelimit import LoginLimiter
from chalicelib.errors import BadRequest, Conflict, TooManyRequests
from devstack.stack import LocalStack
from tests.api_client import PASSWORD, Api

ROOT = Path(__file__).resolve().parents[1]
WRONG = "not the password 1"


class _FromAddress(HTTPAdapter):
    """Connects from a chosen local address, as a client on another machine would appear."""

    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__()

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, source_address=(self._address, 0), **kwargs)


def _api_from(stack: LocalStack, address: str) -> Api:
    api = Api(stack.api_url)
    api.http.mount("http://", _FromAddress(address))
    return api


def _email() -> str:
    return f"hardening-{uuid.uuid4().hex[:12]}@example.com"


def _error(response: requests.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return dict(body["error"])


def _addresses() -> Iterator[str]:
    """Fresh documentation addresses (2001:db8::/32) for one test: IP counts outlive a test in Redis."""
    network = uuid.uuid4().hex[:4]
    return (f"2001:db8:{network}::{i:x}" for i in range(1, 1000))


# --- 7. login limits per (account, address); past a per-account ceiling, a growing wait ----------------


def _limiter(
    *, per_email_ip: int = 1000, per_ip: int = 1000, per_account: int = 1000, window_seconds: int = 60
) -> LoginLimiter:
    from chalicelib.deps import deps

    return LoginLimiter(
        deps().redis,
        per_email_ip=per_email_ip,
        per_ip=per_ip,
        per_account=per_account,
        window_seconds=window_seconds,
    )


def _let_the_wait_pass(email: str) -> None:
    """What the passing of the account's current wait would do, without sleeping through it."""
    from chalicelib.deps import deps

    deps().redis.delete(LoginLimiter.keys(email, "")["account_wait"])


def test_the_local_api_server_reports_each_clients_own_address() -> None:
    from chalice import Chalice

    from devstack.api_server import ApiServer
    from devstack.services import free_port

    app = Chalice(app_name="source-ip")

    @app.route("/ip")
    def source_ip() -> dict[str, str]:
        assert app.current_request is not None
        return {"ip": app.current_request.context["identity"]["sourceIp"]}

    port = free_port()
    server = ApiServer(app, "127.0.0.1", port, "*")
    server.start()
    try:
        for address in ("127.0.0.2", "127.0.0.1", "127.0.0.3"):
            connection = http.client.HTTPConnection(
                "127.0.0.1", port, timeout=10, source_address=(address, 0)
            )
            connection.request("GET", "/ip")
            assert json.loads(connection.getresponse().read()) == {"ip": address}
            connection.close()
    finally:
        server.stop()


def test_failures_are_counted_per_email_and_address(stack: LocalStack) -> None:
    limiter = _limiter(per_email_ip=3)
    email = _email()
    ips = _addresses()
    first, second = next(ips), next(ips)
    for _ in range(3):
        limiter.attempt(email, first)
    with pytest.raises(TooManyRequests) as refused:
        limiter.attempt(email, first)
    assert 0 < refused.value.retry_after <= 60
    for _ in range(3):  # the same account from another address: its own count
        limiter.attempt(email, second)
    limiter.attempt(_email(), first)  # another account from the refused address: its own count too


def test_a_successful_sign_in_clears_only_its_own_addresss_count(stack: LocalStack) -> None:
    limiter = _limiter(per_email_ip=3)
    email = _email()
    ips = _addresses()
    here, there = next(ips), next(ips)
    for _ in range(2):
        limiter.attempt(email, here)
        limiter.attempt(email, there)
    limiter.attempt(email, here)
    limiter.succeeded(email, here)
    for _ in range(3):  # a fresh count here
        limiter.attempt(email, here)
    limiter.attempt(email, there)  # there keeps its two failures: this is its third and last
    with pytest.raises(TooManyRequests):
        limiter.attempt(email, there)


def test_past_the_account_ceiling_each_attempt_waits_twice_as_long_up_to_the_window(
    stack: LocalStack,
) -> None:
    limiter = _limiter(per_account=4, window_seconds=60)
    email = _email()
    ips = _addresses()
    for _ in range(3):  # under the ceiling: no wait, from any address
        limiter.attempt(email, next(ips))
    waits = []
    for _ in range(9):
        limiter.attempt(email, next(ips))  # the wait is over: this attempt goes on to the password check
        with pytest.raises(TooManyRequests) as refused:  # and the next one, from anywhere, must wait
            limiter.attempt(email, next(ips))
        waits.append(refused.value.retry_after)
        _let_the_wait_pass(email)
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_refused_attempts_neither_lengthen_the_wait_nor_use_up_an_addresss_slots(stack: LocalStack) -> None:
    limiter = _limiter(per_email_ip=3, per_account=2, window_seconds=60)
    email = _email()
    ips = _addresses()
    owner = next(ips)
    limiter.attempt(email, next(ips))
    limiter.attempt(email, next(ips))  # the ceiling: the next attempt waits 1 s
    for _ in range(20):  # the owner pressing "sign in" again and again meanwhile
        with pytest.raises(TooManyRequests) as refused:
            limiter.attempt(email, owner)
        assert refused.value.retry_after == 1
    _let_the_wait_pass(email)
    limiter.attempt(email, owner)  # the owner's address has all its slots
    with pytest.raises(TooManyRequests) as refused:
        limiter.attempt(email, owner)
    assert refused.value.retry_after == 2  # one step longer, not twenty


def test_parallel_attempts_past_the_account_ceiling_get_exactly_one_slot(stack: LocalStack) -> None:
    limiter = _limiter(per_account=3)
    email = _email()
    ips = _addresses()
    for _ in range(3):
        limiter.attempt(email, next(ips))
    _let_the_wait_pass(email)

    def attempt(ip: str) -> bool:
        try:
            limiter.attempt(email, ip)
        except TooManyRequests:
            return False
        return True

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(attempt, [next(ips) for _ in range(24)]))
    assert outcomes.count(True) == 1, outcomes


def test_the_owner_signs_in_from_another_address_while_one_is_refused(stack: LocalStack, api: Api) -> None:
    account = api.new_account()
    wrong = {"email": account.email, "password": WRONG}
    right = {"email": account.email, "password": account.password}
    for _ in range(5):
        guess = api.call("POST", "/auth/login", json=wrong)  # from 127.0.0.1
        assert guess.status_code == 401 and _error(guess)["code"] == "invalid_credentials"
    refused = api.call("POST", "/auth/login", json=right)
    assert refused.status_code == 429 and _error(refused)["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 900

    owner = _api_from(stack, "127.0.0.2")
    signed_in = owner.call("POST", "/auth/login", json=right)
    assert signed_in.status_code == 200, signed_in.text
    me = owner.call(
        "GET", "/auth/me", headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["email"] == account.email


def test_guesses_from_many_addresses_meet_a_growing_wait_not_a_lock(stack: LocalStack, api: Api) -> None:
    """50 failures (the default ceiling) from ten addresses, 5 each (the per-address limit); then every
    attempt, from any address, waits 1 s, 2 s, 4 s… after the one before, and the owner still gets in."""
    from chalicelib.deps import deps

    settings = deps().settings
    assert (settings.login_failures_per_account, settings.login_failures_per_email_ip) == (50, 5)
    account = api.new_account()
    wrong = {"email": account.email, "password": WRONG}
    right = {"email": account.email, "password": account.password}

    def five_guesses(address: str) -> list[int]:
        client = _api_from(stack, address)
        return [client.call("POST", "/auth/login", json=wrong).status_code for _ in range(5)]

    with ThreadPoolExecutor(max_workers=2) as pool:
        batches = list(pool.map(five_guesses, [f"127.0.0.{i}" for i in range(10, 20)]))
    assert [status for batch in batches for status in batch] == [401] * 50

    late = _api_from(stack, "127.0.0.20")
    waits = []
    for _ in range(2):
        guess = late.call("POST", "/auth/login", json=wrong)
        while guess.status_code == 429:  # a well-behaved client: wait as told, then try again
            time.sleep(int(guess.headers["Retry-After"]))
            guess = late.call("POST", "/auth/login", json=wrong)
        assert guess.status_code == 401
        refused = late.call("POST", "/auth/login", json=right)  # even the right password waits its turn
        assert refused.status_code == 429 and _error(refused)["code"] == "rate_limited"
        waits.append(int(refused.headers["Retry-After"]))
    assert waits == [2, 4]
    time.sleep(waits[-1])
    assert late.call("POST", "/auth/login", json=right).status_code == 200  # seconds, not 15 minutes


def test_login_limits_are_settings_with_their_defaults_in_env_example(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.settings import ServiceSettings

    expected = {
        "EMOTIONFY_LOGIN_FAILURES_EMAIL": ("login_failures_per_email_ip", 5),
        "EMOTIONFY_LOGIN_FAILURES_IP": ("login_failures_per_ip", 20),
        "EMOTIONFY_LOGIN_FAILURES_ACCOUNT": ("login_failures_per_account", 50),
        "EMOTIONFY_LOGIN_WINDOW_SECONDS": ("login_window_seconds", 900),
    }
    example = dict(re.findall(r"^([A-Z0-9_]+)=(.*)$", (ROOT / ".env.example").read_text(), re.MULTILINE))
    for name in expected:
        monkeypatch.delenv(name, raising=False)
    defaults = ServiceSettings()
    for name, (attribute, value) in expected.items():
        assert getattr(defaults, attribute) == value == int(example[name]), name
    monkeypatch.setenv("EMOTIONFY_LOGIN_FAILURES_ACCOUNT", "7")
    assert ServiceSettings().login_failures_per_account == 7


# --- 8. guessable passwords and control characters are refused ---------------------------------------


@pytest.mark.parametrize(
    ("password", "name"),
    [
        ("password12", ""),
        ("1234567890", ""),
        ("qwertyuiop", ""),
        ("iloveyou123", ""),
        ("Summer2024!", ""),
        ("abc123abc123", ""),
        ("Xochitl Quispe", "Xóchitl Quispe"),  # the name, however uncommon, is known to an attacker
    ],
)
def test_common_and_guessable_passwords_are_refused_with_advice(api: Api, password: str, name: str) -> None:
    body = {"email": _email(), "password": password, "name": name}
    response = api.call("POST", "/auth/register", json=body)
    assert response.status_code == 400, response.text
    error = _error(response)
    assert error["code"] == "weak_password"
    assert error["message"].startswith("the password is too easy to guess. ") and len(error["message"]) > 40


def test_the_policy_knows_the_account_and_keeps_the_passwords_in_use() -> None:
    from chalicelib.auth.passwords import check_policy

    personal = [
        ("ana.lopez1990", "ana.lopez@example.com", ""),
        ("Zyxwquorth9!", "zyxwquorth@example.com", ""),
        ("emotionfy2024", "ana@example.com", ""),
    ]
    for password, email, name in personal:
        with pytest.raises(BadRequest) as refused:
            check_policy(password, email, name)
        assert refused.value.code == "weak_password", password

    journey = (ROOT / "frontend" / "e2e" / "journey.mjs").read_text()
    found = re.search(r"^const password = '([^']+)';$", journey, re.MULTILINE)
    assert found, "the browser journey's password moved: update this test"
    in_use = [
        (PASSWORD, "user-0123456789ab@example.com", "Test"),  # tests/api_client.py
        (found.group(1), "e2e-1700000000000@example.com", "Ana"),  # frontend/e2e/journey.mjs
        ("a long passphrase 7", "ana@example.com", "Ana"),  # README's curl example
        ("a long enough passphrase 7", "ana@example.com", "Ana"),  # docs/openapi.yaml's example
    ]
    for password, email, name in in_use:
        check_policy(password, email, name)


@pytest.mark.parametrize(
    "character", ["\t", "\n", "\r", "\x00", "\x1b", "\x7f", "\x85", "\u200b", "\u202e", "\ufeff"]
)
def test_control_and_invisible_characters_are_refused(api: Api, character: str) -> None:
    password = f"calm river{character} tower 42"
    response = api.call("POST", "/auth/register", json={"email": _email(), "password": password})
    assert response.status_code == 400, response.text
    error = _error(response)
    assert error["code"] == "invalid_password" and "control" in error["message"]


# --- 9. a taken email takes as long to register as a new one -----------------------------------------


def test_register_hashes_the_password_on_the_taken_email_path_too(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.auth import service
    from chalicelib.deps import deps

    hashed: list[str] = []
    real_hash = service.hash_password

    def counting_hash(password: str) -> str:
        hashed.append(password)
        return real_hash(password)

    monkeypatch.setattr(service, "hash_password", counting_hash)
    body = {"email": _email(), "password": PASSWORD}
    service.register(deps(), body, "192.0.2.9")
    with pytest.raises(Conflict) as taken:
        service.register(deps(), body, "192.0.2.9")
    assert taken.value.code == "email_taken"
    assert hashed == [PASSWORD, PASSWORD]


def test_a_taken_email_takes_about_as_long_to_register_as_a_new_one(api: Api) -> None:
    taken = api.new_account().email

    def register(email: str) -> tuple[float, int]:
        started = time.perf_counter()
        response = api.call("POST", "/auth/register", json={"email": email, "password": PASSWORD})
        return time.perf_counter() - started, response.status_code

    register(_email())  # warm-up: first-use imports and connections are not what is measured
    new, existing = [], []
    for _ in range(5):  # interleaved, so a slow moment of the machine hits both alike
        seconds, status = register(_email())
        assert status == 201
        new.append(seconds)
        seconds, status = register(taken)
        assert status == 409
        existing.append(seconds)
    assert statistics.median(existing) >= 0.4 * statistics.median(new), (existing, new)
