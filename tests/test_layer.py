"""The deployment packages: what they install, how big they are, and how Terraform runs them.

The engine's packages (layers/onnx-runtime/requirements.txt) and the function package (requirements.txt,
what `chalice package` installs) together are exactly the run-time dependencies of pyproject.toml, with the
same ranges. The zip functions (api, authorizer, on_upload) fit Lambda's 250 MB; the pipeline functions run
from one container image (engine + models + function package, 10 GB limit). Building the packages needs
pip and a package index the first time; later runs reuse them (stamped by their inputs)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PROVIDED_BY_LAMBDA = {"boto3"}  # in every Python runtime
NOT_DEPLOYED = {"chalice"}  # only the packaging tool


def _requirements(path: Path) -> dict[str, str]:
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return {Requirement(line).name: str(Requirement(line).specifier) for line in lines if line}


def test_layer_and_function_requirements_match_the_project() -> None:
    project = {
        Requirement(d).name: str(Requirement(d).specifier)
        for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    layer = _requirements(ROOT / "layers" / "onnx-runtime" / "requirements.txt")
    function = _requirements(ROOT / "requirements.txt")
    assert set(layer) == {"numpy", "opencv-python-headless", "av", "onnxruntime"}
    assert not set(layer) & set(function), "a package in both would be deployed twice"
    assert {**layer, **function} == {
        k: v for k, v in project.items() if k not in PROVIDED_BY_LAMBDA | NOT_DEPLOYED
    }


# --- sizes: the zip functions against 250 MB, the pipeline image against 10 GB ----------------------------

LAYER_DIR = ROOT / "layers" / "onnx-runtime"
HANDLERS = json.loads((ROOT / "infra" / "terraform" / "handlers.json").read_text())
ENGINE = ("numpy", "cv2", "av", "onnxruntime")
MB = 2**20


def _build_layer_module() -> Any:
    spec = importlib.util.spec_from_file_location("build_layer", LAYER_DIR / "build_layer.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_layer", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def build_layer() -> Any:
    return _build_layer_module()


@pytest.fixture(scope="module")
def function_build(build_layer: Any) -> Any:
    """The zip functions' package as `build_function()` builds it (pip installs ~13 MB of wheels the first
    time; later runs reuse the installed packages, keyed by a stamp of their inputs)."""
    return build_layer.build_function()


def test_zip_function_package_fits_lambdas_250_mb(
    build_layer: Any, function_build: Any, record_property: Any
) -> None:
    """api, authorizer and on_upload deploy this package alone (no layer): it must stay under 250 MB
    unzipped, and it carries none of the engine's native packages."""
    size = function_build.unzipped_bytes
    record_property("function_unzipped_mb", round(size / MB, 1))
    zipped = function_build.archive.stat().st_size
    print(f"zip function package: {size / MB:.1f} MB unzipped, {zipped / MB:.1f} MB zipped")
    assert size <= build_layer.LAMBDA_UNZIPPED_LIMIT == 250 * MB, f"{size / MB:.1f} MB > 250 MB"
    tree = function_build.directory
    assert (tree / "app.py").is_file() and (tree / "chalicelib" / "pipeline" / "steps.py").is_file()
    assert sorted(p.name for p in (tree / "chalice").iterdir()) == ["__init__.py", "app.py"], (
        "Chalice runtime"
    )
    assert not [name for name in ENGINE if (tree / name).exists()], "the engine belongs to the image"
    assert not list(tree.glob("boto*")) and not (tree / "cryptography").exists()


def test_size_verdicts_fail_above_the_limits(build_layer: Any) -> None:
    verdict = build_layer.Verdict
    assert verdict(layer_bytes=300 * MB, function_bytes=250 * MB).zip_fits
    assert not verdict(layer_bytes=0, function_bytes=250 * MB + 1).zip_fits
    assert verdict(layer_bytes=10 * 1024 * MB - 13 * MB, function_bytes=13 * MB).image_fits
    assert not verdict(layer_bytes=10 * 1024 * MB, function_bytes=1).image_fits


def test_pipeline_image_content_fits_lambdas_10_gb(
    build_layer: Any, function_build: Any, record_property: Any
) -> None:
    """The image's Python content: the engine packages and models (`build_layer()`, cached by its stamp)
    and the function package. Far under 10 GB; the number is recorded, not compared with 250 MB."""
    if any(not (ROOT / "model" / "onnx" / name).is_file() for name in build_layer.MODEL_FILES):
        pytest.skip("the ONNX models are not built (make models)")
    layer = build_layer.build_layer()
    verdict = build_layer.Verdict(layer.unzipped_bytes, function_build.unzipped_bytes)
    record_property("engine_and_models_mb", round(layer.unzipped_bytes / MB, 1))
    record_property("image_content_mb", round(verdict.image_bytes / MB, 1))
    print(
        f"pipeline image content: {verdict.image_bytes / MB:.1f} MB (engine + models "
        f"{layer.unzipped_bytes / MB:.1f} MB, function {function_build.unzipped_bytes / MB:.1f} MB) "
        f"of {build_layer.LAMBDA_IMAGE_LIMIT / MB:.0f} MB"
    )
    assert verdict.image_fits and verdict.image_bytes <= 10 * 1024**3
    assert sorted(p.name for p in (layer.directory / "model" / "onnx").iterdir()) == sorted(
        build_layer.MODEL_FILES
    )


# --- the image and Terraform agree -----------------------------------------------------------------------


def test_dockerfile_builds_the_pipeline_image_the_way_terraform_runs_it(build_layer: Any) -> None:
    from chalicelib.pipeline import definition

    dockerfile = (LAYER_DIR / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=public\.ecr\.aws/lambda/python:3\.12\S*$", dockerfile, re.M)
    assert re.search(r"build_layer\.py .*--image-tree /build/task", dockerfile), (
        "the image installs what the measured trees hold"
    )
    ignore = (LAYER_DIR / "Dockerfile.dockerignore").read_text().split()
    for name in build_layer.MODEL_FILES:  # copied, and not left out of the build context
        assert f"model/onnx/{name}" in dockerfile and f"!model/onnx/{name}" in ignore, name
    lambdas = (ROOT / "infra" / "terraform" / "modules" / "lambdas" / "variables.tf").read_text()
    assert re.search(r'^\s*model_dir\s+= optional\(string, "/opt/model/onnx"\)', lambdas, re.M)
    assert "/opt/model/onnx/" in dockerfile and "COPY app.py" in dockerfile
    (command,) = re.findall(r'^CMD \["([^"]+)"\]$', dockerfile, re.M)
    assert command == HANDLERS["pipeline_probe"]
    assert set(definition.FUNCTIONS.values()) == {k for k in HANDLERS if k.startswith("pipeline_")}
    ignore = (LAYER_DIR / "Dockerfile.dockerignore").read_text().split()
    assert ignore[0] == "*" and {"!app.py", "!chalicelib/", "!requirements.txt", "!pyproject.toml"} <= set(
        ignore
    )


def test_terraform_attaches_no_layer_and_runs_the_pipeline_from_the_image() -> None:
    terraform = (ROOT / "infra" / "terraform").rglob("*.tf")
    text = "\n".join(p.read_text() for p in terraform)
    assert "aws_lambda_layer_version" not in text and not re.search(r"^\s*layers\s*=", text, re.M)
    main = (ROOT / "infra" / "terraform" / "modules" / "lambdas" / "main.tf").read_text()
    assert 'startswith(key, "pipeline_")' in main
    assert 'package_type = contains(local.image_functions, each.key) ? "Image" : "Zip"' in main
    assert "command = [image_config.value]" in main  # image_config.value = each.value: the handler
    image = {k: v for k, v in HANDLERS.items() if k.startswith("pipeline_")}
    assert image == {k: f"app.{k}" for k in image} and len(image) == 4


_ENGINE_BLOCKER = """
import importlib.abc, sys
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {"numpy", "cv2", "av", "onnxruntime"}:
            raise ImportError(f"{name} is not in the zip functions' package")
sys.meta_path.insert(0, Blocker())
import app
"""


def test_zip_functions_import_without_the_engine() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _ENGINE_BLOCKER], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]


_STUDY_CURVES = (
    _ENGINE_BLOCKER
    + """
import json
from chalicelib.studies import audience, curves

def sample(t, happy):
    emotions = {label: 0.0 for label in audience.LABELS}
    emotions["happy"], emotions["neutral"] = happy, 1 - happy
    return {"t": t, "faces": 1, "emotions": emotions, "attention": 0.9,
            "reactions": {"interest": 0.5, "boredom": 0.0, "confusion": 0.0, "smile": happy}}

step = curves.parse_step({"step": "1"}, 2.0)
default_step = curves.parse_step({}, 3600.0)  # no `step`: the display step of an hour
viewers = [
    audience.ViewerInput("a", 0.0, [sample(0.0, 0.2), sample(1.0, 0.4), sample(2.0, 0.5)]),
    audience.ViewerInput("b", 1.0, [sample(0.0, 0.6), sample(1.0, 0.6)]),
    audience.ViewerInput("c", 2.0, [sample(0.0, 0.4)]),
]
curve = audience.audience_curve(2.0, step, viewers)
both = audience.compare(curve, audience.audience_curve(3.0, step, viewers[:1]))
alone = audience.viewer_curve(viewers[1], audience.grid(2.0, step), step)
print(json.dumps({
    "n": curve["n"], "happy": curve["mean"]["happy"], "low": curve["low"]["happy"],
    "high": curve["high"]["happy"], "difference": both["difference"]["happy"], "t": both["t"],
    "csv": audience.to_csv(curve).splitlines(), "alone": alone["happy"],
    "default_step": default_step,
    "engine": sorted(m for m in sys.modules if m.split(".")[0] in {"numpy", "cv2", "av", "onnxruntime"}),
}))
"""
)


def test_zip_functions_compute_audience_curves_without_the_engine() -> None:
    """The API function serves the audience, CSV, compare and drill-down routes from its zip: with numpy
    and the rest of the engine blocked, the study modules import and compute (n, means, band, CSV)."""
    run = subprocess.run(
        [sys.executable, "-c", _STUDY_CURVES], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.splitlines()[-1])
    assert out["engine"] == []
    assert out["default_step"] == 2.0
    assert out["n"] == [1, 2, 3]
    # t 2: 0.5, 0.6, 0.4 -> mean 0.5, sd 0.1, 4.3027 * 0.1 / sqrt 3 = 0.24841
    assert out["happy"] == [0.2, 0.5, 0.5] and out["low"][2] == 0.2516 and out["high"][2] == 0.7484
    assert out["low"][0] is None  # one viewer: no band
    # against viewer a alone (0.2, 0.4, 0.5, nothing at 3 s) on the longer grid
    assert out["t"] == [0.0, 1.0, 2.0, 3.0] and out["difference"] == [0.0, 0.1, 0.0, None]
    assert out["alone"] == [None, 0.6, 0.6]
    assert out["csv"][0].startswith("t,n,angry_mean,") and len(out["csv"]) == 4
    assert out["csv"][3].startswith("2.0,3,0.0,0.0,0.0,")


def test_zip_functions_deploy_on_the_python_the_package_is_measured_for(build_layer: Any) -> None:
    """The zip package is measured (above) for build_function's Python; Terraform's default runtime and
    LocalStack's build and deploy use that same Python (3.12: onnxruntime >= 1.17 has no wheel that loads
    on python3.11's Amazon Linux 2)."""
    import inspect

    python = inspect.signature(build_layer.build_function).parameters["python"].default
    assert python == "3.12"
    terraform = ROOT / "infra" / "terraform"
    for path, name in (
        (terraform / "modules" / "lambdas" / "variables.tf", "runtime"),
        (terraform / "environments" / "dev" / "variables.tf", "lambda_runtime"),
    ):
        block = re.search(rf'variable "{name}" {{(.*?)\n}}', path.read_text(), re.S)
        assert block and re.search(rf'default\s*=\s*"python{python}"', block[1]), (path, name)
    deploy = (ROOT / "localstack" / "init" / "ready.d" / "deploy.sh").read_text()
    assert set(re.findall(r"--runtime (\S+)", deploy)) == {f"python{python}"}
    build = (ROOT / "localstack" / "build.sh").read_text()
    assert f'PY_VERSION="${{LAMBDA_PYTHON_VERSION:-{python}}}"' in build
    assert 'build_layer.py --python "$PY_VERSION" --print-platforms' in build, "the same platform tags"
    assert "--platform manylinux2014_x86_64" not in build
