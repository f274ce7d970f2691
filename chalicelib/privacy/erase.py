"""Erase an account and everything of it, in every store, once its password is entered again.

The order makes a failure half-way safe to repeat: the user is signed out everywhere first (no request of
theirs starts anything new), the user's study invites are deleted (no viewer joins any more), running
analyses are stopped, S3 objects go (every version of the uploads, segment results, exports and study
contents), then MongoDB records with the user record last (until then the password still signs in, so a
503 half-way can be retried), then the Redis keys that name the user or their studies. Segment results
and uploads are swept once more at the end, for a pipeline step or an upload that was in flight.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, cast

from chalicelib import stats
from chalicelib.auth.passwords import verify_password
from chalicelib.auth.ratelimit import LoginLimiter
from chalicelib.auth.tokens import AccessClaims
from chalicelib.deps import Deps
from chalicelib.errors import Unauthorized
from chalicelib.observability import logger
from chalicelib.pipeline.start import execution_arn
from chalicelib.storage.bucket import purge, user_exports_prefix, user_uploads_prefix
from chalicelib.storage.videos import PROCESSING, QUEUED
from chalicelib.studies import content as study_content
from chalicelib.studies import curves
from chalicelib.uploads import segments_prefix
from chalicelib.validation import string


@dataclass
class ErasureReport:
    """What was removed (logged: counts only, nothing that names the user)."""

    sessions: int = 0
    executions_stopped: int = 0
    s3_objects: int = 0
    videos: int = 0
    analyses: int = 0
    studies: int = 0
    invites: int = 0
    redis_keys: int = 0


def check_password(deps: Deps, user: dict[str, Any], body: dict[str, Any], client_ip: str) -> None:
    """The password entered again, through the sign-in limiter (a stolen access token alone cannot erase
    an account, nor guess its password faster than at the sign-in page)."""
    password = string(body, "password", required=False, max_length=1024)
    if not password:
        raise Unauthorized("enter your password to erase the account", code="invalid_credentials")
    deps.login_limiter.attempt(user["email"], client_ip)
    if not verify_password(user["password_hash"], password):
        raise Unauthorized("the password is wrong", code="invalid_credentials")
    deps.login_limiter.succeeded(user["email"], client_ip)


def _stop_executions(deps: Deps, videos: list[dict[str, Any]]) -> int:
    stopped = 0
    client = deps.stepfunctions
    for video in videos:
        if video["status"] not in (QUEUED, PROCESSING):
            continue
        with contextlib.suppress(client.exceptions.ExecutionDoesNotExist):
            client.stop_execution(executionArn=execution_arn(deps, video), cause="account erased")
            stopped += 1
    return stopped


def _purge_objects(deps: Deps, user_id: str, video_ids: list[str]) -> int:
    s3, bucket = deps.s3, deps.settings.uploads_bucket
    removed = purge(s3, bucket, user_uploads_prefix(user_id))
    removed += purge(s3, bucket, user_exports_prefix(user_id))
    removed += purge(s3, bucket, study_content.owner_prefix(user_id))
    for video_id in video_ids:
        removed += purge(s3, bucket, segments_prefix(video_id))
    return removed


def _redis_keys(deps: Deps, user: dict[str, Any], client_ip: str, study_ids: list[str]) -> int:
    """The user's cached statistics and audience curves, and the sign-in limiter's counts of their email
    (for this address; the other addresses' counts carry only a hash of the email and end with their
    15-minute window)."""
    patterns = [stats.cache_pattern(user["_id"]), *(curves.cache_pattern(s) for s in study_ids)]
    keys = [key for pattern in patterns for key in deps.redis.scan_iter(match=pattern, count=1000)]
    limiter = LoginLimiter.keys(user["email"], client_ip)
    keys += [limiter["account"], limiter["account_wait"], limiter["email_ip"]]
    return int(cast(Any, deps.redis.delete(*keys))) if keys else 0


def erase_account(deps: Deps, claims: AccessClaims, body: dict[str, Any], client_ip: str) -> ErasureReport:
    user_id = claims.user_id
    user = deps.users.by_id(user_id)
    if user is None:  # erased meanwhile (another tab): this token must not outlive it either
        deps.sessions.deny_access_token(claims.jti, claims.expires_at)
        raise Unauthorized("this account no longer exists", code="invalid_credentials")
    check_password(deps, user, body, client_ip)
    report = ErasureReport()
    report.sessions = deps.sessions.revoke_user(user_id)
    if claims.family:
        deps.sessions.revoke_family(claims.family)
    deps.sessions.deny_access_token(claims.jti, claims.expires_at)

    report.invites = deps.invites.delete_all(user_id)
    study_ids = [study["_id"] for study in deps.studies.owned_by(user_id)]
    videos = deps.videos.owned_by(user_id)
    video_ids = [video["_id"] for video in videos]
    report.executions_stopped = _stop_executions(deps, videos)
    report.s3_objects = _purge_objects(deps, user_id, video_ids)
    report.analyses = deps.analyses.delete_all(user_id)
    report.videos = deps.videos.delete_all(user_id)
    report.studies = deps.studies.delete_all(user_id)
    deps.users.delete(user_id)
    # Anything a request or a pipeline step in flight wrote meanwhile.
    report.analyses += deps.analyses.delete_all(user_id)
    report.videos += deps.videos.delete_all(user_id)
    report.invites += deps.invites.delete_all(user_id)
    report.studies += deps.studies.delete_all(user_id)
    report.s3_objects += _purge_objects(deps, user_id, video_ids)
    report.redis_keys = _redis_keys(deps, user, client_ip, study_ids)
    logger.info("account erased", extra=dict(report.__dict__))
    return report
