"""A study's content arriving in the bucket, over real HTTP and S3 against the local stack: its S3 event
(`on_content_upload`, chalicelib/studies/content_events.py) marks the study's content uploaded, so views
need no HEAD, and removes a file put through a still-valid upload URL after its study was deleted or its
account erased. Neither starts an analysis. (The local bucket is unversioned: each object is one version,
`null`; the listing below counts versions and delete markers alike, as on the cloud's versioned bucket.)"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

import pytest
import requests

from devstack.stack import CONTENT_HANDLER, UPLOAD_HANDLER, LocalStack
from tests.api_client import Account, Api
from tests.synthetic import VIDEOS_DIR

CLIP = VIDEOS_DIR / "openmpf_face_video_01.mp4"  # 3 s
PIPELINE = ("pipeline_probe", "pipeline_analyze_segment", "pipeline_merge", "pipeline_mark_failed")


def _versions(stack: LocalStack, prefix: str) -> list[str]:
    """Every version and delete marker under `prefix`."""
    s3, found = stack.client("s3"), []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=stack.bucket, Prefix=prefix):
        found += [e["Key"] for e in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]]
    return found


def _eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return value


def _record(study_id: str) -> dict[str, Any] | None:
    from chalicelib.deps import deps

    found: dict[str, Any] | None = deps().db.studies.find_one({"_id": study_id})
    return found


def _put(created: dict[str, Any]) -> requests.Response:
    """The content sent by the presigned PUT (the web app's other way)."""
    put = created["upload_put"]
    return requests.put(put["url"], data=CLIP.read_bytes(), headers=put["headers"], timeout=60)


def _deliver(stack: LocalStack, key: str) -> None:
    """The content's S3 event once more, as S3 may (at least once), to the function S3 notifies."""
    record = {
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Post",
        "s3": {
            "bucket": {"name": stack.bucket, "arn": f"arn:aws:s3:::{stack.bucket}"},
            "object": {"key": quote_plus(key), "size": CLIP.stat().st_size, "eTag": "0"},
        },
    }
    answer = stack.client("lambda").invoke(
        FunctionName=CONTENT_HANDLER, Payload=json.dumps({"Records": [record]})
    )
    assert "FunctionError" not in answer, answer["Payload"].read().decode()


def _calls(stack: LocalStack) -> dict[str, int]:
    assert stack.lambdas is not None
    return {name: stack.lambdas.calls.count(name) for name in (CONTENT_HANDLER, UPLOAD_HANDLER, *PIPELINE)}


@pytest.mark.parametrize("gone_by", ["study deleted", "account erased"])
def test_content_put_after_its_study_is_gone_is_removed_every_version(
    api: Api, stack: LocalStack, gone_by: str
) -> None:
    """Content URLs live 15 minutes: one handed out before the study went still takes a file afterwards, by
    POST or PUT; its S3 event finds no study and removes it, every version, and nothing comes back."""
    owner = api.new_account()
    created = api.create_study(owner, CLIP, 3.0, title="deleted before its content came")
    study_id, key = created["study"]["id"], created["upload"]["fields"]["key"]
    prefix = f"content/{owner.user_id}/{study_id}/"
    assert key.startswith(prefix)
    if gone_by == "study deleted":
        gone = api.call("DELETE", f"/studies/{study_id}", owner)
    else:
        gone = api.call("DELETE", "/account", owner, json={"password": owner.password})
    assert gone.status_code == 204, gone.text
    before = _calls(stack)

    posted = api.post_upload(created, CLIP)
    assert posted.status_code in (200, 201, 204), "the URL still works: S3 checks only its signature"
    assert _eventually(lambda: not _versions(stack, prefix)), _versions(stack, prefix)
    put = _put(created)
    assert put.status_code == 200, put.text
    assert _eventually(lambda: not _versions(stack, prefix)), _versions(stack, prefix)

    after = _calls(stack)
    assert after[CONTENT_HANDLER] - before[CONTENT_HANDLER] == 2, "one event per upload, to on_content_upload"
    assert {name: after[name] - before[name] for name in (UPLOAD_HANDLER, *PIPELINE)} == dict.fromkeys(
        (UPLOAD_HANDLER, *PIPELINE), 0
    ), "nothing analysed"
    _deliver(stack, key)  # S3 delivers at least once: a repeated event is handled, and finds nothing
    assert not _versions(stack, prefix)
    assert _record(study_id) is None, "no study record comes back with it"


def test_a_content_upload_marks_its_study_uploaded_and_views_need_no_head(
    api: Api, account: Account, stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.deps import deps

    created = api.create_study(account, CLIP, 3.0, title="content by event")
    study_id, key = created["study"]["id"], created["upload"]["fields"]["key"]
    record = _record(study_id)
    assert record is not None and record["content"]["uploaded_at"] is None
    before = _calls(stack)

    assert api.post_upload(created, CLIP).status_code in (200, 201, 204)
    # No view ran since: only the S3 event can have told the study.
    marked = _eventually(lambda: (r := _record(study_id)) and r["content"]["uploaded_at"] and r)
    assert marked, "the content's S3 event did not mark its study"
    assert marked["content"]["uploaded_size"] == CLIP.stat().st_size, "the size S3 reported"
    after = _calls(stack)
    assert after[CONTENT_HANDLER] - before[CONTENT_HANDLER] == 1
    assert after[UPLOAD_HANDLER] == before[UPLOAD_HANDLER], "content is not an upload to analyse"
    assert deps().db.videos.count_documents({"owner": account.user_id}) == 0, "the content is not analysed"

    def no_head(**kwargs: Any) -> None:
        raise AssertionError(f"a view sent a HEAD: {kwargs}")

    monkeypatch.setattr(deps().s3, "head_object", no_head)  # the API runs in this process
    shown = api.call("GET", f"/studies/{study_id}", account)
    assert shown.status_code == 200, shown.text
    assert shown.json()["content"]["uploaded"] is True
    listed = api.call("GET", "/studies", account).json()["items"]
    assert [s["content"]["uploaded"] for s in listed if s["id"] == study_id] == [True]
    assert api.call("GET", f"/studies/{study_id}/content", account).status_code == 200

    _deliver(stack, key)  # delivered again: nothing changes
    again = _record(study_id)
    assert again is not None and again["content"]["uploaded_at"] == marked["content"]["uploaded_at"]
    assert _versions(stack, key) == [key], "the study's content stays"
