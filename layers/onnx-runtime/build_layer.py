"""Build and measure the two deployment packages: the zip functions' package and the pipeline image's content.

    python layers/onnx-runtime/build_layer.py [--python 3.12] [--arch x86_64|arm64]
    python layers/onnx-runtime/build_layer.py --image-tree DIR    (inside the Dockerfile's build stage)
    python layers/onnx-runtime/build_layer.py [--python 3.12] --print-platforms   (localstack/build.sh)

The zip functions (api, authorizer, on_upload) get app.py, chalicelib, Chalice's runtime (chalice/app.py,
what `chalice package` adds) and requirements.txt's light packages: `build_function()`. The pipeline
functions run from one container image (./Dockerfile) that carries, in addition, the engine's native
packages (numpy, OpenCV, PyAV, onnxruntime) and the ONNX models: `build_layer()` builds that part (the name
is historical: it was a Lambda layer, which cannot fit, see README.md). Everything is installed from
manylinux wheels for the target runtime (`pip install --platform ... --only-binary=:all: --target`) and
stripped of what Lambda never loads (tests, headers, caches, docs, the packages' offline tools, the C-API
copy of onnxruntime, all Haar cascades but the one we use, packages the runtime already has).

Prints the unzipped sizes and two verdicts: the zip functions against Lambda's 250 MB (function + layers,
unzipped), the image against its 10 GB; exits 1 when either is over.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BUILD = HERE / "build"
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
#: A container image function may be up to 10 GB (uncompressed image, all layers).
LAMBDA_IMAGE_LIMIT = 10 * 1024**3
#: What `chalice package` copies of Chalice into a deployment: its runtime, standard library only.
CHALICE_RUNTIME_FILES = ("__init__.py", "app.py")
ARCHES = {"x86_64": "x86_64", "arm64": "aarch64"}
#: The glibc of each runtime's OS: python3.12 runs on Amazon Linux 2023 (glibc 2.34), python3.11 on Amazon
#: Linux 2 (glibc 2.26), where current onnxruntime wheels (manylinux_2_27+) do not load.
GLIBC = {"3.12": ("2_34", "2_28", "2_27", "2_17"), "3.11": ("2_26", "2_17")}

#: Never imported at run time in Lambda.
STRIP_DIRS = {"tests", "test", "testing", "__pycache__", "include", "docs", "examples", "benchmarks"}
STRIP_SUFFIXES = {".pyc", ".pyi", ".h", ".hpp", ".c", ".cpp", ".pxd", ".pyx", ".a"}
#: Per-package files the engine never loads (globs relative to the install directory). Each was removed
#: from a built tree that then imported and ran the engine's calls (see smoke_test.py).
LAYER_REMOVALS = (
    # The C API build of onnxruntime (libonnxruntime.so, 15-35 MB): the Python module
    # (onnxruntime_pybind11_state*.so) links the runtime statically and has no DT_NEEDED on it.
    "onnxruntime/capi/libonnxruntime.so*",
    # Offline tools (model conversion, quantization, transformer optimisation, the ONNX backend-test API,
    # sample models); `import onnxruntime` imports none of them.
    "onnxruntime/transformers",
    "onnxruntime/tools",
    "onnxruntime/quantization",
    "onnxruntime/backend",
    "onnxruntime/datasets",
    "onnxruntime/training",
    # Type stubs for editors.
    "cv2/typing",
    # Console scripts (f2py, numpy-config, onnxruntime_test).
    "bin",
)
#: cv2.data ships ~9 MB of cascades; faces.py loads only this one.
HAAR_CASCADES = ("haarcascade_frontalface_default.xml",)
#: Distributions the Lambda python runtime already provides (boto3 and its dependencies), and
#: `cryptography`, which pyjwt[crypto] pulls in for RSA/EC/EdDSA keys: our tokens are HS256 (hmac, stdlib),
#: and PyJWT, redis and urllib3 import cryptography only inside try/except.
FUNCTION_EXCLUDED_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "cryptography")
MODEL_FILES = (
    "mini_xception.onnx",
    "faceapi_expression.onnx",
    "tiny_face_detector.onnx",
    "face_detection_short_range.onnx",
    "face_detection_full_range.onnx",
    "face_landmark.onnx",
    "iris_landmark.onnx",
    "own_expression.onnx",
    "calibrated.json",
)


def platforms(python: str, arch: str) -> list[str]:
    return [f"manylinux_{glibc}_{ARCHES[arch]}" for glibc in GLIBC[python]]


@dataclass(frozen=True)
class Built:
    directory: Path
    archive: Path
    unzipped_bytes: int


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _strip(tree: Path) -> None:
    for path in sorted(tree.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and path.name in STRIP_DIRS and "site-packages" not in path.parts:
            # numpy/_core/include is needed only to compile extensions
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and path.suffix in STRIP_SUFFIXES:
            path.unlink()
    # pip's install manifests (RECORD lists every file with its hash); importlib.metadata reads METADATA.
    for record in tree.glob("*.dist-info/RECORD"):
        record.unlink()


def _strip_layer(tree: Path) -> None:
    for pattern in LAYER_REMOVALS:
        for path in tree.glob(pattern):
            _remove(path)
    for cascade in (tree / "cv2" / "data").glob("*.xml"):
        if cascade.name not in HAAR_CASCADES:
            cascade.unlink()
    _strip(tree)


def _remove_distribution(tree: Path, name: str) -> None:
    """Uninstall one distribution from a `--target` tree: every file its RECORD lists, then empty dirs."""
    normalized = name.lower().replace("-", "_")
    for info in tree.glob("*.dist-info"):
        if info.name.removesuffix(".dist-info").rsplit("-", 1)[0].lower().replace("-", "_") != normalized:
            continue
        top: set[Path] = set()
        for line in (info / "RECORD").read_text().splitlines():
            relative = line.rsplit(",", 2)[0]
            if relative and not relative.startswith(".."):
                (tree / relative).unlink(missing_ok=True)
                top.add(tree / Path(relative).parts[0])
        for directory in top:
            if directory.is_dir():
                for sub in sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                    if sub.is_dir() and not any(sub.iterdir()):
                        sub.rmdir()
                if not any(directory.iterdir()):
                    directory.rmdir()
        shutil.rmtree(info, ignore_errors=True)


def _pip_install(
    requirements: Path,
    target: Path,
    python: str,
    arch: str,
    *,
    no_deps: bool = False,
    platform_tags: Sequence[str] | None = None,
) -> None:
    tags = [arg for platform in platform_tags or platforms(python, arch) for arg in ("--platform", platform)]
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade"]
    target_args = ["--implementation", "cp", "--python-version", python, "--only-binary=:all:", *tags]
    deps = ["--no-deps"] if no_deps else []
    subprocess.run(
        [*pip, "--requirement", str(requirements), "--target", str(target), *target_args, *deps], check=True
    )


def install_layer_packages(
    target: Path, python: str, arch: str, platform_tags: Sequence[str] | None = None
) -> None:
    """The layer's /opt/python: requirements.txt's packages only, stripped.

    `--no-deps`: requirements.txt names every package the engine imports (numpy included). onnxruntime's own
    dependencies (protobuf, flatbuffers, packaging; sympy and coloredlogs before 1.21) serve only its
    offline tools, removed above, and `import onnxruntime` does not import them.
    """
    _pip_install(HERE / "requirements.txt", target, python, arch, no_deps=True, platform_tags=platform_tags)
    _strip_layer(target)


def chalice_requirement() -> str:
    """pyproject.toml's Chalice requirement (the one place its range is written)."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (requirement,) = [
        d for d in dependencies if d.split("<")[0].split(">")[0].split("=")[0].strip() == "chalice"
    ]
    return str(requirement)


def install_chalice_runtime(target: Path, python: str, arch: str) -> None:
    """chalice/__init__.py and chalice/app.py, as `chalice package` puts them in a deployment: app.py
    imports `chalice`, whose CLI and deployer (and their dependencies) Lambda never needs."""
    with tempfile.TemporaryDirectory() as scratch:
        requirements = Path(scratch) / "requirements.txt"
        requirements.write_text(chalice_requirement() + "\n")
        _pip_install(requirements, Path(scratch) / "site", python, arch, no_deps=True)
        (target / "chalice").mkdir(parents=True, exist_ok=True)
        for name in CHALICE_RUNTIME_FILES:
            shutil.copy2(Path(scratch) / "site" / "chalice" / name, target / "chalice" / name)


def install_function_packages(target: Path, python: str, arch: str) -> None:
    """requirements.txt's packages less what Lambda provides (boto3) and `cryptography`, stripped, and
    Chalice's runtime."""
    _pip_install(ROOT / "requirements.txt", target, python, arch)
    for name in FUNCTION_EXCLUDED_DISTRIBUTIONS:
        _remove_distribution(target, name)
    shutil.rmtree(target / "bin", ignore_errors=True)
    _strip(target)
    install_chalice_runtime(target, python, arch)


def install_image_packages(target: Path, python: str = "3.12", arch: str = "x86_64") -> None:
    """The pipeline image's /var/task without the application: the engine packages (as `build_layer`
    installs them) and the function packages (as `build_function` does), each stripped by its own rules.
    The Dockerfile's build stage runs this (`--image-tree`) so the image and the measured trees agree."""
    with tempfile.TemporaryDirectory() as scratch:
        engine, function = Path(scratch) / "engine", Path(scratch) / "function"
        install_layer_packages(engine, python, arch)
        install_function_packages(function, python, arch)
        target.mkdir(parents=True, exist_ok=True)
        for tree in (engine, function):
            shutil.copytree(tree, target, dirs_exist_ok=True, symlinks=True)


def _zip(source: Path, archive: Path) -> None:
    archive.unlink(missing_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as out:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(source).as_posix())


def _stamp(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def build_layer(python: str = "3.12", arch: str = "x86_64", model_dir: Path | None = None) -> Built:
    """The layer; rebuilt only when its requirements, models, target or this script change."""
    models = model_dir or ROOT / "model" / "onnx"
    missing = [name for name in MODEL_FILES if not (models / name).is_file()]
    if missing:
        raise SystemExit(f"models missing in {models}: {', '.join(missing)} (run `make models` first)")
    requirements = HERE / "requirements.txt"
    stamp = _stamp(
        requirements.read_bytes(),
        Path(__file__).read_bytes(),
        python.encode(),
        arch.encode(),
        *((models / n).read_bytes()[: 1 << 20] for n in MODEL_FILES),
    )
    directory = BUILD / f"layer-py{python}-{arch}"
    archive = BUILD / f"emotionfy-onnx-layer-py{python}-{arch}.zip"
    if (directory / ".stamp").is_file() and (directory / ".stamp").read_text() == stamp and archive.is_file():
        return Built(directory, archive, _size(directory) - len(stamp))
    shutil.rmtree(directory, ignore_errors=True)
    (directory / "python").mkdir(parents=True)
    install_layer_packages(directory / "python", python, arch)
    (directory / "model" / "onnx").mkdir(parents=True)
    for name in MODEL_FILES:
        shutil.copy2(models / name, directory / "model" / "onnx" / name)
    _zip(directory, archive)
    (directory / ".stamp").write_text(stamp)
    return Built(directory, archive, _size(directory) - len(stamp))


def build_function(python: str = "3.12", arch: str = "x86_64") -> Built:
    """What `chalice package` deploys for the zip functions: app.py, chalicelib/, Chalice's runtime and
    requirements.txt's packages (light ones), less what the Lambda runtime provides (boto3, botocore) and
    `cryptography` (unused: HS256). The packages are reinstalled only when requirements.txt, pyproject.toml
    (Chalice's range), the target or this script change; app.py and chalicelib are copied every time."""
    requirements = ROOT / "requirements.txt"
    stamp = _stamp(
        requirements.read_bytes(),
        chalice_requirement().encode(),
        Path(__file__).read_bytes(),
        python.encode(),
        arch.encode(),
    )
    directory = BUILD / f"function-py{python}-{arch}"
    archive = BUILD / f"emotionfy-function-py{python}-{arch}.zip"
    packages = BUILD / f"function-packages-py{python}-{arch}"
    if not ((packages / ".stamp").is_file() and (packages / ".stamp").read_text() == stamp):
        shutil.rmtree(packages, ignore_errors=True)
        packages.mkdir(parents=True)
        install_function_packages(packages, python, arch)
        (packages / ".stamp").write_text(stamp)
    shutil.rmtree(directory, ignore_errors=True)
    shutil.copytree(packages, directory, symlinks=True, ignore=shutil.ignore_patterns(".stamp"))
    shutil.copy2(ROOT / "app.py", directory / "app.py")
    shutil.copytree(
        ROOT / "chalicelib", directory / "chalicelib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    _zip(directory, archive)
    return Built(directory, archive, _size(directory))


@dataclass(frozen=True)
class Verdict:
    """The measured sizes against Lambda's limits."""

    layer_bytes: int  # the engine packages and models (image only)
    function_bytes: int  # the zip functions' package (also in the image)

    @property
    def image_bytes(self) -> int:
        return self.layer_bytes + self.function_bytes

    @property
    def zip_fits(self) -> bool:
        """A zip function: its package, unzipped, with no layer (none is attached any more)."""
        return self.function_bytes <= LAMBDA_UNZIPPED_LIMIT

    @property
    def image_fits(self) -> bool:
        """The pipeline image's Python content (the base image's own ~0.6 GB is not counted)."""
        return self.image_bytes <= LAMBDA_IMAGE_LIMIT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--python", default="3.12", choices=sorted(GLIBC))
    parser.add_argument("--arch", default="x86_64", choices=sorted(ARCHES))
    parser.add_argument(
        "--image-tree", type=Path, help="install the image's packages into this directory and stop"
    )
    parser.add_argument(
        "--print-platforms",
        action="store_true",
        help="print the pip --platform tags for --python and --arch, one a line, and stop",
    )
    args = parser.parse_args(argv)
    if args.print_platforms:
        print("\n".join(platforms(args.python, args.arch)))
        return 0
    if args.image_tree:
        install_image_packages(args.image_tree, args.python, args.arch)
        print(f"image packages in {args.image_tree}: {_size(args.image_tree) / 2**20:.1f} MB")
        return 0
    layer = build_layer(args.python, args.arch)
    function = build_function(args.python, args.arch)
    verdict = Verdict(layer.unzipped_bytes, function.unzipped_bytes)
    report = {
        "function_zip": str(function.archive.relative_to(ROOT)),
        "function_unzipped_mb": round(function.unzipped_bytes / 2**20, 1),
        "function_zipped_mb": round(function.archive.stat().st_size / 2**20, 1),
        "zip_limit_mb": LAMBDA_UNZIPPED_LIMIT // 2**20,
        "zip_functions_fit": verdict.zip_fits,
        "engine_and_models_mb": round(layer.unzipped_bytes / 2**20, 1),
        "image_content_mb": round(verdict.image_bytes / 2**20, 1),
        "image_limit_mb": LAMBDA_IMAGE_LIMIT // 2**20,
        "image_fits": verdict.image_fits,
    }
    print(json.dumps(report, indent=1))
    failed = 0
    if not verdict.zip_fits:
        print(
            f"zip functions too big: {function.unzipped_bytes / 2**20:.1f} MB unzipped > 250 MB",
            file=sys.stderr,
        )
        failed = 1
    if not verdict.image_fits:
        print(f"pipeline image too big: {verdict.image_bytes / 2**30:.2f} GB > 10 GB", file=sys.stderr)
        failed = 1
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
