"""The Step Functions tasks. Each takes the state's JSON input and returns small JSON: segment results
live in S3 and only their keys travel between states.

Errors decide what Step Functions does: `TransientError` (a service briefly unreachable or throttling, the
upload's bytes unreadable for a moment) is retried with backoff by the state machine; anything else (a
`VideoError` for an unreadable upload) goes to `MarkFailed`, which stores a reason a person can act on.

Every step is idempotent on its own record and belongs to one attempt (`attempt` in the execution input:
the video's attempt counter when the execution was started). A step of an older attempt, or of a video
deleted meanwhile, ends quietly (`VideoGone`) instead of touching the newer run's data. Results are written
before the status: a video is `done` only once its Analysis is stored, and no step ever deletes the
Analysis of a video that still exists, so `done` always has results, whatever is retried or duplicated.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.deps import Deps
from chalicelib.engine.errors import SourceUnavailable
from chalicelib.engine.merge import merge
from chalicelib.engine.planning import plan_segments
from chalicelib.engine.segment import AnalysisOptions, SegmentResult, analyze_segment
from chalicelib.engine.video import Opener, SeekPoint, VideoInfo, probe_with_seek_points, seek_point_before
from chalicelib.errors import UNAVAILABLE_ERRORS
from chalicelib.failures import failure_reason
from chalicelib.observability import logger, metrics, tracer
from chalicelib.privacy import retention
from chalicelib.settings import engine_settings
from chalicelib.storage.objects import S3ObjectReader
from chalicelib.storage.videos import DONE, PROCESSING, QUEUED
from chalicelib.studies import curves
from chalicelib.uploads import segment_key

_THROTTLING = {
    "Throttling",
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "InternalError",
}


class TransientError(Exception):
    """Retry me: the state machine's Retry clauses match this name."""


class VideoGone(Exception):
    """The video record was deleted while it was being analysed, or this execution is not the video's
    current attempt any more; the execution stops quietly."""


class QuotaExceeded(Exception):
    """The owner's analysed minutes of the last 24 hours would go over their quota."""


def transient_errors(step: Callable[[Deps, dict[str, Any]], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    @functools.wraps(step)
    def wrapper(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
        try:
            return step(deps, event)
        except (*UNAVAILABLE_ERRORS, BotoCoreError, SourceUnavailable) as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _THROTTLING:
                raise TransientError(str(exc)) from exc
            raise

    return wrapper


def _annotate(video_id: str, **more: int) -> None:
    """The video id on every log line and as an X-Ray annotation (searchable in traces)."""
    logger.append_keys(video_id=video_id, **more)
    tracer.put_annotation(key="video_id", value=video_id)
    for key, value in more.items():
        tracer.put_annotation(key=key, value=str(value))


def _source(deps: Deps, event: dict[str, Any], size: int | None = None) -> Opener:
    """The upload as a file the decoder reads by byte ranges (no URL: FFmpeg opens no connection)."""
    return lambda: S3ObjectReader(deps.s3, event["bucket"], event["key"], size)


def _attempt(event: dict[str, Any]) -> int | None:
    """The attempt this execution runs (None for executions started before attempts were recorded)."""
    value = event.get("attempt")
    return int(value) if value is not None else None


def _current(deps: Deps, event: dict[str, Any], statuses: tuple[str, ...]) -> dict[str, Any]:
    """The video record, if this execution still owns it: it exists, is in one of `statuses`, and is at
    this execution's attempt. Otherwise `VideoGone`: the execution has nothing left to do."""
    video_id, attempt = event["video_id"], _attempt(event)
    video = deps.videos.by_id(video_id)
    if video is None:
        raise VideoGone(f"video {video_id} was deleted during its analysis")
    if attempt is not None and int(video.get("attempt") or 0) != attempt:
        raise VideoGone(f"video {video_id} is at attempt {video.get('attempt')}, not {attempt}")
    if video["status"] not in statuses:
        raise VideoGone(f"video {video_id} is {video['status']}: this execution has nothing left to do")
    return video


def _check_quota(deps: Deps, video: dict[str, Any], duration: float) -> None:
    quota = deps.settings.quota_analysis_minutes_per_day
    used = deps.videos.minutes_analysed_since(video["owner"], hours=24, excluding=video["_id"])
    if used + duration / 60 > quota:
        raise QuotaExceeded(
            f"this video would bring your analysed minutes of the last 24 hours to "
            f"{used + duration / 60:.0f}; the limit is {quota:.0f} minutes; retry it later"
        )


@transient_errors
def probe_step(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    """Probe the upload and plan its segments; the video becomes `processing` with progress 0/N.

    Every limit that can refuse the video (frame size, duration, the owner's daily minutes) is checked
    here, before a segment is analysed. A recording without a seek index (a browser's WebM) gives each
    segment the keyframe cluster to start reading at, so no segment reads the recording before it."""
    video_id = event["video_id"]
    _annotate(video_id)
    video = _current(deps, event, (QUEUED, PROCESSING))
    settings = engine_settings()
    size = S3ObjectReader(deps.s3, event["bucket"], event["key"]).size
    info, seek_points = probe_with_seek_points(_source(deps, event, size), settings.limits())
    _check_quota(deps, video, info.duration)
    segments = plan_segments(info, settings.segment_seconds, settings.max_segments)
    if deps.videos.start_processing(video_id, len(segments), info.duration, _attempt(event)) is None:
        raise VideoGone(f"video {video_id} is no longer waiting for analysis")
    logger.info("probed", extra={"duration": info.duration, "segments": len(segments)})
    return {
        "video": asdict(info),
        "size": size,
        "segments": [
            _segment_item(s.index, s.start, s.end, seek_point_before(seek_points, s.start)) for s in segments
        ],
        "max_concurrency": deps.settings.map_max_concurrency,
    }


def _segment_item(index: int, start: float, end: float, seek: SeekPoint | None) -> dict[str, Any]:
    """One item of the Map state: the time range, and where to start reading when the probe found it."""
    item: dict[str, Any] = {"index": index, "start": start, "end": end}
    if seek is not None:
        item["seek"] = seek.to_dict()
    return item


def _analyze(deps: Deps, event: dict[str, Any], start: float, end: float) -> SegmentResult:
    source = _source(deps, event, event.get("size"))
    if event.get("backend") == "rekognition":
        from chalicelib.engine.rekognition import analyze_segment_rekognition

        return analyze_segment_rekognition(
            source,
            start,
            end,
            deps.rekognition,
            sample_fps=deps.settings.rekognition_sample_fps,
        )
    seek = event["segment"].get("seek")
    return analyze_segment(
        source, start, end, AnalysisOptions(), seek=SeekPoint.from_dict(seek) if seek else None
    )


@transient_errors
def analyze_segment_step(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    """Analyse one segment, store its result in S3, count it towards the video's progress."""
    video_id, segment = event["video_id"], event["segment"]
    _annotate(video_id, segment=int(segment["index"]))
    result = _analyze(deps, event, float(segment["start"]), float(segment["end"]))
    _current(deps, event, (PROCESSING,))  # deleted or superseded meanwhile: leave no artefact behind
    key = segment_key(video_id, int(segment["index"]), _attempt(event) or 0)
    deps.s3.put_object(
        Bucket=event["bucket"],
        Key=key,
        Body=json.dumps(result.to_dict()).encode(),
        ContentType="application/json",
    )
    deps.videos.segment_done(video_id, int(segment["index"]), _attempt(event))
    metrics.add_metric(
        name="SegmentSeconds", unit="Seconds", value=float(segment["end"]) - float(segment["start"])
    )
    return {"key": key}


def _plan_retention(deps: Deps, video_id: str) -> None:
    """When the source goes (with 0 days: now). Never fails the analysis: the hourly retention sweep
    plans what this could not."""
    try:
        retention.after_analysis(deps, video_id)
    except Exception:
        logger.exception("retention could not be planned; the sweep will")


@transient_errors
def merge_step(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    """Stitch the segment results into the Analysis, store it, then mark the video done; a viewer's
    recording then has its study's audience curve computed and cached (best effort: never fails this).

    Run again (a retry after the status was written, a duplicate), it finds the video done with its
    Analysis and ends the same way; it never deletes an Analysis whose video still exists."""
    video_id = event["video_id"]
    _annotate(video_id)
    video = _current(deps, event, (QUEUED, PROCESSING, DONE))
    if video["status"] == DONE and deps.analyses.get(video_id, video["owner"]) is not None:
        logger.info("merge replayed: the video is already done with its results")
        curves.refresh(deps, video)  # the first run may have ended before it
        return {"video_id": video_id, "status": "done"}
    segments = [
        SegmentResult.from_dict(
            json.loads(deps.s3.get_object(Bucket=event["bucket"], Key=r["key"])["Body"].read())
        )
        for r in event["results"]
    ]
    analysis = merge(VideoInfo(**event["plan"]["video"]), segments)
    deps.analyses.put(video_id, video["owner"], analysis)  # results first: `done` implies they exist
    summary = {k: v for k, v in analysis["summary"].items() if k not in ("key_moments", "reactions")}
    if video["status"] != DONE and deps.videos.mark_done(video_id, summary, _attempt(event)) is None:
        now = deps.videos.by_id(video_id)
        if now is None:  # deleted during the merge: its Analysis must not outlive it
            deps.analyses.delete(video_id, video["owner"])
        if now is None or now["status"] != DONE:
            raise VideoGone(f"video {video_id} left the pipeline during its merge")
    _plan_retention(deps, video_id)
    curves.refresh(deps, video)  # a viewer's recording: its study's curve, ready for its next read
    metrics.add_metric(name="VideosAnalysed", unit="Count", value=1)
    metrics.add_metric(name="VideoSeconds", unit="Seconds", value=float(analysis["video"]["duration"]))
    logger.info("analysis stored", extra={"faces": len(analysis["faces"]), "dominant": summary["dominant"]})
    return {"video_id": video_id, "status": "done"}


@transient_errors
def mark_failed_step(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    video_id = event["video_id"]
    _annotate(video_id)
    code, reason = failure_reason(event.get("error"))
    deps.videos.mark_failed(video_id, reason, code, _attempt(event))
    metrics.add_metric(name="VideosFailed", unit="Count", value=1)
    logger.warning("analysis failed", extra={"reason": reason, "error": event.get("error")})
    return {"video_id": video_id, "status": "failed", "code": code, "reason": reason}
