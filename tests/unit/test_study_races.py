"""A viewer joining (by invite) or added (by the creator) while their study is being deleted, or its
account erased (chalicelib/studies/viewers.py): the record made after the deletion swept the study's
viewers must not outlive it (no orphan recording, no upload URL for a study that is gone)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.deps import Deps
from chalicelib.errors import NotFound
from chalicelib.settings import ServiceSettings
from chalicelib.storage.videos import VideoRepository
from chalicelib.studies import viewer_consent, viewers
from chalicelib.studies.store import StudyRepository, ViewerRepository
from tests.unit.fakes import FakeDatabase, FakeS3, fake_deps

OWNER = "u_" + "ab" * 12
STUDY = "0123456789abcdef" * 2


class PresigningS3(FakeS3):
    """FakeS3 that also presigns (no request is made), counting the upload URLs it handed out."""

    def __init__(self) -> None:
        super().__init__()
        self.issued = 0

    def generate_presigned_post(self, **kwargs: Any) -> dict[str, Any]:
        self.issued += 1
        return {"url": "https://s3.example/uploads", "fields": {}}

    def generate_presigned_url(self, *args: Any, **kwargs: Any) -> str:
        self.issued += 1
        return "https://s3.example/uploads/key"


class DeletedAfterLabel(StudyRepository):
    """The study's deletion (DELETE /studies/{id} or DELETE /account) runs to its end just after the
    viewer's label was counted: the study record and its viewers are gone when the viewer's record is
    written."""

    def __init__(self, db: Any, videos: Any) -> None:
        super().__init__(db)
        self._all_videos = videos

    def next_viewer_number(self, owner: str, study_id: str) -> int | None:
        number = super().next_viewer_number(owner, study_id)
        self.delete(owner, study_id)
        for video in list(self._all_videos.documents):  # both sweeps of delete_study: nothing there yet
            if video.get("study_id") == study_id:
                self._all_videos.documents.remove(video)
        return number


def _deps(*, deleted_meanwhile: bool) -> Deps:
    made = fake_deps(
        ServiceSettings(uploads_bucket="uploads", state_machine_arn="arn:aws:states:r:1:stateMachine:m")
    )
    database: Any = FakeDatabase()
    studies = DeletedAfterLabel(database, database.videos) if deleted_meanwhile else StudyRepository(database)
    made.__dict__.update(
        videos=VideoRepository(database),
        studies=studies,
        viewers=ViewerRepository(database),
        s3=PresigningS3(),
    )
    made.videos.usage = lambda owner, hours: (0, 0)  # type: ignore[method-assign]  # quotas: not this test
    content = {"filename": "c.mp4", "content_type": "video/mp4", "size": 10, "duration": 30.0}
    content |= {"bucket": "uploads", "key": f"content/{OWNER}/{STUDY}/c.mp4", "uploaded_at": None}
    made.studies.create({"_id": STUDY, "owner": OWNER, "title": "t", "content": content})
    return made


@pytest.fixture
def deps() -> Deps:
    return _deps(deleted_meanwhile=True)


def _study(deps: Deps) -> dict[str, Any]:
    study = StudyRepository.get(deps.studies, OWNER, STUDY)
    assert study is not None
    return study


def _agreed() -> dict[str, Any]:
    return viewer_consent.parse(
        {"consent": {"given": True, "text_version": viewer_consent.VERSION, "language": "en"}}
    )


def test_a_viewer_joining_while_the_study_is_deleted_leaves_no_record(deps: Deps) -> None:
    study = _study(deps)
    with pytest.raises(NotFound):
        viewers.join(deps, study, "f" * 32, _agreed(), "a" * 64)
    assert deps.viewers.of_study(OWNER, STUDY) == []


def test_a_viewer_added_while_the_study_is_deleted_gets_no_upload_and_leaves_no_record(deps: Deps) -> None:
    study = _study(deps)
    body = {
        "filename": "v.webm",
        "content_type": "video/webm",
        "size": 100,
        "offset": 0,
        "consent": {"given": True, "text_version": viewer_consent.VERSION, "language": "en"},
    }
    with pytest.raises(NotFound):
        viewers.add_by_creator(deps, study, body)
    assert deps.viewers.of_study(OWNER, STUDY) == []
    assert deps.s3.issued == 0


def test_without_a_deletion_the_viewers_are_recorded_and_the_added_one_given_an_upload() -> None:
    deps = _deps(deleted_meanwhile=False)
    study = _study(deps)
    joined = viewers.join(deps, study, "f" * 32, _agreed(), "a" * 64)
    body = {"filename": "v.webm", "content_type": "video/webm", "size": 100, "offset": 1.5}
    consent = {"given": True, "text_version": viewer_consent.VERSION, "language": "en"}
    added = viewers.add_by_creator(deps, study, {**body, "consent": consent})
    # Both kept (the listing's order within one millisecond is by random id: compare as a set).
    assert {v["_id"] for v in deps.viewers.of_study(OWNER, STUDY)} == {joined["_id"], added["viewer"]["id"]}
    assert deps.s3.issued == 2
