"""Emotionfy's Chalice application: wiring only. Each route parses the request, calls `chalicelib`, and
shapes the response; each Lambda function hands its event to a pipeline step.

Routes (see docs/openapi.yaml): /auth/* for accounts and sessions, /videos for uploads, history and
results, /stats for a user's statistics, /account for privacy (retention, export, erasure), /consent for the
statements uploads and viewers accept, /studies and /compare for audience studies, /invite for people
holding a study's invite link, /health for readiness. Every route but /auth/register, /auth/login,
/auth/refresh, /consent, /invite* and /health goes through the JWT authorizer; /invite* routes are opened
by the invite's token instead (chalicelib/studies/holders.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalice import AuthResponse, Chalice, ConvertToMiddleware, CORSConfig, Rate, Response
from chalice.app import Request

from chalicelib import video_library
from chalicelib.auth import authorizer as token_authorizer
from chalicelib.auth import service as auth
from chalicelib.auth.tokens import AccessClaims
from chalicelib.deps import deps
from chalicelib.health import engine_health, engine_installed, service_health
from chalicelib.http import json_api, no_content, ok, with_error_shape
from chalicelib.observability import API_REQUEST_ID, logged_authorizer, logged_invocation, observed
from chalicelib.pipeline import start
from chalicelib.privacy import consent, erase, export
from chalicelib.privacy import retention as source_retention
from chalicelib.settings import engine_settings, service_settings
from chalicelib.studies import content_events, curves, holders, viewer_consent
from chalicelib.studies import service as studies
from chalicelib.studies.content import CONTENT_PREFIX
from chalicelib.validation import json_object

app = Chalice(app_name="emotionfy")
app.log.setLevel("INFO")
cors = CORSConfig(
    allow_origin=service_settings().cors_origin,
    allow_headers=["Authorization", "Content-Type", "X-Invite-Token", "X-Withdraw-Token"],
    expose_headers=["Retry-After"],
    max_age=600,
)


# Every API request starts with a clean logger state: the API function's Lambda context and API Gateway's
# request id as correlation id (the id 500 bodies quote). Registered first, so it wraps everything below.
app.register_middleware(ConvertToMiddleware(logged_invocation(API_REQUEST_ID)), "http")
# The scheduled functions likewise, correlated by the EventBridge event's id.
app.register_middleware(ConvertToMiddleware(logged_invocation("id")), "scheduled")


@app.middleware("http")
def consistent_errors(event: Any, get_response: Any) -> Response:
    return with_error_shape(get_response(event))


# --- authorizer -------------------------------------------------------------------------------------


# ttl_seconds=0: API Gateway must not cache an Allow, or a signed-out token would work until it expired.
# Chalice runs authorizers outside the middleware: logged_authorizer gives it the same clean logger state.
@logged_authorizer
@app.authorizer(ttl_seconds=0)
def jwt_auth(auth_request: Any) -> AuthResponse:
    claims = token_authorizer.check(deps(), auth_request.token)
    context = {"jti": claims.jti, "exp": str(claims.expires_at), "fam": claims.family}
    return AuthResponse(routes=["*"], principal_id=claims.user_id, context=context)


def _request() -> Request:
    request = app.current_request
    assert request is not None, "only called while handling a request"
    return request


def _claims() -> AccessClaims:
    context = _request().context["authorizer"]
    return AccessClaims(
        user_id=context["principalId"],
        jti=context["jti"],
        expires_at=int(context["exp"]),
        family=context["fam"],
    )


def _user() -> str:
    return str(_request().context["authorizer"]["principalId"])


def _body() -> dict[str, Any]:
    return json_object(_request().raw_body)


def _client_ip() -> str:
    return str(_request().context.get("identity", {}).get("sourceIp") or "unknown")


def _params() -> dict[str, str]:
    return dict(_request().query_params or {})


def _optional_body() -> dict[str, Any]:
    raw = _request().raw_body
    return json_object(raw) if raw else {}


def _header(name: str) -> str | None:
    return _request().headers.get(name)


def _csv(body: str, filename: str) -> Response:
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/csv",
        "Content-Disposition": f'attachment; filename="{filename}"',
    }
    return Response(body=body, status_code=200, headers=headers)


# --- accounts and sessions --------------------------------------------------------------------------


@app.route("/auth/register", methods=["POST"], cors=cors)
@json_api
def register() -> Response:
    return ok(auth.register(deps(), _body(), _client_ip()), 201)


@app.route("/auth/login", methods=["POST"], cors=cors)
@json_api
def login() -> Response:
    return ok(auth.login(deps(), _body(), _client_ip()))


@app.route("/auth/refresh", methods=["POST"], cors=cors)
@json_api
def refresh() -> Response:
    return ok(auth.refresh(deps(), _body()))


@app.route("/auth/logout", methods=["POST"], cors=cors, authorizer=jwt_auth)
@json_api
def logout() -> Response:
    raw = _request().raw_body
    auth.logout(deps(), json_object(raw) if raw else None, _claims())
    return no_content()


@app.route("/auth/me", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def me() -> Response:
    return ok(auth.me(deps(), _user()))


# --- videos -----------------------------------------------------------------------------------------


@app.route("/videos", methods=["POST"], cors=cors, authorizer=jwt_auth)
@json_api
def create_video() -> Response:
    return ok(video_library.create_video(deps(), _user(), _body()), 201)


@app.route("/videos", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def list_videos() -> Response:
    return ok(video_library.list_videos(deps(), _user(), _params()))


@app.route("/videos/{video_id}", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def get_video(video_id: str) -> Response:
    return ok(video_library.get_video(deps(), _user(), video_id))


@app.route("/videos/{video_id}", methods=["DELETE"], cors=cors, authorizer=jwt_auth)
@json_api
def delete_video(video_id: str) -> Response:
    video_library.delete_video(deps(), _user(), video_id)
    return no_content()


@app.route("/videos/{video_id}/results", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def video_results(video_id: str) -> Response:
    return ok(video_library.results(deps(), _user(), video_id))


@app.route("/videos/{video_id}/results.csv", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def video_results_csv(video_id: str) -> Response:
    return _csv(video_library.results_csv(deps(), _user(), video_id), f"{video_id}.csv")


@app.route("/videos/{video_id}/media", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def video_media(video_id: str) -> Response:
    return ok(video_library.media_url(deps(), _user(), video_id))


@app.route("/videos/{video_id}/retry", methods=["POST"], cors=cors, authorizer=jwt_auth)
@json_api
def retry_video(video_id: str) -> Response:
    return ok(video_library.retry_video(deps(), _user(), video_id), 202)


@app.route("/stats", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def user_stats() -> Response:
    return ok(video_library.user_stats(deps(), _user()))


# --- privacy: consent, retention, export, erasure (docs/privacy.md) ---------------------------------


@app.route("/consent", methods=["GET"], cors=cors)
@json_api
def consent_statement() -> Response:
    return ok({**consent.statement(service_settings().consent_version), "viewer": viewer_consent.statement()})


@app.route("/account/settings", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def account_settings() -> Response:
    return ok(source_retention.account_settings(deps(), _user()))


@app.route("/account/settings", methods=["PUT"], cors=cors, authorizer=jwt_auth)
@json_api
def update_account_settings() -> Response:
    return ok(source_retention.update_settings(deps(), _user(), _body()))


@app.route("/account/export", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def export_account() -> Response:
    return ok(export.export_account(deps(), _user(), _params()))


@app.route("/account", methods=["DELETE"], cors=cors, authorizer=jwt_auth)
@json_api
def erase_account() -> Response:
    raw = _request().raw_body
    erase.erase_account(deps(), _claims(), json_object(raw) if raw else {}, _client_ip())
    return no_content()


# --- studies: one content, many viewers' recordings, their audience curve (chalicelib/studies) ---------


@app.route("/studies", methods=["POST"], cors=cors, authorizer=jwt_auth)
@json_api
def create_study() -> Response:
    return ok(studies.create_study(deps(), _user(), _body()), 201)


@app.route("/studies", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def list_studies() -> Response:
    return ok(studies.list_studies(deps(), _user()))


@app.route("/studies/{study_id}", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def get_study(study_id: str) -> Response:
    return ok(studies.get_study(deps(), _user(), study_id))


@app.route("/studies/{study_id}", methods=["DELETE"], cors=cors, authorizer=jwt_auth)
@json_api
def delete_study(study_id: str) -> Response:
    studies.delete_study(deps(), _user(), study_id)
    return no_content()


@app.route("/studies/{study_id}/content", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def study_content(study_id: str) -> Response:
    return ok(studies.content_url(deps(), _user(), study_id))


@app.route("/studies/{study_id}/viewers", methods=["POST"], cors=cors, authorizer=jwt_auth)
@json_api
def add_study_viewer(study_id: str) -> Response:
    return ok(studies.add_viewer(deps(), _user(), study_id, _body()), 201)


@app.route("/studies/{study_id}/viewers", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def list_study_viewers(study_id: str) -> Response:
    return ok(studies.list_viewers(deps(), _user(), study_id))


@app.route("/studies/{study_id}/viewers/{viewer_id}", methods=["DELETE"], cors=cors, authorizer=jwt_auth)
@json_api
def delete_study_viewer(study_id: str, viewer_id: str) -> Response:
    studies.delete_viewer(deps(), _user(), study_id, viewer_id)
    return no_content()


@app.route("/studies/{study_id}/viewers/{viewer_id}/curve", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def study_viewer_curve(study_id: str, viewer_id: str) -> Response:
    return ok(curves.viewer_drilldown(deps(), _user(), study_id, viewer_id, _params()))


@app.route("/studies/{study_id}/invites", methods=["POST"], cors=cors, authorizer=jwt_auth)
@json_api
def create_study_invite(study_id: str) -> Response:
    return ok(studies.create_invite(deps(), _user(), study_id, _optional_body()), 201)


@app.route("/studies/{study_id}/invites", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def list_study_invites(study_id: str) -> Response:
    return ok(studies.list_invites(deps(), _user(), study_id))


@app.route("/studies/{study_id}/invites/{invite_id}", methods=["DELETE"], cors=cors, authorizer=jwt_auth)
@json_api
def revoke_study_invite(study_id: str, invite_id: str) -> Response:
    studies.revoke_invite(deps(), _user(), study_id, invite_id)
    return no_content()


@app.route("/studies/{study_id}/audience", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def study_audience(study_id: str) -> Response:
    return ok(curves.audience(deps(), _user(), study_id, _params()))


@app.route("/studies/{study_id}/audience.csv", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def study_audience_csv(study_id: str) -> Response:
    return _csv(curves.audience_csv(deps(), _user(), study_id, _params()), f"audience-{study_id}.csv")


@app.route("/compare", methods=["GET"], cors=cors, authorizer=jwt_auth)
@json_api
def compare_studies() -> Response:
    return ok(curves.compare_studies(deps(), _user(), _params()))


# --- invite holders: no account; the invite's token in X-Invite-Token, a viewer's own withdraw token in
# X-Withdraw-Token (chalicelib/studies/holders.py) ---------------------------------------------------------


@app.route("/invite", methods=["GET"], cors=cors)
@json_api
def invite_details() -> Response:
    return ok(holders.describe(deps(), _header("X-Invite-Token")))


@app.route("/invite/content", methods=["GET"], cors=cors)
@json_api
def invite_content() -> Response:
    return ok(holders.content_url(deps(), _header("X-Invite-Token")))


@app.route("/invite/viewers", methods=["POST"], cors=cors)
@json_api
def invite_join() -> Response:
    return ok(holders.join(deps(), _header("X-Invite-Token"), _request().raw_body), 201)


@app.route("/invite/viewers/{viewer_id}/upload", methods=["POST"], cors=cors)
@json_api
def invite_viewer_upload(viewer_id: str) -> Response:
    token, withdraw = _header("X-Invite-Token"), _header("X-Withdraw-Token")
    return ok(holders.upload(deps(), token, viewer_id, withdraw, _request().raw_body), 201)


@app.route("/invite/viewers/{viewer_id}", methods=["GET"], cors=cors)
@json_api
def invite_viewer_status(viewer_id: str) -> Response:
    return ok(holders.status(deps(), _header("X-Invite-Token"), viewer_id, _header("X-Withdraw-Token")))


@app.route("/invite/viewers/{viewer_id}", methods=["DELETE"], cors=cors)
@json_api
def invite_viewer_withdraw(viewer_id: str) -> Response:
    holders.withdraw(deps(), _header("X-Invite-Token"), viewer_id, _header("X-Withdraw-Token"))
    return no_content()


# --- health -----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _models_ok() -> bool:
    settings = engine_settings()
    status, body = engine_health(settings.model_dir, settings.classifier)
    if status != 200:
        raise RuntimeError(body["checks"]["models"]["error"])
    return True


@app.route("/health", methods=["GET"], cors=cors)
def health() -> Response:
    d = deps()
    checks = {
        "mongodb": lambda: d.db.command("ping"),
        "redis": lambda: d.redis.ping(),
        "s3": lambda: d.s3.head_bucket(Bucket=d.settings.uploads_bucket),
    }
    if engine_installed():  # the local stack runs everything in one process; the cloud API has no engine
        checks["models"] = _models_ok
    status, body = service_health(checks)
    return ok(body, status)


# --- the pipeline -----------------------------------------------------------------------------------


@app.on_s3_event(
    bucket=service_settings().uploads_bucket,
    events=["s3:ObjectCreated:*"],
    prefix="uploads/",
    name="on_upload",
)
def on_upload(event: Any) -> None:
    _handle_upload(event.to_dict(), event.context)


@observed("Records[0].s3.object.key", emits_metrics=False)
def _handle_upload(raw: dict[str, Any], context: Any) -> None:
    start.handle_s3_event(deps(), raw, context)


# A study's content arriving: recorded on its study, or removed when the study is gone; never analysed.
@app.on_s3_event(
    bucket=service_settings().uploads_bucket,
    events=["s3:ObjectCreated:*"],
    prefix=CONTENT_PREFIX,
    name="on_content_upload",
)
def on_content_upload(event: Any) -> None:
    _handle_content_upload(event.to_dict(), event.context)


@observed("Records[0].s3.object.key", emits_metrics=False)
def _handle_content_upload(raw: dict[str, Any], context: Any) -> None:
    content_events.handle_s3_event(deps(), raw)


@app.lambda_function(name="pipeline_probe")
@observed("video_id", emits_metrics=False)
def pipeline_probe(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from chalicelib.pipeline import steps  # the engine: only in the pipeline image, not the zip functions

    return steps.probe_step(deps(), event)


@app.lambda_function(name="pipeline_analyze_segment")
@observed("video_id")
def pipeline_analyze_segment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from chalicelib.pipeline import steps  # the engine: only in the pipeline image, not the zip functions

    return steps.analyze_segment_step(deps(), event)


@app.lambda_function(name="pipeline_merge")
@observed("video_id")
def pipeline_merge(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from chalicelib.pipeline import steps  # the engine: only in the pipeline image, not the zip functions

    return steps.merge_step(deps(), event)


@app.lambda_function(name="pipeline_mark_failed")
@observed("video_id")
def pipeline_mark_failed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from chalicelib.pipeline import steps  # the engine: only in the pipeline image, not the zip functions

    return steps.mark_failed_step(deps(), event)


# --- the watchdog: lost and dead analyses put back on track (see chalicelib/pipeline/watchdog.py) -----


@app.schedule(Rate(5, unit=Rate.MINUTES), name="watchdog")
def watchdog(event: Any) -> None:
    from chalicelib.pipeline import watchdog as sweeper  # no engine: a zip function like the API

    sweeper.sweep(deps())


# --- retention: source videos deleted when their owner's setting says (chalicelib/privacy/retention.py) ---


@app.schedule(Rate(1, unit=Rate.HOURS), name="retention")
def retention(event: Any) -> None:
    source_retention.sweep(deps(), source_retention.scheduled_time(event.to_dict()))
