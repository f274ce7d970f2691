"""From an uploaded object to a running Step Functions execution, exactly once.

Three guards stop a duplicated S3 event from analysing a video twice: Powertools idempotency (records seen
in the last hour, kept in Redis), the video's status (only `pending_upload` may become `queued`), and the
execution name (the video id: Step Functions refuses a second execution of that name).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, cast
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.cache import CachePersistenceLayer

from chalicelib.deps import Deps
from chalicelib.observability import logger
from chalicelib.storage.bucket import purge
from chalicelib.uploads import parse_upload_key, upload_key

IDEMPOTENCY_SECONDS = 3600
IDEMPOTENCY_PREFIX = "emotionfy-upload"


def execution_name(video: dict[str, Any]) -> str:
    """The video id for the first attempt, `<id>-<n>` for the n-th (a retry of a failed analysis)."""
    attempt = int(video.get("attempt") or 1)
    return video["_id"] if attempt <= 1 else f"{video['_id']}-{attempt}"


def execution_arn(deps: Deps, video: dict[str, Any]) -> str:
    """The ARN of the video's current attempt's execution (known before it starts: names are ours)."""
    machine = deps.settings.state_machine_arn
    return machine.replace(":stateMachine:", ":execution:") + f":{execution_name(video)}"


def execution_status(deps: Deps, video: dict[str, Any]) -> str | None:
    """RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED for the video's current attempt; None when that
    execution does not exist."""
    client = deps.stepfunctions
    try:
        return str(client.describe_execution(executionArn=execution_arn(deps, video))["status"])
    except client.exceptions.ExecutionDoesNotExist:
        return None


def start_execution(deps: Deps, video: dict[str, Any], *, fail_on_error: bool = True) -> str:
    """Start the state machine for a `queued` video; if that cannot be done the video fails with a reason
    (unless `fail_on_error` is False: the watchdog leaves it for its next round)."""
    client = deps.stepfunctions
    payload = {
        "video_id": video["_id"],
        "bucket": video["bucket"],
        "key": video["key"],
        "backend": video["backend"],
        "attempt": int(video.get("attempt") or 1),
    }
    try:
        arn = client.start_execution(
            stateMachineArn=deps.settings.state_machine_arn,
            name=execution_name(video),
            input=json.dumps(payload),
        )["executionArn"]
    except client.exceptions.ExecutionAlreadyExists:
        arn = execution_arn(deps, video)
        logger.info("execution already exists", extra={"video_id": video["_id"], "execution": arn})
    except Exception:
        if not fail_on_error:
            raise
        deps.videos.mark_failed(
            video["_id"],
            "the analysis could not be started; use retry to try again",
            "start_failed",
            int(video.get("attempt") or 1),
        )
        raise
    deps.videos.set_execution(video["_id"], arn)
    return str(arn)


def handle_object_created(deps: Deps, bucket: str, key: str, size: int | None = None) -> str:
    """What happened to one uploaded object (`key` decoded): `started`, `ignored` (not ours, or unlike
    its announcement), `duplicate`, or `removed` (an upload for a video that no longer exists)."""
    if bucket != deps.settings.uploads_bucket:
        logger.warning("object from an unexpected bucket", extra={"bucket": bucket, "key": key})
        return "ignored"
    parsed = parse_upload_key(key)
    if parsed is None:
        logger.warning("object key is not an upload key", extra={"key": key})
        return "ignored"
    logger.append_keys(video_id=parsed.video_id)
    video = deps.videos.mark_queued(parsed.video_id, parsed.user_id)
    if video is None:
        known = deps.videos.get(parsed.user_id, parsed.video_id)
        if known is None:
            # Its video was deleted, or its account erased, after the upload URL was handed out (URLs live
            # 15 minutes): nobody owns the file any more, so it goes at once, every version of it.
            removed = purge(deps.s3, bucket, key, exact=True)
            logger.info("upload of a video that no longer exists removed", extra={"objects": removed})
            return "removed"
        logger.info("upload event ignored", extra={"status": known["status"]})
        return "duplicate"
    if key != upload_key(video["owner"], video["_id"], video["filename"]):  # the key its upload URL pinned
        deps.videos.mark_failed(
            parsed.video_id, "the file was uploaded under a different name than announced", "wrong_name"
        )
        return "ignored"
    if size is not None and size != video["size"]:
        reason = (
            f"the uploaded file has {size} bytes, not the {video['size']} bytes announced; upload it again"
        )
        deps.videos.mark_failed(parsed.video_id, reason, "size_mismatch")
        return "ignored"
    start_execution(deps, video)
    return "started"


@lru_cache(maxsize=1)
def _idempotency(deps: Deps) -> tuple[IdempotencyConfig, Any]:
    store = CachePersistenceLayer(client=cast(Any, deps.redis))
    config = IdempotencyConfig(
        event_key_jmespath="[bucket, key, sequencer]", expires_after_seconds=IDEMPOTENCY_SECONDS
    )

    @idempotent_function(
        data_keyword_argument="record", persistence_store=store, config=config, key_prefix=IDEMPOTENCY_PREFIX
    )
    def handle(record: dict[str, Any]) -> str:
        return handle_object_created(deps, record["bucket"], record["key"], record.get("size"))

    return config, handle


def upload_records(event: dict[str, Any]) -> list[dict[str, Any]]:
    """Bucket, key, sequencer and size of each record of an S3 `ObjectCreated` event. S3 URL-encodes keys
    in events (a space is `+`): decoded here, once, so the key compares equal to the one `upload_key` made."""
    records = []
    for record in S3Event(event).records:
        item = record.s3.get_object
        records.append(
            {
                "bucket": record.s3.bucket.name,
                "key": unquote_plus(item.key),
                "sequencer": str(item.raw_event.get("sequencer", "")),  # moto sends none
                "size": item.size,
            }
        )
    return records


def handle_s3_event(deps: Deps, event: dict[str, Any], context: Any) -> list[str]:
    """Each record of an S3 event, at most once per (bucket, key, sequencer) within the idempotency window;
    the outcome of each (see `handle_object_created`)."""
    config, handle = _idempotency(deps)
    config.register_lambda_context(context)
    outcomes = []
    for record in upload_records(event):
        outcome = str(handle(record=record))
        logger.info("upload event handled", extra={"key": record["key"], "outcome": outcome})
        outcomes.append(outcome)
    return outcomes
