"""Upload keys and presigned S3 requests: the browser or phone sends the video straight to S3.

The key fixes who and what an object is: `uploads/{user_id}/{video_id}/{safe filename}`. The presigned
POST's policy pins that key, the declared `video/` content type and the declared size exactly, and
expires; the presigned PUT (SigV4) signs the exact key, content type and length.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

UPLOAD_PREFIX = "uploads/"
SEGMENTS_PREFIX = "segments/"
_KEY = re.compile(
    r"^uploads/(?P<user>u_[0-9a-f]{24})/(?P<video>[0-9a-f]{32})/(?P<name>[A-Za-z0-9._-]{1,120})$"
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class UploadKey:
    user_id: str
    video_id: str
    filename: str


def safe_filename(name: str) -> str:
    """ASCII letters, digits, `.`, `_` and `-` only; no path; at most 120 characters; never empty."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("_", ascii_name).strip("._") or "video"
    if len(cleaned) > 120:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = (stem[: 119 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else cleaned[:120]
    return cleaned


def upload_key(user_id: str, video_id: str, filename: str) -> str:
    return f"{UPLOAD_PREFIX}{user_id}/{video_id}/{safe_filename(filename)}"


def parse_upload_key(key: str) -> UploadKey | None:
    """The parts of an uploaded object's key (as stored: an S3 event's URL-encoded key is decoded once, by
    its handler), or None if it is not one of ours."""
    match = _KEY.fullmatch(key)  # fullmatch: `$` alone would also accept a trailing newline
    if not match:
        return None
    return UploadKey(user_id=match["user"], video_id=match["video"], filename=match["name"])


def segment_key(video_id: str, index: int, attempt: int = 0) -> str:
    """One key per attempt: a late step of an older execution cannot overwrite a newer one's result."""
    return f"{SEGMENTS_PREFIX}{video_id}/{attempt}/{index:04d}.json"


def segments_prefix(video_id: str) -> str:
    return f"{SEGMENTS_PREFIX}{video_id}/"


def presigned_post(
    s3: Any, bucket: str, key: str, content_type: str, size: int, expires_seconds: int
) -> dict[str, Any]:
    """`{url, fields}` for a multipart form POST; S3 refuses uploads outside the policy."""
    return s3.generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[
            {"bucket": bucket},
            ["eq", "$key", key],
            ["eq", "$Content-Type", content_type],
            ["content-length-range", size, size],
        ],
        ExpiresIn=expires_seconds,
    )


def presigned_put(
    s3: Any, bucket: str, key: str, content_type: str, size: int, expires_seconds: int
) -> dict[str, Any]:
    """`{url, method, headers}` for clients that stream the file in one PUT (exact type and length signed)."""
    url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket, "Key": key, "ContentType": content_type, "ContentLength": size},
        ExpiresIn=expires_seconds,
    )
    return {"url": url, "method": "PUT", "headers": {"Content-Type": content_type}}


def presigned_get(s3: Any, bucket: str, key: str, expires_seconds: int) -> str:
    return s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_seconds
    )


#: The error codes S3 answers for an object that is not there (HEAD answers a bare 404).
MISSING_OBJECT_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


def object_size(s3: Any, bucket: str, key: str) -> int | None:
    """The object's size in bytes, or None when it is not in the bucket (other errors are raised)."""
    from botocore.exceptions import ClientError

    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in MISSING_OBJECT_CODES:
            return None
        raise
    return int(head["ContentLength"])


def delete_prefix(s3: Any, bucket: str, prefix: str) -> int:
    """Delete every object under `prefix`; the number deleted."""
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    return deleted
