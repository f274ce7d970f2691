"""Audience studies over real HTTP against the local stack: a study's content uploaded by its presigned POST
(and never analysed), viewers added by the creator with their consent and an offset on the content, their
recordings analysed by the pipeline, the audience curve checked against each viewer's own Analysis, its
cache, CSV, drill-down and comparison, ownership (404 on every route), and deletion and erasure leaving
nothing behind. Invite links are in tests/test_invites.py.

Analyses are the expensive part (2 CPU cores shared): one module-wide study has two analysed viewers of the
3 s fixture, the read-only tests share it, and the tests that change it (a viewer removed, the study
deleted) come last.
"""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import redis
import requests

from chalicelib.studies import audience
from devstack.services import free_port
from devstack.stack import LocalStack
from tests.api_client import MAX_UPLOAD_BYTES, Account, Api, conforms
from tests.synthetic import VIDEOS_DIR

CLIP = VIDEOS_DIR / "openmpf_face_video_01.mp4"  # 3 s, faces throughout: one segment per recording
CONTENT_SECONDS = 10.0
OFFSET_B = 1.5  # viewer B started 1.5 s into the content: A and B overlap on [1.5, 3)


def _keys(stack: LocalStack, prefix: str) -> list[str]:
    """Every version and delete marker under `prefix`."""
    listed = stack.client("s3").list_object_versions(Bucket=stack.bucket, Prefix=prefix)
    return [v["Key"] for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]]


def _eventually(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return value


@dataclass
class Study:
    owner: Account
    id: str
    created: dict[str, Any]
    viewers: dict[str, str]  # label -> viewer id
    analyses: dict[str, dict[str, Any]]  # viewer id -> its Analysis (GET /videos/{id}/results)


@pytest.fixture(scope="module")
def study(api: Api) -> Study:
    """A study of 10 s content with two analysed viewers: A from the start, B from 1.5 s."""
    owner = api.new_account()
    created = api.create_study(owner, CLIP, CONTENT_SECONDS, title="Trailer test")
    assert api.post_upload(created, CLIP).status_code in (200, 201, 204)
    study_id = created["study"]["id"]
    ids = {
        "A": api.add_viewer(owner, study_id, CLIP, 0.0, label="A")["viewer"]["id"],
        "B": api.add_viewer(owner, study_id, CLIP, OFFSET_B, label="B")["viewer"]["id"],
    }
    analyses = {}
    for viewer_id in ids.values():
        assert api.wait(owner, viewer_id)["status"] == "done"
        analyses[viewer_id] = api.call("GET", f"/videos/{viewer_id}/results", owner).json()
    return Study(owner, study_id, created, ids, analyses)


def _faces(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in analysis["timeline"] if (s.get("faces") or 0) > 0]


def _window(analysis: dict[str, Any], offset: float, t: float, step: float) -> list[dict[str, Any]]:
    """The viewer's samples with a face whose content time falls at grid point t (the contract's rule)."""
    return [
        s
        for s in _faces(analysis)
        if round(t - step / 2, 6) <= round(s["t"] + offset, 6) < round(t + step / 2, 6)
    ]


# --- creating a study and its content --------------------------------------------------------------------


def test_a_study_stores_its_content_apart_from_uploads_and_never_analyses_it(
    api: Api, account: Account, stack: LocalStack
) -> None:
    created = api.create_study(account, CLIP, 12.5, title="  Ad cut 1  ")
    shown = created["study"]
    study_id = shown["id"]
    assert shown["title"] == "Ad cut 1" and shown["viewers"] == {
        "total": 0,
        "done": 0,
        "processing": 0,
        "failed": 0,
    }
    assert shown["content"] == {
        "filename": CLIP.name,
        "content_type": "video/mp4",
        "size": CLIP.stat().st_size,
        "duration": 12.5,
        "uploaded": False,
    }
    key = created["upload"]["fields"]["key"]
    assert key == f"content/{account.user_id}/{study_id}/{CLIP.name}"
    assert created["upload_put"]["method"] == "PUT" and f"/{key}" in created["upload_put"]["url"]
    waiting = api.call("GET", f"/studies/{study_id}/content", account)
    assert waiting.status_code == 409 and waiting.json()["error"]["code"] == "content_not_uploaded"
    conforms(waiting, "/studies/{study_id}/content", "GET")

    assert api.post_upload(created, CLIP).status_code in (200, 201, 204)
    got = conforms(api.call("GET", f"/studies/{study_id}", account), "/studies/{study_id}", "GET").json()
    assert got["content"]["uploaded"] is True and got["title"] == "Ad cut 1"
    content = conforms(
        api.call("GET", f"/studies/{study_id}/content", account), "/studies/{study_id}/content", "GET"
    ).json()
    assert content["content_type"] == "video/mp4"
    assert requests.get(content["url"], timeout=30).content == CLIP.read_bytes()
    listed = conforms(api.call("GET", "/studies", account), "/studies", "GET").json()
    assert [s["id"] for s in listed["items"]] == [study_id] and listed["next"] is None

    time.sleep(2)  # an S3 event for content/ would have queued a video by now
    assert api.call("GET", "/videos", account).json()["items"] == []
    from chalicelib.deps import deps

    assert deps().db.videos.count_documents({"owner": account.user_id}) == 0, "the content is not analysed"


def test_a_study_needs_a_title_and_a_video_content_of_known_length(api: Api, account: Account) -> None:
    good = {"filename": "c.mp4", "content_type": "video/mp4", "size": 1000, "duration": 30}
    refused: list[tuple[dict[str, Any], int, str]] = [
        ({"content": good}, 400, "invalid_field"),
        ({"title": "   ", "content": good}, 400, "invalid_field"),
        ({"title": "t"}, 400, "invalid_field"),
        ({"title": "t", "content": {**good, "content_type": "image/png"}}, 400, "not_a_video"),
        ({"title": "t", "content": {**good, "duration": 0}}, 400, "invalid_field"),
        ({"title": "t", "content": {**good, "duration": -3}}, 400, "invalid_field"),
        ({"title": "t", "content": {**good, "duration": "30"}}, 400, "invalid_field"),
        ({"title": "t", "content": {**good, "duration": 3600.5}}, 400, "invalid_field"),
        ({"title": "t", "content": {**good, "size": 0}}, 400, "invalid_field"),
        ({"title": "t", "content": {**good, "size": MAX_UPLOAD_BYTES + 1}}, 413, "too_large"),
    ]
    for body, status, code in refused:
        response = api.call("POST", "/studies", account, json=body)
        assert response.status_code == status and response.json()["error"]["code"] == code, (
            body,
            response.text,
        )
    assert api.call("GET", "/studies", account).json()["items"] == [], "nothing was created"
    created = api.call("POST", "/studies", account, json={"title": "t", "content": good})
    conforms(created, "/studies", "POST")


# --- the shared study: viewers and the audience ----------------------------------------------------------


def test_viewers_are_listed_with_their_offset_consent_and_status(api: Api, study: Study) -> None:
    listed = conforms(
        api.call("GET", f"/studies/{study.id}/viewers", study.owner), "/studies/{study_id}/viewers", "GET"
    ).json()["items"]
    assert [(v["label"], v["offset"], v["source"], v["status"]) for v in listed] == [
        ("A", 0.0, "creator", "done"),
        ("B", OFFSET_B, "creator", "done"),
    ]
    assert all(v["consent"]["given"] and v["consent"]["text_version"].startswith("viewer-") for v in listed)
    assert all(v["duration"] == pytest.approx(3.0, abs=0.1) and v["retryable"] is False for v in listed)
    shown = api.call("GET", f"/studies/{study.id}", study.owner).json()
    assert shown["viewers"] == {"total": 2, "done": 2, "processing": 0, "failed": 0}


def test_study_recordings_stay_out_of_the_video_list_and_stats_but_count_towards_quotas(
    api: Api, study: Study
) -> None:
    assert api.call("GET", "/videos", study.owner).json()["items"] == []
    assert api.call("GET", "/stats", study.owner).json()["videos"] == 0
    from chalicelib.deps import deps

    contents = sum(s["content"]["size"] for s in api.call("GET", "/studies", study.owner).json()["items"])
    stored, recent = deps().videos.usage(study.owner.user_id, hours=24)
    assert (stored, recent) == (contents + 2 * CLIP.stat().st_size, 2), "contents and both recordings"


def _display_key(study: Study) -> str:
    """The key a read of the study's curve on its display step looks for, as its viewers are now."""
    from chalicelib.deps import deps
    from chalicelib.studies import curves

    viewers = deps().viewers.of_study(study.owner.user_id, study.id)
    step = audience.display_step(CONTENT_SECONDS)
    return f"audience:{study.id}:{step!r}:{curves.fingerprint(viewers, CONTENT_SECONDS)}"


def test_the_audience_is_computed_when_the_viewers_analyses_end(
    api: Api, study: Study, stack: LocalStack
) -> None:
    """The merge step of a viewer's analysis caches its study's curve on the display step (just after the
    video is done: hence the short wait); the first read, with no step, is served from it. This runs
    before any test of the module reads the audience."""
    client = redis.Redis.from_url(stack.redis.url)
    key = _display_key(study)
    cached = _eventually(lambda: client.get(key), timeout=30.0)
    assert cached, f"no {key}: the curve was not computed when the analyses ended"
    curve = api.call("GET", f"/studies/{study.id}/audience", study.owner).json()
    assert curve == json.loads(cached), "served from the cache (the same computed_at)"
    assert curve["step"] == 0.5 and curve["viewers_included"] == 2


def test_the_audience_counts_the_viewers_where_their_recordings_cover_the_content(
    api: Api, study: Study
) -> None:
    response = api.call("GET", f"/studies/{study.id}/audience", study.owner)
    curve = conforms(response, "/studies/{study_id}/audience", "GET").json()
    step = audience.DEFAULT_STEP
    assert curve["study_id"] == study.id and curve["step"] == step and curve["duration"] == CONTENT_SECONDS
    assert curve["t"] == [round(k * step, 4) for k in range(int(CONTENT_SECONDS / step) + 1)]
    assert curve["series"] == list(audience.SERIES)
    a, b = study.viewers["A"], study.viewers["B"]
    assert [(v["id"], v["label"], v["offset"], v["included"]) for v in curve["viewers"]] == [
        (a, "A", 0.0, True),
        (b, "B", OFFSET_B, True),
    ]
    assert curve["viewers_included"] == 2

    offsets = {a: 0.0, b: OFFSET_B}
    expected_n = [
        sum(1 for v in (a, b) if _window(study.analyses[v], offsets[v], t, step)) for t in curve["t"]
    ]
    assert curve["n"] == expected_n
    assert max(curve["n"]) == 2 and curve["n"][-1] == 0, "both overlap somewhere; nobody at 10 s"
    overlap = [t for t, n in zip(curve["t"], curve["n"], strict=True) if n == 2]
    assert min(overlap) >= OFFSET_B - step / 2 and max(overlap) < 3.0 + step / 2, overlap
    assert curve["n"][0] == 1, "only A at the start: B's offset is respected"

    # The mean of each point is the mean of the viewers' own means there (B's samples moved by 1.5 s).
    for i, t in enumerate(curve["t"]):
        for series in ("happy", "neutral"):
            means = []
            for viewer in (a, b):
                values = [
                    s["emotions"][series] for s in _window(study.analyses[viewer], offsets[viewer], t, step)
                ]
                if values:
                    means.append(sum(values) / len(values))
            if means:
                assert curve["mean"][series][i] == pytest.approx(sum(means) / len(means), abs=2e-4), (
                    t,
                    series,
                )
            else:
                assert curve["mean"][series][i] is None
            if len(means) < 2:
                assert curve["low"][series][i] is None and curve["high"][series][i] is None
            else:
                low, high = curve["low"][series][i], curve["high"][series][i]
                assert 0.0 <= low <= curve["mean"][series][i] <= high <= 1.0


def test_the_audience_is_cached_under_its_fingerprint_and_computed_without_redis(
    api: Api, study: Study, stack: LocalStack
) -> None:
    first = api.call("GET", f"/studies/{study.id}/audience", study.owner).json()
    again = api.call("GET", f"/studies/{study.id}/audience", study.owner).json()
    assert again == first, "the same answer, computed once (computed_at included)"
    client = redis.Redis.from_url(stack.redis.url)
    keys = sorted(k.decode() for k in client.scan_iter(match=f"audience:{study.id}:*"))
    assert f"audience:{study.id}:0.5:" in keys[0] and len(keys[0].rsplit(":", 1)[-1]) == 64, keys
    coarse = api.call("GET", f"/studies/{study.id}/audience", study.owner, params={"step": "2"}).json()
    assert coarse["step"] == 2.0 and len(coarse["t"]) == 6
    assert len(list(client.scan_iter(match=f"audience:{study.id}:*"))) == len(keys) + 1, "one key per step"

    # Redis unreachable: the curve is computed all the same (only the cache is skipped).
    from chalicelib.deps import Deps
    from chalicelib.settings import service_settings
    from chalicelib.studies import curves

    dead = Deps(
        service_settings().__class__(
            redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_timeout_seconds=0.5
        )
    )
    owned = dead.studies.get(study.owner.user_id, study.id)
    assert owned is not None
    computed = curves.curve_of(dead, owned, 0.5)
    assert computed["computed_at"] != first["computed_at"]
    assert {**computed, "computed_at": None} == {**first, "computed_at": None}


def test_the_audience_as_csv(api: Api, study: Study) -> None:
    curve = api.call("GET", f"/studies/{study.id}/audience", study.owner).json()
    response = api.call("GET", f"/studies/{study.id}/audience.csv", study.owner)
    conforms(response, "/studies/{study_id}/audience.csv", "GET")
    assert response.headers["Content-Type"] == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="audience-{study.id}.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len(curve["t"])
    for i, row in enumerate(rows):
        assert float(row["t"]) == curve["t"][i] and int(row["n"]) == curve["n"][i]
        happy = curve["mean"]["happy"][i]
        assert row["happy_mean"] == ("" if happy is None else str(happy))


def test_one_viewers_curve_is_their_own_samples_on_the_content_grid(api: Api, study: Study) -> None:
    b = study.viewers["B"]
    path = "/studies/{study_id}/viewers/{viewer_id}/curve"
    response = api.call("GET", f"/studies/{study.id}/viewers/{b}/curve", study.owner, params={"step": "1"})
    drill = conforms(response, path, "GET").json()
    assert drill["viewer_id"] == b and drill["label"] == "B" and drill["offset"] == OFFSET_B
    assert drill["t"] == [float(k) for k in range(11)] and drill["series"] == list(audience.SERIES)
    for i, t in enumerate(drill["t"]):
        values = [s["emotions"]["happy"] for s in _window(study.analyses[b], OFFSET_B, t, 1.0)]
        expected = sum(values) / len(values) if values else None
        assert drill["values"]["happy"][i] == (pytest.approx(expected, abs=2e-4) if values else None), t
    assert drill["values"]["happy"][0] is None and drill["values"]["happy"][3] is not None


def test_compare_puts_two_studies_on_the_longer_grid(api: Api, study: Study) -> None:
    longer = api.create_study(study.owner, CLIP, 20.0, title="No viewers yet")["study"]["id"]
    response = api.call("GET", "/compare", study.owner, params={"a": study.id, "b": longer})
    compared = conforms(response, "/compare", "GET").json()
    grid = [round(k * 0.5, 4) for k in range(41)]
    assert compared["t"] == grid and compared["a"]["t"] == grid and compared["b"]["t"] == grid
    a_alone = api.call("GET", f"/studies/{study.id}/audience", study.owner).json()
    assert compared["a"]["n"] == a_alone["n"] + [0] * 20 and compared["b"]["n"] == [0] * 41
    assert compared["a"]["study_id"] == study.id and compared["b"]["study_id"] == longer
    assert all(v is None for v in compared["difference"]["happy"]), "b has no value anywhere"

    itself = api.call("GET", "/compare", study.owner, params={"a": study.id, "b": study.id}).json()
    for name, values in itself["difference"].items():
        means = itself["a"]["mean"][name]
        assert values == [None if m is None else 0.0 for m in means], name

    stranger = api.new_account()
    theirs = api.create_study(stranger, CLIP, 5.0)["study"]["id"]
    for a, b in ((study.id, theirs), (theirs, study.id)):
        refused = api.call("GET", "/compare", study.owner, params={"a": a, "b": b})
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    missing = api.call("GET", "/compare", study.owner, params={"a": study.id})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "invalid_parameter"


def test_a_step_out_of_range_is_refused(api: Api, study: Study) -> None:
    cases = [
        ("0.05", "step_too_small"),
        ("11", "invalid_step"),
        ("abc", "invalid_step"),
        ("nan", "invalid_step"),
    ]
    for step, code in cases:
        for path in (
            f"/studies/{study.id}/audience",
            f"/studies/{study.id}/audience.csv",
            f"/studies/{study.id}/viewers/{study.viewers['A']}/curve",
        ):
            response = api.call("GET", path, study.owner, params={"step": step})
            assert response.status_code == 400 and response.json()["error"]["code"] == code, (path, step)
    compare = api.call("GET", "/compare", study.owner, params={"a": study.id, "b": study.id, "step": "0"})
    assert compare.status_code == 400


def test_an_hour_of_content_at_the_smallest_step_is_too_many_points(api: Api, account: Account) -> None:
    long_id = api.create_study(account, CLIP, 3600.0)["study"]["id"]
    response = api.call("GET", f"/studies/{long_id}/audience", account, params={"step": "0.1"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "step_too_small"
    fine = api.call("GET", f"/studies/{long_id}/audience", account, params={"step": "0.25"})
    assert fine.status_code == 200 and len(fine.json()["t"]) == 14401 and max(fine.json()["n"]) == 0
    # a comparison (two curves and their difference) has a lower limit: 7201 points are too many
    both = {"a": long_id, "b": long_id, "step": "0.5"}
    refused = api.call("GET", "/compare", account, params=both)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "step_too_small"
    assert "at least 0.61 s" in refused.json()["error"]["message"]


def test_a_viewer_added_by_the_creator_needs_their_consent_and_an_offset_on_the_content(
    api: Api, study: Study
) -> None:
    base = {"filename": "v.mp4", "content_type": "video/mp4", "size": 100, "offset": 0}
    good = api.viewer_consent()
    refused: list[tuple[dict[str, Any], str]] = [
        ({}, "consent_required"),
        ({"consent": {**good, "given": False}}, "consent_required"),
        ({"consent": api.consent()}, "consent_version_unknown"),  # the uploader's statement, not a viewer's
        ({"consent": {**good, "language": "fr"}}, "bad_request"),
        ({"consent": good, "offset": CONTENT_SECONDS + 1}, "invalid_field"),
        ({"consent": good, "offset": "1"}, "invalid_field"),
        ({"consent": good, "content_type": "audio/webm"}, "not_a_video"),
    ]
    for extra, code in refused:
        response = api.call("POST", f"/studies/{study.id}/viewers", study.owner, json={**base, **extra})
        assert response.status_code == 400 and response.json()["error"]["code"] == code, (
            extra,
            response.text,
        )
    viewers = api.call("GET", f"/studies/{study.id}/viewers", study.owner).json()["items"]
    assert len(viewers) == 2, "no record was made"


def test_another_users_study_is_404_on_every_study_route(api: Api, study: Study, stack: LocalStack) -> None:
    assert stack.app_module is not None
    invite = api.call("POST", f"/studies/{study.id}/invites", study.owner, json={}).json()
    stranger = api.new_account()
    ids = {"study_id": study.id, "viewer_id": study.viewers["A"], "invite_id": invite["id"]}
    bodies = {
        ("POST", "/studies/{study_id}/viewers"): {
            "filename": "v.mp4",
            "content_type": "video/mp4",
            "size": 100,
            "offset": 0,
            "consent": api.viewer_consent(),
        },
        ("POST", "/studies/{study_id}/invites"): {},
    }
    checked = 0
    for path, methods in stack.app_module.app.routes.items():
        if not path.startswith("/studies/{study_id}"):
            continue
        for method in methods:
            if method == "OPTIONS":
                continue
            kwargs = {"json": bodies[(method, path)]} if (method, path) in bodies else {}
            response = api.call(method, path.format(**ids), stranger, **kwargs)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["error"]["code"] == "not_found"
            checked += 1
    assert checked == 12, "every route under /studies/{study_id}"
    refused = api.call("GET", "/compare", stranger, params={"a": study.id, "b": study.id})
    assert refused.status_code == 404
    assert api.call("GET", "/studies", stranger).json()["items"] == []
    # Nothing of the owner's changed.
    assert api.call("GET", f"/studies/{study.id}", study.owner).json()["viewers"]["done"] == 2
    listed = api.call("GET", f"/studies/{study.id}/invites", study.owner).json()["items"]
    assert [(i["id"], i["revoked"]) for i in listed] == [(invite["id"], False)]


# --- changing the shared study: these come last ----------------------------------------------------------


def test_removing_a_viewer_takes_them_out_of_the_audience(api: Api, study: Study, stack: LocalStack) -> None:
    before = api.call("GET", f"/studies/{study.id}/audience", study.owner).json()
    b = study.viewers["B"]
    key = f"uploads/{study.owner.user_id}/{b}/{CLIP.name}"
    assert _keys(stack, key)
    deleted = api.call("DELETE", f"/studies/{study.id}/viewers/{b}", study.owner)
    assert deleted.status_code == 204
    assert api.call("DELETE", f"/studies/{study.id}/viewers/{b}", study.owner).status_code == 404
    cached: Any = redis.Redis.from_url(stack.redis.url).get(_display_key(study))
    assert cached, "the removal cached the curve of the viewers left"

    after = conforms(
        api.call("GET", f"/studies/{study.id}/audience", study.owner), "/studies/{study_id}/audience", "GET"
    ).json()
    assert after["computed_at"] != before["computed_at"], "a new fingerprint, not the cached curve"
    assert after == json.loads(cached)
    assert [v["id"] for v in after["viewers"]] == [study.viewers["A"]] and after["viewers_included"] == 1
    a = study.analyses[study.viewers["A"]]
    assert after["n"] == [1 if _window(a, 0.0, t, 0.5) else 0 for t in after["t"]]
    assert max(after["n"]) == 1 < max(before["n"])
    assert all(x <= y for x, y in zip(after["n"], before["n"], strict=True))
    assert _keys(stack, key) == [], "the recording is gone"
    from chalicelib.deps import deps

    assert deps().db.analyses.find_one({"_id": b}) is None and deps().db.videos.find_one({"_id": b}) is None
    shown = api.call("GET", f"/studies/{study.id}", study.owner).json()
    assert shown["viewers"]["total"] == 1


def test_deleting_a_study_removes_its_content_recordings_invites_and_cache(
    api: Api, study: Study, stack: LocalStack
) -> None:
    from chalicelib.deps import deps

    running = api.add_viewer(study.owner, study.id, CLIP, 4.0, label="late")["viewer"]["id"]
    assert _eventually(
        lambda: (
            api.call("GET", f"/videos/{running}", study.owner).json()["status"] in ("queued", "processing")
        )
    )
    api.call("GET", f"/studies/{study.id}/audience", study.owner)
    client = redis.Redis.from_url(stack.redis.url)
    assert list(client.scan_iter(match=f"audience:{study.id}:*"))
    assert deps().db.invites.count_documents({"study_id": study.id}) >= 1
    content_prefix = f"content/{study.owner.user_id}/{study.id}/"
    assert _keys(stack, content_prefix)

    assert api.call("DELETE", f"/studies/{study.id}", study.owner).status_code == 204
    assert api.call("GET", f"/studies/{study.id}", study.owner).status_code == 404
    assert _keys(stack, content_prefix) == [], "every version of the content"
    assert list(client.scan_iter(match=f"audience:{study.id}:*")) == []
    db = deps().db
    assert db.invites.count_documents({"study_id": study.id}) == 0
    assert db.videos.count_documents({"study_id": study.id}) == 0
    recordings = [study.viewers["A"], running]
    assert db.analyses.count_documents({"_id": {"$in": recordings}}) == 0
    for viewer_id in recordings:
        assert api.call("GET", f"/videos/{viewer_id}", study.owner).status_code == 404
    sfn = stack.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    (execution,) = [e for e in executions if e["name"].startswith(running)]
    assert _eventually(
        lambda: sfn.describe_execution(executionArn=execution["executionArn"])["status"] != "RUNNING"
    ), "the running analysis was stopped"
    time.sleep(2)  # a step in flight ends as VideoGone and writes nothing back
    assert (
        db.videos.count_documents({"_id": running}) == 0
        and db.analyses.count_documents({"_id": running}) == 0
    )
    assert api.call("DELETE", f"/studies/{study.id}", study.owner).status_code == 404


def test_erasing_the_account_removes_its_studies_invites_contents_and_cached_curves(
    api: Api, stack: LocalStack
) -> None:
    owner = api.new_account()
    created = api.create_study(owner, CLIP, 5.0, title="erase me")
    study_id = created["study"]["id"]
    assert api.post_upload(created, CLIP).status_code in (200, 201, 204)
    invite = api.call("POST", f"/studies/{study_id}/invites", owner, json={"max_viewers": 3}).json()
    joined = api.call(
        "POST",
        "/invite/viewers",
        headers={"X-Invite-Token": invite["token"]},
        json={"consent": api.viewer_consent()},
    )
    assert joined.status_code == 201, joined.text
    assert api.call("GET", f"/studies/{study_id}/audience", owner).status_code == 200
    export = api.call("GET", "/account/export", owner, params={"videos": "true"})
    assert export.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(requests.get(export.json()["url"], timeout=60).content))
    (exported,) = json.loads(archive.read("studies.json"))
    assert exported["id"] == study_id and [i["id"] for i in exported["invites"]] == [invite["id"]]
    assert [v["id"] for v in exported["viewer_records"]] == [joined.json()["viewer"]["id"]]
    assert invite["token"] not in archive.read("studies.json").decode()
    assert archive.read(f"studies/{study_id}.mp4") == CLIP.read_bytes()

    from chalicelib.deps import deps

    db = deps().db
    client = redis.Redis.from_url(stack.redis.url)
    assert _keys(stack, f"content/{owner.user_id}/") and list(
        client.scan_iter(match=f"audience:{study_id}:*")
    )
    erased = api.call("DELETE", "/account", owner, json={"password": owner.password})
    assert erased.status_code == 204, erased.text
    assert _keys(stack, f"content/{owner.user_id}/") == []
    assert _keys(stack, f"uploads/{owner.user_id}/") == []
    for name in ("studies", "invites", "videos", "analyses"):
        assert db[name].count_documents({"owner": owner.user_id}) == 0, name
    assert list(client.scan_iter(match=f"audience:{study_id}:*")) == []
    gone = api.call("GET", "/invite", headers={"X-Invite-Token": invite["token"]})
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "invite_invalid"
