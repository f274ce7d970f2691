"""A study's content: the video its viewers watch, stored at `content/{owner}/{study_id}/{safe filename}`.

Not under `uploads/`: it is never analysed, and no retention tag or lifecycle rule touches it; it is kept
while its study exists and goes, every version, with it. Its own S3 notification (`on_content_upload`,
chalicelib/studies/content_events.py) only records on the study that it arrived, or removes it when its
study is gone. The creator sends it straight to S3 with presigned requests pinned to its key, type and
size, as uploads are.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from chalicelib.errors import BadRequest, Conflict, PayloadTooLarge
from chalicelib.storage.bucket import purge
from chalicelib.uploads import object_size, presigned_get, presigned_post, presigned_put, safe_filename
from chalicelib.validation import integer, required_string

CONTENT_PREFIX = "content/"
_CONTENT_TYPE = re.compile(r"^video/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,99}$", re.ASCII | re.IGNORECASE)


def owner_prefix(owner: str) -> str:
    return f"{CONTENT_PREFIX}{owner}/"


def study_prefix(owner: str, study_id: str) -> str:
    return f"{owner_prefix(owner)}{study_id}/"


def content_key(owner: str, study_id: str, filename: str) -> str:
    return f"{study_prefix(owner, study_id)}{safe_filename(filename)}"


def video_type(body: dict[str, Any], name: str = "content_type") -> str:
    """`video/<subtype>`, trimmed and lower-cased; 400 `not_a_video` otherwise."""
    content_type = required_string(body, name, max_length=110).strip()
    if not _CONTENT_TYPE.match(content_type):
        raise BadRequest(f"only videos can be uploaded: '{name}' must be video/…", code="not_a_video")
    return content_type.lower()


def file_size(body: dict[str, Any], limit: int) -> int:
    size = integer(body, "size", minimum=1)
    if size > limit:
        raise PayloadTooLarge(f"the video is {size} bytes; the limit is {limit} bytes", code="too_large")
    return size


def _finite(value: float) -> bool:
    """JSON integers have no size limit: one too large for a float is no number of seconds either."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def seconds(body: dict[str, Any], name: str, low: float, high: float, *, low_inclusive: bool) -> float:
    """A finite number of seconds in [low, high] (or (low, high]); 400 `invalid_field` otherwise."""
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
        raise BadRequest(f"'{name}' must be a number of seconds", code="invalid_field")
    too_low = value < low if low_inclusive else value <= low
    if too_low or value > high:
        opening = "[" if low_inclusive else "("
        raise BadRequest(f"'{name}' must be in {opening}{low:g}, {high:g}] seconds", code="invalid_field")
    return float(value)


def parse(body: Any, max_bytes: int, max_seconds: float) -> dict[str, Any]:
    """The `content` object of a new study: file name, video type, size and duration (what the
    audience grid is laid on)."""
    if not isinstance(body, dict):
        raise BadRequest(
            "'content' must be an object: {filename, content_type, size, duration}", code="invalid_field"
        )
    return {
        "filename": required_string(body, "filename", max_length=255),
        "content_type": video_type(body),
        "size": file_size(body, max_bytes),
        "duration": seconds(body, "duration", 0.0, max_seconds, low_inclusive=False),
    }


def upload_requests(s3: Any, content: dict[str, Any], expires_seconds: int) -> dict[str, Any]:
    """The presigned POST form and PUT that send the content to its key."""
    bucket, key, content_type, size = (
        content["bucket"],
        content["key"],
        content["content_type"],
        content["size"],
    )
    return {
        "upload": {**presigned_post(s3, bucket, key, content_type, size, expires_seconds), "method": "POST"},
        "upload_put": presigned_put(s3, bucket, key, content_type, size, expires_seconds),
        "expires_in": expires_seconds,
    }


def in_bucket(s3: Any, study: dict[str, Any]) -> bool:
    """Whether the content is in the bucket: known once seen (`content.uploaded_at`, set by its S3 event or
    an earlier view), else a HEAD (the event may not have come yet, or have been lost)."""
    content = study["content"]
    if isinstance(content.get("uploaded_at"), datetime):
        return True
    return object_size(s3, content["bucket"], content["key"]) is not None


def playback(s3: Any, study: dict[str, Any], expires_seconds: int) -> dict[str, Any]:
    """A presigned GET of the content (call once `in_bucket` said yes)."""
    content = study["content"]
    url = presigned_get(s3, content["bucket"], content["key"], expires_seconds)
    return {"url": url, "expires_in": expires_seconds, "content_type": content["content_type"]}


def not_uploaded() -> Conflict:
    return Conflict("the study's content has not been uploaded yet", code="content_not_uploaded")


def delete(s3: Any, bucket: str, owner: str, study_id: str) -> int:
    """Every version of every object of the study's content."""
    return purge(s3, bucket, study_prefix(owner, study_id))
