"""The operations behind the creator's /studies routes, for one signed-in user.

A study is one content video shown to many viewers; each viewer's recording is analysed like any video,
and their Analyses make the study's audience curve (chalicelib/studies/curves.py).
"""

from __future__ import annotations

import contextlib
from typing import Any

from chalicelib.deps import Deps
from chalicelib.errors import BadRequest, NotFound
from chalicelib.observability import logger
from chalicelib.settings import engine_settings
from chalicelib.storage.mongo import now_ms
from chalicelib.storage.videos import new_video_id
from chalicelib.studies import content, curves, invites, viewers
from chalicelib.studies.access import owned_study, owned_viewer, valid_id
from chalicelib.validation import required_string

#: GET /studies answers the newest this many (no paging yet: `next` is always null).
LIST_LIMIT = 100


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def content_uploaded(deps: Deps, study: dict[str, Any]) -> bool:
    """Whether the content is in the bucket; remembered once seen, so later views need no HEAD."""
    if content.in_bucket(deps.s3, study):
        if study["content"].get("uploaded_at") is None:
            deps.studies.mark_uploaded(study["owner"], study["_id"], now_ms())
        return True
    return False


def view(study: dict[str, Any], counts: dict[str, int], uploaded: bool) -> dict[str, Any]:
    c = study["content"]
    return {
        "id": study["_id"],
        "title": study["title"],
        "content": {
            "filename": c["filename"],
            "content_type": c["content_type"],
            "size": c["size"],
            "duration": c["duration"],
            "uploaded": uploaded,
        },
        "viewers": counts,
        "created_at": _iso(study.get("created_at")),
        "updated_at": _iso(study.get("updated_at")),
    }


def _shown(deps: Deps, study: dict[str, Any]) -> dict[str, Any]:
    counts = deps.viewers.counts(study["owner"], [study["_id"]])[study["_id"]]
    return view(study, counts, content_uploaded(deps, study))


def create_study(deps: Deps, owner: str, body: dict[str, Any]) -> dict[str, Any]:
    """The study and the presigned requests that send its content to S3 (the content is not analysed)."""
    title = required_string(body, "title", max_length=200).strip()
    if not title:
        raise BadRequest("'title' must not be empty", code="invalid_field")
    parsed = content.parse(
        body.get("content"), deps.settings.max_upload_bytes, engine_settings().max_video_seconds
    )
    viewers.check_quotas(deps, owner, parsed["size"], new_record=False)
    study_id = new_video_id()
    stored = {
        **parsed,
        "bucket": deps.settings.uploads_bucket,
        "key": content.content_key(owner, study_id, parsed["filename"]),
        "uploaded_at": None,
    }
    study = deps.studies.create({"_id": study_id, "owner": owner, "title": title, "content": stored})
    empty = {"total": 0, "done": 0, "processing": 0, "failed": 0}
    return {
        "study": view(study, empty, False),
        **content.upload_requests(deps.s3, stored, deps.settings.upload_url_seconds),
    }


def list_studies(deps: Deps, owner: str) -> dict[str, Any]:
    found = deps.studies.latest(owner, LIST_LIMIT)
    counts = deps.viewers.counts(owner, [s["_id"] for s in found])
    items = [view(s, counts[s["_id"]], content_uploaded(deps, s)) for s in found]
    return {"items": items, "next": None}


def get_study(deps: Deps, owner: str, study_id: str) -> dict[str, Any]:
    return _shown(deps, owned_study(deps, owner, study_id))


def delete_study(deps: Deps, owner: str, study_id: str) -> None:
    """Its invites first (no one joins meanwhile), every viewer recording as DELETE /videos does (running
    analyses stopped), every version of its content, its cached curves, then the study itself: a failure
    half-way leaves a study that can be deleted again. The content is purged once more after the record:
    a file its still-valid upload URL put meanwhile is gone then, and one put later finds no study, so its
    S3 event removes it (chalicelib/studies/content_events.py)."""
    study = owned_study(deps, owner, study_id)
    deps.invites.delete_of_study(owner, study_id)
    _remove_viewers(deps, study)
    content.delete(deps.s3, study["content"]["bucket"], owner, study_id)
    try:
        curves.forget(deps, study_id)
    except Exception as exc:  # only cached curves of a study no one can read any more; their TTL ends them
        logger.warning("cached audience curves not deleted", extra={"error": str(exc)})
    deps.studies.delete(owner, study_id)
    deps.invites.delete_of_study(owner, study_id)  # an invite made meanwhile (another tab)
    _remove_viewers(deps, study)  # a viewer that joined while the invites were being deleted
    content.delete(deps.s3, study["content"]["bucket"], owner, study_id)  # content uploaded meanwhile


def _remove_viewers(deps: Deps, study: dict[str, Any]) -> None:
    for video in deps.viewers.of_study(study["owner"], study["_id"]):
        with contextlib.suppress(NotFound):  # deleted meanwhile (withdrawn, another request)
            viewers.remove(deps, video, refresh_curve=False)


def content_url(deps: Deps, owner: str, study_id: str) -> dict[str, Any]:
    study = owned_study(deps, owner, study_id)
    if not content_uploaded(deps, study):
        raise content.not_uploaded()
    return content.playback(deps.s3, study, deps.settings.media_url_seconds)


# --- viewers --------------------------------------------------------------------------------------------


def add_viewer(deps: Deps, owner: str, study_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return viewers.add_by_creator(deps, owned_study(deps, owner, study_id), body)


def list_viewers(deps: Deps, owner: str, study_id: str) -> dict[str, Any]:
    study = owned_study(deps, owner, study_id)
    stale = deps.settings.watchdog_stale_seconds
    return {"items": [viewers.view(v, stale) for v in deps.viewers.of_study(owner, study["_id"])]}


def delete_viewer(deps: Deps, owner: str, study_id: str, viewer_id: str) -> None:
    study = owned_study(deps, owner, study_id)
    viewers.remove(deps, owned_viewer(deps, study, viewer_id))


# --- invites --------------------------------------------------------------------------------------------


def create_invite(deps: Deps, owner: str, study_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return invites.create(deps, owned_study(deps, owner, study_id), body)


def list_invites(deps: Deps, owner: str, study_id: str) -> dict[str, Any]:
    return invites.listing(deps, owned_study(deps, owner, study_id))


def revoke_invite(deps: Deps, owner: str, study_id: str, invite_id: str) -> None:
    study = owned_study(deps, owner, study_id)
    if not valid_id(invite_id):
        raise NotFound("no such invite")
    invites.revoke(deps, study, invite_id)
