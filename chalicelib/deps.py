"""Clients and repositories, created once per process (a Lambda container or the local server) and reused.

Handlers ask for what they need (`deps().videos`, `deps().s3`); nothing connects at import time, so a
Lambda whose Redis is down still starts and answers 503 instead of failing to load.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from typing import Any

import boto3
import redis
from botocore.config import Config
from pymongo.database import Database

from chalicelib.auth.ratelimit import LoginLimiter
from chalicelib.auth.sessions import SessionStore
from chalicelib.settings import ConfigurationError, ServiceSettings, service_settings
from chalicelib.storage.analyses import AnalysisRepository
from chalicelib.storage.mongo import connect, ensure_indexes
from chalicelib.storage.users import UserRepository
from chalicelib.storage.videos import VideoRepository
from chalicelib.studies.store import InviteRepository, StudyRepository, ViewerRepository


def _secret(value: str, parameter: str, name: str) -> str:
    """A secret from the environment, or from SSM Parameter Store (cached 5 minutes) when a name is given."""
    if parameter:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_parameter(parameter, decrypt=True, max_age=300))
    if not value:
        raise ConfigurationError(f"{name} is not set (see .env.example)")
    return value


class Deps:
    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings

    def _client(self, service: str, **config: Any) -> Any:
        return boto3.client(
            service,
            region_name=self.settings.region,
            endpoint_url=self.settings.aws_endpoint_url,
            config=Config(
                retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=30, **config
            ),
        )

    @cached_property
    def s3(self) -> Any:
        # SigV4: presigned PUTs sign Content-Length too (SigV2 signs only the type); SigV2 is retired.
        return self._client("s3", signature_version="s3v4")

    @cached_property
    def stepfunctions(self) -> Any:
        return self._client("stepfunctions")

    @cached_property
    def rekognition(self) -> Any:
        return self._client("rekognition")

    @cached_property
    def jwt_secret(self) -> str:
        return _secret(self.settings.jwt_secret, self.settings.jwt_secret_param, "EMOTIONFY_JWT_SECRET")

    @cached_property
    def db(self) -> Database:
        uri = _secret(self.settings.mongodb_uri, self.settings.mongodb_uri_param, "MONGODB_URI")
        database = connect(uri, self.settings.mongodb_database, self.settings.mongodb_timeout_ms)
        ensure_indexes(database)
        return database

    @cached_property
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(
            self.settings.redis_url,
            socket_timeout=self.settings.redis_timeout_seconds,
            socket_connect_timeout=self.settings.redis_timeout_seconds,
            health_check_interval=30,
        )

    @cached_property
    def users(self) -> UserRepository:
        return UserRepository(self.db)

    @cached_property
    def videos(self) -> VideoRepository:
        return VideoRepository(self.db)

    @cached_property
    def analyses(self) -> AnalysisRepository:
        return AnalysisRepository(self.db)

    @cached_property
    def studies(self) -> StudyRepository:
        return StudyRepository(self.db)

    @cached_property
    def invites(self) -> InviteRepository:
        return InviteRepository(self.db)

    @cached_property
    def viewers(self) -> ViewerRepository:
        return ViewerRepository(self.db)

    @cached_property
    def sessions(self) -> SessionStore:
        return SessionStore(self.redis, self.settings.refresh_token_seconds)

    @cached_property
    def login_limiter(self) -> LoginLimiter:
        s = self.settings
        return LoginLimiter(
            self.redis,
            per_email_ip=s.login_failures_per_email_ip,
            per_ip=s.login_failures_per_ip,
            per_account=s.login_failures_per_account,
            window_seconds=s.login_window_seconds,
        )


@lru_cache(maxsize=1)
def deps() -> Deps:
    return Deps(service_settings())
