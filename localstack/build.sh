#!/usr/bin/env bash
# Build, on the host (needs pip, Docker and the models: `make models`):
# - localstack/build/function.zip: app.py, chalicelib, the ONNX models and every runtime dependency of
#   pyproject.toml, as Linux x86_64 wheels for the Lambda runtime's Python (3.12). The API, authorizer and
#   on_upload run from it; so do the pipeline functions on LocalStack Community, which refuses images.
# - the pipeline image (layers/onnx-runtime/Dockerfile, as the cloud runs it), tagged
#   $EMOTIONFY_PIPELINE_IMAGE (default emotionfy-pipeline:local), for LocalStack Pro
#   (docker-compose.pro.yml). SKIP_IMAGE=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
# python3.12 (Amazon Linux 2023, glibc 2.34), as modules/lambdas' runtime default and deploy.sh: onnxruntime
# >= 1.17 publishes no wheel that loads on python3.11's Amazon Linux 2 (glibc 2.26).
PY_VERSION="${LAMBDA_PYTHON_VERSION:-3.12}"
OUT=localstack/build

# Linux x86_64 wheels for that runtime, with the platform tags layers/onnx-runtime/build_layer.py uses for
# it (manylinux_2_34 ... 2_17 for 3.12), so both packages resolve the same wheels.
PLATFORMS="$("$PYTHON" layers/onnx-runtime/build_layer.py --python "$PY_VERSION" --print-platforms)"
TARGET_ARGS=(--implementation cp --python-version "$PY_VERSION" --only-binary=:all:)
for platform in $PLATFORMS; do TARGET_ARGS+=(--platform "$platform"); done

# The runtime dependencies, read from pyproject.toml so this list cannot drift from it.
requirements() {
  "$PYTHON" - <<'PY'
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))
PY
}

# RESOLVE_ONLY=1: only check that pip resolves that requirement set for the target (needs the index; builds
# and deletes nothing; tests/test_infra.py runs it).
if [ "${RESOLVE_ONLY:-0}" = 1 ]; then
  SCRATCH="$(mktemp -d)"
  trap 'rm -rf "$SCRATCH"' EXIT
  requirements > "$SCRATCH/requirements.txt"
  "$PYTHON" -m pip install --dry-run --quiet --disable-pip-version-check --target "$SCRATCH/target" \
    --requirement "$SCRATCH/requirements.txt" "${TARGET_ARGS[@]}"
  echo "resolved for python$PY_VERSION ($(echo $PLATFORMS))"
  exit 0
fi

rm -rf "$OUT/package" "$OUT/function.zip"
mkdir -p "$OUT/package"

test -f model/onnx/manifest.json || { echo "no models in model/onnx: run 'make models' first" >&2; exit 1; }

requirements > "$OUT/requirements.txt"
"$PYTHON" -m pip install --quiet --target "$OUT/package" --requirement "$OUT/requirements.txt" \
  "${TARGET_ARGS[@]}"

cp -r app.py chalicelib "$OUT/package/"
mkdir -p "$OUT/package/model"
cp -r model/onnx "$OUT/package/model/"
find "$OUT/package" -name __pycache__ -prune -exec rm -rf {} +
(cd "$OUT/package" && "$PYTHON" -m zipfile -c ../function.zip .)
echo "built $OUT/function.zip ($(du -h "$OUT/function.zip" | cut -f1))"

if [ "${SKIP_IMAGE:-0}" != 1 ]; then
  IMAGE="${EMOTIONFY_PIPELINE_IMAGE:-emotionfy-pipeline:local}"
  docker build --platform linux/amd64 -f layers/onnx-runtime/Dockerfile -t "$IMAGE" .
  echo "built image $IMAGE (the pipeline functions with docker-compose.pro.yml)"
fi
