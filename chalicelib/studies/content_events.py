"""S3 `ObjectCreated` events under `content/`: a study's content arriving in the bucket.

Content is watched, never analysed: its event starts nothing. It records on the study that the content is
there (and the size S3 saw), so views need no HEAD (they still HEAD while no event has come: a lost event
costs only that). A file whose study no longer exists (deleted, or its account erased, while its 15-minute
upload URL was still valid) belongs to nobody: it is removed at once, every version of it, as `on_upload`
does under `uploads/`. S3 delivers an event at least once; a second delivery finds the study already
marked or the file already gone, so the handler needs no idempotency store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chalicelib.deps import Deps
from chalicelib.observability import logger
from chalicelib.pipeline.start import upload_records
from chalicelib.storage.bucket import purge
from chalicelib.storage.mongo import now_ms
from chalicelib.studies.content import CONTENT_PREFIX
from chalicelib.uploads import safe_filename

_KEY = re.compile(
    rf"{re.escape(CONTENT_PREFIX)}(?P<owner>u_[0-9a-f]{{24}})/(?P<study>[0-9a-f]{{32}})/"
    r"(?P<name>[A-Za-z0-9._-]{1,120})"
)

RECORDED, DUPLICATE, REMOVED, IGNORED = "recorded", "duplicate", "removed", "ignored"


@dataclass(frozen=True)
class ContentKey:
    owner: str
    study_id: str
    filename: str


def parse_content_key(key: str) -> ContentKey | None:
    """The parts of a content object's key (decoded, as `content.content_key` made it), or None when the
    key is not one of ours: the layout `content/{owner}/{study_id}/{safe filename}`, nothing else."""
    match = _KEY.fullmatch(key)
    if match is None or safe_filename(match["name"]) != match["name"]:
        return None
    return ContentKey(owner=match["owner"], study_id=match["study"], filename=match["name"])


def handle_object_created(deps: Deps, bucket: str, key: str, size: int | None = None) -> str:
    """What happened to one content object (`key` decoded): `recorded` (its study now knows it is there),
    `duplicate` (known already), `removed` (its study no longer exists) or `ignored` (not ours)."""
    if bucket != deps.settings.uploads_bucket:
        logger.warning("object from an unexpected bucket", extra={"bucket": bucket, "key": key})
        return IGNORED
    parsed = parse_content_key(key)
    if parsed is None:
        logger.warning("object key is not a study content key", extra={"key": key})
        return IGNORED
    logger.append_keys(study_id=parsed.study_id)
    study = deps.studies.get(parsed.owner, parsed.study_id)
    if study is None:
        removed = purge(deps.s3, bucket, key, exact=True)
        logger.info("content of a study that no longer exists removed", extra={"objects": removed})
        return REMOVED
    content = study["content"]
    if key != content["key"]:  # its upload URL pins the key: this file came some other way
        logger.warning("object is not the study's content", extra={"key": key})
        return IGNORED
    if size is not None and size != content["size"]:  # its upload URL pins the size too
        logger.warning("content size differs", extra={"size": size, "announced": content["size"]})
    marked = deps.studies.mark_uploaded(parsed.owner, parsed.study_id, now_ms(), size)
    return RECORDED if marked else DUPLICATE


def handle_s3_event(deps: Deps, event: dict[str, Any]) -> list[str]:
    """Each record of an S3 event under `content/`; the outcome of each (see `handle_object_created`)."""
    outcomes = []
    for record in upload_records(event):
        outcome = handle_object_created(deps, record["bucket"], record["key"], record["size"])
        logger.info("content event handled", extra={"key": record["key"], "outcome": outcome})
        outcomes.append(outcome)
    return outcomes
