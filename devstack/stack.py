"""Start, wire and stop the local stack. Used by `make run` (`python -m devstack`) and by the tests.

Provisioning mirrors the cloud: the uploads bucket with CORS (modules/storage's rule) and its ObjectCreated
notifications (uploads/ to the `on_upload` function, a study's content/ to `on_content_upload`), one Lambda
function per pipeline step (their code is our handlers, called in-process), and the state machine rendered
from the repository's one ASL file.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import secrets
import socket
import threading
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import requests

from chalicelib.pipeline import definition
from chalicelib.studies.content import CONTENT_PREFIX
from chalicelib.uploads import UPLOAD_PREFIX
from devstack.api_server import ApiServer
from devstack.lambda_adapter import InProcessLambdas, LambdaContext
from devstack.s3_disk import S3OnDisk
from devstack.services import MongoServer, MotoServer, RedisServer, stop_left_behind
from devstack.site_server import SITE_DIR, SiteServer

UPLOAD_HANDLER = "on_upload"
CONTENT_HANDLER = "on_content_upload"
#: The functions S3 notifies, by the key prefix that notifies each (app.py's `@app.on_s3_event`).
S3_HANDLERS = {UPLOAD_HANDLER: UPLOAD_PREFIX, CONTENT_HANDLER: CONTENT_PREFIX}
WATCHDOG = "watchdog"
RETENTION = "retention"
STATE_MACHINE = "emotionfy-analysis"
LAMBDA_RUNTIME = "python3.11"


def bucket_cors(origin: str) -> dict[str, Any]:
    """The uploads bucket's CORS, as modules/storage and LocalStack put it: the site's POST/PUT (uploads/,
    content/) and ranged GETs for playback (any request header, `Range` included; the headers a <video>
    reads exposed). tests/test_infra.py compares the three."""
    return {
        "CORSRules": [
            {
                "AllowedOrigins": [origin],
                "AllowedMethods": ["GET", "POST", "PUT"],
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["ETag", "Content-Length", "Content-Range", "Accept-Ranges"],
                "MaxAgeSeconds": 3000,
            }
        ]
    }


@dataclass
class Ports:
    api: int = 8000
    site: int = 8080
    moto: int = 5005
    redis: int = 6380
    mongo: int = 27018


@dataclass
class LocalStack:
    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    cors_origin: str = "http://127.0.0.1:8080"
    #: Extra settings for this stack (e.g. a short access-token lifetime in a test).
    settings: dict[str, str] = field(default_factory=dict)
    #: Write the bucket's objects through to disk as they are stored, and load them back at start (moto
    #: keeps S3 in memory only): a killed stack loses no upload.
    persist_uploads: bool = True
    #: Run the watchdog every `EMOTIONFY_WATCHDOG_INTERVAL_SECONDS` (the cloud's EventBridge schedule).
    run_watchdog: bool = True
    #: Run the retention sweep every `EMOTIONFY_RETENTION_INTERVAL_SECONDS` (the cloud's hourly schedule).
    run_retention: bool = True
    #: Serve the built web app (frontend/dist) on `ports.site` when it has been built.
    serve_site: bool = True

    def __post_init__(self) -> None:
        self.redis = RedisServer(self.ports.redis, self.data_dir / "redis")
        self.mongo = MongoServer(self.ports.mongo, self.data_dir / "mongodb")
        self.moto = MotoServer(self.ports.moto)
        self.s3_disk = S3OnDisk(self.data_dir / "s3", {self.bucket})
        self._timers_stop = threading.Event()
        self._timers: list[threading.Thread] = []
        self.lambdas: InProcessLambdas | None = None
        self.api: ApiServer | None = None
        self.site: SiteServer | None = None
        self.app_module: ModuleType | None = None
        self.state_machine_arn = ""

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.api}"

    @property
    def bucket(self) -> str:
        return self.settings.get("EMOTIONFY_UPLOADS_BUCKET", "emotionfy-uploads")

    def _jwt_secret(self) -> str:
        path = self.data_dir / "jwt-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def environment(self) -> dict[str, str]:
        """What the Lambdas' environment holds in the cloud, pointed at the local servers."""
        return {
            "AWS_ENDPOINT_URL": self.moto.url,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "MOTO_PORT": str(self.ports.moto),  # moto's Step Functions calls Lambda through this port
            "MONGODB_URI": self.mongo.uri,
            "REDIS_URL": self.redis.url,
            "EMOTIONFY_UPLOADS_BUCKET": self.bucket,
            "EMOTIONFY_JWT_SECRET": os.environ.get("EMOTIONFY_JWT_SECRET") or self._jwt_secret(),
            "EMOTIONFY_CORS_ORIGIN": self.cors_origin,
            "EMOTIONFY_MAP_MAX_CONCURRENCY": str(min(4, os.cpu_count() or 1)),
            # Shorter segments than the cloud's 30 s, so a short video still fans out over this machine's
            # cores (docs/benchmarks.md: a 17 s video is done in 2.9 s instead of 5.2 s on 2 cores).
            "EMOTIONFY_SEGMENT_SECONDS": os.environ.get("EMOTIONFY_SEGMENT_SECONDS", "10"),
            "POWERTOOLS_SERVICE_NAME": "emotionfy",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            **self.settings,
        }

    def busy_ports(self) -> list[tuple[str, int]]:
        """The stack's ports something else is listening on (after stopping what a killed run of this
        stack left behind, which would otherwise hold its own ports)."""
        for child in (self.redis, self.mongo):
            if child.pid_file.exists():
                stop_left_behind(child.pid_file, child.marker, child.data_dir.resolve())
        busy = []
        for name in ("api", "site", "moto", "redis", "mongo"):
            port = getattr(self.ports, name)
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                # As the servers themselves bind: a port left in TIME_WAIT by a killed run is free, one
                # with a listener is not.
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    busy.append((name, port))
        return busy

    def start(self) -> LocalStack:
        """Start every part; if one fails, stop the ones already running and re-raise."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.redis.start()
        self.mongo.start()
        self.moto.start()
        os.environ.update(self.environment())
        from chalicelib.deps import deps

        deps.cache_clear()
        self.app_module = importlib.import_module("app")
        requests.post(
            f"{self.moto.url}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}},
            timeout=10,
        ).raise_for_status()
        handlers = {
            name: getattr(self.app_module, name) for name in [*S3_HANDLERS, *definition.FUNCTIONS.values()]
        }
        self.lambdas = InProcessLambdas(handlers)
        self.lambdas.install()
        self._provision()
        self._timers_stop.clear()
        from chalicelib.settings import service_settings

        settings = service_settings()
        timers = [
            (self.run_watchdog, WATCHDOG, settings.watchdog_interval_seconds),
            (self.run_retention, RETENTION, settings.retention_interval_seconds),
        ]
        for wanted, name, interval in timers:
            if wanted:
                timer = threading.Thread(
                    target=self._timer_loop, args=(name, interval), name=name, daemon=True
                )
                timer.start()
                self._timers.append(timer)
        self.api = ApiServer(self.app_module.app, "127.0.0.1", self.ports.api, self.cors_origin)
        self.api.start()
        if self.serve_site and (SITE_DIR / "index.html").is_file():
            self.site = SiteServer(self.ports.site, self.api_url, media_origins=[self.moto.url])
            self.site.start()

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.moto.url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def _provision(self) -> None:
        iam, lam, s3, sfn = (self.client(s) for s in ("iam", "lambda", "s3", "stepfunctions"))
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                }
            ],
        }
        role = iam.create_role(RoleName="emotionfy-local", AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("app.py", "# runs in-process: see devstack/lambda_adapter.py\n")
        arns = {}
        for name in [*S3_HANDLERS, *definition.FUNCTIONS.values()]:
            arns[name] = lam.create_function(
                FunctionName=name,
                Runtime=LAMBDA_RUNTIME,
                Role=role,
                Handler=f"app.{name}",
                Code={"ZipFile": code.getvalue()},
                Timeout=900,
                MemorySize=2048,
            )["FunctionArn"]
        s3.create_bucket(Bucket=self.bucket)
        s3.put_bucket_cors(Bucket=self.bucket, CORSConfiguration=bucket_cors(self.cors_origin))
        self._restore_uploads(s3)
        s3.put_bucket_notification_configuration(
            Bucket=self.bucket,
            NotificationConfiguration={
                "LambdaFunctionConfigurations": [
                    {
                        "LambdaFunctionArn": arns[name],
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                    }
                    for name, prefix in S3_HANDLERS.items()
                ]
            },
        )
        asl = definition.render({ph: arns[fn] for ph, fn in definition.FUNCTIONS.items()})
        self.state_machine_arn = sfn.create_state_machine(name=STATE_MACHINE, definition=asl, roleArn=role)[
            "stateMachineArn"
        ]
        os.environ["EMOTIONFY_STATE_MACHINE_ARN"] = self.state_machine_arn
        from chalicelib.deps import deps

        deps.cache_clear()

    def _restore_uploads(self, s3: Any) -> None:
        """Load the objects saved on disk back into moto (before the bucket notifies anyone), then write
        every new object through to disk."""
        if not self.persist_uploads:
            return
        for key, path in self.s3_disk.stored(self.bucket):
            s3.upload_file(str(path), self.bucket, key)
        self.s3_disk.install()

    def run_watchdog_once(self) -> None:
        """What the cloud's schedule does: invoke the `watchdog` function with a scheduled event."""
        self._run_scheduled(WATCHDOG)

    def run_retention_once(self, now: datetime | None = None) -> None:
        """Invoke the `retention` function with a scheduled event due at `now` (the sweep's clock)."""
        self._run_scheduled(RETENTION, now)

    def _run_scheduled(self, name: str, now: datetime | None = None) -> None:
        assert self.app_module is not None, "the stack is running"
        due = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "version": "0",
            "account": "123456789012",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "time": due,
            "region": "us-east-1",
            "resources": [],
            "detail": {},
        }
        getattr(self.app_module, name)(event, LambdaContext(function_name=name))

    def _timer_loop(self, name: str, interval: float) -> None:
        while not self._timers_stop.wait(interval):
            try:
                self._run_scheduled(name)
            except Exception as exc:  # a store is down: the next round tries again
                print(f"{name}: {type(exc).__name__}: {exc}", flush=True)

    def stop(self) -> None:
        if self.site is not None:
            self.site.stop()
            self.site = None
        if self.api is not None:
            self.api.stop()
            self.api = None
        self._timers_stop.set()
        for timer in self._timers:
            timer.join(timeout=30)
        self._timers = []
        self.s3_disk.uninstall()
        if self.lambdas is not None:
            self.lambdas.uninstall()
        if self.moto.server is not None:
            # moto's backends are process-wide: empty them so a later stack in this process starts clean
            requests.post(f"{self.moto.url}/moto-api/reset", timeout=10)
        self.moto.stop()
        self.mongo.stop()
        self.redis.stop()
