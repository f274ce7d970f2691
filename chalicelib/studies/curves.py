"""The audience routes: a study's viewers' Analyses put on the content's grid (chalicelib/studies/audience.py
computes; this module reads, caches and shapes), a comparison of two studies, and one viewer's curve.

A curve is cached in Redis under `audience:{study_id}:{step}:{fingerprint}`, the fingerprint being a
SHA-256 over every viewer's (id, status, attempt, offset) and the content's duration: a viewer added,
removed, finished, retried or moved gets a new key, so a cached curve is never stale and nothing has to
invalidate it; the TTL (1 hour) only bounds memory. Redis is an optimisation here: when it cannot be
reached the curve is computed without it.

The step a request leaves out is `audience.display_step` of the content's duration, the one the web app
shows; `refresh` computes that curve ahead of its first read when a viewer's analysis ends (the pipeline's
merge step) or a viewer is removed, under the same key a read looks for.

audience.py needs only the standard library: the API function's zip carries no numpy, and
tests/test_layer.py computes curves there with the engine's packages blocked.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any, cast

import redis

from chalicelib.deps import Deps
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.observability import logger
from chalicelib.storage.videos import DONE
from chalicelib.studies.access import owned_study, owned_viewer, valid_id

CACHE_SECONDS = 3600
_KEY = "audience:{}:{}:{}"


def cache_pattern(study_id: str) -> str:
    """A Redis SCAN pattern matching every cached curve of the study."""
    return _KEY.format(study_id, "*", "*")


def fingerprint(viewers: list[dict[str, Any]], duration: float) -> str:
    """Changes whenever a viewer is added, removed, changes status, is analysed again or is moved, or the
    content's duration changes: everything a curve is computed from."""
    items = sorted(
        (v["_id"], v["status"], int(v.get("attempt") or 0), float(v["viewer"]["offset"])) for v in viewers
    )
    return hashlib.sha256(json.dumps([items, float(duration)]).encode()).hexdigest()


def _requested_step(params: dict[str, str] | None) -> float | None:
    """The `step` query parameter in seconds, None when absent; its range is checked with the grid."""
    raw = (params or {}).get("step")
    if raw is None or raw == "":
        return None
    try:
        step = float(raw)
    except ValueError:
        step = math.nan
    if not math.isfinite(step):
        raise BadRequest("'step' must be a number of seconds", code="invalid_step")
    return step


def parse_step(params: dict[str, str] | None, duration: float) -> float:
    """The `step` query parameter in seconds; absent, the display step of `duration` (the content's)."""
    from chalicelib.studies import audience as calc

    step = _requested_step(params)
    return calc.display_step(duration) if step is None else step


def _grid(duration: float, step: float) -> list[float]:
    """400 `invalid_step` (out of [0.1, 10]) or `step_too_small` (more than MAX_POINTS points)."""
    from chalicelib.studies import audience as calc

    try:
        return calc.grid(duration, step)
    except calc.StepError as exc:
        raise BadRequest(str(exc), code=exc.code) from None


def _cached(deps: Deps, key: str) -> dict[str, Any] | None:
    try:
        found = deps.redis.get(key)
    except redis.RedisError as exc:
        logger.warning("audience cache unavailable", extra={"error": str(exc)})
        return None
    return cast(dict[str, Any], json.loads(cast(bytes, found))) if found else None


def _store(deps: Deps, key: str, curve: dict[str, Any]) -> None:
    try:
        deps.redis.set(key, json.dumps(curve), ex=CACHE_SECONDS)
    except redis.RedisError as exc:
        logger.warning("audience cache unavailable", extra={"error": str(exc)})


def _compute(deps: Deps, study: dict[str, Any], viewers: list[dict[str, Any]], step: float) -> dict[str, Any]:
    from chalicelib.studies import audience as calc

    inputs: list[Any] = []
    listed = []
    for video in viewers:
        offset = float(video["viewer"]["offset"])
        analysis = deps.analyses.get(video["_id"], video["owner"]) if video["status"] == DONE else None
        if analysis is not None:
            inputs.append(calc.ViewerInput(video["_id"], offset, list(analysis.get("timeline") or [])))
        listed.append(
            {
                "id": video["_id"],
                "label": video["viewer"]["label"],
                "offset": offset,
                "status": video["status"],
                "included": analysis is not None,
            }
        )
    curve = calc.audience_curve(float(study["content"]["duration"]), step, inputs)
    return {
        "study_id": study["_id"],
        **curve,
        "viewers": listed,
        "viewers_included": len(inputs),
        "computed_at": datetime.now(UTC).isoformat(),
    }


def _keyed(deps: Deps, study: dict[str, Any], step: float) -> tuple[str, list[dict[str, Any]]]:
    """The cache key of the study's curve on `step` as its viewers are now, and those viewers."""
    viewers = deps.viewers.of_study(study["owner"], study["_id"])
    fingerprinted = fingerprint(viewers, float(study["content"]["duration"]))
    return _KEY.format(study["_id"], repr(float(step)), fingerprinted), viewers


def curve_of(deps: Deps, study: dict[str, Any], step: float) -> dict[str, Any]:
    """The study's audience curve on `step`, from the cache when its viewers have not changed."""
    _grid(float(study["content"]["duration"]), step)
    key, viewers = _keyed(deps, study, step)
    cached = _cached(deps, key)
    if cached is not None:
        return cached
    curve = _compute(deps, study, viewers, step)
    _store(deps, key, curve)
    return curve


def audience(deps: Deps, owner: str, study_id: str, params: dict[str, str] | None) -> dict[str, Any]:
    study = owned_study(deps, owner, study_id)
    return curve_of(deps, study, parse_step(params, float(study["content"]["duration"])))


def audience_csv(deps: Deps, owner: str, study_id: str, params: dict[str, str] | None) -> str:
    study = owned_study(deps, owner, study_id)
    from chalicelib.studies import audience as calc

    return calc.to_csv(curve_of(deps, study, parse_step(params, float(study["content"]["duration"]))))


def compare_studies(deps: Deps, owner: str, params: dict[str, str] | None) -> dict[str, Any]:
    """Two of the caller's studies on one grid (the longer content's, at most MAX_COMPARE_POINTS points,
    checked before either curve is computed) and their difference, a - b."""
    params = params or {}
    ids = []
    for name in ("a", "b"):
        value = params.get(name)
        if not value:
            raise BadRequest(f"'{name}' (a study id) is required", code="invalid_parameter")
        if not valid_id(value):
            raise NotFound("no such study")
        ids.append(value)
    requested = _requested_step(params)
    first, second = (owned_study(deps, owner, i) for i in ids)
    from chalicelib.studies import audience as calc

    longer = max(float(s["content"]["duration"]) for s in (first, second))
    step = calc.display_step(longer) if requested is None else requested
    try:
        calc.compare_grid(longer, step)
        return calc.compare(curve_of(deps, first, step), curve_of(deps, second, step))
    except calc.StepError as exc:
        raise BadRequest(str(exc), code=exc.code) from None


def viewer_drilldown(
    deps: Deps, owner: str, study_id: str, viewer_id: str, params: dict[str, str] | None
) -> dict[str, Any]:
    """One viewer's values on the content grid (null where they show no face), to set beside the audience."""
    study = owned_study(deps, owner, study_id)
    video = owned_viewer(deps, study, viewer_id)
    duration = float(study["content"]["duration"])
    step = parse_step(params, duration)
    t = _grid(duration, step)
    if video["status"] != DONE:
        raise Conflict(
            f"the recording is {video['status']}; its curve exists once it is done", code="not_ready"
        )
    analysis = deps.analyses.get(video["_id"], owner)
    if analysis is None:
        raise NotFound("the results of this recording are missing")
    offset = float(video["viewer"]["offset"])
    from chalicelib.studies import audience as calc

    timeline = list(analysis.get("timeline") or [])
    values = calc.viewer_curve(calc.ViewerInput(video["_id"], offset, timeline), t, step)
    return {
        "study_id": study["_id"],
        "viewer_id": video["_id"],
        "label": video["viewer"]["label"],
        "offset": offset,
        "duration": duration,
        "step": step,
        "t": [round(x, 4) for x in t],
        "series": list(calc.SERIES),
        "values": values,
    }


def refresh(deps: Deps, video: dict[str, Any]) -> None:
    """Compute and cache the audience curve of the study `video` (a viewer's record, as it was before a
    removal) belongs to, on the display step, so the first read after a viewer's analysis ended or a viewer
    left is served from the cache. Nothing for a video of no study. Idempotent: the key is the one a read
    looks for (the viewers' fingerprint), and a curve already there is not computed again.

    Best effort: it never raises. A failure (Redis, MongoDB, anything) is logged as a warning with the
    study id and the read computes the curve as it would have without this."""
    study_id = video.get("study_id")
    if not study_id:
        return
    try:
        _refresh(deps, video["owner"], str(study_id))
    except Exception as exc:
        logger.warning(
            "audience curve not precomputed; its first read computes it",
            extra={"study_id": study_id, "error": f"{type(exc).__name__}: {exc}"},
        )


def _refresh(deps: Deps, owner: str, study_id: str) -> None:
    from chalicelib.studies import audience as calc

    study = deps.studies.get(owner, study_id)
    if study is None:  # deleted (its viewers go with it): no curve to read
        return
    step = calc.display_step(float(study["content"]["duration"]))
    key, viewers = _keyed(deps, study, step)
    if deps.redis.exists(key):  # Redis errors raise here: no curve is computed that could not be kept
        return
    deps.redis.set(key, json.dumps(_compute(deps, study, viewers, step)), ex=CACHE_SECONDS)
    now = deps.studies.get(owner, study_id)
    if now is None or _keyed(deps, now, step)[0] != key:
        # Deleted (or its account erased) while this computed, its viewers swept first: the deletion may
        # have cleared the cache before this write. No read asks for this key any more: take the curve
        # of those viewers back now rather than leave it for the TTL.
        deps.redis.delete(key)
        return
    logger.info("audience curve precomputed", extra={"study_id": study_id, "step": step})


def forget(deps: Deps, study_id: str) -> int:
    """Delete the study's cached curves (its deletion, an erasure); the number deleted."""
    keys = list(deps.redis.scan_iter(match=cache_pattern(study_id), count=1000))
    return int(cast(Any, deps.redis.delete(*keys))) if keys else 0
