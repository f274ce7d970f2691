"""The Step Functions tasks. Each takes the state's JSON input and returns small JSON: segment results
live in S3 and only their keys travel between states.

Errors decide what Step Functions does: `TransientError` (a service briefly unreachable or throttling) is
retried with backoff by the state machine; anything else (a `VideoError` for an unreadable upload) goes to
`MarkFailed`, which stores a reason a person can act on.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import stats
from chalicelib.deps import Deps
from chalicelib.engine.errors import VideoError
from chalicelib.engine.merge import merge
from chalicelib.engine.runner import plan_segments
from chalicelib.engine.segment import AnalysisOptions, SegmentResult, analyze_segment
from chalicelib.engine.video import VideoInfo, probe
from chalicelib.errors import UNAVAILABLE_ERRORS
from chalicelib.observability import logger, metrics, tracer
from chalicelib.settings import engine_settings
from chalicelib.uploads import presigned_get, segment_key

#: How long the engine may read the upload through its presigned URL.
_MEDIA_URL_SECONDS = 3600
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
    """The video record was deleted while it was being analysed; the execution stops quietly."""


def transient_errors(step: Callable[[Deps, dict[str, Any]], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    @functools.wraps(step)
    def wrapper(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
        try:
            return step(deps, event)
        except (*UNAVAILABLE_ERRORS, BotoCoreError) as exc:
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


def _source(deps: Deps, event: dict[str, Any]) -> str:
    return presigned_get(deps.s3, event["bucket"], event["key"], _MEDIA_URL_SECONDS)


@transient_errors
def probe_step(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    """Probe the upload and plan its segments; the video becomes `processing` with progress 0/N."""
    video_id = event["video_id"]
    _annotate(video_id)
    info = probe(_source(deps, event))
    settings = engine_settings()
    segments = plan_segments(info, settings.segment_seconds, settings.max_segments)
    if deps.videos.start_processing(video_id, len(segments), info.duration) is None:
        raise VideoGone(f"video {video_id} is no longer waiting for analysis")
    logger.info("probed", extra={"duration": info.duration, "segments": len(segments)})
    return {
        "video": asdict(info),
        "segments": [{"index": s.index, "start": s.start, "end": s.end} for s in segments],
        "max_concurrency": deps.settings.map_max_concurrency,
    }


def _analyze(deps: Deps, event: dict[str, Any], start: float, end: float) -> SegmentResult:
    if event.get("backend") == "rekognition":
        from chalicelib.engine.rekognition import analyze_segment_rekognition

        return analyze_segment_rekognition(
            _source(deps, event),
            start,
            end,
            deps.rekognition,
            sample_fps=deps.settings.rekognition_sample_fps,
        )
    return analyze_segment(_source(deps, event), start, end, AnalysisOptions())


@transient_errors
def analyze_segment_step(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    """Analyse one segment, store its result in S3, count it towards the video's progress."""
    video_id, segment = event["video_id"], event["segment"]
    _annotate(video_id, segment=int(segment["index"]))
    result = _analyze(deps, event, float(segment["start"]), float(segment["end"]))
    if deps.videos.by_id(video_id) is None:
        raise VideoGone(f"video {video_id} was deleted during its analysis")  # leave no artefact behind
    key = segment_key(video_id, int(segment["index"]))
    deps.s3.put_object(
        Bucket=event["bucket"],
        Key=key,
        Body=json.dumps(result.to_dict()).encode(),
        ContentType="application/json",
    )
    deps.videos.segment_done(video_id, int(segment["index"]))
    metrics.add_metric(
        name="SegmentSeconds", unit="Seconds", value=float(segment["end"]) - float(segment["start"])
    )
    return {"key": key}


@transient_errors
def merge_step(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    """Stitch the segment results into the Analysis, store it, mark the video done, refresh statistics."""
    video_id = event["video_id"]
    _annotate(video_id)
    video = deps.videos.by_id(video_id)
    if video is None:
        raise VideoGone(f"video {video_id} was deleted during its analysis")
    segments = [
        SegmentResult.from_dict(
            json.loads(deps.s3.get_object(Bucket=event["bucket"], Key=r["key"])["Body"].read())
        )
        for r in event["results"]
    ]
    analysis = merge(VideoInfo(**event["plan"]["video"]), segments)
    deps.analyses.put(video_id, video["owner"], analysis)
    summary = {k: v for k, v in analysis["summary"].items() if k != "key_moments"}
    if deps.videos.mark_done(video_id, summary) is None:
        deps.analyses.delete(video_id, video["owner"])
        raise VideoGone(f"video {video_id} left the pipeline during its merge")
    stats.invalidate(deps.redis, video["owner"])
    metrics.add_metric(name="VideosAnalysed", unit="Count", value=1)
    metrics.add_metric(name="VideoSeconds", unit="Seconds", value=float(analysis["video"]["duration"]))
    logger.info("analysis stored", extra={"faces": len(analysis["faces"]), "dominant": summary["dominant"]})
    return {"video_id": video_id, "status": "done"}


#: Why an analysis failed, as stable codes a client can translate (the sentence stays for API users).
FAILURE_CODES = (
    "unreadable_video",
    "too_long",
    "service_unavailable",
    "aws_refused",
    "start_failed",
    "size_mismatch",
    "wrong_name",
    "unexpected",
)


def failure_reason(error: dict[str, Any] | None) -> tuple[str, str]:
    """A code and a sentence for the person who uploaded the video, from the state machine's caught error."""
    error = error or {}
    name = str(error.get("Error", ""))
    try:
        cause = json.loads(error.get("Cause") or "{}")
    except ValueError:
        cause = {}
    message = cause.get("errorMessage") if isinstance(cause, dict) else None
    if name == VideoError.__name__ and message:
        return "unreadable_video", str(message)
    if name in ("States.Timeout", "Sandbox.Timedout") or name.startswith("Runtime."):
        return (
            "too_long",
            "the analysis ran out of time or memory and was stopped; try a shorter or smaller video",
        )
    if name == TransientError.__name__:
        return (
            "service_unavailable",
            "a service the analysis needs was unavailable; try again in a few minutes",
        )
    if name == "ClientError":
        return (
            "aws_refused",
            "an AWS service refused a request of the analysis; try again, or choose the ONNX backend",
        )
    return "unexpected", f"the analysis failed unexpectedly ({name or 'unknown error'}); try again"


@transient_errors
def mark_failed_step(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    video_id = event["video_id"]
    _annotate(video_id)
    code, reason = failure_reason(event.get("error"))
    video = deps.videos.mark_failed(video_id, reason, code)
    if video is not None:
        stats.invalidate(deps.redis, video["owner"])
    metrics.add_metric(name="VideosFailed", unit="Count", value=1)
    logger.warning("analysis failed", extra={"reason": reason, "error": event.get("error")})
    return {"video_id": video_id, "status": "failed", "code": code, "reason": reason}
