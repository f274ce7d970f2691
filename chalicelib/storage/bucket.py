"""What privacy needs of the uploads bucket beyond single objects: every version of every object under a key
prefix, exports, and the retention tag S3's lifecycle rules read.

The bucket is versioned in the cloud (a replaced or deleted object's previous version stays for a few
days), so deleting an object for good means deleting each of its versions and delete markers; on an
unversioned bucket (the local stack) S3 lists each object as one version with the id `null`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from chalicelib.uploads import MISSING_OBJECT_CODES, UPLOAD_PREFIX

EXPORTS_PREFIX = "exports/"
#: The tag S3's lifecycle rules match (infra/terraform/modules/storage): the source's backstop in days.
RETENTION_TAG = "emotionfy-retention-days"


def user_uploads_prefix(user_id: str) -> str:
    return f"{UPLOAD_PREFIX}{user_id}/"


def user_exports_prefix(user_id: str) -> str:
    return f"{EXPORTS_PREFIX}{user_id}/"


def export_key(user_id: str, export_id: str) -> str:
    return f"{user_exports_prefix(user_id)}{export_id}.zip"


def purge(s3: Any, bucket: str, prefix: str, *, exact: bool = False) -> int:
    """Delete every version and delete marker of every object under `prefix` (with `exact`, of the object
    named `prefix` only); the number of objects that had any."""
    keys: set[str] = set()
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        entries = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        doomed = [
            {"Key": e["Key"], "VersionId": e["VersionId"]} for e in entries if not exact or e["Key"] == prefix
        ]
        for start in range(0, len(doomed), 1000):  # DeleteObjects takes at most 1000 keys a call
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed[start : start + 1000], "Quiet": True})
        keys.update(d["Key"] for d in doomed)
    return len(keys)


def objects(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    """The current objects under `prefix`: `{"Key", "Size", "LastModified"}`."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def keys_older_than(s3: Any, bucket: str, prefix: str, before: datetime) -> list[str]:
    return [item["Key"] for item in objects(s3, bucket, prefix) if item["LastModified"] < before]


def set_retention_tag(s3: Any, bucket: str, key: str, days: int | None) -> bool:
    """Tag the object with its backstop (None: no tag, kept); False when the object is not there."""
    from botocore.exceptions import ClientError

    try:
        if days is None:
            s3.delete_object_tagging(Bucket=bucket, Key=key)
        else:
            tags = [{"Key": RETENTION_TAG, "Value": str(days)}]
            s3.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": tags})
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in MISSING_OBJECT_CODES:
            return False
        raise
    return True


def retention_tag(s3: Any, bucket: str, key: str) -> int | None:
    """The backstop the object is tagged with (tests and operators)."""
    tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    values = [int(t["Value"]) for t in tags if t["Key"] == RETENTION_TAG]
    return values[0] if values else None
