"""A small client for the API under test, over real HTTP (`requests`), with the journeys tests repeat."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import requests

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
SPEC = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"


@cache
def _schema() -> Any:
    import schemathesis

    return schemathesis.openapi.from_path(SPEC)


def conforms(response: requests.Response, path: str, method: str) -> requests.Response:
    """The answer is one docs/openapi.yaml documents for `method path` (status, headers, body)."""
    _schema()[path][method.upper()].validate_response(response)
    return response


PASSWORD = "a long enough passphrase 7"


@dataclass
class Account:
    email: str
    password: str
    access_token: str
    refresh_token: str
    user_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class Api:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        self._consent_version: str | None = None

    def consent(self, language: str = "en") -> dict[str, Any]:
        """The `consent` object of an upload: the current statement (GET /consent), accepted."""
        if self._consent_version is None:
            statement = self.call("GET", "/consent")
            assert statement.status_code == 200, statement.text
            self._consent_version = str(statement.json()["version"])
        return {"given": True, "text_version": self._consent_version, "language": language}

    def viewer_consent(self, language: str = "en") -> dict[str, Any]:
        """The `consent` of a study's viewer: the current viewer statement (GET /consent, `viewer`)."""
        statement = self.call("GET", "/consent")
        assert statement.status_code == 200, statement.text
        return {"given": True, "text_version": statement.json()["viewer"]["version"], "language": language}

    def create_study(self, account: Account, content: Path, duration: float, title: str = "study") -> dict:
        """A study whose content is `content` (announced, not uploaded yet): the 201 body."""
        body = {
            "title": title,
            "content": {
                "filename": content.name,
                "content_type": "video/mp4",
                "size": content.stat().st_size,
                "duration": duration,
            },
        }
        created = self.call("POST", "/studies", account, json=body)
        assert created.status_code == 201, created.text
        return dict(created.json())

    def add_viewer(
        self, account: Account, study_id: str, recording: Path, offset: float, **extra: Any
    ) -> dict:
        """A viewer added by the study's creator, with consent, and their recording uploaded: the 201 body."""
        body = {
            "filename": recording.name,
            "content_type": "video/mp4",
            "size": recording.stat().st_size,
            "offset": offset,
            "consent": self.viewer_consent(),
            **extra,
        }
        created = self.call("POST", f"/studies/{study_id}/viewers", account, json=body)
        assert created.status_code == 201, created.text
        response = self.post_upload(created.json(), recording)
        assert response.status_code in (200, 201, 204), response.text
        return dict(created.json())

    def call(
        self, method: str, path: str, account: Account | None = None, **kwargs: Any
    ) -> requests.Response:
        headers = {**(account.headers if account else {}), **kwargs.pop("headers", {})}
        return self.http.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs)

    def new_account(self, password: str = PASSWORD) -> Account:
        email = f"user-{uuid.uuid4().hex[:12]}@example.com"
        registered = self.call(
            "POST", "/auth/register", json={"email": email, "password": password, "name": "Test"}
        )
        assert registered.status_code == 201, registered.text
        tokens = self.call("POST", "/auth/login", json={"email": email, "password": password})
        assert tokens.status_code == 200, tokens.text
        body = tokens.json()
        return Account(email, password, body["access_token"], body["refresh_token"], registered.json()["id"])

    def create_video(
        self, account: Account, path: Path, content_type: str = "video/mp4", **extra: Any
    ) -> dict:
        body = {
            "filename": path.name,
            "content_type": content_type,
            "size": path.stat().st_size,
            "consent": self.consent(),
            **extra,
        }
        created = self.call("POST", "/videos", account, json=body)
        assert created.status_code == 201, created.text
        return created.json()

    @staticmethod
    def post_upload(created: dict, path: Path, content_type: str = "video/mp4") -> requests.Response:
        upload = created["upload"]
        return requests.post(
            upload["url"],
            data=upload["fields"],
            files={"file": (path.name, path.read_bytes(), content_type)},
            timeout=60,
        )

    def upload(self, account: Account, path: Path, **extra: Any) -> str:
        """Create the video, POST the file to S3 with the presigned form; the video's id."""
        created = self.create_video(account, path, **extra)
        response = self.post_upload(created, path)
        assert response.status_code in (200, 201, 204), response.text
        return str(created["video"]["id"])

    def wait(self, account: Account, video_id: str, timeout: float = 180.0) -> dict:
        """Poll until the video is done or failed; the video record."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            video = self.call("GET", f"/videos/{video_id}", account).json()
            if video["status"] in ("done", "failed"):
                return dict(video)
            time.sleep(0.25)
        raise AssertionError(f"video {video_id} still {video['status']} after {timeout} s")
