"""The whole journey over real HTTP: create a video, upload it to S3 with the presigned POST, the S3 event
starts the Step Functions execution, the Map analyses segments, results, history and stats appear, and
delete removes everything. Plus ownership, bad uploads and failures."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from chalicelib.uploads import segments_prefix
from devstack.stack import LocalStack
from tests.api_client import MAX_UPLOAD_BYTES, Account, Api
from tests.synthetic import VIDEOS_DIR

SHORT_VIDEO = VIDEOS_DIR / "liveportrait_driving_d3.mp4"  # 11.8 s, one face: 3 segments of ~5 s


def _keys(stack: LocalStack, prefix: str) -> list[str]:
    listed = stack.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


@pytest.fixture(scope="module")
def analysed(api: Api) -> tuple[Account, str, dict]:
    """One account with one analysed video (shared by the read-only tests of this module)."""
    owner = api.new_account()
    video_id = api.upload(owner, SHORT_VIDEO, title="Trailer A")
    return owner, video_id, api.wait(owner, video_id)


def test_the_video_is_analysed_with_progress_over_all_segments(analysed: tuple[Account, str, dict]) -> None:
    _, _, video = analysed
    assert video["status"] == "done", video.get("error")
    assert video["progress"] == {"done": 3, "total": 3}
    assert video["duration"] == pytest.approx(11.8, abs=0.05)
    assert video["title"] == "Trailer A" and video["filename"] == SHORT_VIDEO.name
    assert video["summary"]["face_presence"] > 0.9 and video["summary"]["dominant"] is not None


def test_results_are_the_analysis_merged_from_three_segments(
    api: Api, analysed: tuple[Account, str, dict]
) -> None:
    owner, video_id, _ = analysed
    results = api.call("GET", f"/videos/{video_id}/results", owner)
    assert results.status_code == 200
    analysis = results.json()
    assert analysis["segments"] == 3 and analysis["model"]["backend"] == "onnx"
    assert len(analysis["timeline"]) == pytest.approx(11.8 * 5, abs=2)
    assert len(analysis["faces"]) == 1, "one face, stitched across the segment boundaries"
    csv_response = api.call("GET", f"/videos/{video_id}/results.csv", owner)
    assert csv_response.status_code == 200 and csv_response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_response.text)))
    assert len(rows) == len(analysis["timeline"]) and "happy" in rows[0]


def test_media_is_a_short_lived_url_that_plays_the_upload(
    api: Api, analysed: tuple[Account, str, dict]
) -> None:
    owner, video_id, _ = analysed
    media = api.call("GET", f"/videos/{video_id}/media", owner).json()
    assert (media["expires_in"] == 300 and "Expires=" in media["url"]) or "X-Amz-Expires=300" in media["url"]
    assert requests.get(media["url"], timeout=30).content == SHORT_VIDEO.read_bytes()


def test_history_and_stats_reflect_the_video(api: Api, analysed: tuple[Account, str, dict]) -> None:
    owner, video_id, video = analysed
    history = api.call("GET", "/videos", owner).json()
    assert [v["id"] for v in history["items"]] == [video_id] and history["next"] is None
    stats = api.call("GET", "/stats", owner).json()
    assert stats["videos"] == 1 and stats["total_duration"] == pytest.approx(video["duration"])
    assert stats["distribution"] == pytest.approx(video["summary"]["distribution"], abs=2e-4)
    assert stats["dominant_per_video"][0]["dominant"] == video["summary"]["dominant"]
    assert len(stats["weekly"]) == 1 and stats["weekly"][0]["videos"] == 1
    assert api.call("GET", "/stats", owner).json()["cached"] is True


def test_another_users_video_is_404_everywhere(api: Api, analysed: tuple[Account, str, dict]) -> None:
    _, video_id, _ = analysed
    stranger = api.new_account()
    for method, path in [
        ("GET", f"/videos/{video_id}"),
        ("GET", f"/videos/{video_id}/results"),
        ("GET", f"/videos/{video_id}/results.csv"),
        ("GET", f"/videos/{video_id}/media"),
        ("POST", f"/videos/{video_id}/retry"),
        ("DELETE", f"/videos/{video_id}"),
    ]:
        response = api.call(method, path, stranger)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    assert api.call("GET", "/videos", stranger).json()["items"] == []
    assert api.call("GET", "/stats", stranger).json()["videos"] == 0


def test_the_presigned_post_policy_pins_key_type_size_and_expiry(api: Api, account: Account) -> None:
    created = api.create_video(account, SHORT_VIDEO, title="policy")
    fields = created["upload"]["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    key = fields["key"]
    assert key == f"uploads/{account.user_id}/{created['video']['id']}/{SHORT_VIDEO.name}"
    conditions = policy["conditions"]
    assert ["eq", "$key", key] in conditions
    assert ["eq", "$Content-Type", "video/mp4"] in conditions
    size = SHORT_VIDEO.stat().st_size
    assert ["content-length-range", size, size] in conditions
    assert {"bucket": "emotionfy-uploads"} in conditions and "expiration" in policy
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    put = created["upload_put"]
    assert put["method"] == "PUT" and f"/{key}" in put["url"]
    assert put["headers"]["Content-Type"] == "video/mp4"
    signed = parse_qs(urlparse(put["url"]).query)
    assert signed["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and signed["X-Amz-Expires"] == ["900"]
    assert "content-length" in signed["X-Amz-SignedHeaders"][0].split(";"), "the length is signed"


def test_an_upload_of_another_size_than_announced_fails(
    api: Api, account: Account, stack: LocalStack
) -> None:
    created = api.create_video(account, SHORT_VIDEO)
    # moto does not enforce the POST policy (S3 would refuse this): the event handler checks the size too
    stack.client("s3").put_object(
        Bucket=stack.bucket, Key=created["upload"]["fields"]["key"], Body=b"x" * 100
    )
    video = api.wait(account, created["video"]["id"])
    assert video["status"] == "failed" and "100 bytes" in video["error"], video.get("error")
    assert video["error_code"] == "size_mismatch"


def test_titles_keep_the_original_name_and_times_read_back_unchanged(api: Api, account: Account) -> None:
    body = {"filename": "視頻 Привет.mp4", "content_type": "video/mp4", "size": 10, "consent": api.consent()}
    created = api.call("POST", "/videos", account, json=body).json()["video"]
    assert created["title"] == "視頻 Привет.mp4"
    again = api.call("GET", f"/videos/{created['id']}", account).json()
    assert again["created_at"] == created["created_at"]


def test_a_video_whose_upload_event_was_lost_can_be_retried(
    api: Api, account: Account, stack: LocalStack
) -> None:
    s3 = stack.client("s3")
    notifications = s3.get_bucket_notification_configuration(Bucket=stack.bucket)
    notifications.pop("ResponseMetadata", None)
    created = api.create_video(account, VIDEOS_DIR / "openmpf_face_video_01.mp4")
    video_id = created["video"]["id"]
    assert api.call("POST", f"/videos/{video_id}/retry", account).status_code == 409  # nothing uploaded yet
    s3.put_bucket_notification_configuration(Bucket=stack.bucket, NotificationConfiguration={})
    try:
        assert api.post_upload(created, VIDEOS_DIR / "openmpf_face_video_01.mp4").status_code in (200, 204)
    finally:
        s3.put_bucket_notification_configuration(Bucket=stack.bucket, NotificationConfiguration=notifications)
    assert api.call("GET", f"/videos/{video_id}", account).json()["status"] == "pending_upload"
    retried = api.call("POST", f"/videos/{video_id}/retry", account)
    assert retried.status_code == 202, retried.text
    assert api.wait(account, video_id)["status"] == "done"


def test_a_presigned_put_upload_is_analysed_too(api: Api, account: Account) -> None:
    path = VIDEOS_DIR / "openmpf_face_video_01.mp4"
    put = api.create_video(account, path)
    upload = put["upload_put"]
    response = requests.put(upload["url"], data=path.read_bytes(), headers=upload["headers"], timeout=60)
    assert response.status_code == 200
    assert api.wait(account, put["video"]["id"])["status"] == "done"


def test_oversize_and_non_video_uploads_are_refused(api: Api, account: Account) -> None:
    base = {"filename": "a.mp4", "content_type": "video/mp4", "size": 1000, "consent": api.consent()}
    too_big = api.call("POST", "/videos", account, json={**base, "size": MAX_UPLOAD_BYTES + 1})
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "too_large"
    for content_type in ("image/png", "application/octet-stream", "video/", "text/html"):
        response = api.call("POST", "/videos", account, json={**base, "content_type": content_type})
        assert response.status_code == 400 and response.json()["error"]["code"] == "not_a_video", content_type
    for bad in ({"size": 0}, {"size": "12"}, {"size": True}, {"backend": "gpu"}, {"filename": {"$gt": ""}}):
        assert api.call("POST", "/videos", account, json={**base, **bad}).status_code == 400, bad
    assert api.call("GET", "/videos", account).json()["items"] == [], "nothing was created"


def test_a_corrupt_upload_fails_with_a_reason_and_the_rest_is_untouched(
    api: Api, account: Account, tmp_path: Path
) -> None:
    good = api.upload(account, VIDEOS_DIR / "openmpf_face_video_01.mp4", title="good")
    assert api.wait(account, good)["status"] == "done"
    before = api.call("GET", f"/videos/{good}/results", account).json()

    corrupt = tmp_path / "broken.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)
    bad = api.upload(account, corrupt, title="broken")
    failed = api.wait(account, bad)
    assert failed["status"] == "failed" and failed["error_code"] == "unreadable_video"
    assert "not a readable video" in failed["error"] or "cannot be decoded" in failed["error"], failed[
        "error"
    ]
    assert api.call("GET", f"/videos/{bad}/results", account).status_code == 409

    assert api.call("GET", f"/videos/{good}/results", account).json() == before
    statuses = {v["title"]: v["status"] for v in api.call("GET", "/videos", account).json()["items"]}
    assert statuses == {"good": "done", "broken": "failed"}
    assert api.call("GET", "/stats", account).json()["videos"] == 1


def test_a_failed_video_can_be_retried(api: Api, account: Account, stack: LocalStack) -> None:
    text = VIDEOS_DIR.parent / "README.md"
    created = api.create_video(account, text, title="oops")
    video_id = created["video"]["id"]
    assert api.post_upload(created, text).status_code in (200, 204)
    assert api.wait(account, video_id)["status"] == "failed"
    # the user replaces the object with the real video (same presigned key), then retries
    stack.client("s3").upload_file(str(SHORT_VIDEO), stack.bucket, created["upload"]["fields"]["key"])
    retried = api.call("POST", f"/videos/{video_id}/retry", account)
    assert retried.status_code == 202 and retried.json()["status"] == "queued"
    assert api.wait(account, video_id)["status"] == "done"
    assert api.call("POST", f"/videos/{video_id}/retry", account).status_code == 409  # done: nothing to retry


def test_a_segment_counts_once_towards_progress_even_when_retried(api: Api, account: Account) -> None:
    from chalicelib.deps import deps

    video_id = api.create_video(account, SHORT_VIDEO)["video"]["id"]
    videos = deps().videos
    videos._videos.update_one({"_id": video_id}, {"$set": {"status": "queued"}})
    assert videos.start_processing(video_id, total=3, duration=11.8) is not None
    for index in (0, 0, 1, 0):  # Step Functions may run a segment step again after it counted
        videos.segment_done(video_id, index)
    assert api.call("GET", f"/videos/{video_id}", account).json()["progress"] == {"done": 2, "total": 3}


def test_history_pages_newest_first(api: Api, account: Account) -> None:
    ids = []
    for i in range(5):
        ids.append(api.create_video(account, SHORT_VIDEO, title=f"v{i}")["video"]["id"])
        time.sleep(0.002)  # distinct milliseconds: ties are ordered by id, not by creation
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.call("GET", "/videos", account, params=params).json()
        assert len(page["items"]) <= 2
        seen += [v["id"] for v in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == ids[::-1]
    bad_cursors = [
        "garbage!",
        base64.urlsafe_b64encode(b'["9999-12-31T23:59:59.999999-23:59", "x"]').decode(),
        base64.urlsafe_b64encode(b'["0001-01-01T00:00:00+14:00", "' + b"a" * 32 + b'"]').decode(),
        base64.urlsafe_b64encode(b'["2020-01-01", "\\ud800"]').decode(),
        base64.urlsafe_b64encode(b'["2020-01-01", {"$gt": ""}]').decode(),
    ]
    for cursor in bad_cursors:
        response = api.call("GET", "/videos", account, params={"cursor": cursor})
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_cursor", cursor
    assert api.call("GET", "/videos", account, params={"limit": 0}).status_code == 400


def test_delete_removes_object_segments_results_and_stats(api: Api, stack: LocalStack) -> None:
    owner = api.new_account()
    video_id = api.upload(owner, SHORT_VIDEO)
    assert api.wait(owner, video_id)["status"] == "done"
    key = f"uploads/{owner.user_id}/{video_id}/{SHORT_VIDEO.name}"
    assert _keys(stack, key) == [key] and len(_keys(stack, segments_prefix(video_id))) == 3
    assert api.call("GET", "/stats", owner).json()["videos"] == 1

    assert api.call("DELETE", f"/videos/{video_id}", owner).status_code == 204
    assert _keys(stack, key) == [] and _keys(stack, segments_prefix(video_id)) == []
    from chalicelib.deps import deps

    assert deps().db.analyses.find_one({"_id": video_id}) is None
    assert api.call("GET", f"/videos/{video_id}", owner).status_code == 404
    assert api.call("GET", "/stats", owner).json()["videos"] == 0
