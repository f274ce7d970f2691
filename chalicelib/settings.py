"""All configuration, read from environment variables in one place.

Defaults make the project run on one machine with no set-up; the cloud overrides them through the
Lambda environment (Terraform) or Powertools Parameters.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

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
    classifier: str = field(default_factory=lambda: os.environ.get("EMOTIONFY_CLASSIFIER", "ensemble"))
    detector: str = field(default_factory=lambda: os.environ.get("EMOTIONFY_DETECTOR", "haar"))


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


def service_settings() -> ServiceSettings:
    return ServiceSettings()
