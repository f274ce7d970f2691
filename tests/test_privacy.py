"""Privacy by default, over real HTTP against the local stack: consent on every upload, per-user retention of
source videos (the merge step, the scheduled sweep with an injected clock, the S3 backstop tag), the account
export, and that nothing of the user's face is stored beyond the upload and the JSON results.

Erasing an account is in tests/test_privacy_erase.py.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from bson import Binary

from chalicelib.privacy import consent as consent_texts
from chalicelib.privacy.retention import BACKSTOP_DAYS
from chalicelib.storage.bucket import RETENTION_TAG, retention_tag
from devstack.stack import LocalStack
from tests.api_client import Account, Api
from tests.synthetic import VIDEOS_DIR

VIDEO = VIDEOS_DIR / "openmpf_face_video_01.mp4"  # 3 s, one face


def _eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _video(api: Api, account: Account, video_id: str) -> dict[str, Any]:
    return dict(api.call("GET", f"/videos/{video_id}", account).json())


def _planned(api: Api, account: Account, video_id: str) -> dict[str, Any]:
    """The video once the merge step has planned its retention (it does so right after `done`)."""
    video = _eventually(
        lambda: (v := _video(api, account, video_id))["retention"]["delete_source_after"] and v
    )
    assert video, _video(api, account, video_id)
    return dict(video)


def _versions(stack: LocalStack, key: str) -> list[str]:
    listed = stack.client("s3").list_object_versions(Bucket=stack.bucket, Prefix=key)
    return [
        v["Key"] for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])] if v["Key"] == key
    ]


def _upload_key(stack: LocalStack, account: Account, video_id: str) -> str:
    listed = stack.client("s3").list_objects_v2(
        Bucket=stack.bucket, Prefix=f"uploads/{account.user_id}/{video_id}/"
    )
    (item,) = listed["Contents"]
    return str(item["Key"])


@pytest.fixture(scope="module")
def analysed(api: Api) -> tuple[Account, str]:
    """An account that keeps its videos, with one analysed video (read-only tests of this module). Kept, so
    that the sweeps other tests run with a clock moved days ahead leave its source alone."""
    owner = api.new_account()
    assert api.call("PUT", "/account/settings", owner, json={"retention_days": None}).status_code == 200
    video_id = api.upload(owner, VIDEO, title="privacy")
    assert api.wait(owner, video_id)["status"] == "done"
    return owner, video_id


# --- 1. consent ----------------------------------------------------------------------------------------


def test_the_consent_statement_is_public_in_spanish_and_english(api: Api) -> None:
    response = api.call("GET", "/consent")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"version", "statements", "viewer"} and set(body["statements"]) == {"en", "es"}
    assert set(body["viewer"]["statements"]) == {"en", "es"}, "a study viewer's own statement (issue 12)"
    assert body["statements"] == consent_texts.STATEMENTS[body["version"]]
    assert "agreed to be filmed" in body["statements"]["en"]
    assert "aceptaron ser grabadas" in body["statements"]["es"]


def test_an_upload_without_the_consent_of_the_people_filmed_is_refused(api: Api, account: Account) -> None:
    base = {"filename": "a.mp4", "content_type": "video/mp4", "size": 1000}
    good = api.consent()
    refused: list[tuple[dict[str, Any], str]] = [
        ({}, "consent_required"),
        ({"consent": None}, "consent_required"),
        ({"consent": True}, "consent_required"),
        ({"consent": {**good, "given": False}}, "consent_required"),
        ({"consent": {**good, "given": "true"}}, "consent_required"),
        ({"consent": {"text_version": good["text_version"], "language": "en"}}, "consent_required"),
        ({"consent": {**good, "text_version": "2020-01-01"}}, "consent_version_unknown"),
        ({"consent": {**good, "text_version": None}}, "consent_version_unknown"),
        ({"consent": {**good, "language": "fr"}}, "bad_request"),
        ({"consent": {**good, "language": None}}, "bad_request"),
    ]
    for extra, code in refused:
        response = api.call("POST", "/videos", account, json={**base, **extra})
        assert response.status_code == 400, (extra, response.text)
        assert response.json()["error"]["code"] == code, (extra, response.text)
    assert api.call("GET", "/videos", account).json()["items"] == [], "nothing was created"


def test_the_consent_is_stored_with_the_video_and_shown_on_it(api: Api, account: Account) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    body = {"filename": "a.mp4", "content_type": "video/mp4", "size": 10, "consent": api.consent("es")}
    created = api.call("POST", "/videos", account, json=body)
    assert created.status_code == 201, created.text
    shown = created.json()["video"]
    consent = shown["consent"]
    assert {k: consent[k] for k in ("given", "text_version", "language")} == {
        "given": True,
        "text_version": api.consent()["text_version"],
        "language": "es",
    }
    recorded = datetime.fromisoformat(consent["recorded_at"])
    assert recorded.utcoffset() == timedelta(0) and before <= recorded <= datetime.now(UTC)
    assert shown["retention"] == {"delete_source_after": None, "source_deleted_at": None}, "not analysed yet"
    again = _video(api, account, shown["id"])
    assert again["consent"] == consent
    assert api.call("GET", "/videos", account).json()["items"][0]["consent"] == consent


# --- 2. retention --------------------------------------------------------------------------------------


def test_retention_settings_default_to_30_days_and_take_0_to_3650_or_keep(api: Api, account: Account) -> None:
    assert api.call("GET", "/account/settings", account).json() == {"retention_days": 30}
    for days in (7, 0, 3650, None):
        response = api.call("PUT", "/account/settings", account, json={"retention_days": days})
        assert response.status_code == 200 and response.json() == {"retention_days": days}, response.text
        assert api.call("GET", "/account/settings", account).json() == {"retention_days": days}
    for bad in (
        {"retention_days": -1},
        {"retention_days": 3651},
        {"retention_days": "7"},
        {"retention_days": True},
        {"retention_days": 1.5},
        {},
    ):
        response = api.call("PUT", "/account/settings", account, json=bad)
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_field", bad
    assert api.call("GET", "/account/settings", account).json() == {"retention_days": None}
    assert api.call("GET", "/account/settings").status_code == 401


def test_with_0_days_the_source_goes_right_after_the_analysis_and_the_results_stay(
    api: Api, stack: LocalStack
) -> None:
    owner = api.new_account()
    assert api.call("PUT", "/account/settings", owner, json={"retention_days": 0}).status_code == 200
    video_id = api.upload(owner, VIDEO, title="zero days")
    key = _upload_key(stack, owner, video_id)
    assert api.wait(owner, video_id)["status"] == "done"
    video = _eventually(lambda: (v := _video(api, owner, video_id))["retention"]["source_deleted_at"] and v)
    assert video, "the merge step deletes the source when the retention is 0 days"
    retention = video["retention"]
    assert retention["delete_source_after"] <= retention["source_deleted_at"]
    assert _versions(stack, key) == [], "no version of the upload is left"

    media = api.call("GET", f"/videos/{video_id}/media", owner)
    assert media.status_code == 410 and media.json()["error"]["code"] == "source_deleted", media.text
    results = api.call("GET", f"/videos/{video_id}/results", owner)
    assert results.status_code == 200 and results.json()["faces"], "the results are kept"
    assert api.call("GET", f"/videos/{video_id}/results.csv", owner).status_code == 200
    assert video["status"] == "done" and video["retryable"] is False
    retry = api.call("POST", f"/videos/{video_id}/retry", owner)
    assert retry.status_code == 409
    stats = api.call("GET", "/stats", owner).json()
    assert stats["videos"] == 1, "statistics still count the analysed video"


def test_a_retention_of_n_days_deletes_the_source_n_days_after_the_analysis(
    api: Api, stack: LocalStack
) -> None:
    owner = api.new_account()
    video_id = api.upload(owner, VIDEO, title="thirty days")
    key = _upload_key(stack, owner, video_id)
    assert api.wait(owner, video_id)["status"] == "done"
    video = _planned(api, owner, video_id)
    due = datetime.fromisoformat(video["retention"]["delete_source_after"])
    analysed = datetime.fromisoformat(video["updated_at"])
    assert timedelta(days=30) <= due - analysed < timedelta(days=30, minutes=1), (due, analysed)
    s3 = stack.client("s3")
    assert _eventually(lambda: retention_tag(s3, stack.bucket, key) == 31), "the S3 backstop: 30 days + 1"

    stack.run_retention_once(now=due - timedelta(hours=1))  # the day before: nothing happens
    assert _video(api, owner, video_id)["retention"]["source_deleted_at"] is None
    assert api.call("GET", f"/videos/{video_id}/media", owner).status_code == 200
    assert _versions(stack, key) == [key]

    stack.run_retention_once(now=due + timedelta(minutes=5))  # the schedule's next run after the due time
    after = _video(api, owner, video_id)
    assert after["retention"]["source_deleted_at"] is not None
    assert _versions(stack, key) == []
    gone = api.call("GET", f"/videos/{video_id}/media", owner)
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "source_deleted"
    assert api.call("GET", f"/videos/{video_id}/results", owner).status_code == 200


def test_changing_the_retention_plans_the_analysed_videos_again(api: Api, stack: LocalStack) -> None:
    owner = api.new_account()
    video_id = api.upload(owner, VIDEO, title="replanned")
    key = _upload_key(stack, owner, video_id)
    assert api.wait(owner, video_id)["status"] == "done"
    first = datetime.fromisoformat(_planned(api, owner, video_id)["retention"]["delete_source_after"])
    s3 = stack.client("s3")

    assert api.call("PUT", "/account/settings", owner, json={"retention_days": 2}).status_code == 200
    replanned = datetime.fromisoformat(_video(api, owner, video_id)["retention"]["delete_source_after"])
    assert replanned == first - timedelta(days=28), "counted from the same end of the analysis"
    assert retention_tag(s3, stack.bucket, key) == 4, "3 days needed: the next backstop value"

    assert api.call("PUT", "/account/settings", owner, json={"retention_days": None}).status_code == 200
    kept = _video(api, owner, video_id)["retention"]
    assert kept == {"delete_source_after": None, "source_deleted_at": None}
    assert retention_tag(s3, stack.bucket, key) is None, "a kept video carries no expiry tag"
    stack.run_retention_once(now=datetime.now(UTC) + timedelta(days=4000))
    assert _versions(stack, key) == [key], "kept means kept"

    # Shortened below the time already passed: the source goes at once.
    assert api.call("PUT", "/account/settings", owner, json={"retention_days": 0}).status_code == 200
    assert _video(api, owner, video_id)["retention"]["source_deleted_at"] is not None
    assert _versions(stack, key) == []
    assert api.call("GET", f"/videos/{video_id}/media", owner).status_code == 410


def test_the_sweep_plans_videos_the_merge_step_did_not(api: Api, stack: LocalStack) -> None:
    """A finished video with no plan (an analysis before this feature, a failed one, a merge that could not
    plan) is planned by the sweep from the end of its analysis; a failed upload included."""
    from chalicelib.deps import deps

    owner = api.new_account()
    api.call("PUT", "/account/settings", owner, json={"retention_days": 1})
    failed = api.upload(owner, VIDEOS_DIR.parent / "README.md", title="not a video")
    assert api.wait(owner, failed)["status"] == "failed"
    deps().db.videos.update_one({"_id": failed}, {"$unset": {"retention": ""}})
    assert _video(api, owner, failed)["retention"]["delete_source_after"] is None
    stack.run_retention_once()
    due = _video(api, owner, failed)["retention"]["delete_source_after"]
    ended = datetime.fromisoformat(_video(api, owner, failed)["updated_at"])
    assert datetime.fromisoformat(due) - ended == timedelta(days=1)
    stack.run_retention_once(now=ended + timedelta(days=1, minutes=1))
    assert _video(api, owner, failed)["retention"]["source_deleted_at"] is not None
    retry = api.call("POST", f"/videos/{failed}/retry", owner)
    assert retry.status_code == 409 and retry.json()["error"]["code"] == "source_deleted"


def test_backstop_values_are_increasing_and_cover_the_longest_retention() -> None:
    assert list(BACKSTOP_DAYS) == sorted(set(BACKSTOP_DAYS)) and BACKSTOP_DAYS[0] == 1
    assert BACKSTOP_DAYS[-1] > 3650 + 1
    assert RETENTION_TAG == "emotionfy-retention-days"


# --- 3. export -----------------------------------------------------------------------------------------


def _download(url: str) -> zipfile.ZipFile:
    response = requests.get(url, timeout=60)
    assert response.status_code == 200, response.text
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_the_export_holds_the_account_its_videos_and_their_analyses(
    api: Api, stack: LocalStack, analysed: tuple[Account, str]
) -> None:
    owner, video_id = analysed
    before = datetime.now(UTC)
    response = api.call("GET", "/account/export", owner)
    assert response.status_code == 200, response.text
    body = response.json()
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(minutes=59) < expires - before <= timedelta(hours=1, seconds=5)
    archive = _download(body["url"])
    assert body["size"] == len(requests.get(body["url"], timeout=60).content)
    names = sorted(archive.namelist())
    assert names == sorted(
        [
            "account.json",
            "videos.json",
            "studies.json",
            f"analyses/{video_id}.json",
            f"analyses/{video_id}.csv",
        ]
    ), names
    account = json.loads(archive.read("account.json"))
    assert account["id"] == owner.user_id and account["email"] == owner.email
    assert account["settings"] == {"retention_days": None}
    (video,) = json.loads(archive.read("videos.json"))
    assert video == _video(api, owner, video_id)
    assert video["consent"]["given"] is True
    assert video["retention"] == {"delete_source_after": None, "source_deleted_at": None}, "kept"
    results = api.call("GET", f"/videos/{video_id}/results", owner).json()
    assert json.loads(archive.read(f"analyses/{video_id}.json")) == results
    csv = api.call("GET", f"/videos/{video_id}/results.csv", owner).text
    assert archive.read(f"analyses/{video_id}.csv").decode() == csv
    assert json.loads(archive.read("studies.json")) == []
    key = body["url"].split("?", 1)[0].split(f"/{stack.bucket}/", 1)[-1]
    assert key.startswith(f"exports/{owner.user_id}/") and key.endswith(".zip"), body["url"]


def test_the_export_carries_the_videos_only_when_asked(
    api: Api, stack: LocalStack, analysed: tuple[Account, str]
) -> None:
    owner, video_id = analysed
    with_videos = api.call("GET", "/account/export?videos=true", owner)
    assert with_videos.status_code == 200, with_videos.text
    archive = _download(with_videos.json()["url"])
    assert archive.read(f"videos/{video_id}.mp4") == VIDEO.read_bytes()
    assert archive.getinfo(f"videos/{video_id}.mp4").compress_type == zipfile.ZIP_STORED
    without = _download(api.call("GET", "/account/export?videos=false", owner).json()["url"])
    assert not [n for n in without.namelist() if n.startswith("videos/")]
    bad = api.call("GET", "/account/export?videos=yes", owner)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_parameter"
    assert api.call("GET", "/account/export").status_code == 401


def test_an_expired_export_is_deleted_by_the_sweep(api: Api, stack: LocalStack, account: Account) -> None:
    url = api.call("GET", "/account/export", account).json()["url"]
    prefix = f"exports/{account.user_id}/"
    s3 = stack.client("s3")
    listed = lambda: s3.list_objects_v2(Bucket=stack.bucket, Prefix=prefix).get("Contents", [])  # noqa: E731
    assert len(listed()) == 1 and requests.get(url, timeout=30).status_code == 200
    stack.run_retention_once(now=datetime.now(UTC) + timedelta(minutes=30))
    assert len(listed()) == 1, "still within its link's hour"
    stack.run_retention_once(now=datetime.now(UTC) + timedelta(hours=1, minutes=1))
    assert listed() == []


# --- 5. no face data beyond what is needed -------------------------------------------------------------

_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM", b"RIFF", b"\x00\x00\x00\x0cjP")
_IMAGE_WORDS = ("crop", "image", "jpeg", "jpg", "png", "thumbnail", "landmarks", "mesh", "pixels", "frame")


def _face_data(value: Any, path: str = "") -> list[str]:
    """Where `value` could hold a picture of a face or its landmark points: binary data, long strings
    (base64), numeric arrays longer than a box or a pair of eyes, keys that name pictures or meshes."""
    found = []
    if isinstance(value, bytes | bytearray | Binary):
        found.append(f"{path}: binary data")
    elif isinstance(value, str):
        if len(value) > 256 or value.startswith("data:"):
            found.append(f"{path}: a long string ({len(value)} characters)")
    elif isinstance(value, dict):
        for key, item in value.items():
            named = any(word in str(key).lower() for word in _IMAGE_WORDS)
            # A time, a flag or a short label may be named so (`timings.landmarks`, `model.crop: aligned`).
            if (
                named
                and not isinstance(item, int | float | bool)
                and not (isinstance(item, str) and len(item) <= 32)
            ):
                found.append(f"{path}.{key}: named like a picture or a mesh")
            found += _face_data(item, f"{path}.{key}")
    elif isinstance(value, list):
        if len(value) > 16 and all(isinstance(v, int | float) for v in value):
            found.append(f"{path}: {len(value)} numbers (landmark points?)")
        for index, item in enumerate(value):
            found += _face_data(item, f"{path}[{index}]")
    return found


def test_the_checker_finds_crops_and_landmarks() -> None:
    """The check below is not vacuous."""
    assert _face_data({"faces": [{"crop": [[1, 2, 3]]}]}) and _face_data({"p": [0.1] * 468 * 2})
    assert _face_data({"a": Binary(b"\xff\xd8\xff")}) and _face_data({"a": "A" * 5000})
    assert not _face_data({"box": [1, 2, 3, 4], "eyes": [0.1, 0.2], "t": "0.2", "landmarks": 0.01})
    assert _face_data({"landmarks": [[0.1, 0.2]]}) and _face_data({"crop": {"w": 48}})
    assert not _face_data({"model": {"crop": "aligned"}})


def test_no_face_crop_or_landmark_image_is_ever_stored(
    api: Api, stack: LocalStack, analysed: tuple[Account, str]
) -> None:
    """Every S3 object and every MongoDB document of an analysed video: only the upload, segment results and
    the Analysis, all JSON, with face boxes, probabilities and head-pose signals, never a picture."""
    from chalicelib.deps import deps

    owner, video_id = analysed
    s3 = stack.client("s3")
    keys = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=stack.bucket):
        keys += [v["Key"] for v in page.get("Versions", [])]
    mine = sorted(k for k in keys if owner.user_id in k or video_id in k)
    upload = _upload_key(stack, owner, video_id)
    segments = [k for k in mine if k.startswith(f"segments/{video_id}/")]
    assert mine == sorted([upload, *segments]) and segments, mine
    assert s3.get_object(Bucket=stack.bucket, Key=upload)["Body"].read() == VIDEO.read_bytes()
    for key in segments:
        stored = s3.get_object(Bucket=stack.bucket, Key=key)
        assert stored["ContentType"] == "application/json"
        raw = stored["Body"].read()
        assert not raw.startswith(_IMAGE_MAGIC)
        assert _face_data(json.loads(raw)) == [], key

    db = deps().db
    holding: dict[str, list[dict[str, Any]]] = {}
    for name in db.list_collection_names():
        for document in db[name].find():
            if owner.user_id in repr(document) or video_id in repr(document):
                holding.setdefault(name, []).append(document)
    assert sorted(holding) == ["analyses", "users", "videos"], sorted(holding)
    assert [len(v) for v in holding.values()] == [1, 1, 1]
    for name, documents in holding.items():
        document = dict(documents[0])
        document.pop("password_hash", None)  # an argon2 hash of the password, not of a face
        assert _face_data(document) == [], (name, _face_data(document))
    analysis = holding["analyses"][0]["analysis"]
    assert analysis["faces"] and "box" in analysis["faces"][0]["timeline"][0]
