"""All configuration, read from environment variables in one place.

Defaults make the project run on one machine with no set-up; the cloud overrides them through the
Lambda environment (Terraform) or Powertools Parameters.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.engine.limits import Limits

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


@dataclass(frozen=True)
class EngineSettings:
    """Settings of the analysis engine (the segment and merge steps)."""

    model_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("EMOTIONFY_MODEL_DIR", PROJECT_ROOT / "model" / "onnx"))
    )
    sample_fps: float = field(default_factory=lambda: _env_float("EMOTIONFY_SAMPLE_FPS", 5.0))
    segment_seconds: float = field(default_factory=lambda: _env_float("EMOTIONFY_SEGMENT_SECONDS", 30.0))
    max_segments: int = field(default_factory=lambda: _env_int("EMOTIONFY_MAX_SEGMENTS", 200))
    classifier: str = field(default_factory=lambda: os.environ.get("EMOTIONFY_CLASSIFIER", "calibrated"))
    detector: str = field(default_factory=lambda: os.environ.get("EMOTIONFY_DETECTOR", "blazeface"))
    landmarks: bool = field(
        default_factory=lambda: (
            os.environ.get("EMOTIONFY_LANDMARKS", "true").lower() not in ("0", "false", "no")
        )
    )
    #: Frames with more pixels are refused before decoding (4096x2304: 4K UHD and DCI 4K fit).
    max_frame_pixels: int = field(default_factory=lambda: _env_int("EMOTIONFY_MAX_FRAME_PIXELS", 4096 * 2304))
    #: Longer videos are refused at the probe step, before any segment is analysed.
    max_video_seconds: float = field(
        default_factory=lambda: _env_float("EMOTIONFY_MAX_VIDEO_SECONDS", 3600.0)
    )

    def limits(self) -> Limits:
        return Limits(max_frame_pixels=self.max_frame_pixels, max_duration=self.max_video_seconds)


def engine_settings() -> EngineSettings:
    return EngineSettings()


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


class ConfigurationError(RuntimeError):
    """A required setting is missing or unusable; raised at first use, with the variable's name."""


@dataclass(frozen=True)
class ServiceSettings:
    """Settings of the API and the pipeline steps: where the services are, limits and lifetimes.

    Secrets (the JWT key, the MongoDB URI with its password) come from the environment locally and from
    SSM Parameter Store in the cloud (through Powertools Parameters) when the `*_PARAM` variable names one.
    """

    region: str = field(default_factory=lambda: _env("AWS_REGION", _env("AWS_DEFAULT_REGION", "us-east-1")))
    #: Set locally to moto's server; unset in the cloud so boto3 uses the real endpoints.
    aws_endpoint_url: str | None = field(default_factory=lambda: os.environ.get("AWS_ENDPOINT_URL") or None)
    uploads_bucket: str = field(default_factory=lambda: _env("EMOTIONFY_UPLOADS_BUCKET", "emotionfy-uploads"))
    state_machine_arn: str = field(default_factory=lambda: _env("EMOTIONFY_STATE_MACHINE_ARN", ""))
    mongodb_uri: str = field(default_factory=lambda: _env("MONGODB_URI", "mongodb://127.0.0.1:27017"))
    mongodb_uri_param: str = field(default_factory=lambda: _env("MONGODB_URI_PARAM", ""))
    mongodb_database: str = field(default_factory=lambda: _env("MONGODB_DATABASE", "emotionfy"))
    mongodb_timeout_ms: int = field(default_factory=lambda: _env_int("MONGODB_TIMEOUT_MS", 3000))
    redis_url: str = field(default_factory=lambda: _env("REDIS_URL", "redis://127.0.0.1:6379/0"))
    redis_timeout_seconds: float = field(default_factory=lambda: _env_float("REDIS_TIMEOUT_SECONDS", 2.0))
    jwt_secret: str = field(default_factory=lambda: _env("EMOTIONFY_JWT_SECRET", ""))
    jwt_secret_param: str = field(default_factory=lambda: _env("EMOTIONFY_JWT_SECRET_PARAM", ""))
    access_token_seconds: int = field(default_factory=lambda: _env_int("EMOTIONFY_ACCESS_TOKEN_SECONDS", 900))
    refresh_token_seconds: int = field(
        default_factory=lambda: _env_int("EMOTIONFY_REFRESH_TOKEN_SECONDS", 30 * 24 * 3600)
    )
    #: Failed sign-ins per (email, client IP) in a window; past it that address waits for the window's end.
    login_failures_per_email_ip: int = field(
        default_factory=lambda: _env_int("EMOTIONFY_LOGIN_FAILURES_EMAIL", 5)
    )
    login_failures_per_ip: int = field(default_factory=lambda: _env_int("EMOTIONFY_LOGIN_FAILURES_IP", 20))
    #: Failed sign-ins per account from every address in a window; past it each further attempt waits
    #: 1, 2, 4… seconds after the one before (capped at the window) instead of a flat lock.
    login_failures_per_account: int = field(
        default_factory=lambda: _env_int("EMOTIONFY_LOGIN_FAILURES_ACCOUNT", 50)
    )
    login_window_seconds: int = field(default_factory=lambda: _env_int("EMOTIONFY_LOGIN_WINDOW_SECONDS", 900))
    registrations_per_ip: int = field(default_factory=lambda: _env_int("EMOTIONFY_REGISTRATIONS_PER_IP", 20))
    registration_window_seconds: int = field(
        default_factory=lambda: _env_int("EMOTIONFY_REGISTRATION_WINDOW_SECONDS", 3600)
    )
    max_upload_bytes: int = field(
        default_factory=lambda: _env_int("EMOTIONFY_MAX_UPLOAD_BYTES", 500 * 1024**2)
    )
    upload_url_seconds: int = field(default_factory=lambda: _env_int("EMOTIONFY_UPLOAD_URL_SECONDS", 900))
    media_url_seconds: int = field(default_factory=lambda: _env_int("EMOTIONFY_MEDIA_URL_SECONDS", 300))
    map_max_concurrency: int = field(default_factory=lambda: _env_int("EMOTIONFY_MAP_MAX_CONCURRENCY", 8))
    rekognition_sample_fps: float = field(
        default_factory=lambda: _env_float("EMOTIONFY_REKOGNITION_SAMPLE_FPS", 1.0)
    )
    stats_cache_seconds: int = field(default_factory=lambda: _env_int("EMOTIONFY_STATS_CACHE_SECONDS", 3600))
    cors_origin: str = field(default_factory=lambda: _env("EMOTIONFY_CORS_ORIGIN", "http://127.0.0.1:8080"))
    #: Where the web app is served: invite links are `{site_url}/watch/{token}` (default: the CORS origin).
    site_url: str = field(
        default_factory=lambda: _env(
            "EMOTIONFY_SITE_URL", _env("EMOTIONFY_CORS_ORIGIN", "http://127.0.0.1:8080")
        )
    )
    #: Per-user quotas: bytes stored (announced sizes of every video kept), new videos and minutes of video
    #: analysed per rolling 24 hours.
    quota_storage_bytes: int = field(
        default_factory=lambda: _env_int("EMOTIONFY_QUOTA_STORAGE_BYTES", 10 * 1024**3)
    )
    quota_videos_per_day: int = field(default_factory=lambda: _env_int("EMOTIONFY_QUOTA_VIDEOS_PER_DAY", 50))
    quota_analysis_minutes_per_day: float = field(
        default_factory=lambda: _env_float("EMOTIONFY_QUOTA_ANALYSIS_MINUTES_PER_DAY", 180.0)
    )
    #: A video never uploaded is removed this long after it was announced (its upload URL is long dead).
    pending_upload_expiry_seconds: int = field(
        default_factory=lambda: _env_int("EMOTIONFY_PENDING_UPLOAD_EXPIRY_SECONDS", 3600)
    )
    #: The watchdog looks at an unfinished video once it has not changed for this long.
    watchdog_stale_seconds: int = field(
        default_factory=lambda: _env_int("EMOTIONFY_WATCHDOG_STALE_SECONDS", 120)
    )
    #: How often the local stack runs the watchdog (the cloud runs it on an EventBridge schedule).
    watchdog_interval_seconds: float = field(
        default_factory=lambda: _env_float("EMOTIONFY_WATCHDOG_INTERVAL_SECONDS", 60.0)
    )
    #: Analyses the watchdog starts again by itself after an infrastructure failure, before it gives up
    #: and leaves the video `failed` for the user to retry.
    automatic_retries: int = field(default_factory=lambda: _env_int("EMOTIONFY_AUTOMATIC_RETRIES", 2))
    #: The consent statement every upload must carry (chalicelib/privacy/consent.py has its texts).
    consent_version: str = field(default_factory=lambda: _env("EMOTIONFY_CONSENT_VERSION", "2026-12-01"))
    #: Days a source video is kept after its analysis for a user who chose nothing (0: deleted right after).
    default_retention_days: int = field(
        default_factory=lambda: _env_int("EMOTIONFY_DEFAULT_RETENTION_DAYS", 30)
    )
    #: How long an account export's download link works; the zip is deleted once it has expired.
    export_url_seconds: int = field(default_factory=lambda: _env_int("EMOTIONFY_EXPORT_URL_SECONDS", 3600))
    #: Bytes of source videos one export may carry (it is built in the API function's memory and /tmp).
    export_max_video_bytes: int = field(
        default_factory=lambda: _env_int("EMOTIONFY_EXPORT_MAX_VIDEO_BYTES", 400 * 1024**2)
    )
    #: How often the local stack runs the retention sweep (the cloud runs it on an EventBridge schedule).
    retention_interval_seconds: float = field(
        default_factory=lambda: _env_float("EMOTIONFY_RETENTION_INTERVAL_SECONDS", 3600.0)
    )


def service_settings() -> ServiceSettings:
    return ServiceSettings()
