"""Retention of source videos: each user chooses how many days a video is kept once its analysis has ended
(30 by default, 0 = deleted right after, None = kept until they delete it); the results stay.

Three layers make sure a source goes when it should:

1. the merge step plans the video as soon as its analysis is stored (`after_analysis`), and with 0 days
   deletes the source then and there;
2. a scheduled sweep (`sweep`: EventBridge hourly in the cloud, a timer in the local stack) deletes every
   source that is due, plans what was never planned (a failed analysis, a merge that could not plan, a
   video older than this feature) and deletes account exports whose link has expired;
3. S3 itself: each planned source carries a tag naming a number of days (`BACKSTOP_DAYS`) at least one
   day past its planned deletion, and a lifecycle rule per value expires the object then, should the
   sweep not run at all (infra/terraform/modules/storage).

A source is marked deleted in MongoDB before its S3 versions are removed, so a retry cannot start on a
file that is going; the media route then answers 410 `source_deleted`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.deps import Deps
from chalicelib.errors import ApiError, BadRequest, NotFound
from chalicelib.observability import logger
from chalicelib.storage.bucket import EXPORTS_PREFIX, keys_older_than, purge, set_retention_tag
from chalicelib.storage.mongo import now_ms as _now
from chalicelib.storage.videos import FINISHED

MAX_DAYS = 3650
DAY = timedelta(days=1)
#: The values of the S3 retention tag, each with its lifecycle rule in Terraform: a planned source is tagged
#: with the first value not below the whole days from the video's creation to its planned deletion, rounded
#: up. S3 counts from the object's creation (later) and rounds to the next midnight, so its deletion never
#: comes before the plan, and comes after the sweep's (hourly) unless the sweep is not running. A plan
#: beyond the last value gets no tag.
BACKSTOP_DAYS = (1, 2, 4, 8, 15, 31, 61, 91, 181, 366, 731, 1096, 1826, 3651, 3700)
#: Seconds a settings change may spend deleting and tagging at once; the sweep does the rest.
INLINE_SECONDS = 8.0


class SourceDeleted(ApiError):
    status = 410
    code = "source_deleted"


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def view(video: dict[str, Any]) -> dict[str, str | None]:
    """The public shape: when the source will be deleted (None: kept, or not analysed yet) and when it was."""
    retention = video.get("retention") or {}
    return {
        "delete_source_after": _iso(retention.get("delete_source_after")),
        "source_deleted_at": _iso(retention.get("source_deleted_at")),
    }


def ensure_source(video: dict[str, Any]) -> None:
    """`SourceDeleted` (410) when the retention deleted the video's source."""
    deleted = (video.get("retention") or {}).get("source_deleted_at")
    if isinstance(deleted, datetime):
        raise SourceDeleted(
            f"the video itself was deleted on {deleted.date().isoformat()}, as the account's retention "
            "setting asks; its results are kept"
        )


def parse_days(body: dict[str, Any]) -> int | None:
    if "retention_days" not in body:
        raise BadRequest(
            "'retention_days' is required (an integer of days, or null to keep)", code="invalid_field"
        )
    days = body["retention_days"]
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
        raise BadRequest(
            f"'retention_days' must be an integer from 0 to {MAX_DAYS}, or null to keep videos",
            code="invalid_field",
        )
    return days


def retention_days(deps: Deps, user_id: str) -> int | None:
    """The user's choice, or the deployment's default when they made none."""
    chosen = deps.users.settings(user_id) or {}
    days: int | None = chosen.get("retention_days", deps.settings.default_retention_days)
    return days


def account_settings(deps: Deps, user_id: str) -> dict[str, Any]:
    if deps.users.settings(user_id) is None:
        raise NotFound("this account no longer exists")
    return {"retention_days": retention_days(deps, user_id)}


def delete_after(analysed_at: datetime, days: int | None) -> datetime | None:
    return None if days is None else analysed_at + days * DAY


def backstop_days(video: dict[str, Any], deletion: datetime | None) -> int | None:
    """The S3 tag's value for a source planned for `deletion` (None: no tag)."""
    if deletion is None:
        return None
    created = video["created_at"].replace(tzinfo=video["created_at"].tzinfo or UTC)
    needed = max(1, math.ceil((deletion - created) / DAY))
    return next((days for days in BACKSTOP_DAYS if days >= needed), None)


def _plan(
    deps: Deps, video: dict[str, Any], analysed_at: datetime, days: int | None
) -> dict[str, Any] | None:
    return deps.videos.plan_retention(video["_id"], analysed_at, delete_after(analysed_at, days))


def delete_source(deps: Deps, video: dict[str, Any], now: datetime) -> bool:
    """Delete a due source for good (every S3 version); False when it is not due or already gone."""
    if deps.videos.claim_source_deletion(video["_id"], now) is None:
        return False
    try:
        purge(deps.s3, video["bucket"], video["key"], exact=True)
    except Exception:
        deps.videos.release_source_deletion(video["_id"])
        raise
    logger.info("source video deleted by its retention", extra={"video_id": video["_id"]})
    return True


def tag(deps: Deps, video: dict[str, Any]) -> None:
    """Make the source's S3 tag follow its plan (the lifecycle backstop)."""
    deletion = (video.get("retention") or {}).get("delete_source_after")
    set_retention_tag(deps.s3, video["bucket"], video["key"], backstop_days(video, deletion))
    deps.videos.tag_done(video["_id"], deletion)


def _settle(deps: Deps, video: dict[str, Any], now: datetime) -> str:
    """Delete the source if it is due, else tag it: what was done."""
    deletion = (video.get("retention") or {}).get("delete_source_after")
    if isinstance(deletion, datetime) and deletion <= now:
        return "deleted" if delete_source(deps, video, now) else "skipped"
    tag(deps, video)
    return "tagged"


def after_analysis(deps: Deps, video_id: str, now: datetime | None = None) -> None:
    """Plan a video whose analysis just ended; with 0 days its source goes now."""
    now = now or _now()
    video = deps.videos.by_id(video_id)
    if video is None or video["status"] not in FINISHED:
        return
    planned = _plan(deps, video, now, retention_days(deps, video["owner"]))
    if planned is not None:
        _settle(deps, planned, now)


def update_settings(
    deps: Deps, user_id: str, body: dict[str, Any], now: datetime | None = None
) -> dict[str, Any]:
    """A new retention: every analysed video that still has its source is planned again from the end of its
    analysis; sources now due are deleted at once (what does not fit in a few seconds, by the sweep)."""
    days = parse_days(body)
    if not deps.users.set_retention_days(user_id, days):
        raise NotFound("this account no longer exists")
    now = now or _now()
    replanned = [
        planned
        for video in deps.videos.with_source_planned(user_id)
        if (planned := _plan(deps, video, video["retention"]["analysed_at"], days)) is not None
    ]
    deadline = time.monotonic() + INLINE_SECONDS
    for video in replanned:
        if time.monotonic() > deadline:
            break
        _settle(deps, video, now)
    return {"retention_days": days}


@dataclass
class RetentionReport:
    """What one sweep did, by video id or key (logged, and asserted by tests)."""

    planned: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    tagged: list[str] = field(default_factory=list)
    exports_deleted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.__dict__.items() if v}


def _each(items: list[Any], name: Any, report: RetentionReport, action: Any) -> None:
    """`action` on each item on its own: one item's trouble (a store down again) waits for the next sweep."""
    for item in items:
        try:
            action(item)
        except Exception as exc:
            logger.exception("retention sweep could not handle an item")
            report.errors.append(f"{name(item)}: {type(exc).__name__}")


def scheduled_time(event: dict[str, Any]) -> datetime:
    """The time an EventBridge scheduled event was due (`"time": "2026-12-01T20:00:00Z"`): the sweep's clock,
    so that a late or replayed event deletes what was due when it was scheduled, and tests can move it."""
    try:
        return datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")).astimezone(UTC)
    except (KeyError, ValueError):
        return _now()


def sweep(deps: Deps, now: datetime | None = None) -> RetentionReport:
    """One round: plan what was never planned, delete due sources, tag what is pending, delete expired
    exports. `now` is the schedule's time (tests inject another clock through it)."""
    now = now or _now()
    report = RetentionReport()
    days_of: dict[str, int | None] = {}

    def plan(video: dict[str, Any]) -> None:
        owner = video["owner"]
        if owner not in days_of:
            days_of[owner] = retention_days(deps, owner)
        ended = video["updated_at"].replace(tzinfo=video["updated_at"].tzinfo or UTC)
        if _plan(deps, video, ended, days_of[owner]) is not None:
            report.planned.append(video["_id"])

    def delete(video: dict[str, Any]) -> None:
        if delete_source(deps, video, now):
            report.deleted.append(video["_id"])

    def retag(video: dict[str, Any]) -> None:
        tag(deps, video)
        report.tagged.append(video["_id"])

    def drop_export(key: str) -> None:
        purge(deps.s3, deps.settings.uploads_bucket, key, exact=True)
        report.exports_deleted.append(key)

    video_id = lambda video: video["_id"]  # noqa: E731
    _each(deps.videos.unplanned(), video_id, report, plan)
    _each(deps.videos.due_sources(now), video_id, report, delete)
    _each(deps.videos.tags_pending(), video_id, report, retag)
    expired = now - timedelta(seconds=deps.settings.export_url_seconds)
    _each(
        keys_older_than(deps.s3, deps.settings.uploads_bucket, EXPORTS_PREFIX, expired),
        str,
        report,
        drop_export,
    )
    if report.as_dict():
        logger.info("retention sweep", extra=report.as_dict())
    return report
