"""The deployment code (infra/terraform, localstack/) agrees with the application, offline.

Nothing here talks to AWS, Atlas or Docker: Terraform files are parsed with python-hcl2, scanned by checkov
(from .venv-tools, see the Makefile), and compared with what app.py, chalicelib and devstack define. When a
Terraform binary and a local mirror of the AWS provider exist, the dev environment is also planned against
mocked AWS.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
from chalice.app import S3EventConfig
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
    for name in _settings_read() - {"AWS_ENDPOINT_URL"}:
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
    assert variables["reserved_concurrency"]["default"]["pipeline_analyze_segment"] > 0
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
    assert {"api", "authorizer", "on_upload"} == set(_handlers()) - pipeline

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


def test_iam_grants_each_function_only_its_own_actions() -> None:
    statements = _locals(MODULES / "lambdas" / "main.tf")["statements"]
    assert set(statements) == set(_handlers())

    def holders(needle: str) -> set[str]:
        return {key for key, value in statements.items() if needle in json.dumps(value)}

    assert holders("rekognition:DetectFaces") == {"pipeline_analyze_segment"}
    assert holders("states:StopExecution") == {"api"}
    assert holders("local.start_analysis") == {"api", "on_upload"}
    assert holders("local.read_jwt_key") == {"api", "authorizer"}
    assert holders("local.read_mongodb_uri") == set(_handlers()) - {"authorizer"}
    assert holders("s3:DeleteObject") == {"api"}
    assert holders("local.segments_objects") == {"api", "pipeline_analyze_segment", "pipeline_merge"}
    text = json.dumps(statements)
    assert '"s3:*"' not in text and '"Action": "*"' not in text and "kms:*" not in text
    prefixes = _locals(MODULES / "lambdas" / "main.tf")
    assert prefixes["uploads_objects"].endswith("/uploads/*")
    assert prefixes["segments_objects"].endswith("/segments/*")


def test_bucket_layout_and_notification_match_the_code() -> None:
    import app
    from chalicelib import uploads

    storage = _locals(MODULES / "storage" / "main.tf")
    assert storage["upload_prefix"] == uploads.UPLOAD_PREFIX
    assert storage["segments_prefix"] == uploads.SEGMENTS_PREFIX
    (event,) = app.app.event_sources
    assert isinstance(event, S3EventConfig)
    assert event.prefix == uploads.UPLOAD_PREFIX and event.events == ["s3:ObjectCreated:*"]
    notification = _resources(MODULES / "storage" / "main.tf", "aws_s3_bucket_notification")["uploads"]
    target = notification["lambda_function"][0]
    assert target["events"] == event.events and target["filter_prefix"] == "${local.upload_prefix}"
    assert _modules(DEV / "main.tf")["storage"]["on_upload_function_arn"] == (
        f'${{module.lambdas.function_arns["{event.name}"]}}'
    )


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
    assert max(path.count("/") for path, _, _ in expected) <= 3, "modules/api builds 3 levels of resources"


def test_api_module_builds_resources_methods_and_the_authorizer() -> None:
    main = MODULES / "api" / "main.tf"
    assert _locals(main)["routes"] == "${jsondecode(file(var.routes_file))}"
    assert set(_resources(main, "aws_api_gateway_resource")) == {"level1", "level2", "level3"}
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
    assert "gatewayresponse.header.Access-Control-Allow-Origin" in _locals(main)["cors_headers"]


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
    for command in ("functions", "environment", "asl", "openapi"):
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
    lambdas_main = (MODULES / "lambdas" / "main.tf").read_text()
    assert 'replace(key, "_", "-")' in lambdas_main and render.function_name("on_upload").endswith(
        "-on-upload"
    )


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
    responses = json.loads(GATEWAY_RESPONSES_FILE.read_text())
    rendered = document["x-amazon-apigateway-gateway-responses"]
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


def test_dev_environment_plans_against_mocked_aws(tmp_path: Path) -> None:
    terraform = shutil.which("terraform")
    if terraform is None or not (PLUGIN_MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        pytest.skip(f"needs a terraform binary and the AWS provider mirrored in {PLUGIN_MIRROR}")
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
    config = tmp_path / "terraform.rc"
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
    for command in (["init", "-backend=false", "-input=false"], ["validate"], ["test"]):
        run = subprocess.run(
            [terraform, *command, "-no-color"], cwd=dev, env=env, capture_output=True, text=True, timeout=300
        )
        assert run.returncode == 0, f"terraform {command[0]}:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    assert "1 passed, 0 failed" in run.stdout


def test_terraform_files_are_formatted() -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("needs a terraform binary")
    run = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-no-color", str(TERRAFORM)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CHECKPOINT_DISABLE": "1"},
    )
    assert run.returncode == 0, f"run `terraform fmt -recursive infra/terraform`:\n{run.stdout}"
