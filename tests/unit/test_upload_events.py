"""The S3 `ObjectCreated` event (chalicelib/pipeline/start.py): read through Powertools' S3Event, the key
decoded once and compared with the key `upload_key` built for the video."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from chalicelib.deps import Deps
from chalicelib.pipeline.start import handle_object_created, upload_records
from chalicelib.settings import ServiceSettings
from chalicelib.storage.videos import FAILED, QUEUED
from chalicelib.uploads import upload_key
from tests.unit.fakes import fake_deps

OWNER = "u_" + "ab" * 12
VIDEO = "0123456789abcdef" * 2
BUCKET = "uploads"
MACHINE = "arn:aws:states:r:1:stateMachine:m"


def _event(*keys: str, size: int = 10) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Post",
                "s3": {
                    "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
                    "object": {"key": key, "size": size, "eTag": "0", "sequencer": f"00{n}"},
                },
            }
            for n, key in enumerate(keys)
        ]
    }


@pytest.fixture
def deps() -> Deps:
    return fake_deps(ServiceSettings(uploads_bucket=BUCKET, state_machine_arn=MACHINE))


def _announce(deps: Deps, filename: str, size: int = 10) -> str:
    key = upload_key(OWNER, VIDEO, filename)
    deps.videos.create(
        {"_id": VIDEO, "owner": OWNER, "filename": filename, "size": size, "backend": "onnx"}
        | {"bucket": BUCKET, "key": key}
    )
    return key


def _status(deps: Deps) -> str:
    video = deps.videos.get(OWNER, VIDEO)
    assert video is not None
    return str(video["status"])


def test_every_record_is_read_and_its_key_decoded_once() -> None:
    key = upload_key(OWNER, VIDEO, "Mi vídeo (final).MOV")
    records = upload_records(_event(quote_plus(key), quote(key, safe=""), "uploads/a+b%2Bc.mp4"))
    assert [r["key"] for r in records] == [key, key, "uploads/a b+c.mp4"], "%2B is a plus, decoded once"
    assert records[0] == {"bucket": BUCKET, "key": key, "sequencer": "000", "size": 10}
    bare = _event(key)
    del bare["Records"][0]["s3"]["object"]["sequencer"]  # moto's notifications carry none
    assert upload_records(bare)[0]["sequencer"] == ""


def test_the_announced_upload_starts_its_analysis_once(deps: Deps) -> None:
    key = _announce(deps, "my talk.mp4")
    (record,) = upload_records(_event(quote_plus(key)))
    assert handle_object_created(deps, BUCKET, record["key"], record["size"]) == "started"
    assert handle_object_created(deps, BUCKET, record["key"], record["size"]) == "duplicate"
    assert _status(deps) == QUEUED
    assert list(deps.stepfunctions.executions) == [f"arn:aws:states:r:1:execution:m:{VIDEO}"]


@pytest.mark.parametrize(
    ("bucket", "key"),
    [
        ("elsewhere", f"uploads/{OWNER}/{VIDEO}/talk.mp4"),
        (BUCKET, "uploads/../../etc/passwd"),
        (BUCKET, f"segments/{VIDEO}/0/0000.json"),
        (BUCKET, f"uploads/{OWNER}/{VIDEO}/talk.mp4\n"),  # `$` alone would accept the newline
    ],
)
def test_objects_that_are_not_an_announced_upload_start_nothing(deps: Deps, bucket: str, key: str) -> None:
    _announce(deps, "talk.mp4")
    deps.s3.objects[(bucket, key)] = 10
    assert handle_object_created(deps, bucket, key, 10) == "ignored"
    assert _status(deps) == "pending_upload"
    assert not deps.stepfunctions.executions
    assert (bucket, key) in deps.s3.objects, "not ours: left alone"


@pytest.mark.parametrize(
    "key",
    [
        f"uploads/{OWNER}/{'f' * 32}/talk.mp4",  # no such video (deleted, or its account erased)
        f"uploads/u_{'cd' * 12}/{VIDEO}/talk.mp4",  # my video id under someone else's prefix
    ],
)
def test_an_upload_for_a_video_that_no_longer_exists_is_removed(deps: Deps, key: str) -> None:
    announced = _announce(deps, "talk.mp4")
    deps.s3.objects[(BUCKET, key)] = 10
    deps.s3.objects[(BUCKET, announced)] = 10
    assert handle_object_created(deps, BUCKET, key, 10) == "removed"
    assert (BUCKET, key) not in deps.s3.objects
    assert (BUCKET, announced) in deps.s3.objects, "only that object"
    assert _status(deps) == "pending_upload"
    assert not deps.stepfunctions.executions


@pytest.mark.parametrize(
    ("name", "size", "code"),
    [("other.mp4", 10, "wrong_name"), ("talk.mp4", 11, "size_mismatch")],
)
def test_an_upload_unlike_its_announcement_fails_with_a_reason(
    deps: Deps, name: str, size: int, code: str
) -> None:
    _announce(deps, "talk.mp4")
    assert handle_object_created(deps, BUCKET, f"uploads/{OWNER}/{VIDEO}/{name}", size) == "ignored"
    video = deps.videos.get(OWNER, VIDEO)
    assert video is not None and video["status"] == FAILED and video["error_code"] == code
    assert not deps.stepfunctions.executions
