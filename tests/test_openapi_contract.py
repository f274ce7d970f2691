"""docs/openapi.yaml against the code and against the running API.

The first test keeps the document and `app.py` in step: the same routes, methods, path parameters and
authorizers. The others run Schemathesis over the document against the local stack (the real Chalice
server, Redis, SecantusDB and moto) as a freshly registered user: no answer may be a 5xx, and every answer
must have a documented status, content type, headers and body.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
import yaml
from schemathesis.checks import CheckFunction
from schemathesis.specs.openapi.checks import positive_data_acceptance

from chalicelib.auth.passwords import check_policy
from chalicelib.errors import BadRequest
from chalicelib.settings import service_settings
from chalicelib.studies import viewer_consent
from devstack.stack import LocalStack
from tests.api_client import MAX_UPLOAD_BYTES, Account, Api
from tests.synthetic import VIDEOS_DIR

SPEC = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
#: Generated cases per operation in the fuzzing phase (the examples and coverage phases add their own).
MAX_EXAMPLES = 25


def _load_spec() -> dict[str, Any]:
    loaded = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_spec_describes_exactly_the_routes_of_the_app(stack: LocalStack) -> None:
    assert stack.app_module is not None
    routes = stack.app_module.app.routes
    spec = _load_spec()
    assert spec["openapi"].startswith("3.")

    routed = {(method, path) for path, methods in routes.items() for method in methods if method != "OPTIONS"}
    documented = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    assert documented == routed, {
        "not documented": sorted(routed - documented),
        "not in app.py": sorted(documented - routed),
    }

    for path, methods in routes.items():
        item = spec["paths"][path]
        for method, entry in methods.items():
            if method == "OPTIONS":
                continue
            operation = item[method.lower()]
            # The JWT authorizer and the document's security requirement go together.
            secured = operation.get("security", spec.get("security", [])) == [{"bearerAuth": []}]
            assert secured == (entry.authorizer is not None), (method, path)
            # The path parameters are the view's arguments.
            names = set()
            for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]:
                if "$ref" in parameter:
                    parameter = spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
                if parameter["in"] == "path":
                    names.add(parameter["name"])
            assert names == set(entry.view_args) == set(re.findall(r"{(\w+)}", path)), (method, path)
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")


# --- Schemathesis against the running API ------------------------------------------------------------

#: Loaded at import so each operation is its own test item (`schemathesis.pytest.from_fixture` would load it
#: lazily, but it writes `Node._nodeid`, which pytest 9 no longer has). The stack's address and the user's
#: token are only known once the fixtures run, so they are given per call and by `SessionAuth`.
schema = schemathesis.openapi.from_path(
    SPEC,
    config=schemathesis.Config.from_dict(
        {
            "seed": 20240601,  # the same cases on every run, so a failure reproduces
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "request-timeout": 30,
            # Hypothesis' generation heuristics (slow examples on a busy 2-core machine, patterns that filter
            # many candidates) are not what this test judges: the checks on the answers are.
            "suppress-health-check": ["all"],
            # The undeclared-method probes, without TRACE and QUERY: Python's http.server (under Chalice's
            # local server) answers those itself with 501 Not Implemented, RFC 9110's answer for a method a
            # server does not recognise, before any API code runs; API Gateway does not route them either.
            "phases": {
                "coverage": {"unexpected-methods": ["GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"]}
            },
        }
    ),
)


@dataclass
class Session:
    """The freshly registered, signed-in user the contract run acts as."""

    api: Api
    account: Account
    #: `DELETE /account` and `PUT /account/settings` act as this other user: the first's wrong passwords
    #: count as failed sign-ins, which would soon lock the contract user out of the fresh sign-ins below
    #: (`Retry-After`: 15 minutes); the second's retention of 0 days would delete the sources of the
    #: contract user's videos (then their media answer 410, by design) under the stateful run.
    bystander: Account | None = None

    def bystander_access_token(self) -> str:
        if self.bystander is None:
            self.bystander = self.api.new_account()
        return self.bystander.access_token

    def fresh_access_token(self) -> str:
        """The access token of a new sign-in of this user: its own session, so signing it out ends only it."""
        response = self.api.call(
            "POST", "/auth/login", json={"email": self.account.email, "password": self.account.password}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


_sessions: list[Session] = []


@pytest.fixture(scope="module")
def contract_session(api: Api) -> Iterator[Session]:
    session = Session(api, api.new_account())
    _sessions.append(session)
    yield session
    _sessions.remove(session)
    # The run never lost its token (a valid sign-out would have denied it: see `SessionAuth`).
    assert api.call("GET", "/auth/me", session.account).status_code == 200


@schema.auth(refresh_interval=None)
class SessionAuth:
    """`Authorization: Bearer <access token>` on the operations the document secures with `bearerAuth`.

    Schemathesis still leaves it out, or replaces it, where a case tests a missing or an invalid token.
    """

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str | None:
        if not case.operation.definition.raw.get("security") or not _sessions:
            return None
        session = _sessions[-1]
        if case.operation.path == "/auth/logout":
            # A valid sign-out ends the session of the token it was sent with: each one gets its own
            # sign-in, so the rest of the run keeps a working token.
            return session.fresh_access_token()
        if (case.method.upper(), case.operation.path) in (
            ("DELETE", "/account"),
            ("PUT", "/account/settings"),
        ):
            return session.bystander_access_token()
        return session.account.access_token

    def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


def _violates_password_policy(body: dict[str, Any]) -> bool:
    try:
        name = body.get("name")
        check_policy(
            body["password"], body["email"].strip().lower(), name.strip() if isinstance(name, str) else ""
        )
    except BadRequest:
        return True
    return False


def _not_the_current_consent(consent: Any) -> bool:
    version = service_settings().consent_version
    return not isinstance(consent, dict) or consent.get("text_version") != version


def _not_the_current_viewer_consent(consent: Any) -> bool:
    return not isinstance(consent, dict) or consent.get("text_version") != viewer_consent.VERSION


def _offset_outside_the_content(case: schemathesis.Case, offset: Any) -> bool:
    """Whether a viewer's `offset` lies beyond its study's content (the study's duration is data, not
    schema): asked of the API as the contract user."""
    if isinstance(offset, bool) or not isinstance(offset, int | float) or not _sessions:
        return False
    session = _sessions[-1]
    study_id = (case.path_parameters or {}).get("study_id")
    found = session.api.call("GET", f"/studies/{study_id}", session.account)
    if found.status_code != 200:
        return False  # no such study: the answer is 404 whatever the offset
    return bool(abs(offset) > found.json()["content"]["duration"])


def _excluded_checks(case: schemathesis.Case) -> list[CheckFunction]:
    """`positive_data_acceptance` where a schema-valid request breaks a rule JSON Schema cannot express.

    Only for the exact cases concerned, so the check still runs everywhere else:
    - POST /auth/register with a password the policy refuses (fewer than 4 different characters, or the
      email itself): 400 `weak_password`;
    - GET /videos with a `cursor` the API did not issue (any string is a `cursor` to the schema): 400;
    - POST /videos with a `size` over the upload limit (a deployment setting, not in the document): 413;
    - POST /studies with a `content.size` over the upload limit (the same setting): 413;
    - POST /videos whose `consent.text_version` is not the current statement's (a deployment setting): 400;
    - POST /studies/{study_id}/viewers whose `consent.text_version` is not the current viewer statement's,
      or whose `offset` lies beyond the study's content duration (the study's data): 400;
    - DELETE /account with a password that is not the account's (any string is one to the schema): 401,
      then 429 once the sign-in limiter counts enough of them.
    """
    body: dict[str, Any] = case.body if isinstance(case.body, dict) else {}
    size = body.get("size")
    content: dict[str, Any] = body["content"] if isinstance(body.get("content"), dict) else {}
    label = f"{case.method.upper()} {case.operation.path}"
    refused = (
        (
            label == "POST /auth/register"
            and isinstance(body.get("password"), str)
            and isinstance(body.get("email"), str)
            and _violates_password_policy(body)
        )
        or (label == "GET /videos" and bool((case.query or {}).get("cursor")))
        or (label == "POST /videos" and isinstance(size, int) and size > MAX_UPLOAD_BYTES)
        or (
            label == "POST /studies"
            and isinstance(content.get("size"), int)
            and content["size"] > MAX_UPLOAD_BYTES
        )
        or (label == "POST /videos" and _not_the_current_consent(body.get("consent")))
        or (
            label == "POST /studies/{study_id}/viewers"
            and (
                _not_the_current_viewer_consent(body.get("consent"))
                or _offset_outside_the_content(case, body.get("offset"))
            )
        )
        or label == "DELETE /account"
    )
    return [positive_data_acceptance] if refused else []


@pytest.fixture(scope="module")
def analysed(contract_session: Session) -> tuple[str, str]:
    """The contract user's analysed (`done`) and failed videos, so that answers about them are checked too."""
    api, account = contract_session.api, contract_session.account
    done = api.upload(account, VIDEOS_DIR / "openmpf_face_video_01.mp4", title="contract: done")
    failed = api.upload(account, VIDEOS_DIR.parent / "README.md", title="contract: failed")
    assert api.wait(account, done)["status"] == "done"
    assert api.wait(account, failed)["status"] == "failed"
    return done, failed


def test_the_answers_about_analysed_and_failed_videos_conform_to_the_spec(
    contract_session: Session, analysed: tuple[str, str]
) -> None:
    """What random ids cannot reach: results, CSV, media, stats and retry of videos that really exist."""
    api, account = contract_session.api, contract_session.account
    done, failed = analysed

    def conforms(method: str, path: str, status: int, video_id: str = "", **query: str) -> Any:
        response = api.call(method, path.format(video_id=video_id), account, params=query)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        schema[path][method].validate_response(response)
        return response

    assert "summary" in conforms("GET", "/videos/{video_id}", 200, video_id=done).json()
    assert "error" in conforms("GET", "/videos/{video_id}", 200, video_id=failed).json()
    assert conforms("GET", "/videos/{video_id}/results", 200, video_id=done).json()["segments"] >= 1
    csv = conforms("GET", "/videos/{video_id}/results.csv", 200, video_id=done)
    assert csv.headers["Content-Type"] == "text/csv" and csv.text.startswith("t,faces,")
    conforms("GET", "/videos/{video_id}/results", 409, video_id=failed)
    conforms("GET", "/videos/{video_id}/media", 200, video_id=done)
    stats = conforms("GET", "/stats", 200).json()
    assert stats["videos"] == 1 and stats["dominant_per_video"] and stats["weekly"]
    assert conforms("GET", "/stats", 200).json()["cached"] is True
    page = conforms("GET", "/videos", 200, limit="1")  # two videos: a `next` cursor
    assert page.json()["next"] is not None
    assert conforms("GET", "/consent", 200).json()["statements"]["es"]
    assert conforms("GET", "/account/settings", 200).json() == {"retention_days": 30}
    assert conforms("GET", "/account/export", 200, videos="true").json()["size"] > 0
    conforms("POST", "/videos/{video_id}/retry", 409, video_id=done)
    assert conforms("POST", "/videos/{video_id}/retry", 202, video_id=failed).json()["status"] == "queued"
    assert api.wait(account, failed)["status"] == "failed"  # still a text file


@schema.parametrize()
def test_the_api_conforms_to_the_spec(
    case: schemathesis.Case, stack: LocalStack, contract_session: Session, analysed: tuple[str, str]
) -> None:
    """Examples, coverage (boundaries, missing and wrong values, undeclared methods) and fuzzing phases."""
    case.call_and_validate(base_url=stack.api_url, excluded_checks=_excluded_checks(case))


def test_the_video_lifecycle_conforms_to_the_spec(stack: LocalStack, contract_session: Session) -> None:
    """Stateful: the document's links feed real video ids and cursors from one operation to the next.

    So GET, DELETE, results, media and retry also see videos that exist (200, 204, 409), and Schemathesis
    checks that a created video can be read and a deleted one is gone.
    """

    class VideoWorkflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"base_url": stack.api_url}

        def validate_response(
            self,
            response: schemathesis.Response,
            case: schemathesis.Case,
            additional_checks: list[CheckFunction] | None = None,
            **kwargs: Any,
        ) -> None:
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=_excluded_checks(case),
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    VideoWorkflow.run(
        settings=hypothesis.settings(
            max_examples=20,
            stateful_step_count=6,
            derandomize=True,  # the same scenarios on every run, as the seeded run above
            deadline=None,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
