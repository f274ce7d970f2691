"""What localstack/init/ready.d/deploy.sh needs, rendered from the same files Terraform reads.

Standard library only (it runs inside the LocalStack container):

    python3 render.py functions                 "key handler Zip|Image" per line (handlers.json)
    python3 render.py name KEY                  the function name of a function key
    python3 render.py schedules                 "key expression" per line: the EventBridge schedules
    python3 render.py environment [SM_ARN] [zip|image]
                                                the functions' environment (`aws lambda --environment`);
                                                `image`: the models where the pipeline image has them
    python3 render.py asl                       the state machine: the one ASL file, ARNs filled in
    python3 render.py openapi API_ARN AUTH_ARN  the REST API (infra/terraform/api_routes.json)
    python3 render.py cors                      the uploads bucket's CORS (`put-bucket-cors`)
    python3 render.py notification              the uploads bucket's notifications
                                                (`put-bucket-notification-configuration`)
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TERRAFORM = ROOT / "infra" / "terraform"
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
ACCOUNT = "000000000000"  # LocalStack's default account
NAME_PREFIX = "emotionfy-local"
# Lambda containers reach LocalStack under this name (LocalStack's DNS); browsers on the host reach the
# same name, which resolves to 127.0.0.1, so presigned URLs work from both sides.
ENDPOINT = "http://localhost.localstack.cloud:4566"
CORS_ORIGIN = os.environ.get("EMOTIONFY_CORS_ORIGIN", "http://localhost:8080")
JWT_SECRET_PARAM = f"/{NAME_PREFIX}/jwt-secret"
MONGODB_URI_PARAM = f"/{NAME_PREFIX}/mongodb-uri"
#: The request headers the web app sends, as modules/api's `allow_headers` (app.py's CORSConfig): the JWT,
#: JSON, and on the viewer page an invite's token and a viewer's withdraw token.
ALLOW_HEADERS = "Authorization,Content-Type,X-Invite-Token,X-Withdraw-Token"
#: The uploads bucket's CORS, as modules/storage: browser uploads (uploads/, content/) and ranged playback.
BUCKET_CORS = {
    "CORSRules": [
        {
            "AllowedOrigins": [CORS_ORIGIN],
            "AllowedMethods": ["GET", "POST", "PUT"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag", "Content-Length", "Content-Range", "Accept-Ranges"],
            "MaxAgeSeconds": 3000,
        }
    ]
}


def handlers() -> dict[str, str]:
    loaded: dict[str, str] = json.loads((TERRAFORM / "handlers.json").read_text())
    return loaded


#: Where each package has the models: the kit's zip carries them in /var/task, the pipeline image (like
#: the cloud, Terraform's app_settings.model_dir) in /opt/model/onnx.
MODEL_DIRS = {"zip": "/var/task/model/onnx", "image": "/opt/model/onnx"}


def package_type(key: str) -> str:
    """The cloud's rule (modules/lambdas `image_functions`): the state machine's functions, pipeline_*,
    run from the container image; the others from the zip."""
    return "Image" if key.startswith("pipeline_") else "Zip"


def function_name(key: str) -> str:
    """The same naming as modules/lambdas: emotionfy-<env>-<key with hyphens>."""
    return f"{NAME_PREFIX}-{key.replace('_', '-')}"


#: The functions the uploads bucket notifies of created objects, by prefix, as modules/storage and app.py's
#: `@app.on_s3_event`: uploads/ are analysed (on_upload); a study's content/ is only recorded on its study,
#: or removed when the study is gone (on_content_upload).
S3_NOTIFICATIONS = {"on_upload": "uploads/", "on_content_upload": "content/"}

#: The scheduled functions and their EventBridge expressions, as app.py's `@app.schedule` and modules/lambdas
#: (tests/test_infra.py checks all three agree).
SCHEDULES = {"watchdog": "rate(5 minutes)", "retention": "rate(1 hour)"}


def function_arn(key: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name(key)}"


def notification() -> dict[str, Any]:
    """The bucket's notification configuration: each S3 handler on its prefix."""
    return {
        "LambdaFunctionConfigurations": [
            {
                "LambdaFunctionArn": function_arn(key),
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
            }
            for key, prefix in S3_NOTIFICATIONS.items()
        ]
    }


def state_machine_arn() -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{NAME_PREFIX}-analysis"


def environment(state_machine: str, package: str = "zip") -> dict[str, str]:
    """The cloud's environment (modules/lambdas), pointed at LocalStack and the redis/mongo containers."""
    return {
        "AWS_ENDPOINT_URL": ENDPOINT,
        "EMOTIONFY_UPLOADS_BUCKET": f"{NAME_PREFIX}-uploads",
        "EMOTIONFY_STATE_MACHINE_ARN": state_machine,
        "MONGODB_URI_PARAM": MONGODB_URI_PARAM,
        "MONGODB_DATABASE": "emotionfy",
        "MONGODB_TIMEOUT_MS": "3000",
        "REDIS_URL": "redis://redis:6379/0",
        "REDIS_TIMEOUT_SECONDS": "2",
        "EMOTIONFY_JWT_SECRET_PARAM": JWT_SECRET_PARAM,
        "EMOTIONFY_ACCESS_TOKEN_SECONDS": "900",
        "EMOTIONFY_REFRESH_TOKEN_SECONDS": "2592000",
        "EMOTIONFY_LOGIN_FAILURES_EMAIL": "5",
        "EMOTIONFY_LOGIN_FAILURES_IP": "20",
        "EMOTIONFY_LOGIN_FAILURES_ACCOUNT": "50",
        "EMOTIONFY_LOGIN_WINDOW_SECONDS": "900",
        "EMOTIONFY_REGISTRATIONS_PER_IP": "20",
        "EMOTIONFY_REGISTRATION_WINDOW_SECONDS": "3600",
        "EMOTIONFY_MAX_UPLOAD_BYTES": "524288000",
        "EMOTIONFY_UPLOAD_URL_SECONDS": "900",
        "EMOTIONFY_MEDIA_URL_SECONDS": "300",
        "EMOTIONFY_STATS_CACHE_SECONDS": "3600",
        "EMOTIONFY_CORS_ORIGIN": CORS_ORIGIN,
        "EMOTIONFY_SITE_URL": CORS_ORIGIN,
        "EMOTIONFY_QUOTA_STORAGE_BYTES": str(10 * 1024**3),
        "EMOTIONFY_QUOTA_VIDEOS_PER_DAY": "50",
        "EMOTIONFY_QUOTA_ANALYSIS_MINUTES_PER_DAY": "180",
        "EMOTIONFY_PENDING_UPLOAD_EXPIRY_SECONDS": "3600",
        "EMOTIONFY_WATCHDOG_STALE_SECONDS": "120",
        "EMOTIONFY_AUTOMATIC_RETRIES": "2",
        "EMOTIONFY_MAP_MAX_CONCURRENCY": "4",
        "EMOTIONFY_REKOGNITION_SAMPLE_FPS": "1",
        "EMOTIONFY_MODEL_DIR": MODEL_DIRS[package],
        "EMOTIONFY_SAMPLE_FPS": "5",
        "EMOTIONFY_SEGMENT_SECONDS": "10",
        "EMOTIONFY_MAX_SEGMENTS": "200",
        "EMOTIONFY_CLASSIFIER": "calibrated",
        "EMOTIONFY_DETECTOR": "blazeface",
        "EMOTIONFY_LANDMARKS": "true",
        "EMOTIONFY_MAX_FRAME_PIXELS": str(4096 * 2304),
        "EMOTIONFY_MAX_VIDEO_SECONDS": "3600",
        "EMOTIONFY_CONSENT_VERSION": "2026-12-01",
        "EMOTIONFY_DEFAULT_RETENTION_DAYS": "30",
        "EMOTIONFY_EXPORT_URL_SECONDS": "3600",
        "EMOTIONFY_EXPORT_MAX_VIDEO_BYTES": str(400 * 1024**2),
        "POWERTOOLS_SERVICE_NAME": "emotionfy",
        "POWERTOOLS_METRICS_NAMESPACE": "Emotionfy",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def asl() -> str:
    """chalicelib/pipeline/state_machine.asl.json rendered by chalicelib's own `definition.render`."""
    sys.path.insert(0, str(ROOT))
    from chalicelib.pipeline import definition

    return definition.render({ph: function_arn(fn) for ph, fn in definition.FUNCTIONS.items()})


def _invoke_uri(arn: str) -> str:
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"


def openapi(api_arn: str, authorizer_arn: str) -> dict[str, Any]:
    """The REST API as modules/api builds it: one resource per Chalice route, the TOKEN authorizer on the
    guarded ones, mock CORS preflights, the gateway responses of infra/terraform/gateway_responses.json."""
    routes = json.loads((TERRAFORM / "api_routes.json").read_text())
    responses = json.loads((TERRAFORM / "gateway_responses.json").read_text())
    allowed_headers = ALLOW_HEADERS
    cors = {
        "Access-Control-Allow-Origin": CORS_ORIGIN,
        "Access-Control-Allow-Headers": allowed_headers,
        "Access-Control-Expose-Headers": "Retry-After",
    }
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path = route["path"]
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"\{([a-z_]+)\}", path)
        ]
        operation: dict[str, Any] = {
            "parameters": parameters,
            "responses": {},
            "x-amazon-apigateway-integration": {
                "type": "aws_proxy",
                "httpMethod": "POST",
                "uri": _invoke_uri(api_arn),
            },
        }
        if route["authorized"]:
            operation["security"] = [{"jwt_auth": []}]
        paths.setdefault(path, {})[route["method"].lower()] = operation
    for operations in paths.values():
        methods = ",".join([m.upper() for m in operations] + ["OPTIONS"])
        preflight = {
            "Access-Control-Allow-Origin": CORS_ORIGIN,
            "Access-Control-Allow-Methods": methods,
            "Access-Control-Allow-Headers": allowed_headers,
            "Access-Control-Max-Age": "600",
        }
        operations["options"] = {
            # API Gateway's import refuses to map a method.response.header the response does not declare.
            "responses": {
                "200": {
                    "description": "CORS preflight",
                    "headers": {name: {"schema": {"type": "string"}} for name in preflight},
                }
            },
            "x-amazon-apigateway-integration": {
                "type": "mock",
                "requestTemplates": {"application/json": '{"statusCode": 200}'},
                "responses": {
                    "default": {
                        "statusCode": "200",
                        "responseParameters": {
                            f"method.response.header.{name}": f"'{value}'"
                            for name, value in preflight.items()
                        },
                    }
                },
            },
        }
    gateway_responses = {
        kind: {
            **({"statusCode": spec["status"]} if spec["status"] else {}),
            "responseParameters": {
                f"gatewayresponse.header.{name}": f"'{value}'"
                for name, value in {**cors, **spec["headers"]}.items()
            },
            "responseTemplates": {"application/json": spec["template"]},
        }
        for kind, spec in responses.items()
    }
    return {
        "openapi": "3.0.1",
        "info": {"title": NAME_PREFIX, "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "jwt_auth": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "custom",
                    "x-amazon-apigateway-authorizer": {
                        "type": "token",
                        "authorizerUri": _invoke_uri(authorizer_arn),
                        "authorizerResultTtlInSeconds": 0,
                    },
                }
            }
        },
        "x-amazon-apigateway-gateway-responses": gateway_responses,
    }


def main(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("", [])
    if command == "functions":
        for key, handler in handlers().items():
            print(key, handler, package_type(key))
    elif command == "environment" and len(args) <= 2 and args[1:] in ([], ["zip"], ["image"]):
        package = args[1] if len(args) == 2 else "zip"
        print(
            json.dumps(
                {"Variables": environment(args[0] if args and args[0] else state_machine_arn(), package)}
            )
        )
    elif command == "asl":
        print(asl())
    elif command == "openapi" and len(args) == 2:
        print(json.dumps(openapi(args[0], args[1]), indent=1))
    elif command == "name" and len(args) == 1:
        print(function_name(args[0]))
    elif command == "cors":
        print(json.dumps(BUCKET_CORS))
    elif command == "notification":
        print(json.dumps(notification()))
    elif command == "schedules":
        for key, expression in SCHEDULES.items():
            print(key, expression)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
