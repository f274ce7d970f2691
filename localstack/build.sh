#!/usr/bin/env bash
# Build, on the host (needs pip, Docker and the models: `make models`):
# - localstack/build/function.zip: app.py, chalicelib, the ONNX models and every runtime dependency of
#   pyproject.toml, as Linux x86_64 wheels for the Lambda runtime's Python. The API, authorizer and
#   on_upload run from it; so do the pipeline functions on LocalStack Community, which refuses images.
# - the pipeline image (layers/onnx-runtime/Dockerfile, as the cloud runs it), tagged
#   $EMOTIONFY_PIPELINE_IMAGE (default emotionfy-pipeline:local), for LocalStack Pro
#   (docker-compose.pro.yml). SKIP_IMAGE=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
PY_VERSION="${LAMBDA_PYTHON_VERSION:-3.11}"
OUT=localstack/build
rm -rf "$OUT/package" "$OUT/function.zip"
mkdir -p "$OUT/package"

test -f model/onnx/manifest.json || { echo "no models in model/onnx: run 'make models' first" >&2; exit 1; }

# The runtime dependencies, read from pyproject.toml so this list cannot drift from it.
"$PYTHON" - > "$OUT/requirements.txt" <<'PY'
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))
PY

"$PYTHON" -m pip install --quiet --target "$OUT/package" --requirement "$OUT/requirements.txt" \
  --platform manylinux2014_x86_64 --implementation cp --python-version "$PY_VERSION" --only-binary=:all:

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
