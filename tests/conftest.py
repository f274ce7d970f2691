"""Shared fixtures: the built models, the fixture data, the analysis of each fixture video (once), the local
stack; and the test tiers.

Tiers (markers, set here; `make test` runs them all):
- `unit`: tests/unit/, pure logic with small in-memory fakes, no servers, no models (seconds);
- `stack`: every test that needs the local stack's real servers (the `stack` fixture, or the `faults` tier);
- the rest, unmarked: the engine, the models, the CLI, the deployment code, single small servers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.engine.segment import AnalysisOptions
from devstack.services import free_port
from devstack.stack import LocalStack, Ports
from tests.api_client import MAX_UPLOAD_BYTES, Account, Api
from tests.synthetic import FER_DIR, FIXTURES, VIDEOS_DIR

FIXTURE_VIDEOS = sorted(VIDEOS_DIR.glob("*.mp4"))
UNIT_DIR = Path(__file__).parent / "unit"
#: Fixtures that start servers or need the models or the fixture data: no unit test may use one.
NOT_FOR_UNIT_TESTS = {"stack", "api", "account", "model_dir", "options", "fixture_analyses", "fixtures_dir"}


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.path.is_relative_to(UNIT_DIR):
            if fixtures & NOT_FOR_UNIT_TESTS:
                raise pytest.UsageError(
                    f"{item.nodeid} is a unit test but uses {sorted(fixtures & NOT_FOR_UNIT_TESTS)}"
                )
            item.add_marker(pytest.mark.unit)
        if "stack" in fixtures or item.get_closest_marker("faults"):
            item.add_marker(pytest.mark.stack)


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The ONNX models, built by the project's own build step (cached: a no-op when up to date)."""
    from model.build import build

    paths = build()
    return paths[0].parent


@pytest.fixture(scope="session")
def options(model_dir: Path) -> AnalysisOptions:
    return AnalysisOptions(sample_fps=5.0, classifier="ensemble", model_dir=model_dir)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    assert FIXTURES.is_dir(), f"test fixtures missing at {FIXTURES} (../shared/fixtures beside the checkout)"
    return FIXTURES


@pytest.fixture(scope="session")
def fer_dir(fixtures_dir: Path) -> Path:
    return FER_DIR


@pytest.fixture(scope="session")
def fixture_analyses(options: AnalysisOptions) -> dict[str, dict[str, Any]]:
    """Every fixture video analysed once, whole, in 10 s segments (shared by several tests)."""
    from chalicelib.engine.runner import analyze_video

    return {p.name: analyze_video(p, options, segment_seconds=10.0) for p in FIXTURE_VIDEOS}


# --- the local stack: real redis-server, SecantusDB, moto and Chalice's local API, once per session ---


@pytest.fixture(scope="session")
def stack(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    ports = Ports(api=free_port(), site=free_port(), moto=free_port(), redis=free_port(), mongo=free_port())
    settings = {
        "EMOTIONFY_MODEL_DIR": str(model_dir),
        "EMOTIONFY_SEGMENT_SECONDS": "5",  # a 12 s fixture fans out over 3 segments
        "EMOTIONFY_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
        "EMOTIONFY_LOGIN_FAILURES_IP": "1000",
        "EMOTIONFY_REGISTRATIONS_PER_IP": "100000",  # all tests sign in from 127.0.0.1 (IP limit: own test)
        "MONGODB_TIMEOUT_MS": "1500",
        "REDIS_TIMEOUT_SECONDS": "1",
    }
    local = LocalStack(tmp_path_factory.mktemp("stack"), ports, settings=settings, persist_uploads=False)
    local.start()
    yield local
    local.stop()


@pytest.fixture(scope="session")
def api(stack: LocalStack) -> Api:
    return Api(stack.api_url)


@pytest.fixture
def account(api: Api) -> Account:
    """A new user, signed in."""
    return api.new_account()
