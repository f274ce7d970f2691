"""Deleting a video over real HTTP removes every version of its upload and of its segment artefacts.

The uploads bucket is versioned in the cloud; the local stack's is not, so this test moves one video's
record onto a versioned bucket of the same moto server and fills it as S3 would be after a replaced upload.
A viewer withdrawing their recording takes this same path (chalicelib/studies/viewers.py).
"""

from __future__ import annotations

from devstack.stack import LocalStack
from tests.api_client import Account, Api

CONSENT = {"given": True, "language": "en"}


def test_a_deleted_video_leaves_no_version_of_its_upload_or_artefacts(
    api: Api, account: Account, stack: LocalStack
) -> None:
    from chalicelib.deps import deps

    statement = api.call("GET", "/consent").json()
    created = api.call(
        "POST",
        "/videos",
        account,
        json={
            "filename": "talk.mp4",
            "content_type": "video/mp4",
            "size": 4,
            "consent": {**CONSENT, "text_version": statement["version"]},
        },
    )
    assert created.status_code == 201, created.text
    video_id = created.json()["video"]["id"]
    record = deps().db.videos.find_one({"_id": video_id})
    assert record is not None
    key = record["key"]

    s3 = stack.client("s3")
    versioned = "emotionfy-versioned-deletion"
    s3.create_bucket(Bucket=versioned)
    s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=versioned, Key=key, Body=b"old!")  # replaced once: two versions
    s3.put_object(Bucket=versioned, Key=key, Body=b"new!")
    s3.put_object(Bucket=versioned, Key=f"segments/{video_id}/0/0000.json", Body=b"{}")
    s3.put_object(Bucket=versioned, Key=f"{key}.other", Body=b"not this video's")
    deps().db.videos.update_one({"_id": video_id}, {"$set": {"bucket": versioned}})
    assert len(s3.list_object_versions(Bucket=versioned)["Versions"]) == 4

    assert api.call("DELETE", f"/videos/{video_id}", account).status_code == 204

    left = s3.list_object_versions(Bucket=versioned)
    remaining = [e["Key"] for e in [*left.get("Versions", []), *left.get("DeleteMarkers", [])]]
    assert remaining == [f"{key}.other"], "every version of the upload and its artefacts, nothing else"
