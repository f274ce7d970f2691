"""The deployment code (infra/terraform, localstack/) agrees with the application, offline.

Nothing here talks to AWS, Atlas or Docker: Terraform files are parsed with python-hcl2, scanned by checkov
(from .venv-tools, see the Makefile), and compared with what app.py, chalicelib and devstack define. With the
Terraform binary and a local mirror of the AWS provider, the files' formatting is checked and the dev
environment is planned against mocked AWS. Neither comes from a package registry this project can reach
(PyPI, npm and Debian have no Terraform or OpenTofu build that runs `terraform test`): this kind of machine
ships them (/usr/local/bin/terraform, the provider in /opt/tf-plugins). In CI (`CI` set) their absence is a
failure, never a skip; elsewhere those tests are skipped saying what is missing.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
from chalice.app import S3EventConfig, ScheduledEventConfig
from hcl2.utils import SerializationOptions

ROOT = Path(__file__).resolve().parents[1]
TERRAFORM = ROOT / "infra" / "terraform"
MODULES = TERRAFORM / "modules"
DEV = TERRAFORM / "environments" / "dev"
LOCALSTACK = ROOT / "localstack"
HANDLERS_FILE = TERRAFORM / "handlers.json"
ROUTES_FILE = TERRAFORM / "api_routes.json"
GATEWAY_RESPONSES_FILE = TERRAFORM / "gateway_responses.json"
TF_FILES = sorted(TERRAFORM.rglob("*.tf"))

#: Lambda sets these itself (setting them is refused); the code falls back from one to the other.
LAMBDA_PROVIDED = {"AWS_REGION", "AWS_DEFAULT_REGION"}
#: Read by the code only on the local stack: its S3/AWS emulator, and how often it runs the watchdog and the
#: retention sweep (in the cloud EventBridge schedules do).
LOCAL_ONLY = {
    "AWS_ENDPOINT_URL",
    "EMOTIONFY_WATCHDOG_INTERVAL_SECONDS",
    "EMOTIONFY_RETENTION_INTERVAL_SECONDS",
}
#: A secret may come by value or by the name of its SSM parameter.
SECRET_ALTERNATIVES = {
    "EMOTIONFY_JWT_SECRET": "EMOTIONFY_JWT_SECRET_PARAM",
    "MONGODB_URI": "MONGODB_URI_PARAM",
}
SKIP_COMMENT = re.compile(r"#\s*checkov:skip=(?P<check>[A-Z0-9_]+)(?P<rest>.*)$")

_HCL = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)


@cache
def _load(path: Path) -> dict[str, Any]:
    with path.open() as f:
        return dict(hcl2.load(f, serialization_options=_HCL))


def _locals(path: Path) -> dict[str, Any]:
    return {key: value for block in _load(path).get("locals", []) for key, value in block.items()}


def _resources(path: Path, kind: str) -> dict[str, Any]:
    return {
        name: body for block in _load(path).get("resource", []) for name, body in block.get(kind, {}).items()
    }


def _modules(path: Path) -> dict[str, Any]:
    return {name: body for block in _load(path).get("module", []) for name, body in block.items()}


def _settings_read() -> set[str]:
    """Every environment variable chalicelib/settings.py reads (the pattern tests/test_settings.py uses)."""
    source = (ROOT / "chalicelib" / "settings.py").read_text()
    names = set(re.findall(r"""_env(?:_int|_float)?\(\s*"([A-Z0-9_]+)\"""", source))
    names |= set(re.findall(r"""os\.environ\.get\(\s*"([A-Z0-9_]+)\"""", source))
    assert len(names) > 20, "too few settings found: the pattern is out of date"
    return names


def _missing_settings(environment: set[str]) -> set[str]:
    provided = environment | LAMBDA_PROVIDED
    missing = set()
    for name in _settings_read() - LOCAL_ONLY:
        if name in provided or (name in SECRET_ALTERNATIVES and SECRET_ALTERNATIVES[name] in provided):
            continue
        if name in SECRET_ALTERNATIVES.values() and any(
            k in provided for k, v in SECRET_ALTERNATIVES.items()
        ):
            continue
        missing.add(name)
    return missing


def _handlers() -> dict[str, str]:
    handlers: dict[str, str] = json.loads(HANDLERS_FILE.read_text())
    return handlers


# --- syntax, providers, documentation ------------------------------------------------------------------


def test_there_is_terraform_to_check() -> None:
    assert len(TF_FILES) >= 30, TF_FILES
    assert {p.name for p in MODULES.iterdir()} >= {
        "storage",
        "lambdas",
        "pipeline",
        "api",
        "site",
        "network",
        "redis",
        "atlas",
        "secrets",
        "monitoring",
    }


@pytest.mark.parametrize("path", TF_FILES, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_terraform_file_parses(path: Path) -> None:
    with path.open() as f:
        hcl2.load(f)


@pytest.mark.parametrize("directory", [*sorted(MODULES.iterdir()), DEV], ids=lambda p: p.name)
def test_module_pins_providers_and_documents_inputs_and_outputs(directory: Path) -> None:
    pins = {"aws": "~> 5.", "mongodbatlas": "~> 1.", "random": "~> 3."}
    versions = _load(directory / "versions.tf")["terraform"][0]
    assert versions["required_version"].startswith(">= 1."), versions
    providers = {name: spec for block in versions["required_providers"] for name, spec in block.items()}
    assert "aws" in providers
    for name, spec in providers.items():
        assert spec["version"].startswith(pins[name]), (name, spec)
    used = {
        m.group(1) for p in directory.glob("*.tf") for m in re.finditer(r'resource "([a-z]+)_', p.read_text())
    }
    assert used <= set(providers), f"{directory.name} uses providers it does not pin: {used - set(providers)}"
    for kind in ("variable", "output"):
        blocks = [
            (name, body)
            for p in directory.glob("*.tf")
            for block in _load(p).get(kind, [])
            for name, body in block.items()
        ]
        assert blocks or kind == "output", f"{directory.name} has no {kind}s"
        undocumented = [name for name, body in blocks if not str(body.get("description", "")).strip()]
        assert not undocumented, f"{directory.name}: {kind}s without a description: {undocumented}"


def test_dev_environment_tags_everything_and_keeps_its_backend_commented() -> None:
    text = (DEV / "versions.tf").read_text()
    assert re.search(r"^\s*#\s*backend \"s3\"", text, re.MULTILINE), "the example backend is documented"
    assert not re.search(r"^\s*backend ", text, re.MULTILINE), "no live backend in the example"
    provider = _load(DEV / "versions.tf")["provider"]
    aws = next(block["aws"] for block in provider if "aws" in block)
    assert aws["default_tags"][0]["tags"] == "${local.tags}"
    assert set(_locals(DEV / "main.tf")["tags"]) >= {"project", "environment"}
    assert (DEV / "terraform.tfvars.example").is_file()


# --- checkov -------------------------------------------------------------------------------------------


def _checkov() -> str:
    for candidate in (ROOT / ".venv-tools" / "bin" / "checkov", shutil.which("checkov")):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.fail(
        "checkov is not installed: `python3 -m venv .venv-tools && .venv-tools/bin/pip install checkov` "
        "(kept apart from .venv because it pins many packages)"
    )


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    command = [_checkov(), "-d", str(TERRAFORM), "--framework", "terraform", "-o", "json", "--compact"]
    command += ["--skip-download"]  # offline: no Prisma Cloud guidelines or severities
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"checkov printed no JSON (exit {run.returncode}):\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}"
        )
    reports = report if isinstance(report, list) else [report]
    assert [r["check_type"] for r in reports] == ["terraform"], [r.get("check_type") for r in reports]
    result: dict[str, Any] = reports[0]
    return result


def test_checkov_reports_no_failed_check(checkov_report: dict[str, Any]) -> None:
    summary = checkov_report["summary"]
    failed = [
        f"{f['check_id']} {f['resource']} ({f['file_path']}): {f['check_name']}"
        for f in checkov_report["results"]["failed_checks"]
    ]
    assert not failed, "checkov failed checks (fix them, or skip inline with a reason):\n" + "\n".join(failed)
    assert summary["failed"] == 0 and summary["parsing_errors"] == 0, summary
    assert summary["passed"] > 100 and summary["resource_count"] > 50, summary


def _skip_comments() -> Iterator[tuple[Path, int, str, str]]:
    for path in TF_FILES:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "checkov:skip" in line:
                match = SKIP_COMMENT.search(line)
                yield path, number, match["check"] if match else "", match["rest"] if match else line


def test_every_checkov_skip_is_inline_with_a_reason() -> None:
    skips = list(_skip_comments())
    assert skips, "no inline skips found: the pattern is out of date"
    bad = [
        f"{path.relative_to(ROOT)}:{number}: {check or '?'}{rest}"
        for path, number, check, rest in skips
        if not re.fullmatch(r"CKV2?_AWS_\d+", check) or not re.fullmatch(r":\s*\S.{14,}", rest.rstrip())
    ]
    assert not bad, "write skips as `#checkov:skip=CKV_AWS_123: why it does not apply`:\n" + "\n".join(bad)


def test_every_checkov_skip_is_still_needed(checkov_report: dict[str, Any]) -> None:
    skipped = {s["check_id"] for s in checkov_report["results"].get("skipped_checks", [])}
    stale = [
        f"{p.relative_to(ROOT)}:{n}: {check}" for p, n, check, _ in _skip_comments() if check not in skipped
    ]
    assert not stale, "skips that match no resource any more (remove them):\n" + "\n".join(stale)
    assert checkov_report["summary"]["skipped"] == len(checkov_report["results"]["skipped_checks"])


# --- the functions -------------------------------------------------------------------------------------


def test_handlers_are_exactly_the_apps_functions() -> None:
    import app

    chalice = app.app
    handlers = _handlers()
    expected = {"api": "app.app"}
    expected |= {"authorizer": chalice.builtin_auth_handlers[0].handler_string}
    expected |= {f.name: f.handler_string for f in chalice.pure_lambda_functions}
    expected |= {e.name: e.handler_string for e in chalice.event_sources}
    assert len(chalice.builtin_auth_handlers) == 1, "one authorizer: handlers.json has one 'authorizer' key"
    assert handlers == expected
    for handler in handlers.values():
        module, _, attribute = handler.partition(".")
        assert module == "app" and callable(getattr(app, attribute, None)), handler


def test_lambdas_module_builds_one_function_and_role_per_handler() -> None:
    main = MODULES / "lambdas" / "main.tf"
    assert _locals(main)["handlers"] == "${jsondecode(file(var.handlers_file))}"
    for kind in ("aws_lambda_function", "aws_iam_role", "aws_iam_role_policy", "aws_cloudwatch_log_group"):
        (resource,) = _resources(main, kind).values()
        assert resource["for_each"] == "${local.handlers}", kind
    function = _resources(main, "aws_lambda_function")["this"]
    assert function["tracing_config"][0]["mode"] == "Active"
    assert function["vpc_config"][0]["subnet_ids"] == "${var.subnet_ids}"
    assert function["environment"][0]["variables"] == "${local.environment}"
    assert _modules(DEV / "main.tf")["lambdas"]["handlers_file"] == "${local.tf}/handlers.json"
    variables = {
        n: b for block in _load(MODULES / "lambdas" / "variables.tf")["variable"] for n, b in block.items()
    }
    for tuning in ("memory_mb", "timeout_seconds", "reserved_concurrency"):
        assert set(variables[tuning]["default"]) == set(_handlers()), tuning
    # Reserving concurrency needs quota new accounts lack (10, of which Lambda keeps 100 unreserved):
    # nothing is reserved by default, and the variables say what setting it needs.
    assert set(variables["reserved_concurrency"]["default"].values()) == {-1}
    assert "Service Quotas" in variables["reserved_concurrency"]["description"]
    function = _resources(MODULES / "lambdas" / "main.tf", "aws_lambda_function")["this"]
    assert function["reserved_concurrent_executions"] == (
        "${coalesce(lookup(var.reserved_concurrency, each.key, -1), -1)}"
    ), "a null reservation (the dev default) means unreserved"
    dev_variables = {n: b for block in _load(DEV / "variables.tf")["variable"] for n, b in block.items()}
    segment = dev_variables["segment_concurrency"]
    assert segment["default"] is None and "Service Quotas" in segment["description"]
    assert not re.search(r"^segment_concurrency", (DEV / "terraform.tfvars.example").read_text(), re.M)
    assert variables["timeout_seconds"]["default"]["api"] < 29, "API Gateway gives up after 29 s"


IMAGE = "contains(local.image_functions, each.key)"


def test_pipeline_functions_run_from_the_image_and_the_others_from_the_zip() -> None:
    """The four state-machine functions import the engine (288.7 MB with the models, over a zip function's
    250 MB: layers/onnx-runtime/README.md) and run from one container image, each with its handler from
    handlers.json as the image's command; the API, authorizer and on_upload run from the zip. No layer."""
    from chalicelib.pipeline import definition

    main = MODULES / "lambdas" / "main.tf"
    image_functions = _locals(main)["image_functions"]
    assert image_functions == (
        '${toset([for key, _ in local.handlers : key if startswith(key, "pipeline_")])}'
    )
    pipeline = {key for key in _handlers() if key.startswith("pipeline_")}
    assert pipeline == set(definition.FUNCTIONS.values()), "the image runs exactly the state machine's tasks"
    assert {"api", "authorizer", "on_upload", "on_content_upload", "watchdog", "retention"} == (
        set(_handlers()) - pipeline
    )

    function = _resources(main, "aws_lambda_function")["this"]
    assert function["package_type"] == f'${{{IMAGE} ? "Image" : "Zip"}}'
    assert function["image_uri"] == f"${{{IMAGE} ? var.pipeline_image_uri : null}}"
    image_config = function["dynamic"][0]["image_config"]
    assert image_config["for_each"] == f"${{{IMAGE} ? [each.value] : []}}", "command = the handler"
    assert image_config["content"][0]["command"] == ["${image_config.value}"]
    assert function["handler"] == f"${{{IMAGE} ? null : each.value}}"
    assert function["runtime"] == f"${{{IMAGE} ? null : var.runtime}}"
    for attribute in ("s3_bucket", "s3_key", "source_code_hash"):
        assert function[attribute].startswith(f"${{{IMAGE} ? null : "), attribute
    assert "layers" not in function
    assert not _resources(main, "aws_lambda_layer_version"), "no layer any more"
    tf_text = "\n".join(p.read_text() for p in TF_FILES)
    assert "aws_lambda_layer_version" not in tf_text and "layer_zip" not in tf_text
    assert not re.search(r"^\s*layers\s*=", tf_text, re.MULTILINE), "no function attaches a layer"

    lambdas = _modules(DEV / "main.tf")["lambdas"]
    assert lambdas["pipeline_image_uri"] == "${var.pipeline_image_uri}"


def test_registry_keeps_the_pipeline_image_scanned_immutable_and_encrypted() -> None:
    main = MODULES / "registry" / "main.tf"
    repository = _resources(main, "aws_ecr_repository")["pipeline"]
    assert repository["image_tag_mutability"] == "IMMUTABLE"
    assert repository["image_scanning_configuration"][0]["scan_on_push"] is True
    encryption = repository["encryption_configuration"][0]
    assert encryption == {"encryption_type": "KMS", "kms_key": "${var.kms_key_arn}"}
    lifecycle = _resources(main, "aws_ecr_lifecycle_policy")["pipeline"]
    assert lifecycle["repository"] == "${aws_ecr_repository.pipeline.name}"
    assert "imageCountMoreThan" in lifecycle["policy"] and "var.keep_images" in lifecycle["policy"]
    policy = _resources(main, "aws_ecr_repository_policy")["pipeline"]["policy"]
    assert "lambda.amazonaws.com" in policy and "aws:sourceArn" in policy
    registry = _modules(DEV / "main.tf")["registry"]
    assert registry["kms_key_arn"] == "${module.kms.key_arn}"


def test_lambda_environment_sets_every_setting_the_code_reads() -> None:
    environment = set(_locals(MODULES / "lambdas" / "main.tf")["environment"])
    assert "AWS_ENDPOINT_URL" not in environment, "the cloud uses AWS's own endpoints"
    assert not environment & LAMBDA_PROVIDED, "Lambda refuses reserved variables"
    for secret, parameter in SECRET_ALTERNATIVES.items():
        assert secret not in environment, f"{secret} travels by SSM parameter name ({parameter})"
        assert parameter in environment
    assert not _missing_settings(environment), _missing_settings(environment)
    ours = {n for n in environment if n.startswith(("EMOTIONFY_", "MONGODB_", "REDIS_"))}
    assert ours <= _settings_read(), f"set but never read: {ours - _settings_read()}"


# --- IAM: what each function's code calls, against what its role's policy grants -----------------------

ACCOUNT, REGION = "123456789012", "us-east-1"
MACHINE = "emotionfy-test-analysis"
BUCKET_ARN = "arn:aws:s3:::emotionfy-test-uploads"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
JWT_PARAMETER = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/emotionfy-test/jwt-secret"
MONGODB_PARAMETER = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/emotionfy-test/mongodb-uri"
MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{MACHINE}"
EXECUTION_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{MACHINE}:video-0123"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:emotionfy-test-on-upload-failures"
CONTENT_QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:emotionfy-test-on-content-upload-failures"
#: What the module's references stand for here (anything else in a policy fails the evaluation).
IAM_REFERENCES = {
    "data.aws_caller_identity.current.account_id": ACCOUNT,
    "data.aws_region.current.name": REGION,
    "data.aws_partition.current.partition": "aws",
    "var.uploads_bucket_arn": BUCKET_ARN,
    "var.kms_key_arn": KEY_ARN,
    "var.jwt_secret_parameter_arn": JWT_PARAMETER,
    "var.mongodb_uri_parameter_arn": MONGODB_PARAMETER,
    "var.state_machine_name": MACHINE,
    "aws_sqs_queue.on_upload_failures.arn": QUEUE_ARN,
    "aws_sqs_queue.on_content_upload_failures.arn": CONTENT_QUEUE_ARN,
}


def _log_group_arn(key: str) -> str:
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/emotionfy-test-{key.replace('_', '-')}"


USER, VIDEO, STUDY = "u_0123456789abcdef01234567", "0123456789abcdef0123456789abcdef", "f" * 32
#: Where a study's content lives (chalicelib/studies/content.py): content/{owner}/{study_id}/{file}.
CONTENT_PREFIX = "content/"


def _sample_objects() -> tuple[str, str, str]:
    from chalicelib import uploads
    from chalicelib.storage import bucket

    upload = uploads.upload_key(USER, VIDEO, "clip.mp4")
    assert uploads.parse_upload_key(upload), upload
    export = bucket.export_key(USER, "20261201T200000Z-0123456789abcdef")
    return f"{BUCKET_ARN}/{upload}", f"{BUCKET_ARN}/{uploads.segment_key(VIDEO, 3)}", f"{BUCKET_ARN}/{export}"


def _sample_content() -> str:
    from chalicelib.studies import content

    assert content.CONTENT_PREFIX == CONTENT_PREFIX
    key = content.content_key(USER, STUDY, "trailer.mp4")
    assert key.startswith(content.study_prefix(USER, STUDY)) and key.startswith(content.owner_prefix(USER))
    return f"{BUCKET_ARN}/{key}"


#: (what the code does, IAM action, resource it acts on[, the request's condition keys, e.g. s3:prefix])
Call = tuple[str, str, str] | tuple[str, str, str, dict[str, str]]


def _calls() -> dict[str, list[Call]]:
    """Per function key, the AWS calls its code makes (chalicelib/, app.py) as (call, action, resource)."""
    from chalicelib import uploads
    from chalicelib.storage import bucket
    from chalicelib.studies import content as study_content

    upload, segment, export = _sample_objects()
    content = _sample_content()
    upload_key = upload.removeprefix(f"{BUCKET_ARN}/")
    mongodb: list[Call] = [
        ("Deps.db: ssm get_parameter(MONGODB_URI_PARAM, decrypt)", "ssm:GetParameter", MONGODB_PARAMETER),
        ("Deps.db: the SecureString's key", "kms:Decrypt", KEY_ARN),
    ]
    jwt: list[Call] = [
        ("Deps.jwt_secret: ssm get_parameter(JWT_SECRET_PARAM)", "ssm:GetParameter", JWT_PARAMETER),
        ("Deps.jwt_secret: the SecureString's key", "kms:Decrypt", KEY_ARN),
    ]
    read_upload: list[Call] = [
        ("presigned GET of the upload (the engine streams it)", "s3:GetObject", upload),
        ("SSE-KMS upload", "kms:Decrypt", KEY_ARN),
    ]
    retire_source: list[Call] = [
        (
            "storage.bucket.purge: list_object_versions of a source",
            "s3:ListBucketVersions",
            BUCKET_ARN,
            {"s3:prefix": upload_key},
        ),
        ("storage.bucket.purge: delete_objects of its versions", "s3:DeleteObjectVersion", upload),
        ("storage.bucket.set_retention_tag: put_object_tagging", "s3:PutObjectTagging", upload),
        ("storage.bucket.set_retention_tag: delete_object_tagging (kept)", "s3:DeleteObjectTagging", upload),
    ]
    return {
        "api": [
            *jwt,
            *mongodb,
            ("uploads.presigned_post: generate_presigned_post", "s3:PutObject", upload),
            ("uploads.presigned_put: generate_presigned_url(put_object)", "s3:PutObject", upload),
            ("presigned POST/PUT into the SSE-KMS bucket", "kms:GenerateDataKey", KEY_ARN),
            ("uploads.presigned_get: generate_presigned_url(get_object)", "s3:GetObject", upload),
            ("video_library._uploaded: head_object", "s3:GetObject", upload),
            (
                "video_library.delete_video: purge(list_object_versions) of the upload",
                "s3:ListBucketVersions",
                BUCKET_ARN,
                {"s3:prefix": upload_key},
            ),
            ("video_library.delete_video: purge of the upload's versions", "s3:DeleteObjectVersion", upload),
            (
                "video_library.delete_video: purge(list_object_versions) of segments/{video}/",
                "s3:ListBucketVersions",
                BUCKET_ARN,
                {"s3:prefix": uploads.segments_prefix(VIDEO)},
            ),
            (
                "video_library.delete_video: purge of the segment results' versions",
                "s3:DeleteObjectVersion",
                segment,
            ),
            ("uploads.delete_prefix: list_objects_v2(segments/)", "s3:ListBucket", BUCKET_ARN),
            ("uploads.delete_prefix: delete_objects(segments/)", "s3:DeleteObject", segment),
            ("app /health: head_bucket", "s3:ListBucket", BUCKET_ARN),
            ("video_library.retry_video: start_execution", "states:StartExecution", MACHINE_ARN),
            ("video_library.delete_video: stop_execution", "states:StopExecution", EXECUTION_ARN),
            (
                "video_library._execution_running: describe_execution",
                "states:DescribeExecution",
                EXECUTION_ARN,
            ),
            *retire_source,  # PUT /account/settings; DELETE /account purges the uploads
            (
                "privacy.erase: purge of uploads/{user}/",
                "s3:ListBucketVersions",
                BUCKET_ARN,
                {"s3:prefix": bucket.user_uploads_prefix(USER)},
            ),
            (
                "privacy.erase: purge of segments/{video}/",
                "s3:ListBucketVersions",
                BUCKET_ARN,
                {"s3:prefix": uploads.segments_prefix(VIDEO)},
            ),
            ("privacy.erase: purge of segments/{video}/", "s3:DeleteObjectVersion", segment),
            ("privacy.export: put_object of the zip", "s3:PutObject", export),
            ("privacy.export: presigned GET of the zip", "s3:GetObject", export),
            ("privacy.export: get_object of a source (videos=true)", "s3:GetObject", upload),
            (
                "privacy.erase: purge of exports/{user}/",
                "s3:ListBucketVersions",
                BUCKET_ARN,
                {"s3:prefix": bucket.user_exports_prefix(USER)},
            ),
            ("privacy.erase: purge of exports/{user}/", "s3:DeleteObjectVersion", export),
            # Studies: the content an audience watches, content/{owner}/{study}/{file}.
            ("studies.content.upload_requests: presigned POST", "s3:PutObject", content),
            ("studies.content.upload_requests: presigned PUT", "s3:PutObject", content),
            ("studies.content.playback: presigned GET (creator, invite)", "s3:GetObject", content),
            ("studies.content.in_bucket: head_object (content.uploaded)", "s3:GetObject", content),
            ("privacy.export: get_object of a study's content (videos=true)", "s3:GetObject", content),
            (
                "studies.content.delete: purge of content/{owner}/{study}/",
                "s3:ListBucketVersions",
                BUCKET_ARN,
                {"s3:prefix": study_content.study_prefix(USER, STUDY)},
            ),
            (
                "privacy.erase: purge of content/{owner}/",
                "s3:ListBucketVersions",
                BUCKET_ARN,
                {"s3:prefix": study_content.owner_prefix(USER)},
            ),
            ("purge of the content: delete_objects of its versions", "s3:DeleteObjectVersion", content),
        ],
        "authorizer": jwt,
        "on_upload": [
            *mongodb,
            ("pipeline.start.start_execution", "states:StartExecution", MACHINE_ARN),
            (
                "pipeline.start: purge of an orphaned upload",
                "s3:ListBucketVersions",
                BUCKET_ARN,
                {"s3:prefix": upload_key},
            ),
            ("pipeline.start: purge of an orphaned upload", "s3:DeleteObjectVersion", upload),
            ("on-failure destination (Lambda sends as the function)", "sqs:SendMessage", QUEUE_ARN),
            ("the failure queue is SSE-KMS", "kms:GenerateDataKey", KEY_ARN),
        ],
        # A study's content arrived: MongoDB only (the event carries the size), or the purge of a file whose
        # study is gone (studies.content_events). Nothing read, written or started.
        "on_content_upload": [
            *mongodb,
            (
                "studies.content_events: purge of an orphaned content file",
                "s3:ListBucketVersions",
                BUCKET_ARN,
                {"s3:prefix": content.removeprefix(f"{BUCKET_ARN}/")},
            ),
            ("studies.content_events: purge of an orphaned content file", "s3:DeleteObjectVersion", content),
            ("on-failure destination (Lambda sends as the function)", "sqs:SendMessage", CONTENT_QUEUE_ARN),
            ("the failure queue is SSE-KMS", "kms:GenerateDataKey", KEY_ARN),
        ],
        "pipeline_probe": [*mongodb, *read_upload],
        "pipeline_analyze_segment": [
            *mongodb,
            *read_upload,
            ("steps: put_object of the segment's results", "s3:PutObject", segment),
            ("SSE-KMS results", "kms:GenerateDataKey", KEY_ARN),
            (
                "engine.rekognition: detect_faces (no resource-level permissions)",
                "rekognition:DetectFaces",
                "*",
            ),
        ],
        "pipeline_merge": [
            *mongodb,
            ("steps: get_object of each segment's results", "s3:GetObject", segment),
            ("SSE-KMS results", "kms:Decrypt", KEY_ARN),
            *retire_source,  # privacy.retention.after_analysis
        ],
        "pipeline_mark_failed": mongodb,
        "watchdog": [
            *mongodb,
            (
                "pipeline.watchdog: describe_execution of a stuck video's analysis",
                "states:DescribeExecution",
                EXECUTION_ARN,
            ),
            ("pipeline.watchdog: start_execution to analyse it again", "states:StartExecution", MACHINE_ARN),
            ("pipeline.watchdog: head_object of an upload", "s3:GetObject", upload),
            ("pipeline.watchdog: list_objects_v2 of uploads/ and segments/", "s3:ListBucket", BUCKET_ARN),
            ("pipeline.watchdog: delete_object of an abandoned upload", "s3:DeleteObject", upload),
            ("pipeline.watchdog: delete_objects of orphaned segment results", "s3:DeleteObject", segment),
        ],
        "retention": [
            *mongodb,
            *retire_source,
            ("privacy.retention.sweep: list_objects_v2 of exports/", "s3:ListBucket", BUCKET_ARN),
            (
                "privacy.retention.sweep: purge of an expired export",
                "s3:ListBucketVersions",
                BUCKET_ARN,
                {"s3:prefix": export.removeprefix(f"{BUCKET_ARN}/")},
            ),
            ("privacy.retention.sweep: purge of an expired export", "s3:DeleteObjectVersion", export),
        ],
    }


def _common_calls(key: str) -> list[Call]:
    """What every function does: its logs, X-Ray, and its network interfaces in the VPC."""
    vpc = [
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    ]
    stream = f"{_log_group_arn(key)}:log-stream:2026/01/01/[$LATEST]0123"
    return [
        ("Lambda logging", "logs:CreateLogStream", stream),
        ("Lambda logging", "logs:PutLogEvents", stream),
        ("active tracing", "xray:PutTraceSegments", "*"),
        ("active tracing", "xray:PutTelemetryRecords", "*"),
        *[("VPC attachment", action, "*") for action in vpc],
    ]


def _split_arguments(text: str) -> list[str]:
    """The top-level comma-separated parts of an HCL argument list."""
    parts, depth, quoted, start = [], 0, False, 0
    for index, char in enumerate(text):
        if char == '"' and text[index - 1] != "\\":
            quoted = not quoted
        elif not quoted and char in "([{":
            depth += 1
        elif not quoted and char in ")]}":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            parts.append(text[start:index])
            start = index + 1
    return [p.strip() for p in [*parts, text[start:]] if p.strip()]


def _closing_brace(text: str, opening: int) -> int:
    """The index of the bracket closing the one at `opening` (brackets inside strings do not count)."""
    depth, quoted = 0, False
    for index in range(opening, len(text)):
        char = text[index]
        if char == '"' and text[index - 1] != "\\":
            quoted = not quoted
        elif not quoted and char in "([{":
            depth += 1
        elif not quoted and char in ")]}":
            depth -= 1
            if depth == 0:
                return index
    raise AssertionError(f"unbalanced: {text}")


class _PolicyEvaluator:
    """Evaluates the lambdas module's policy expressions for one function key (the subset of HCL they use:
    jsonencode, concat, literals, local.X, local.X[each.key] and the references in IAM_REFERENCES)."""

    def __init__(self, main: Path, key: str, statements: dict[str, Any] | None = None) -> None:
        self.locals = _locals(main)
        if statements is not None:
            self.locals = {**self.locals, "statements": statements}
        self.key = key
        self.references = {
            **IAM_REFERENCES,
            "aws_cloudwatch_log_group.this[each.key].arn": _log_group_arn(key),
        }

    def value(self, node: Any) -> Any:
        if isinstance(node, dict):
            return {k: self.value(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.value(v) for v in node]
        if not isinstance(node, str) or "${" not in node:
            return node
        if node.startswith("${") and _closing_brace(node, 1) == len(node) - 1:
            return self.expression(node[2:-1])
        return re.sub(r"\$\{([^{}]+)\}", lambda m: str(self.expression(m[1])), node)

    def expression(self, text: str) -> Any:
        text = text.strip()
        call = re.fullmatch(r"(jsonencode|concat)\((.*)\)", text, re.S)
        if call:
            arguments = [self.expression(a) for a in _split_arguments(call[2])]
            if call[1] == "jsonencode":
                return arguments[0]
            return [item for argument in arguments for item in argument]
        if text[:1] in "[{":
            return self.value(hcl2.loads(f"x = {text}\n", serialization_options=_HCL)["x"])
        local = re.fullmatch(r"local\.(\w+)(\[each\.key\])?", text)
        if local:
            value = self.value(self.locals[local[1]])
            return value[self.key] if local[2] else value
        assert text in self.references, f"the IAM test cannot evaluate `{text}`: add it to IAM_REFERENCES"
        return self.references[text]


def _policy_statements(key: str, statements: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The statements of `key`'s role policy, as Terraform would render them (resources made concrete)."""
    main = MODULES / "lambdas" / "main.tf"
    policy = _resources(main, "aws_iam_role_policy")["this"]["policy"]
    document = _PolicyEvaluator(main, key, statements).value(policy)
    assert document["Version"] == "2012-10-17"
    result: list[dict[str, Any]] = document["Statement"]
    return result


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _condition_holds(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    """IAM's StringEquals/StringLike: every key must be in the request and match one of its values (a key
    the request lacks fails, as IAM's does)."""
    for operator, keys in condition.items():
        assert operator in ("StringEquals", "StringLike"), f"the IAM test cannot evaluate {operator}"
        for key, values in keys.items():
            if key not in context:
                return False
            match = fnmatch.fnmatchcase if operator == "StringLike" else str.__eq__
            if not any(match(context[key], value) for value in _as_list(values)):
                return False
    return True


def _grants(
    statements: list[dict[str, Any]], action: str, resource: str, context: dict[str, str] | None = None
) -> bool:
    for statement in statements:
        assert statement["Effect"] == "Allow", statement
        assert not {"NotAction", "NotResource"} & set(statement), f"unsupported: {statement}"
        actions = _as_list(statement["Action"])
        resources = _as_list(statement["Resource"])
        if (
            any(fnmatch.fnmatchcase(action, a) for a in actions)
            and any(fnmatch.fnmatchcase(resource, r) for r in resources)
            and _condition_holds(statement.get("Condition", {}), context or {})
        ):
            return True
    return False


def _iam_problems(statements: dict[str, Any] | None = None) -> list[str]:
    """Calls a function makes that its role does not allow, and actions it is allowed but never uses."""
    problems = []
    for key, calls in _calls().items():
        calls = [*_common_calls(key), *calls]
        policy = _policy_statements(key, statements)
        problems += [
            f"{key}: {call} needs {action} on {resource}" + (f" with {rest[0]}" if rest else "")
            for call, action, resource, *rest in calls
            if not _grants(policy, action, resource, rest[0] if rest else None)
        ]
        used = {call[1] for call in calls}
        granted = {a for s in policy for a in _as_list(s["Action"])}
        problems += [f"{key}: granted {action}, which its code never calls" for action in granted - used]
    return problems


def test_iam_grants_each_function_exactly_the_calls_its_code_makes() -> None:
    main = MODULES / "lambdas" / "main.tf"
    assert set(_locals(main)["statements"]) == set(_handlers()) == set(_calls())
    assert not _iam_problems(), "\n".join(_iam_problems())
    sids = [str(s.get("Sid", "")) for key in _handlers() for s in _policy_statements(key)]
    assert all(re.fullmatch(r"[A-Za-z0-9]+", s) for s in sids), f"every statement has a Sid: {sids}"


def test_iam_check_notices_a_missing_permission() -> None:
    """The table is not vacuous: dropping states:DescribeExecution from the API's role is reported."""
    statements = copy.deepcopy(_locals(MODULES / "lambdas" / "main.tf")["statements"])
    for statement in statements["api"]:
        if isinstance(statement, dict) and "states:DescribeExecution" in statement["Action"]:
            statement["Action"].remove("states:DescribeExecution")
    problems = _iam_problems(statements)
    assert problems == [
        "api: video_library._execution_running: describe_execution needs states:DescribeExecution on "
        + EXECUTION_ARN
    ], problems


def test_flow_logs_role_has_what_vpc_flow_logs_needs() -> None:
    """VPC Flow Logs writes streams into the pre-created group and looks groups up (DescribeLogGroups);
    it needs no CreateLogGroup while the module creates the group itself."""
    main = MODULES / "network" / "main.tf"
    policy = _resources(main, "aws_iam_role_policy")["flow_logs"]["policy"]
    document = hcl2.loads(f"x = {policy[len('${jsonencode(') : -2]}\n", serialization_options=_HCL)["x"]
    grants = {action: s["Resource"] for s in document["Statement"] for action in s["Action"]}
    own_streams = "${aws_cloudwatch_log_group.flow_logs.arn}:*"
    for action in ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"):
        assert grants[action] == own_streams, action
    assert grants["logs:DescribeLogGroups"].endswith(":log-group:*")
    flow_log = _resources(main, "aws_flow_log")["this"]
    assert flow_log["log_destination"] == "${aws_cloudwatch_log_group.flow_logs.arn}"
    assert "logs:CreateLogGroup" not in grants and "flow_logs" in _resources(main, "aws_cloudwatch_log_group")


def _s3_events() -> dict[str, S3EventConfig]:
    import app

    return {e.name: e for e in app.app.event_sources if isinstance(e, S3EventConfig)}


#: app.py's S3 handlers and the prefix that notifies each: uploads are analysed, a study's content is not.
S3_NOTIFICATIONS = {"on_upload": "uploads/", "on_content_upload": CONTENT_PREFIX}


def test_bucket_layout_and_notifications_match_the_code() -> None:
    """Each of app.py's `@app.on_s3_event` functions is notified of the objects created under its prefix
    (one notification configuration: a bucket has one), may be invoked by the bucket, and sends what it
    gave up on to its own queue, watched by an alarm."""
    from chalicelib import uploads
    from chalicelib.studies import content

    main = MODULES / "storage" / "main.tf"
    storage = _locals(main)
    assert storage["upload_prefix"] == uploads.UPLOAD_PREFIX
    assert storage["segments_prefix"] == uploads.SEGMENTS_PREFIX
    assert storage["content_prefix"] == content.CONTENT_PREFIX == CONTENT_PREFIX
    events = _s3_events()
    assert {name: e.prefix for name, e in events.items()} == S3_NOTIFICATIONS
    prefixes = {"${local.upload_prefix}": storage["upload_prefix"], "${local.content_prefix}": CONTENT_PREFIX}
    notification = _resources(main, "aws_s3_bucket_notification")["uploads"]
    targets = {t["lambda_function_arn"]: t for t in notification["lambda_function"]}
    assert len(targets) == len(notification["lambda_function"]) == len(events)
    permissions = _resources(main, "aws_lambda_permission")
    storage_inputs = _modules(DEV / "main.tf")["storage"]
    monitoring_inputs = _modules(DEV / "main.tf")["monitoring"]
    invoke_configs = _resources(MODULES / "lambdas" / "main.tf", "aws_lambda_function_event_invoke_config")
    alarms = _resources(MODULES / "monitoring" / "main.tf", "aws_cloudwatch_metric_alarm")
    lambdas_outputs = {
        n: b for block in _load(MODULES / "lambdas" / "outputs.tf")["output"] for n, b in block.items()
    }
    for name, event in events.items():
        assert event.events == ["s3:ObjectCreated:*"] and _handlers()[name] == event.handler_string
        target = targets[f"${{var.{name}_function_arn}}"]
        assert target["events"] == event.events and prefixes[target["filter_prefix"]] == event.prefix
        assert storage_inputs[f"{name}_function_arn"] == f'${{module.lambdas.function_arns["{name}"]}}'
        assert storage_inputs[f"{name}_function_name"] == f'${{module.lambdas.function_names["{name}"]}}'
        permission = permissions[f"s3_invokes_{name}"]
        assert permission["principal"] == "s3.amazonaws.com"
        assert permission["action"] == "lambda:InvokeFunction"
        assert permission["function_name"] == f"${{var.{name}_function_name}}"
        assert permission["source_arn"] == "${module.uploads.arn}"
        assert f"${{aws_lambda_permission.s3_invokes_{name}}}" in notification["depends_on"]
        invoke = invoke_configs[name]
        assert invoke["function_name"] == f'${{aws_lambda_function.this["{name}"].function_name}}'
        (destination,) = invoke["destination_config"][0]["on_failure"]
        assert destination["destination"] == f"${{aws_sqs_queue.{name}_failures.arn}}"
        queue_output = f"{name}_failure_queue_name"
        assert lambdas_outputs[queue_output]["value"] == f"${{aws_sqs_queue.{name}_failures.name}}"
        assert monitoring_inputs[queue_output] == f"${{module.lambdas.{queue_output}}}"
        assert alarms[f"{name}_failures"]["dimensions"] == {"QueueName": f"${{var.{queue_output}}}"}
    for a in S3_NOTIFICATIONS.values():
        for b in S3_NOTIFICATIONS.values():
            assert a == b or not a.startswith(b), "S3 refuses overlapping prefixes for one event type"


def _schedules() -> dict[str, ScheduledEventConfig]:
    import app

    return {e.name: e for e in app.app.event_sources if isinstance(e, ScheduledEventConfig)}


def _expression(schedule: ScheduledEventConfig) -> str:
    expression = schedule.schedule_expression
    return expression if isinstance(expression, str) else expression.to_string()


def test_the_app_has_the_watchdog_and_the_retention_sweep_on_their_schedules() -> None:
    assert {name: _expression(s) for name, s in _schedules().items()} == {
        "watchdog": "rate(5 minutes)",
        "retention": "rate(1 hour)",
    }


@pytest.mark.parametrize("name", ["watchdog", "retention"])
def test_each_schedule_runs_its_function_on_the_apps_expression(name: str) -> None:
    """app.py's `@app.schedule` is an EventBridge rule with the same expression, targeting its function,
    which EventBridge may invoke; a failed sweep is not retried (the next one does its work), no event
    outlives the next one, and a sweep ends before the next one starts."""
    schedule = _schedules()[name]
    assert _handlers()[schedule.name] == schedule.handler_string
    expected = _expression(schedule)
    interval = {"rate(5 minutes)": 300, "rate(1 hour)": 3600}[expected]
    main = MODULES / "lambdas" / "main.tf"
    function = f'aws_lambda_function.this["{schedule.name}"]'
    rule = _resources(main, "aws_cloudwatch_event_rule")[schedule.name]
    assert rule["schedule_expression"] == expected
    target = _resources(main, "aws_cloudwatch_event_target")[schedule.name]
    assert target["rule"] == f"${{aws_cloudwatch_event_rule.{schedule.name}.name}}"
    assert target["arn"] == f"${{{function}.arn}}"
    permission = _resources(main, "aws_lambda_permission")[schedule.name]
    assert permission["principal"] == "events.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["function_name"] == f"${{{function}.function_name}}"
    assert permission["source_arn"] == f"${{aws_cloudwatch_event_rule.{schedule.name}.arn}}"
    invoke = _resources(main, "aws_lambda_function_event_invoke_config")[schedule.name]
    assert invoke["function_name"] == f"${{{function}.function_name}}"
    assert invoke["maximum_retry_attempts"] == 0
    assert invoke["maximum_event_age_in_seconds"] < interval, "no event outlives the next sweep"
    variables = {
        n: b for block in _load(MODULES / "lambdas" / "variables.tf")["variable"] for n, b in block.items()
    }
    assert variables["timeout_seconds"]["default"][schedule.name] < interval, "sweeps must not overlap"


def test_the_retention_backstop_rules_match_the_code() -> None:
    """One S3 lifecycle rule per value the retention tags sources with, on uploads/ and that tag; exports
    expire a day after they were written (their link lives an hour), segment results after a week."""
    from chalicelib.privacy import retention
    from chalicelib.storage import bucket

    storage = MODULES / "storage" / "main.tf"
    local = _locals(storage)
    assert local["retention_tag"] == bucket.RETENTION_TAG
    assert tuple(local["retention_backstop_days"]) == retention.BACKSTOP_DAYS
    assert local["exports_prefix"] == bucket.EXPORTS_PREFIX
    tagged = _modules(storage)["uploads"]["tagged_expirations"]
    assert tagged == (
        '${[for days in local.retention_backstop_days : {id = "retention-backstop-${days}", '
        "prefix = local.upload_prefix, tag_key = local.retention_tag, tag_value = tostring(days), "
        "days = days}]}"
    )
    expirations = _modules(storage)["uploads"]["expirations"]
    assert '{id = "expire-exports", prefix = local.exports_prefix, days = 1}' in expirations
    rule = _resources(MODULES / "bucket" / "main.tf", "aws_s3_bucket_lifecycle_configuration")["this"]
    (feeds,) = [d["rule"] for d in rule["dynamic"] if d["rule"]["for_each"] == "${var.tagged_expirations}"]
    (content,) = feeds["content"]
    assert content["filter"] == [
        {
            "and": [
                {
                    "prefix": "${rule.value.prefix}",
                    "tags": {"${(rule.value.tag_key)}": "${rule.value.tag_value}"},
                }
            ]
        }
    ]
    assert content["expiration"] == [{"days": "${rule.value.days}"}] and content["status"] == "Enabled"
    # A source planned for 30 days after its analysis is tagged with the first value that covers it.
    created = datetime(2026, 12, 1, tzinfo=UTC)
    video = {"created_at": created}
    assert retention.backstop_days(video, created + timedelta(days=30, minutes=3)) == 31
    assert retention.backstop_days(video, created + timedelta(minutes=3)) == 1
    assert retention.backstop_days(video, created + timedelta(days=3650, hours=1)) == 3651
    assert retention.backstop_days(video, None) is None
    for days in range(0, 3651):
        tag = retention.backstop_days(video, created + timedelta(days=days, seconds=1))
        assert tag is not None and tag >= days + 1, days  # never before the plan


# --- studies: the content an audience watches (content/{owner}/{study}/{file}) --------------------------

#: What the API function does to a study's content, and nothing more: presigned POST/PUT and GET, HEAD,
#: export, and purging every version of it (DeleteObjects by version id; it never deletes without one).
CONTENT_ACTIONS = {"s3:PutObject", "s3:GetObject", "s3:DeleteObjectVersion"}
OBJECT_ACTIONS = (
    *sorted(CONTENT_ACTIONS),
    "s3:DeleteObject",
    "s3:PutObjectTagging",
    "s3:DeleteObjectTagging",
    "s3:GetObjectVersion",
    "s3:PutObjectAcl",
)


#: What on_content_upload may do to a study's content: purge a file whose study is gone, nothing more.
ORPHAN_CONTENT_ACTIONS = {"s3:DeleteObjectVersion"}


def test_only_the_api_and_on_content_upload_may_touch_study_content() -> None:
    """The API's role may write, read, delete and purge a study's content; on_content_upload's may only list
    versions under content/ and delete them (an orphaned file); no other role may do anything to it, nor
    list its versions; and what either may do there it may do nowhere outside content/."""
    content = _sample_content()
    content_listing = {"s3:prefix": content.removeprefix(f"{BUCKET_ARN}/").rsplit("/", 1)[0] + "/"}
    allowed = {"api": CONTENT_ACTIONS, "on_content_upload": ORPHAN_CONTENT_ACTIONS}
    for key in _handlers():
        policy = _policy_statements(key)
        granted = {action for action in OBJECT_ACTIONS if _grants(policy, action, content)}
        lists = _grants(policy, "s3:ListBucketVersions", BUCKET_ARN, content_listing)
        if key in allowed:
            assert granted == allowed[key] and lists, (key, granted, lists)
        else:
            assert not granted and not lists, f"{key} may {sorted(granted)} (list versions: {lists})"
    for key, actions in allowed.items():
        policy = _policy_statements(key)
        (statement,) = [s for s in policy if f"{BUCKET_ARN}/{CONTENT_PREFIX}*" in _as_list(s["Resource"])]
        assert set(_as_list(statement["Action"])) == actions, key
        assert _as_list(statement["Resource"]) == [f"{BUCKET_ARN}/{CONTENT_PREFIX}*"], "scoped to content/*"
        # Nothing grants these on the whole bucket or outside the prefixes the code uses.
        for elsewhere in (
            f"{BUCKET_ARN}/other/{USER}/x.mp4",
            f"{BUCKET_ARN}/contents/x.mp4",
            f"{BUCKET_ARN}/x",
        ):
            assert not {a for a in OBJECT_ACTIONS if _grants(policy, a, elsewhere)}, (key, elsewhere)
    on_content_upload = _policy_statements("on_content_upload")
    for prefix in ("uploads/", "segments/", "exports/", ""):
        context = {"s3:prefix": prefix}
        assert not _grants(on_content_upload, "s3:ListBucketVersions", BUCKET_ARN, context), prefix


def test_listing_versions_needs_a_prefix_the_role_purges() -> None:
    """ListBucketVersions is granted under a prefix condition: the API's purges (a study's content, an
    account's uploads, segments, exports and content) and on_content_upload's (one content file) may list;
    a listing of the whole bucket, of another prefix, or one naming no prefix at all is refused, for every
    role."""
    api = _policy_statements("api")
    for prefix in (
        f"{CONTENT_PREFIX}{USER}/{STUDY}/",
        f"{CONTENT_PREFIX}{USER}/",
        f"uploads/{USER}/",
        f"segments/{VIDEO}/",
        f"exports/{USER}/",
    ):
        assert _grants(api, "s3:ListBucketVersions", BUCKET_ARN, {"s3:prefix": prefix}), prefix
    orphan = _sample_content().removeprefix(f"{BUCKET_ARN}/")
    assert _grants(
        _policy_statements("on_content_upload"), "s3:ListBucketVersions", BUCKET_ARN, {"s3:prefix": orphan}
    )
    for key in _handlers():
        policy = _policy_statements(key)
        for context in ({}, {"s3:prefix": ""}, {"s3:prefix": "other/"}, {"s3:prefix": "content"}):
            assert not _grants(policy, "s3:ListBucketVersions", BUCKET_ARN, context), (key, context)


def test_no_lifecycle_rule_expires_study_content() -> None:
    """content/ is kept while its study exists: it is outside every expiring prefix and every retention
    backstop (those are on uploads/), the bucket module refuses a rule reaching a kept prefix, and the
    whole-bucket housekeeping rule only removes replaced versions, delete markers and unfinished uploads."""
    storage = MODULES / "storage" / "main.tf"
    local = _locals(storage)
    assert local["content_prefix"] == CONTENT_PREFIX
    uploads = _modules(storage)["uploads"]
    assert uploads["kept_prefixes"] == ["${local.content_prefix}"]
    rule_prefixes = re.findall(
        r"prefix = local\.(\w+)", uploads["expirations"] + uploads["tagged_expirations"]
    )
    assert set(rule_prefixes) == {"segments_prefix", "exports_prefix", "upload_prefix"}, rule_prefixes
    for name in rule_prefixes:
        prefix = local[name]
        assert prefix and not CONTENT_PREFIX.startswith(prefix) and not prefix.startswith(CONTENT_PREFIX)

    bucket = MODULES / "bucket" / "main.tf"
    rule = _resources(bucket, "aws_s3_bucket_lifecycle_configuration")["this"]
    (precondition,) = rule["lifecycle"][0]["precondition"]
    assert "concat(var.expirations, var.tagged_expirations)" in precondition["condition"]
    assert "var.kept_prefixes" in precondition["condition"]
    (housekeeping,) = rule["rule"]
    assert housekeeping["filter"] == [{}], "the one rule on the whole bucket"
    assert housekeeping["expiration"] == [{"expired_object_delete_marker": True}], (
        "no current version expires"
    )
    assert set(housekeeping) == {
        "id",
        "status",
        "filter",
        "abort_incomplete_multipart_upload",
        "noncurrent_version_expiration",
        "expiration",
    }


def test_study_content_triggers_no_analysis() -> None:
    """Only uploads/ notifies on_upload, the function that starts analyses: content/ notifies
    on_content_upload, whose role cannot start (or touch) an execution, in Terraform, LocalStack and the
    local stack alike. A study's content is watched, not analysed."""
    from devstack import stack

    storage = MODULES / "storage" / "main.tf"
    local = _locals(storage)
    notification = _resources(storage, "aws_s3_bucket_notification")["uploads"]
    targets = {t["filter_prefix"]: t["lambda_function_arn"] for t in notification["lambda_function"]}
    assert targets == {
        "${local.upload_prefix}": "${var.on_upload_function_arn}",
        "${local.content_prefix}": "${var.on_content_upload_function_arn}",
    }
    assert not CONTENT_PREFIX.startswith(local["upload_prefix"])
    assert not local["content_prefix"].startswith(local["upload_prefix"])
    assert not local["upload_prefix"].startswith(local["content_prefix"])
    policy = _policy_statements("on_content_upload")
    actions = {a for s in policy for a in _as_list(s["Action"])}
    assert not {a for a in actions if a.startswith("states:")}, "it cannot start an analysis"
    assert not _grants(policy, "s3:GetObject", _sample_content()), "nor read the content (no engine, no HEAD)"
    assert _render().S3_NOTIFICATIONS == S3_NOTIFICATIONS == stack.S3_HANDLERS


BUCKET_MODULE_TEST = """
mock_provider "aws" {}

variables {
  name              = "emotionfy-test-uploads"
  access_log_bucket = "emotionfy-test-logs"
  kept_prefixes     = ["content/"]
}

run "rules_beside_the_kept_prefix_plan" {
  command = plan
  variables {
    expirations = [
      { id = "segments", prefix = "segments/", days = 7 },
      { id = "exports", prefix = "exports/", days = 1 },
    ]
    tagged_expirations = [
      { id = "backstop", prefix = "uploads/", tag_key = "k", tag_value = "1", days = 1 },
    ]
  }
}

run "a_rule_on_the_kept_prefix_fails" {
  command = plan
  variables {
    expirations = [{ id = "content", prefix = "content/", days = 30 }]
  }
  expect_failures = [aws_s3_bucket_lifecycle_configuration.this]
}

run "a_rule_under_the_kept_prefix_fails" {
  command = plan
  variables {
    tagged_expirations = [
      { id = "backstop", prefix = "content/u/", tag_key = "k", tag_value = "1", days = 1 },
    ]
  }
  expect_failures = [aws_s3_bucket_lifecycle_configuration.this]
}

run "a_rule_on_the_whole_bucket_fails" {
  command = plan
  variables {
    expirations = [{ id = "all", prefix = "", days = 90 }]
  }
  expect_failures = [aws_s3_bucket_lifecycle_configuration.this]
}
"""


def test_bucket_module_refuses_an_expiration_reaching_a_kept_prefix(tmp_path: Path) -> None:
    """`terraform test` on the bucket module with a mocked AWS: rules beside content/ plan; a rule on it,
    under it, or on the whole bucket fails the plan at the lifecycle configuration's precondition."""
    module = tmp_path / "bucket"
    shutil.copytree(MODULES / "bucket", module)
    (module / "tests").mkdir()
    (module / "tests" / "kept.tftest.hcl").write_text(BUCKET_MODULE_TEST)
    run = _terraform_in(module, ["init", "-backend=false", "-input=false"], ["test"])
    assert "4 passed, 0 failed" in run.stdout, run.stdout[-4000:]


# --- the state machine ---------------------------------------------------------------------------------


def test_state_machine_definition_is_the_asl_file_with_every_placeholder() -> None:
    from chalicelib.pipeline import definition

    main = MODULES / "pipeline" / "main.tf"
    machine = _resources(main, "aws_sfn_state_machine")["this"]
    assert machine["definition"] == "${templatefile(var.asl_file, local.tasks)}"
    tasks = _locals(main)["tasks"]
    assert set(tasks) == definition.placeholders(), "templatefile variables vs ASL placeholders"
    for placeholder, value in tasks.items():
        assert value == f'${{var.function_arns["{definition.FUNCTIONS[placeholder]}"]}}', placeholder
    assert set(definition.FUNCTIONS.values()) <= set(_handlers())
    policy = _resources(main, "aws_iam_role_policy")["this"]["policy"]
    assert "local.task_arns" in policy and _locals(main)["task_arns"] == "${values(local.tasks)}"
    assert machine["logging_configuration"][0]["level"] == "ERROR"
    assert machine["tracing_configuration"][0]["enabled"] is True

    asl_file = _modules(DEV / "main.tf")["pipeline"]["asl_file"]
    root = _locals(DEV / "main.tf")["root"]
    assert root == "${path.root}/../../../.."
    assert (DEV / "../../../.." / asl_file.removeprefix("${local.root}/")).resolve() == definition.ASL_PATH


def test_asl_file_is_json_with_the_pipeline_states() -> None:
    from chalicelib.pipeline import definition

    arns = {p: f"arn:aws:lambda:us-east-1:123456789012:function:{f}" for p, f in definition.FUNCTIONS.items()}
    states = json.loads(definition.render(arns))["States"]
    types = {name: state["Type"] for name, state in states.items()}
    assert {
        "Probe": "Task",
        "AnalyzeSegments": "Map",
        "Merge": "Task",
        "MarkFailed": "Task",
    }.items() <= types.items()
    assert types["Failed"] == "Fail"
    inner = states["AnalyzeSegments"]["ItemProcessor"]["States"]
    resources = {s["Resource"] for s in [*states.values(), *inner.values()] if s["Type"] == "Task"}
    assert resources == set(arns.values())


# --- the API -------------------------------------------------------------------------------------------


def test_api_routes_are_exactly_the_chalice_routes() -> None:
    import app

    expected = sorted(
        (path, method, entry.authorizer is not None)
        for path, methods in app.app.routes.items()
        for method, entry in methods.items()
    )
    routes = json.loads(ROUTES_FILE.read_text())
    assert sorted((r["path"], r["method"], r["authorized"]) for r in routes) == expected
    assert {e.authorizer.name for m in app.app.routes.values() for e in m.values() if e.authorizer} == {
        "jwt_auth"
    }
    levels = len(_resources(MODULES / "api" / "main.tf", "aws_api_gateway_resource"))
    deepest = max(path.count("/") for path, _, _ in expected)
    assert deepest <= levels, f"modules/api builds {levels} levels of resources, a route has {deepest}"


#: The viewer page's routes (docs: the studies contract): no JWT, an invite's token in X-Invite-Token (and
#: a viewer's withdraw token in X-Withdraw-Token), checked by the function.
INVITE_ROUTES = {
    ("/invite", "GET"),
    ("/invite/content", "GET"),
    ("/invite/viewers", "POST"),
    ("/invite/viewers/{viewer_id}", "GET"),
    ("/invite/viewers/{viewer_id}", "DELETE"),
    ("/invite/viewers/{viewer_id}/upload", "POST"),
}
#: The request headers the web app sends to the API.
REQUEST_HEADERS = {"Authorization", "Content-Type", "X-Invite-Token", "X-Withdraw-Token"}


def test_invite_routes_are_public_and_study_routes_guarded() -> None:
    """api_routes.json has the viewer page's routes without the authorizer (Terraform and LocalStack alike)
    and every creator route of studies behind it."""
    routes = {(r["path"], r["method"]): r["authorized"] for r in json.loads(ROUTES_FILE.read_text())}
    missing = INVITE_ROUTES - set(routes)
    assert not missing, f"api_routes.json lacks the invite routes {sorted(missing)}"
    assert not any(routes[route] for route in INVITE_ROUTES), "an invite route behind the JWT authorizer"
    studies = {route for route in routes if route[0].startswith(("/studies", "/compare"))}
    assert {("/studies", "POST"), ("/studies/{study_id}/audience", "GET"), ("/compare", "GET")} <= studies
    assert all(routes[route] for route in studies), "a creator's study route without the authorizer"
    public = {route for route, authorized in routes.items() if not authorized}
    assert public == INVITE_ROUTES | {
        ("/auth/register", "POST"),
        ("/auth/login", "POST"),
        ("/auth/refresh", "POST"),
        ("/consent", "GET"),
        ("/health", "GET"),
    }, "the public routes are these and no more"
    document = _render().openapi("arn:api", "arn:authorizer")
    for path, method in INVITE_ROUTES:
        assert "security" not in document["paths"][path][method.lower()], (path, method)


def test_every_route_public_or_not_is_throttled_by_the_stage() -> None:
    """The stage's one method setting (`*/*`) throttles every method, the public login and invite routes
    included; nothing overrides it for a single route."""
    main = MODULES / "api" / "main.tf"
    settings = _resources(main, "aws_api_gateway_method_settings")
    assert set(settings) == {"all"}
    assert settings["all"]["method_path"] == "*/*"
    (limits,) = settings["all"]["settings"]
    assert limits["throttling_rate_limit"] == "${var.throttling_rate_limit}"
    assert limits["throttling_burst_limit"] == "${var.throttling_burst_limit}"
    variables = {
        n: b for block in _load(MODULES / "api" / "variables.tf")["variable"] for n, b in block.items()
    }
    assert 0 < variables["throttling_rate_limit"]["default"] <= variables["throttling_burst_limit"]["default"]


def test_cors_allows_the_headers_the_web_app_sends() -> None:
    """Preflights and gateway errors allow the JWT, JSON, and the viewer page's X-Invite-Token and
    X-Withdraw-Token, in Terraform as in LocalStack, the local API server's gateway errors, and app.py's
    CORSConfig (the local stack's preflights)."""
    import app
    from devstack import api_server

    main = MODULES / "api" / "main.tf"
    allowed = _locals(main)["allow_headers"]
    assert set(allowed.split(",")) == REQUEST_HEADERS, allowed
    cors = _locals(main)["cors_headers"]
    assert cors["gatewayresponse.header.Access-Control-Allow-Headers"] == "'${local.allow_headers}'"
    preflight = _resources(main, "aws_api_gateway_integration_response")["preflight"]["response_parameters"]
    assert preflight["method.response.header.Access-Control-Allow-Headers"] == "'${local.allow_headers}'"
    assert allowed == _render().ALLOW_HEADERS
    assert allowed == api_server.GATEWAY_ALLOW_HEADERS, "the local API server's gateway errors"
    chalice_allowed = set(app.cors.allow_headers.split(","))
    assert chalice_allowed >= REQUEST_HEADERS, (
        f"app.py's CORSConfig lacks {REQUEST_HEADERS - chalice_allowed}"
    )


def test_bucket_cors_lets_the_site_upload_content_and_play_it_by_ranges() -> None:
    """One CORS rule for the whole bucket: the site may POST/PUT (uploads/ and content/) and GET with any
    request header (Range included), and reads ETag, Content-Length, Content-Range and Accept-Ranges;
    LocalStack and the local stack put the same rule."""
    from devstack import stack

    storage = MODULES / "storage" / "main.tf"
    (rule,) = _modules(storage)["uploads"]["cors_rules"]
    assert rule["allowed_origins"] == "${var.site_origins}"
    assert set(rule["allowed_methods"]) == {"GET", "POST", "PUT"}
    assert rule["allowed_headers"] == ["*"]
    assert {"ETag", "Content-Range", "Accept-Ranges"} <= set(rule["expose_headers"])
    (local_rule,) = _render().BUCKET_CORS["CORSRules"]
    assert local_rule["AllowedMethods"] == rule["allowed_methods"]
    assert local_rule["AllowedHeaders"] == rule["allowed_headers"]
    assert local_rule["ExposeHeaders"] == rule["expose_headers"]
    assert local_rule["MaxAgeSeconds"] == rule["max_age_seconds"]
    (devstack_rule,) = stack.bucket_cors(_render().CORS_ORIGIN)["CORSRules"]
    assert devstack_rule == local_rule, "the local stack's bucket (devstack/stack.py)"


def test_api_module_builds_resources_methods_and_the_authorizer() -> None:
    main = MODULES / "api" / "main.tf"
    assert _locals(main)["routes"] == "${jsondecode(file(var.routes_file))}"
    resources = _resources(main, "aws_api_gateway_resource")
    levels = len(resources)
    assert set(resources) == {f"level{n}" for n in range(1, levels + 1)}
    for n in range(2, levels + 1):
        assert resources[f"level{n}"]["for_each"] == f"${{local.level{n}}}"
        assert resources[f"level{n}"]["parent_id"] == (
            f"${{aws_api_gateway_resource.level{n - 1}[local.parent[each.key]].id}}"
        )
    ids = _locals(main)["resource_ids"]
    assert all(f"aws_api_gateway_resource.level{n} " in ids for n in range(1, levels + 1)), ids
    (precondition,) = _resources(main, "aws_api_gateway_rest_api")["this"]["lifecycle"][0]["precondition"]
    assert f"local.depth[p] <= {levels}" in precondition["condition"]
    method = _resources(main, "aws_api_gateway_method")["route"]
    assert method["authorization"] == '${each.value.authorized ? "CUSTOM" : "NONE"}'
    integration = _resources(main, "aws_api_gateway_integration")["route"]
    assert integration["type"] == "AWS_PROXY" and integration["uri"] == "${var.api_invoke_arn}"
    authorizer = _resources(main, "aws_api_gateway_authorizer")["jwt"]
    assert authorizer["type"] == "TOKEN"
    assert authorizer["identity_source"] == "method.request.header.Authorization"
    api = _modules(DEV / "main.tf")["api"]
    assert api["api_invoke_arn"] == '${module.lambdas.invoke_arns["api"]}'
    assert api["authorizer_invoke_arn"] == '${module.lambdas.invoke_arns["authorizer"]}'
    assert api["routes_file"] == "${local.tf}/api_routes.json"
    assert api["gateway_responses_file"] == "${local.tf}/gateway_responses.json"


def _template_body(template: str) -> Any:
    return json.loads(template.replace("$context.error.messageString", '"a message"'))


def test_gateway_responses_carry_the_apps_error_bodies() -> None:
    from chalicelib.auth.authorizer import AUTHORIZER_UNAVAILABLE_BODY, UNAUTHORIZED_BODY
    from devstack.api_server import FORBIDDEN_BODY

    responses = json.loads(GATEWAY_RESPONSES_FILE.read_text())
    expected = {
        "UNAUTHORIZED": ("401", UNAUTHORIZED_BODY),
        "AUTHORIZER_FAILURE": ("503", AUTHORIZER_UNAVAILABLE_BODY),
        "AUTHORIZER_CONFIGURATION_ERROR": ("503", AUTHORIZER_UNAVAILABLE_BODY),
        "MISSING_AUTHENTICATION_TOKEN": ("403", FORBIDDEN_BODY),
    }
    for kind, (status, body) in expected.items():
        assert responses[kind]["status"] == status, kind
        assert json.loads(responses[kind]["template"]) == body, kind
    assert responses["ACCESS_DENIED"]["status"] == "403"
    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    for kind, spec in responses.items():
        body = _template_body(spec["template"])
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, kind

    main = MODULES / "api" / "main.tf"
    assert _locals(main)["gateway_responses"] == "${jsondecode(file(var.gateway_responses_file))}"
    gateway = _resources(main, "aws_api_gateway_gateway_response")["this"]
    assert gateway["for_each"] == "${local.gateway_responses}"
    assert gateway["response_templates"] == {"application/json": "${each.value.template}"}
    assert "local.cors_headers" in gateway["response_parameters"]
    cors = _locals(main)["cors_headers"]
    assert "gatewayresponse.header.Access-Control-Allow-Origin" in cors
    # The browser lets the web app read Retry-After (the authorizer's 503s) only when it is exposed.
    retried = {name for spec in responses.values() for name in spec["headers"] if name == "Retry-After"}
    assert retried, "no gateway response sends Retry-After any more: revisit the exposed headers"
    exposed = cors["gatewayresponse.header.Access-Control-Expose-Headers"].strip("'").split(",")
    assert retried <= set(exposed), exposed


def test_api_stage_redeploys_when_anything_it_serves_changes() -> None:
    """A stage serves a deployment's snapshot: the redeployment trigger hashes every resource the snapshot
    is made of (all their arguments, literals of main.tf included), not only the files they come from."""
    main = MODULES / "api" / "main.tf"
    served = (
        "aws_api_gateway_resource",
        "aws_api_gateway_authorizer",
        "aws_api_gateway_method",
        "aws_api_gateway_integration",
        "aws_api_gateway_method_response",
        "aws_api_gateway_integration_response",
        "aws_api_gateway_gateway_response",
    )
    expected = [f"{kind}.{name}" for kind in served for name in _resources(main, kind)]
    assert len(expected) == 13, expected
    trigger = _resources(main, "aws_api_gateway_deployment")["this"]["triggers"]["redeployment"]
    match = re.fullmatch(r"\$\{sha1\(jsonencode\(\[(.*)\]\)\)\}", trigger, re.S)
    assert match, trigger
    hashed = [item.strip() for item in match[1].split(",") if item.strip()]
    assert sorted(hashed) == sorted(expected), "hash the whole resources (for_each maps included)"


# --- the site ------------------------------------------------------------------------------------------

API_ORIGIN = "https://abc123defg.execute-api.us-east-1.amazonaws.com"
UPLOADS_BUCKET = "emotionfy-test-uploads-123456789012"


def test_site_sends_the_security_headers_of_the_local_site_server() -> None:
    """CloudFront's response headers policy carries the headers devstack/site_server.py sends, its
    Content-Security-Policy is `content_security_policy()` with the cloud's origins (the API's, the uploads
    bucket's), and both cache behaviours (the app and /config.json) use the policy."""
    from devstack import site_server

    main = MODULES / "site" / "main.tf"
    policy = _resources(main, "aws_cloudfront_response_headers_policy")["this"]
    security = policy["security_headers_config"][0]
    assert security["frame_options"] == [{"frame_option": "DENY", "override": True}]
    assert security["content_type_options"] == [{"override": True}]
    assert security["referrer_policy"] == [{"referrer_policy": site_server.REFERRER_POLICY, "override": True}]
    (hsts,) = security["strict_transport_security"]
    assert hsts["access_control_max_age_sec"] >= 31536000 and hsts["override"] is True
    assert hsts["include_subdomains"] is True
    (csp,) = security["content_security_policy"]
    assert csp == {"content_security_policy": "${local.content_security_policy}", "override": True}
    assert set(security) == {
        "frame_options",
        "content_type_options",
        "referrer_policy",
        "strict_transport_security",
        "content_security_policy",
    }

    local = _locals(main)
    media_origins = [
        origin.replace("${var.uploads_bucket}", UPLOADS_BUCKET)
        .replace("${data.aws_partition.current.dns_suffix}", "amazonaws.com")
        .replace("${data.aws_region.current.name}", "us-east-1")
        for origin in local["media_origins"]
    ]
    assert media_origins == [
        f"https://{UPLOADS_BUCKET}.s3.amazonaws.com",
        f"https://{UPLOADS_BUCKET}.s3.us-east-1.amazonaws.com",
    ], "the hosts boto3's presigned POST and GET use, and S3's regional redirect"
    assert local["media"] == '${join(" ", local.media_origins)}'
    rendered = (
        local["content_security_policy"]
        .replace("${var.api_origin}", API_ORIGIN)
        .replace("${local.media}", " ".join(media_origins))
    )
    assert "${" not in rendered, rendered
    assert rendered == site_server.content_security_policy(API_ORIGIN, media_origins)
    assert "frame-ancestors 'none'" in rendered and "script-src 'self';" in rendered
    assert f"; media-src 'self' blob: {' '.join(media_origins)};" in rendered, (
        "a chosen file is played from a blob: URL to read its duration (frontend/src/lib/videoDuration.ts)"
    )
    assert len(rendered) < 1783, "CloudFront's limit for the Content-Security-Policy value"

    distribution = _resources(main, "aws_cloudfront_distribution")["this"]
    behaviours = [*distribution["default_cache_behavior"], *distribution["ordered_cache_behavior"]]
    assert len(behaviours) == 2
    for behaviour in behaviours:
        assert behaviour["response_headers_policy_id"] == "${aws_cloudfront_response_headers_policy.this.id}"


def test_site_policy_names_the_apis_origin_without_a_cycle() -> None:
    """The CSP needs the API's origin, but the API's stage needs the site's origin (CORS): the api module's
    `origin` comes from the REST API alone, and is the origin of the stage's URL (the app's apiUrl)."""
    site = _modules(DEV / "main.tf")["site"]
    assert site["api_origin"] == "${module.api.origin}"
    assert site["uploads_bucket"] == "${module.storage.uploads_bucket}"
    assert site["api_url"] == "${module.api.url}"
    outputs = {n: b for block in _load(MODULES / "api" / "outputs.tf")["output"] for n, b in block.items()}
    origin = outputs["origin"]["value"]
    assert origin == (
        "https://${aws_api_gateway_rest_api.this.id}.execute-api."
        "${data.aws_region.current.name}.${data.aws_partition.current.dns_suffix}"
    )
    assert "stage" not in origin and "deployment" not in origin
    # The stage's invoke_url is https://{rest_api_id}.execute-api.{region}.{suffix}/{stage}.
    assert outputs["url"]["value"] == "${aws_api_gateway_stage.this.invoke_url}"
    variables = {
        n: b for block in _load(MODULES / "site" / "variables.tf")["variable"] for n, b in block.items()
    }
    assert "content_security_policy" not in variables, "the policy is built from the origins, not passed in"
    access_log = _resources(MODULES / "api" / "main.tf", "aws_api_gateway_stage")["this"][
        "access_log_settings"
    ]
    fmt = access_log[0]["format"]
    assert "$context.requestId" in fmt and "$context.authorizer.requestId" in fmt, (
        "the API's and the authorizer's correlation ids side by side"
    )


def test_site_config_carries_the_limits_the_functions_enforce() -> None:
    """The cloud's /config.json has the local site server's shape: `apiUrl` and `limits`, each limit the
    setting chalicelib/client_config.py names (in the unit its key names), from the functions' settings."""
    from chalicelib.client_config import LIMIT_SETTINGS

    config = _resources(MODULES / "site" / "main.tf", "aws_s3_object")["config"]
    assert config["content"] == "${jsonencode({apiUrl = var.api_url, limits = var.limits})}"
    assert _modules(DEV / "main.tf")["site"]["limits"] == "${module.lambdas.client_limits}"
    outputs = _load(MODULES / "lambdas" / "outputs.tf")["output"]
    limits = next(block["client_limits"] for block in outputs if "client_limits" in block)["value"]
    expected = {
        key: f"${{local.s.{name}}}" if divisor == 1 else f"${{local.s.{name} / {divisor}}}"
        for key, name, divisor in LIMIT_SETTINGS
    }
    assert limits == expected
    settings = _locals(MODULES / "lambdas" / "main.tf")["environment"]
    for _, name, _ in LIMIT_SETTINGS:
        assert any(f"local.s.{name})" in value for value in settings.values()), f"{name} is not set"


# --- LocalStack ----------------------------------------------------------------------------------------


def _render() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("localstack_render", LOCALSTACK / "render.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_localstack_deploys_the_same_functions_and_state_machine() -> None:
    from chalicelib.pipeline import definition

    render = _render()
    script = (LOCALSTACK / "init" / "ready.d" / "deploy.sh").read_text()
    for command in ("functions", "environment", "asl", "openapi", "cors", "notification"):
        assert re.search(rf"\$RENDER {command}\b", script), f"deploy.sh does not use render.py {command}"
    assert '--handler "$handler"' in script
    assert render.handlers() == _handlers()
    # The pipeline functions: the image with their handler as command (LocalStack Pro), else the zip.
    flat = re.sub(r"\\\n\s*", "", script)  # continued lines joined
    assert '--package-type Image --code "ImageUri=$PIPELINE_IMAGE" --image-config "Command=$handler"' in flat
    assert "while read -r key handler package; do" in script
    images = {k for k in _handlers() if render.package_type(k) == "Image"}
    assert (
        images == set(definition.FUNCTIONS.values()) == {k for k in _handlers() if k.startswith("pipeline_")}
    )
    assert render.environment("x", "image")["EMOTIONFY_MODEL_DIR"] == "/opt/model/onnx"
    assert "/opt/model/onnx/" in (ROOT / "layers" / "onnx-runtime" / "Dockerfile").read_text()
    build = (LOCALSTACK / "build.sh").read_text()
    assert "docker build --platform linux/amd64 -f layers/onnx-runtime/Dockerfile" in build
    expected = definition.render({p: render.function_arn(f) for p, f in definition.FUNCTIONS.items()})
    assert render.asl() == expected
    configurations = render.notification()["LambdaFunctionConfigurations"]
    assert {c["LambdaFunctionArn"]: c["Filter"]["Key"]["FilterRules"] for c in configurations} == {
        render.function_arn(key): [{"Name": "prefix", "Value": prefix}]
        for key, prefix in S3_NOTIFICATIONS.items()
    }
    assert all(c["Events"] == ["s3:ObjectCreated:*"] for c in configurations)
    lambdas_main = (MODULES / "lambdas" / "main.tf").read_text()
    assert 'replace(key, "_", "-")' in lambdas_main and render.function_name("on_upload").endswith(
        "-on-upload"
    )


def test_localstack_schedules_the_apps_scheduled_functions() -> None:
    render = _render()
    assert {name: _expression(s) for name, s in _schedules().items()} == render.SCHEDULES
    assert set(render.SCHEDULES) <= set(_handlers())
    script = (LOCALSTACK / "init" / "ready.d" / "deploy.sh").read_text()
    assert "$RENDER schedules | while read -r key expression; do" in script
    assert '--schedule-expression "$expression"' in script and "--principal events.amazonaws.com" in script


def test_localstack_build_resolves_its_requirements_for_its_runtime() -> None:
    """build.sh's requirement set (pyproject.toml's dependencies) resolves to wheels for its target (Linux
    x86_64, CPython 3.12, build_layer.py's platform tags): `RESOLVE_ONLY=1` runs the same pip command with
    --dry-run. Needs the package index (CI has it); fails, it does not skip, when nothing resolves."""
    run = subprocess.run(
        ["bash", str(LOCALSTACK / "build.sh")],
        env={**os.environ, "RESOLVE_ONLY": "1", "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    errors = "\n".join(line for line in run.stderr.splitlines() if not line.startswith("WARNING: Location"))
    assert run.returncode == 0, (
        f"build.sh's requirements do not resolve:\n{run.stdout[-2000:]}\n{errors[-4000:]}"
    )
    assert "resolved for python3.12 (manylinux_2_34_x86_64 " in run.stdout, run.stdout


def test_localstack_environment_sets_every_setting_the_code_reads() -> None:
    render = _render()
    environment = render.environment("arn:aws:states:us-east-1:000000000000:stateMachine:x")
    assert environment["AWS_ENDPOINT_URL"], "inside LocalStack, boto3 must be pointed at it"
    assert not set(environment) & LAMBDA_PROVIDED
    assert not _missing_settings(set(environment)), _missing_settings(set(environment))
    cloud = set(_locals(MODULES / "lambdas" / "main.tf")["environment"])
    assert cloud <= set(environment), f"set in the cloud but not in LocalStack: {cloud - set(environment)}"


def test_localstack_api_has_the_same_routes_and_gateway_responses() -> None:
    render = _render()
    document = render.openapi("arn:api", "arn:authorizer")
    routes = json.loads(ROUTES_FILE.read_text())
    for route in routes:
        operation = document["paths"][route["path"]][route["method"].lower()]
        assert ("security" in operation) == route["authorized"], route
        assert "options" in document["paths"][route["path"]]
    for path, operations in document["paths"].items():
        # Real API Gateway refuses to import a mapping to a method response header that is not declared.
        preflight = operations["options"]
        declared = set(preflight["responses"]["200"]["headers"])
        (mapping,) = preflight["x-amazon-apigateway-integration"]["responses"].values()
        mapped = {k.removeprefix("method.response.header.") for k in mapping["responseParameters"]}
        assert mapped == declared and {h for h in declared if h.startswith("Access-Control-")} == declared
        assert "Access-Control-Allow-Origin" in declared, path
        allowed = mapping["responseParameters"]["method.response.header.Access-Control-Allow-Headers"]
        assert allowed == f"'{_locals(MODULES / 'api' / 'main.tf')['allow_headers']}'", path
    responses = json.loads(GATEWAY_RESPONSES_FILE.read_text())
    rendered = document["x-amazon-apigateway-gateway-responses"]
    terraform_cors = _locals(MODULES / "api" / "main.tf")["cors_headers"]
    for kind, spec in rendered.items():
        names = {k.removeprefix("gatewayresponse.header.") for k in spec["responseParameters"]}
        assert {k.removeprefix("gatewayresponse.header.") for k in terraform_cors} <= names, kind
        assert (
            spec["responseParameters"]["gatewayresponse.header.Access-Control-Expose-Headers"]
            == (terraform_cors["gatewayresponse.header.Access-Control-Expose-Headers"])
        )
    assert {k: v["responseTemplates"]["application/json"] for k, v in rendered.items()} == {
        k: v["template"] for k, v in responses.items()
    }


def test_localstack_compose_pins_images_and_mounts_the_init_script() -> None:
    import yaml

    compose = yaml.safe_load((LOCALSTACK / "docker-compose.yml").read_text())
    images = {name: service["image"] for name, service in compose["services"].items()}
    assert set(images) == {"localstack", "redis", "mongo"}
    for name, image in images.items():
        assert re.fullmatch(r"[a-z/]+:\d+(\.\d+)*", image), f"{name}: pin a version tag, not {image}"
    assert images["redis"].startswith("redis:7") and images["mongo"].startswith("mongo:7")
    volumes = compose["services"]["localstack"]["volumes"]
    assert "./init/ready.d:/etc/localstack/init/ready.d:ro" in volumes
    assert os.access(LOCALSTACK / "init" / "ready.d" / "deploy.sh", os.X_OK)
    network = compose["services"]["localstack"]["environment"]["LAMBDA_DOCKER_NETWORK"]
    assert network == compose["networks"]["emotionfy-local"]["name"]
    render = _render()
    assert render.environment("x")["REDIS_URL"].startswith("redis://redis:")
    assert "mongodb://mongo:" in (LOCALSTACK / "init" / "ready.d" / "deploy.sh").read_text()


# --- a plan against mocked AWS (needs Terraform and a local mirror of the AWS provider) -----------------

PLUGIN_MIRROR = Path(os.environ.get("EMOTIONFY_TF_PLUGIN_MIRROR", "/opt/tf-plugins"))
#: Modules whose providers (random, mongodbatlas) have no local mirror are replaced by stubs with the same
#: variables and outputs, so the rest of the wiring is still checked.
STUBBED = ("secrets", "atlas")
MOCK_TEST = """
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[]}" }
  }
}

variables {
  atlas_org_id = "0123456789abcdef01234567"
  function_zip       = "FUNCTION_ZIP"
  pipeline_image_uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/emotionfy-dev-pipeline:test"
}

run "plan" {
  command = plan

  assert {
    condition     = jsonencode(module.lambdas.packaging) == jsonencode(EXPECTED_PACKAGING)
    error_message = "pipeline_* from the image with their handler as command, the others from the zip"
  }
}
"""


def _stub(module: Path) -> None:
    variables = [
        (n, b) for p in module.glob("*.tf") for blk in _load(p).get("variable", []) for n, b in blk.items()
    ]
    outputs = [n for p in module.glob("*.tf") for blk in _load(p).get("output", []) for n in blk]
    for path in module.glob("*.tf"):
        path.unlink()
    text = "".join(
        f'variable "{n}" {{\n{"  default = null" if "default" in b else ""}\n}}\n' for n, b in variables
    )
    # 24 alphanumeric characters: valid wherever a token or password is expected.
    text += "".join(f'output "{name}" {{\n  value = "stubstubstubstubstubstub"\n}}\n' for name in outputs)
    (module / "main.tf").write_text(text)


def _missing(what: str) -> None:
    """Fail in CI, which must check the Terraform; skip elsewhere (a machine without the tools)."""
    if os.environ.get("CI"):
        pytest.fail(f"CI has no {what}: the Terraform checks cannot run (see this module's docstring)")
    pytest.skip(f"needs {what}")


def _terraform() -> str:
    found = shutil.which("terraform")
    if found is None:
        _missing("terraform binary on PATH")
    assert found is not None
    return found


def _terraform_in(directory: Path, *commands: list[str]) -> subprocess.CompletedProcess[str]:
    """Run Terraform commands in `directory` with the AWS provider from the local mirror (nothing fetched);
    each must succeed. Returns the last run."""
    terraform = _terraform()
    if not (PLUGIN_MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        _missing(f"AWS provider mirrored in {PLUGIN_MIRROR} (EMOTIONFY_TF_PLUGIN_MIRROR)")
    config = directory.parent / "terraform.rc"
    config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path = "{PLUGIN_MIRROR}"\n  }}\n'
        '  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n'
    )
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(config),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }
    run = None
    for command in commands:
        run = subprocess.run(
            [terraform, *command, "-no-color"],
            cwd=directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, f"terraform {command[0]}:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    assert run is not None
    return run


def test_dev_environment_plans_against_mocked_aws(tmp_path: Path) -> None:
    shutil.copytree(TERRAFORM, tmp_path / "infra" / "terraform")
    shutil.copytree(ROOT / "chalicelib" / "pipeline", tmp_path / "chalicelib" / "pipeline")
    for name in STUBBED:
        _stub(tmp_path / "infra" / "terraform" / "modules" / name)
    dev = tmp_path / "infra" / "terraform" / "environments" / "dev"
    versions = (dev / "versions.tf").read_text()
    versions = re.sub(r"\n    (mongodbatlas|random) = \{.*?\n    \}", "", versions, flags=re.S)
    (dev / "versions.tf").write_text(versions.replace('provider "mongodbatlas" {}', ""))
    (tmp_path / "function.zip").write_bytes(b"not a real package")
    (dev / "tests").mkdir()
    mock = MOCK_TEST.replace("FUNCTION_ZIP", str(tmp_path / "function.zip"))
    # The plan itself must deploy the state machine's functions from the image, each with its handler
    # from handlers.json as command, and the others from the zip with their handler (no layer anywhere).
    expected = {
        key: {"package_type": "Image", "command": [handler], "handler": None}
        if key.startswith("pipeline_")
        else {"package_type": "Zip", "command": None, "handler": handler}
        for key, handler in _handlers().items()
    }
    mock = mock.replace("EXPECTED_PACKAGING", json.dumps(expected))
    (dev / "tests" / "plan.tftest.hcl").write_text(mock)
    run = _terraform_in(dev, ["init", "-backend=false", "-input=false"], ["validate"], ["test"])
    assert "1 passed, 0 failed" in run.stdout


def test_terraform_files_are_formatted() -> None:
    terraform = _terraform()
    run = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-no-color", str(TERRAFORM)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CHECKPOINT_DISABLE": "1"},
    )
    assert run.returncode == 0, f"run `terraform fmt -recursive infra/terraform`:\n{run.stdout}"
