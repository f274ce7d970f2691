"""Invite links over real HTTP against the local stack: created, listed and revoked by the study's creator,
stored as hashes; what the token opens (the study's description, its content, joining with the viewer's
own consent, the viewer's one upload, status and withdrawal with their withdraw token) and what it does
not (every JWT route, another viewer); expired, revoked, unknown and full invites.

One recording is analysed (a viewer joining by invite, end to end); everything else needs no analysis.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from chalicelib.settings import service_settings
from devstack.stack import LocalStack
from tests.api_client import Account, Api, conforms
from tests.synthetic import VIDEOS_DIR

CLIP = VIDEOS_DIR / "openmpf_face_video_01.mp4"  # 3 s, faces throughout: the one recording analysed here
CONTENT_SECONDS = 10.0


@dataclass
class Invited:
    owner: Account
    study_id: str
    token: str
    invite_id: str


def _invite(api: Api, owner: Account, study_id: str, **body: Any) -> dict[str, Any]:
    response = api.call("POST", f"/studies/{study_id}/invites", owner, json=body)
    assert response.status_code == 201, response.text
    return dict(conforms(response, "/studies/{study_id}/invites", "POST").json())


def _holder(
    api: Api, method: str, path: str, token: str | None, withdraw: str | None = None, **kw: Any
) -> Any:
    headers = {}
    if token is not None:
        headers["X-Invite-Token"] = token
    if withdraw is not None:
        headers["X-Withdraw-Token"] = withdraw
    return api.call(method, path, headers=headers, **kw)


def _join(api: Api, token: str) -> dict[str, Any]:
    joined = _holder(api, "POST", "/invite/viewers", token, json={"consent": api.viewer_consent("es")})
    assert joined.status_code == 201, joined.text
    return dict(conforms(joined, "/invite/viewers", "POST").json())


def _used(api: Api, invited: Invited, invite_id: str) -> int:
    items = api.call("GET", f"/studies/{invited.study_id}/invites", invited.owner).json()["items"]
    (found,) = [i for i in items if i["id"] == invite_id]
    return int(found["used"])


def _viewer_ids(api: Api, owner: Account, study_id: str) -> list[str]:
    return [v["id"] for v in api.call("GET", f"/studies/{study_id}/viewers", owner).json()["items"]]


def _record(video_id: str) -> dict[str, Any]:
    from chalicelib.deps import deps

    found = deps().db.videos.find_one({"_id": video_id})
    assert found is not None, video_id
    return dict(found)


def _error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text


@pytest.fixture(scope="module")
def invited(api: Api) -> Invited:
    """A study whose content is uploaded, and one invite to it."""
    owner = api.new_account()
    created = api.create_study(owner, CLIP, CONTENT_SECONDS, title="Invited study")
    assert api.post_upload(created, CLIP).status_code in (200, 201, 204)
    study_id = created["study"]["id"]
    invite = _invite(api, owner, study_id)
    return Invited(owner, study_id, invite["token"], invite["id"])


def test_an_invite_is_shown_once_and_stored_as_the_hash_of_its_token(api: Api, invited: Invited) -> None:
    before = datetime.now(UTC)
    created = _invite(api, invited.owner, invited.study_id, expires_in=3600, max_viewers=7)
    token = created["token"]
    assert len(token) >= 43 and created["url"] == f"{service_settings().site_url.rstrip('/')}/watch/{token}"
    assert created["max_viewers"] == 7 and created["used"] == 0
    expires = datetime.fromisoformat(created["expires_at"])
    assert timedelta(minutes=59) < expires - before <= timedelta(hours=1, seconds=5)
    default = _invite(api, invited.owner, invited.study_id)
    assert default["max_viewers"] == 50
    assert timedelta(days=7) - timedelta(minutes=1) < datetime.fromisoformat(default["expires_at"]) - before

    listed = api.call("GET", f"/studies/{invited.study_id}/invites", invited.owner)
    items = conforms(listed, "/studies/{study_id}/invites", "GET").json()["items"]
    shown = {i["id"]: i for i in items}
    assert shown[created["id"]] == {
        "id": created["id"],
        "created_at": shown[created["id"]]["created_at"],
        "expires_at": created["expires_at"],
        "max_viewers": 7,
        "used": 0,
        "revoked": False,
        "expired": False,
    }
    assert token not in listed.text

    from chalicelib.deps import deps

    stored = deps().db.invites.find_one({"_id": created["id"]})
    assert stored is not None and stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(stored), "only the hash is kept"

    for bad in (
        {"expires_in": 59},
        {"expires_in": 30 * 24 * 3600 + 1},
        {"expires_in": "3600"},
        {"max_viewers": 0},
        {"max_viewers": 1001},
        {"max_viewers": True},
        {"max_viewers": 2.5},
    ):
        response = api.call("POST", f"/studies/{invited.study_id}/invites", invited.owner, json=bad)
        _error(response, 400, "invalid_field")


def test_an_invite_holder_sees_the_study_and_the_viewer_statement(api: Api, invited: Invited) -> None:
    response = _holder(api, "GET", "/invite", invited.token)
    details = conforms(response, "/invite", "GET").json()
    assert details["study"] == {
        "title": "Invited study",
        "duration": CONTENT_SECONDS,
        "content_type": "video/mp4",
    }
    assert details["consent"] == api.call("GET", "/consent").json()["viewer"]
    assert "withdraw" in details["consent"]["statements"]["en"] and details["consent"]["statements"]["es"]
    assert datetime.fromisoformat(details["expires_at"]) > datetime.now(UTC) + timedelta(days=6)
    content = conforms(_holder(api, "GET", "/invite/content", invited.token), "/invite/content", "GET").json()
    assert requests.get(content["url"], timeout=30).content == CLIP.read_bytes()

    for token in (None, "", secrets.token_urlsafe(32), invited.token + "x", "x" * 5000):
        for method, path in (("GET", "/invite"), ("GET", "/invite/content"), ("POST", "/invite/viewers")):
            kwargs: dict[str, Any] = {"json": {"consent": api.viewer_consent()}} if method == "POST" else {}
            refused = _holder(api, method, path, token, **kwargs)
            _error(refused, 401, "invite_invalid")
            conforms(refused, path, method)
    as_bearer = api.call("GET", "/invite", headers={"Authorization": f"Bearer {invited.owner.access_token}"})
    _error(as_bearer, 401, "invite_invalid")


def test_the_content_is_played_only_once_it_is_uploaded(api: Api, account: Account) -> None:
    created = api.create_study(account, CLIP, 5.0)
    study_id = created["study"]["id"]
    token = _invite(api, account, study_id)["token"]
    _error(_holder(api, "GET", "/invite/content", token), 409, "content_not_uploaded")
    assert api.post_upload(created, CLIP).status_code in (200, 201, 204)
    content = _holder(api, "GET", "/invite/content", token)
    assert (
        content.status_code == 200
        and requests.get(content.json()["url"], timeout=30).content == CLIP.read_bytes()
    )


def test_a_viewer_joins_uploads_once_is_analysed_and_counted_in_the_audience(
    api: Api, invited: Invited, stack: LocalStack
) -> None:
    joined = _join(api, invited.token)
    viewer_id, withdraw = joined["viewer"]["id"], joined["withdraw_token"]
    assert joined["viewer"]["label"].startswith("Viewer ")
    from chalicelib.deps import deps

    record = deps().db.videos.find_one({"_id": viewer_id})
    assert (
        record is not None
        and record["owner"] == invited.owner.user_id
        and record["study_id"] == invited.study_id
    )
    assert record["viewer"]["withdraw_hash"] == hashlib.sha256(withdraw.encode()).hexdigest()
    assert withdraw not in repr(record) and invited.token not in repr(record)
    assert record["consent"]["language"] == "es"

    viewers = api.call("GET", f"/studies/{invited.study_id}/viewers", invited.owner).json()["items"]
    (shown,) = [v for v in viewers if v["id"] == viewer_id]
    assert (shown["source"], shown["offset"], shown["status"]) == ("invite", 0.0, "pending_upload")
    path = f"/invite/viewers/{viewer_id}"
    status = conforms(
        _holder(api, "GET", path, invited.token, withdraw), "/invite/viewers/{viewer_id}", "GET"
    )
    assert status.json() == {
        "id": viewer_id,
        "label": joined["viewer"]["label"],
        "status": "pending_upload",
        "progress": {"done": 0, "total": 0},
    }

    file = {"filename": "my recording.mp4", "content_type": "video/mp4", "size": CLIP.stat().st_size}
    upload = _holder(api, "POST", f"{path}/upload", invited.token, withdraw, json=file)
    assert upload.status_code == 201, upload.text
    conforms(upload, "/invite/viewers/{viewer_id}/upload", "POST")
    key = upload.json()["upload"]["fields"]["key"]
    assert key == f"uploads/{invited.owner.user_id}/{viewer_id}/my_recording.mp4"
    again = _holder(api, "POST", f"{path}/upload", invited.token, withdraw, json=file)
    _error(again, 409, "already_uploaded")
    assert api.post_upload(upload.json(), CLIP).status_code in (200, 201, 204)

    deadline = time.monotonic() + 180
    while (state := _holder(api, "GET", path, invited.token, withdraw).json())["status"] not in (
        "done",
        "failed",
    ):
        assert time.monotonic() < deadline, state
        time.sleep(0.5)
    assert state["status"] == "done" and state["progress"]["done"] == state["progress"]["total"] >= 1
    curve = api.call("GET", f"/studies/{invited.study_id}/audience", invited.owner).json()
    (listed,) = [v for v in curve["viewers"] if v["id"] == viewer_id]
    assert listed["included"] is True and listed["offset"] == 0.0
    assert max(curve["n"][:6]) >= 1 and curve["n"][-1] == 0, "seen in the first 3 s of the content only"


def test_no_consent_no_viewer_and_no_place_taken(api: Api, invited: Invited) -> None:
    invite = _invite(api, invited.owner, invited.study_id, max_viewers=1)
    before = _viewer_ids(api, invited.owner, invited.study_id)
    good = api.viewer_consent()
    for body, code in (
        ({}, "consent_required"),
        ({"consent": {**good, "given": False}}, "consent_required"),
        ({"consent": {**good, "given": "yes"}}, "consent_required"),
        ({"consent": api.consent()}, "consent_version_unknown"),
        ({"consent": {**good, "language": "de"}}, "bad_request"),
    ):
        _error(_holder(api, "POST", "/invite/viewers", invite["token"], json=body), 400, code)
    assert _used(api, invited, invite["id"]) == 0
    assert _viewer_ids(api, invited.owner, invited.study_id) == before, "no record was made"
    _join(api, invite["token"])
    assert _used(api, invited, invite["id"]) == 1, "the one place was still free"


def test_an_invite_admits_at_most_max_viewers_even_when_they_join_at_once(api: Api, invited: Invited) -> None:
    invite = _invite(api, invited.owner, invited.study_id, max_viewers=3)
    body = {"consent": api.viewer_consent()}

    def join(_: int) -> requests.Response:
        return requests.post(
            f"{api.base_url}/invite/viewers",
            json=body,
            headers={"X-Invite-Token": invite["token"]},
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(join, range(8)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 3 + [409] * 5, [a.text for a in answers]
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json()["error"]["code"] == "invite_full"
        conforms(refused, "/invite/viewers", "POST")
    assert _used(api, invited, invite["id"]) == 3
    labels = [a.json()["viewer"]["label"] for a in answers if a.status_code == 201]
    assert len(set(labels)) == 3, labels
    from chalicelib.deps import deps

    assert deps().db.videos.count_documents({"viewer.invite_id": invite["id"]}) == 3


def test_revoked_and_expired_invites_admit_no_one_but_joined_viewers_can_still_withdraw(
    api: Api, invited: Invited
) -> None:
    from chalicelib.deps import deps

    revoked = _invite(api, invited.owner, invited.study_id)
    viewer = _join(api, revoked["token"])
    path = f"/invite/viewers/{viewer['viewer']['id']}"
    gone = api.call("DELETE", f"/studies/{invited.study_id}/invites/{revoked['id']}", invited.owner)
    assert gone.status_code == 204
    assert (
        api.call("DELETE", f"/studies/{invited.study_id}/invites/{revoked['id']}", invited.owner).status_code
        == 204
    )
    file = {"filename": "r.webm", "content_type": "video/webm", "size": 1000}
    for method, route, kwargs in (
        ("GET", "/invite", {}),
        ("GET", "/invite/content", {}),
        ("POST", "/invite/viewers", {"json": {"consent": api.viewer_consent()}}),
        ("POST", f"{path}/upload", {"json": file}),
    ):
        refused = _holder(api, method, route, revoked["token"], viewer["withdraw_token"], **kwargs)
        _error(refused, 410, "invite_revoked")
    listed = api.call("GET", f"/studies/{invited.study_id}/invites", invited.owner).json()["items"]
    assert [i["revoked"] for i in listed if i["id"] == revoked["id"]] == [True]
    for unknown in (secrets.token_hex(16), "not-an-id"):
        response = api.call("DELETE", f"/studies/{invited.study_id}/invites/{unknown}", invited.owner)
        _error(response, 404, "not_found")
    assert _holder(api, "GET", path, revoked["token"], viewer["withdraw_token"]).status_code == 200
    withdrawn = _holder(api, "DELETE", path, revoked["token"], viewer["withdraw_token"])
    assert withdrawn.status_code == 204, withdrawn.text
    assert viewer["viewer"]["id"] not in _viewer_ids(api, invited.owner, invited.study_id)
    assert deps().db.videos.find_one({"_id": viewer["viewer"]["id"]}) is None
    _error(_holder(api, "GET", path, revoked["token"], viewer["withdraw_token"]), 404, "not_found")

    expiring = _invite(api, invited.owner, invited.study_id)
    late = _join(api, expiring["token"])
    past = datetime.now(UTC) - timedelta(seconds=1)
    deps().db.invites.update_one({"_id": expiring["id"]}, {"$set": {"expires_at": past}})
    _error(_holder(api, "GET", "/invite", expiring["token"]), 410, "invite_expired")
    joined = _holder(
        api, "POST", "/invite/viewers", expiring["token"], json={"consent": api.viewer_consent()}
    )
    _error(joined, 410, "invite_expired")
    listed = api.call("GET", f"/studies/{invited.study_id}/invites", invited.owner).json()["items"]
    assert [i["expired"] for i in listed if i["id"] == expiring["id"]] == [True]
    late_path = f"/invite/viewers/{late['viewer']['id']}"
    assert _holder(api, "DELETE", late_path, expiring["token"], late["withdraw_token"]).status_code == 204


def test_a_withdraw_token_opens_only_its_own_viewer(api: Api, invited: Invited) -> None:
    first, second = _join(api, invited.token), _join(api, invited.token)
    other_invite = _invite(api, invited.owner, invited.study_id)
    file = {"filename": "r.mp4", "content_type": "video/mp4", "size": 1000}
    target = f"/invite/viewers/{second['viewer']['id']}"
    for invite_token, withdraw in (
        (invited.token, first["withdraw_token"]),  # another viewer's token
        (invited.token, secrets.token_urlsafe(32)),  # no viewer's token
        (invited.token, None),  # none
        (other_invite["token"], second["withdraw_token"]),  # the right token through another invite
    ):
        for method, path, kwargs in (
            ("GET", target, {}),
            ("POST", f"{target}/upload", {"json": file}),
            ("DELETE", target, {}),
        ):
            refused = _holder(api, method, path, invite_token, withdraw, **kwargs)
            _error(refused, 404, "not_found")
    bad_id = _holder(api, "GET", "/invite/viewers/not-an-id", invited.token, second["withdraw_token"])
    _error(bad_id, 404, "not_found")
    own = _holder(api, "GET", target, invited.token, second["withdraw_token"])
    assert own.status_code == 200 and own.json()["status"] == "pending_upload", "untouched"


def test_an_invite_token_is_refused_by_every_jwt_route(api: Api, invited: Invited, stack: LocalStack) -> None:
    assert stack.app_module is not None
    some_id = secrets.token_hex(16)
    checked = set()
    for path, methods in stack.app_module.app.routes.items():
        for method, entry in methods.items():
            if entry.authorizer is None:
                continue
            url = path.format(**{name: some_id for name in entry.view_args})
            for headers in (
                {"Authorization": f"Bearer {invited.token}"},
                {"X-Invite-Token": invited.token},
                {"Authorization": f"Bearer {invited.token}", "X-Invite-Token": invited.token},
            ):
                response = api.call(method, url, headers=headers, json={})
                assert response.status_code == 401, (method, path, headers, response.text)
                assert response.json()["error"]["code"] == "unauthorized"
            checked.add((method, path))
    assert len(checked) >= 30 and ("GET", "/studies/{study_id}/audience") in checked, sorted(checked)


def test_a_joined_viewer_is_kept_while_the_content_plays_before_asking_for_the_upload(
    api: Api, account: Account
) -> None:
    """The watchdog removes a video never uploaded an hour after it was announced; a viewer who joined by
    invite gets the content's length on top (they watch it first, then ask for their upload)."""
    from chalicelib.deps import deps

    study_id = api.create_study(account, CLIP, 3000.0)["study"]["id"]
    token = _invite(api, account, study_id)["token"]
    viewer_id = _join(api, token)["viewer"]["id"]
    joined_at = _record(viewer_id)["created_at"]
    videos = deps().videos
    # As the watchdog asks an hour later (updated before now - 1 h): 20 minutes into a 50-minute content.
    assert not videos.delete_if_pending(viewer_id, joined_at + timedelta(minutes=20))
    assert deps().db.videos.find_one({"_id": viewer_id}) is not None
    assert videos.delete_if_pending(viewer_id, joined_at + timedelta(minutes=51))
    assert deps().db.videos.find_one({"_id": viewer_id}) is None

    body = {"filename": "v.mp4", "content_type": "video/mp4", "size": 100, "offset": 0}
    created = api.call(
        "POST", f"/studies/{study_id}/viewers", account, json={**body, "consent": api.viewer_consent()}
    ).json()
    added = created["viewer"]["id"]
    added_at = _record(added)["updated_at"]
    assert videos.delete_if_pending(added, added_at + timedelta(seconds=1)), "the creator's: the usual hour"
