"""The study's audience curve is computed when a viewer's analysis ends (the merge step, also when it is
replayed) and when a viewer is removed, and cached under the key the next read looks for
(chalicelib/studies/curves.py `refresh`). It is best effort: a cache or store that fails is a warning and
never fails the merge; the read computes as before."""

from __future__ import annotations

import copy
import io
import json
from dataclasses import asdict
from typing import Any

import pymongo.errors
import pytest
import redis

from chalicelib.deps import Deps
from chalicelib.engine.segment import SegmentResult
from chalicelib.engine.video import VideoInfo
from chalicelib.pipeline import steps
from chalicelib.privacy import retention
from chalicelib.settings import ServiceSettings
from chalicelib.storage.analyses import AnalysisRepository
from chalicelib.storage.videos import DONE, VideoRepository, new_video_id
from chalicelib.studies import curves, viewers
from chalicelib.studies.store import StudyRepository, ViewerRepository
from tests.unit.fakes import Clock, FakeCollection, FakeDatabase, FakeRedis, FakeS3, fake_deps

OWNER = "u_" + "ab" * 12
STUDY = "0123456789abcdef" * 2
BUCKET = "uploads"
INFO = VideoInfo(duration=4.0, fps=25.0, frame_count=100, width=640, height=360, rotation=0, codec="h264")
HAPPY = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]


class Analyses(FakeCollection):
    """The `analyses` collection: AnalysisRepository.put replaces a document (upsert)."""

    def replace_one(self, query: dict[str, Any], document: dict[str, Any], upsert: bool = False) -> None:
        found = self._first(query)
        if found is not None:
            self.documents.remove(found)
        if found is not None or upsert:
            self.documents.append(copy.deepcopy(document))


class Database(FakeDatabase):
    def __init__(self) -> None:
        super().__init__()
        self.analyses = Analyses()


class SegmentsS3(FakeS3):
    """FakeS3 that also holds object bodies, for the segment results the merge step reads."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: dict[tuple[str, str], bytes] = {}

    def put(self, bucket: str, key: str, body: bytes) -> None:
        self.objects[(bucket, key)] = len(body)
        self.bodies[(bucket, key)] = body

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.bodies[(Bucket, Key)])}


class DownRedis:
    """Redis that cannot be reached: every command fails as redis-py does."""

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        return fail


class UntouchedRedis:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"Redis was used ({name}) for a video of no study")


def _deps(duration: float = 11.8) -> Deps:
    made = fake_deps(
        ServiceSettings(uploads_bucket=BUCKET, state_machine_arn="arn:aws:states:r:1:stateMachine:m")
    )
    database: Any = Database()
    made.__dict__.update(
        videos=VideoRepository(database),
        analyses=AnalysisRepository(database),
        studies=StudyRepository(database),
        viewers=ViewerRepository(database),
        s3=SegmentsS3(),
        redis=FakeRedis(Clock()),
    )
    content = {"filename": "c.mp4", "content_type": "video/mp4", "size": 10, "duration": duration}
    content |= {"bucket": BUCKET, "key": f"content/{OWNER}/{STUDY}/c.mp4", "uploaded_at": None}
    made.studies.create({"_id": STUDY, "owner": OWNER, "title": "Trailer", "content": content})
    return made


@pytest.fixture(autouse=True)
def no_retention(monkeypatch: pytest.MonkeyPatch) -> None:
    """The source's retention is planned by the merge too: not this test's subject (and best effort)."""
    monkeypatch.setattr(retention, "after_analysis", lambda deps, video_id: None)


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    said: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(curves.logger, "warning", lambda msg, extra=None: said.append((msg, extra or {})))
    return said


def _recording(deps: Deps, label: str, *, study: bool = True) -> dict[str, Any]:
    """A viewer's recording being analysed (attempt 1, one segment), and the merge step's input for it."""
    video_id = new_video_id()
    record: dict[str, Any] = {
        "_id": video_id,
        "owner": OWNER,
        "title": label,
        "filename": "v.webm",
        "content_type": "video/webm",
        "size": 10,
        "backend": "onnx",
        "bucket": BUCKET,
        "key": f"uploads/{OWNER}/{video_id}/v.webm",
        "consent": {"given": True},
    }
    if study:
        record |= {
            "study_id": STUDY,
            "viewer": {"label": label, "offset": 0.0, "source": "creator", "upload_issued": True},
        }
    deps.videos.create(record)
    deps.videos.mark_queued(video_id, OWNER)
    deps.videos.start_processing(video_id, 1, INFO.duration, 1)
    times = [round(k / 5, 4) for k in range(20)]
    track = {"id": 0, "points": [{"t": t, "box": [100, 100, 80, 80], "p": HAPPY} for t in times]}
    segment = SegmentResult(
        0.0, 4.0, 5.0, [(t, 1) for t in times], [track], {"backend": "onnx", "version": "t"}
    )
    key = f"segments/{video_id}/1/0.json"
    s3: Any = deps.s3
    s3.put(BUCKET, key, json.dumps(segment.to_dict()).encode())
    return {
        "video_id": video_id,
        "attempt": 1,
        "bucket": BUCKET,
        "key": record["key"],
        "results": [{"key": key}],
        "plan": {"video": asdict(INFO)},
    }


def _key(deps: Deps, step: float) -> str:
    """The key a read of the study's curve on `step` looks for now (the contract's format)."""
    study = deps.studies.get(OWNER, STUDY)
    assert study is not None
    fingerprint = curves.fingerprint(deps.viewers.of_study(OWNER, STUDY), float(study["content"]["duration"]))
    return f"audience:{STUDY}:{step!r}:{fingerprint}"


def _cached(deps: Deps, key: str) -> dict[str, Any] | None:
    found: Any = deps.redis.get(key)
    return json.loads(found) if found else None


@pytest.mark.parametrize(("duration", "step"), [(11.8, 0.5), (1500.0, 1.0)])
def test_each_merge_caches_the_curve_the_next_read_is_served(duration: float, step: float) -> None:
    deps = _deps(duration)
    first, second = _recording(deps, "Ana"), _recording(deps, "Ben")
    waiting = _key(deps, step)

    assert steps.merge_step(deps, first) == {"video_id": first["video_id"], "status": "done"}
    one = _cached(deps, _key(deps, step))
    assert one is not None and _key(deps, step) != waiting
    assert (one["step"], one["viewers_included"]) == (step, 1)
    assert {v["id"]: (v["status"], v["included"]) for v in one["viewers"]} == {
        first["video_id"]: (DONE, True),
        second["video_id"]: ("processing", False),
    }
    assert one["n"][2] == 1 and one["mean"]["happy"][2] == 1.0
    # The read that names no step gets this very curve from the cache (computed_at is when it was made).
    assert curves.audience(deps, OWNER, STUDY, {}) == one
    assert curves.audience(deps, OWNER, STUDY, {"step": str(step)}) == one

    steps.merge_step(deps, second)
    two = _cached(deps, _key(deps, step))
    assert two is not None and two["viewers_included"] == 2 and two["n"][2] == 2
    assert curves.audience(deps, OWNER, STUDY, None) == two


def test_a_replayed_merge_caches_the_curve_again() -> None:
    deps = _deps()
    event = _recording(deps, "Ana")
    steps.merge_step(deps, event)
    key = _key(deps, 0.5)
    made = _cached(deps, key)
    deps.redis.delete(key)  # expired, or the first run stopped before caching it

    assert steps.merge_step(deps, event) == {"video_id": event["video_id"], "status": "done"}
    again = _cached(deps, key)
    assert again is not None and made is not None
    assert {k: v for k, v in again.items() if k != "computed_at"} == {
        k: v for k, v in made.items() if k != "computed_at"
    }
    steps.merge_step(deps, event)  # present: left as it is, not computed again
    assert _cached(deps, key) == again


def test_redis_down_is_a_warning_and_the_read_still_computes(
    warnings: list[tuple[str, dict[str, Any]]],
) -> None:
    deps = _deps()
    deps.__dict__["redis"] = DownRedis()
    event = _recording(deps, "Ana")
    reads: list[str] = []
    real_get = deps.analyses.get

    def counted(video_id: str, owner: str) -> dict[str, Any] | None:
        reads.append(video_id)
        return real_get(video_id, owner)

    deps.analyses.get = counted  # type: ignore[method-assign]

    assert steps.merge_step(deps, event) == {"video_id": event["video_id"], "status": "done"}
    video = deps.videos.by_id(event["video_id"])
    assert video is not None and video["status"] == DONE
    assert reads == []  # nothing computed that could not be kept
    assert [extra["study_id"] for msg, extra in warnings if "not precomputed" in msg] == [STUDY]

    curve = curves.audience(deps, OWNER, STUDY, {})
    assert curve["viewers_included"] == 1


def test_a_store_that_fails_is_a_warning_and_the_merge_ends(
    warnings: list[tuple[str, dict[str, Any]]],
) -> None:
    deps = _deps()
    event = _recording(deps, "Ana")

    def unreachable(owner: str, study_id: str) -> list[dict[str, Any]]:
        raise pymongo.errors.ServerSelectionTimeoutError("no primary")

    deps.viewers.of_study = unreachable  # type: ignore[method-assign]
    assert steps.merge_step(deps, event) == {"video_id": event["video_id"], "status": "done"}
    assert deps.analyses.get(event["video_id"], OWNER) is not None
    assert [extra["study_id"] for msg, extra in warnings if "not precomputed" in msg] == [STUDY]
    assert not deps.redis.data  # type: ignore[attr-defined]


def test_a_video_of_no_study_leaves_the_cache_alone(warnings: list[tuple[str, dict[str, Any]]]) -> None:
    deps = _deps()
    deps.__dict__["redis"] = UntouchedRedis()
    event = _recording(deps, "a video", study=False)
    assert steps.merge_step(deps, event)["status"] == "done"
    assert warnings == []


def test_removing_a_viewer_caches_the_curve_of_those_left() -> None:
    deps = _deps()
    ana, ben = _recording(deps, "Ana"), _recording(deps, "Ben")
    steps.merge_step(deps, ana)
    steps.merge_step(deps, ben)
    deps.redis.delete(*deps.redis.data)  # type: ignore[attr-defined]

    viewers.remove(deps, deps.viewers.get(OWNER, STUDY, ben["video_id"]) or {})
    left = _cached(deps, _key(deps, 0.5))
    assert left is not None
    assert [v["id"] for v in left["viewers"]] == [ana["video_id"]] and left["viewers_included"] == 1

    deps.redis.delete(*deps.redis.data)  # type: ignore[attr-defined]
    viewers.remove(deps, deps.viewers.get(OWNER, STUDY, ana["video_id"]) or {}, refresh_curve=False)
    assert deps.viewers.of_study(OWNER, STUDY) == []
    assert not deps.redis.data  # type: ignore[attr-defined]  # a study's deletion: its curves go with it


@pytest.mark.parametrize("meanwhile", ["study deleted", "viewers swept"])
def test_a_study_deleted_while_its_curve_was_computed_keeps_no_cached_curve(meanwhile: str) -> None:
    """Its deletion (or its account's erasure) removes its viewers, then its cached curves, then its
    record: a curve written meanwhile is taken back rather than left for the TTL."""
    deps = _deps()
    event = _recording(deps, "Ana")
    steps.merge_step(deps, event)
    deps.redis.delete(*deps.redis.data)  # type: ignore[attr-defined]
    real_compute = curves._compute

    def then_deleted(*args: Any) -> dict[str, Any]:
        curve = real_compute(*args)
        deps.videos.delete(OWNER, event["video_id"])
        if meanwhile == "study deleted":
            deps.studies.delete(OWNER, STUDY)
        return curve

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(curves, "_compute", then_deleted)
        curves.refresh(deps, deps.videos.by_id(event["video_id"]) or {})
    assert not deps.redis.data  # type: ignore[attr-defined]
