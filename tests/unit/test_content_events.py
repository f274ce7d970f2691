"""The S3 `ObjectCreated` event of a study's content (chalicelib/studies/content_events.py): the key read
strictly, the study told its content arrived (and its size) once however often S3 delivers the event, and
a file whose study is gone removed with every version, while nothing else is touched or analysed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

import pytest

from chalicelib.deps import Deps
from chalicelib.settings import ServiceSettings
from chalicelib.studies import service
from chalicelib.studies.content import content_key, study_prefix
from chalicelib.studies.content_events import (
    ContentKey,
    handle_object_created,
    handle_s3_event,
    parse_content_key,
)
from chalicelib.studies.store import StudyRepository
from tests.unit.fakes import FakeCollection, FakeS3, fake_deps

OWNER = "u_" + "ab" * 12
OTHER = "u_" + "cd" * 12
STUDY = "0123456789abcdef" * 2
BUCKET = "uploads"
SIZE = 1234


class VersionedS3(FakeS3):
    """FakeS3 over a versioned bucket: each PUT adds a version; DeleteObjects removes the versions named."""

    def __init__(self) -> None:
        super().__init__()
        self.versions: dict[tuple[str, str], list[str]] = {}
        self.heads = 0

    def put(self, bucket: str, key: str, size: int) -> None:
        versions = self.versions.setdefault((bucket, key), [])
        versions.append(f"v{len(versions) + 1}")
        self.objects[(bucket, key)] = size

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        self.heads += 1
        return super().head_object(Bucket=Bucket, Key=Key)

    def get_paginator(self, operation: str) -> Any:
        assert operation == "list_object_versions", operation
        s3 = self

        class Paginator:
            def paginate(self, Bucket: str, Prefix: str) -> list[dict[str, Any]]:
                found = sorted((k, v) for (b, k), vs in s3.versions.items() if b == Bucket for v in vs)
                entries = [{"Key": k, "VersionId": v} for k, v in found if k.startswith(Prefix)]
                return [{"Versions": entries}]

        return Paginator()

    def delete_objects(self, Bucket: str, Delete: dict[str, Any]) -> None:
        for item in Delete["Objects"]:
            versions = self.versions.get((Bucket, item["Key"]), [])
            versions.remove(item["VersionId"])
            if not versions:
                self.versions.pop((Bucket, item["Key"]))
                self.objects.pop((Bucket, item["Key"]))


class _Database:
    def __init__(self) -> None:
        self.studies = FakeCollection()


@pytest.fixture
def deps() -> Deps:
    made = fake_deps(
        ServiceSettings(uploads_bucket=BUCKET, state_machine_arn="arn:aws:states:r:1:stateMachine:m")
    )
    database: Any = _Database()
    made.__dict__.update(studies=StudyRepository(database), s3=VersionedS3())
    return made


def _s3(deps: Deps) -> VersionedS3:
    s3: VersionedS3 = deps.s3
    return s3


def _study(deps: Deps, owner: str = OWNER, study_id: str = STUDY, filename: str = "Trailer (v2).mp4") -> str:
    """A study as POST /studies stores it, its content not uploaded yet; its content key."""
    key = content_key(owner, study_id, filename)
    content = {"filename": filename, "content_type": "video/mp4", "size": SIZE, "duration": 12.5}
    content |= {"bucket": BUCKET, "key": key, "uploaded_at": None}
    deps.studies.create({"_id": study_id, "owner": owner, "title": "t", "content": content})
    return key


def _content(deps: Deps, owner: str = OWNER, study_id: str = STUDY) -> dict[str, Any]:
    study = deps.studies.get(owner, study_id)
    assert study is not None
    content: dict[str, Any] = study["content"]
    return content


def _event(key: str, size: int = SIZE, bucket: str = BUCKET) -> dict[str, Any]:
    """As S3 sends it: the key URL-encoded, no sequencer (moto sends none either)."""
    record = {
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": quote_plus(key), "size": size, "eTag": "0"},
        },
    }
    return {"Records": [record]}


# --- the key ---------------------------------------------------------------------------------------------


def test_a_content_key_reads_back_into_its_owner_study_and_file() -> None:
    key = content_key(OWNER, STUDY, "Mi vídeo (final).MOV")
    assert parse_content_key(key) == ContentKey(OWNER, STUDY, "Mi_video_final_.MOV")


@pytest.mark.parametrize(
    "key",
    [
        f"uploads/{OWNER}/{STUDY}/talk.mp4",  # another prefix
        f"content/{OWNER}/{STUDY}/",  # no file
        f"content/{OWNER}/{STUDY}",
        f"content/{OWNER}/{STUDY}/a/b.mp4",  # deeper than ours
        f"content/{OWNER}/{STUDY.upper()}/talk.mp4",  # ids are lower-case hex
        f"content/{OWNER}/{STUDY[:-1]}/talk.mp4",
        f"content/user/{STUDY}/talk.mp4",
        f"content/{OWNER}/{STUDY}/talk.mp4\n",  # `$` would let a trailing newline through
        f"content/{OWNER}/{STUDY}/..",  # a name safe_filename never makes
        f"content/{OWNER}/{STUDY}/.hidden.mp4",
        f"content/{OWNER}/{STUDY}/my talk.mp4",  # as S3 sends it before decoding: %2F, +, spaces
        f"content/{OWNER}/{STUDY}/{'a' * 121}",
        f"xcontent/{OWNER}/{STUDY}/talk.mp4",
        f"content%2F{OWNER}/{STUDY}/talk.mp4",
    ],
)
def test_keys_not_laid_out_as_ours_are_not_content_keys(key: str) -> None:
    assert parse_content_key(key) is None


@pytest.mark.parametrize(
    ("bucket", "key"),
    [
        ("elsewhere", f"content/{OWNER}/{STUDY}/talk.mp4"),
        (BUCKET, f"content/{OWNER}/{STUDY}/../../uploads/x.mp4"),
        (BUCKET, "content/readme.txt"),
    ],
)
def test_an_object_not_of_ours_is_ignored_and_left_alone(deps: Deps, bucket: str, key: str) -> None:
    _study(deps)
    _s3(deps).put(bucket, key, SIZE)
    assert handle_object_created(deps, bucket, key, SIZE) == "ignored"
    assert (bucket, key) in _s3(deps).objects
    assert _content(deps)["uploaded_at"] is None


# --- a study that exists ------------------------------------------------------------------------------------


def test_the_content_arriving_is_recorded_once_and_views_need_no_head(deps: Deps) -> None:
    key = _study(deps)
    _s3(deps).put(BUCKET, key, SIZE)
    assert handle_s3_event(deps, _event(key)) == ["recorded"]
    content = _content(deps)
    first = content["uploaded_at"]
    assert isinstance(first, datetime) and content["uploaded_size"] == SIZE
    assert handle_s3_event(deps, _event(key)) == ["duplicate"], "S3 delivers at least once"
    assert _content(deps)["uploaded_at"] == first and _content(deps)["uploaded_size"] == SIZE
    assert (BUCKET, key) in _s3(deps).objects, "the study's content stays"
    study = deps.studies.get(OWNER, STUDY)
    assert study is not None and service.content_uploaded(deps, study) is True
    assert _s3(deps).heads == 0, "known from the event: no HEAD"
    assert not deps.stepfunctions.executions, "content is watched, never analysed"


def test_without_the_event_a_view_still_learns_it_by_a_head_and_a_late_event_adds_the_size(
    deps: Deps,
) -> None:
    key = _study(deps)
    study = deps.studies.get(OWNER, STUDY)
    assert study is not None and service.content_uploaded(deps, study) is False
    _s3(deps).put(BUCKET, key, SIZE)
    study = deps.studies.get(OWNER, STUDY)
    assert study is not None and service.content_uploaded(deps, study) is True
    assert _s3(deps).heads == 2, "a HEAD per view until it was seen"
    seen = _content(deps)["uploaded_at"]
    assert isinstance(seen, datetime) and _content(deps).get("uploaded_size") is None
    assert handle_object_created(deps, BUCKET, key, SIZE) == "recorded", "the size S3 saw"
    assert _content(deps)["uploaded_at"] == seen and _content(deps)["uploaded_size"] == SIZE
    assert handle_object_created(deps, BUCKET, key, SIZE) == "duplicate"


def test_another_file_under_the_studys_prefix_is_not_its_content(deps: Deps) -> None:
    _study(deps)
    stray = f"{study_prefix(OWNER, STUDY)}other.mp4"
    _s3(deps).put(BUCKET, stray, SIZE)
    assert handle_object_created(deps, BUCKET, stray, SIZE) == "ignored"
    assert _content(deps)["uploaded_at"] is None
    assert (BUCKET, stray) in _s3(deps).objects, "deleted with its study, not here"


# --- a study that is gone -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("owner", "study_id"),
    [
        (OWNER, "f" * 32),  # deleted, or its account erased, after the upload URL was handed out
        (OTHER, STUDY),  # my study's id under someone else's prefix
    ],
)
def test_content_of_a_study_that_no_longer_exists_is_removed_every_version(
    deps: Deps, owner: str, study_id: str
) -> None:
    mine = _study(deps)
    _s3(deps).put(BUCKET, mine, SIZE)
    orphan = content_key(owner, study_id, "late.mp4")
    neighbour = f"{study_prefix(owner, study_id)}other.mp4"
    for _ in range(3):  # replaced twice: three versions
        _s3(deps).put(BUCKET, orphan, SIZE)
    _s3(deps).put(BUCKET, neighbour, SIZE)
    assert handle_s3_event(deps, _event(orphan)) == ["removed"]
    assert (BUCKET, orphan) not in _s3(deps).versions, "every version"
    assert (BUCKET, neighbour) in _s3(deps).objects, "only the object of the event"
    assert (BUCKET, mine) in _s3(deps).objects and _content(deps)["uploaded_at"] is None
    assert deps.studies.get(owner, study_id) is None, "no record comes back with it"
    assert handle_s3_event(deps, _event(orphan)) == ["removed"], "a second delivery finds nothing to do"
    assert (BUCKET, neighbour) in _s3(deps).objects
    assert not deps.stepfunctions.executions
