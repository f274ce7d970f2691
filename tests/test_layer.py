"""The deployment packages ask for the same versions as the project: the layer (native engine packages)
and the function package (requirements.txt, what `chalice package` installs) together are exactly the
run-time dependencies of pyproject.toml, with the same ranges."""

from __future__ import annotations

import tomllib
from pathlib import Path

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
