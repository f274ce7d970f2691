"""The web app's `/config.json`: where the API is, and the limits a person meets, from the settings.

One build of the web app runs against any deployment: the local site server (devstack/site_server.py)
serves this document, and the cloud writes the same shape to the site bucket (Terraform's modules/site,
from modules/lambdas' `client_limits` output, checked against `LIMIT_SETTINGS` by tests/test_infra.py).
So the upload form checks the size the API will accept, not a copy of it. Keys are camelCase (JavaScript's).
"""

from __future__ import annotations

from typing import Any

from chalicelib.settings import EngineSettings, ServiceSettings, engine_settings, service_settings

#: Each limit in /config.json: (key, settings field, divisor). A limit's unit is in its key's name.
LIMIT_SETTINGS: tuple[tuple[str, str, int], ...] = (
    ("maxUploadBytes", "max_upload_bytes", 1),  # one file (413 `too_large` over it)
    ("maxVideoMinutes", "max_video_seconds", 60),  # longer videos fail with `video_too_long`
    ("videosPerDay", "quota_videos_per_day", 1),  # new videos per rolling 24 hours (429 `quota_exceeded`)
    ("storageBytes", "quota_storage_bytes", 1),  # every video kept (413 `storage_quota_exceeded`)
    ("analysisMinutesPerDay", "quota_analysis_minutes_per_day", 1),  # minutes analysed per 24 hours
)


def _number(value: float) -> int | float:
    """Whole numbers as integers (`60`, not `60.0`: what Terraform's jsonencode writes too)."""
    return int(value) if float(value).is_integer() else value


def client_limits(
    service: ServiceSettings | None = None, engine: EngineSettings | None = None
) -> dict[str, int | float]:
    """The user-facing limits, from the same settings the API and the pipeline enforce."""
    service = service or service_settings()
    engine = engine or engine_settings()
    limits = {}
    for key, name, divisor in LIMIT_SETTINGS:
        source: Any = engine if hasattr(engine, name) else service
        limits[key] = _number(getattr(source, name) / divisor)
    return limits


def site_config(api_url: str, limits: dict[str, int | float] | None = None) -> dict[str, Any]:
    """`{"apiUrl": ..., "limits": {"maxUploadBytes": ..., ...}}`."""
    return {"apiUrl": api_url, "limits": client_limits() if limits is None else limits}
