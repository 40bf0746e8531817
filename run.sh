#!/usr/bin/env bash
# minitf course: one command for each job, each doing its own set-up on a fresh machine.
#   ./run.sh lab     open the course in JupyterLab (127.0.0.1)
#   ./run.sh train   headless: train the MNIST models (MLP, then CNN; --model mlp|cnn for one)
#   ./run.sh serve   serve the trained MNIST models over TF Serving's REST API (127.0.0.1:8501)
#   ./run.sh test    the whole test suite (what CI runs)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
VENV=$ROOT/.venv
export NUMBA_CACHE_DIR=$ROOT/.numba_cache
export PYTHONHASHSEED=0

setup() {
  if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV"
    python3 -m venv "$VENV" || {
      echo "python3 -m venv failed: install Python 3.10+ with venv (Debian: apt-get install python3-venv)" >&2
      exit 1
    }
  fi
  local stamp="$VENV/.minitf-installed" want
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing minitf and its dependencies into $VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -e ".[course,test]"
    echo "$want" >"$stamp"
  fi
}

# The browser smoke test drives Debian's Chromium; install it when we can (root), else it skips.
ensure_chromium() {
  if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing chromium (for tests/test_browser_smoke.py)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; } ||
      echo "chromium could not be installed: the browser smoke test will be skipped" >&2
  fi
}

# The autograder runs student kernels inside bubblewrap when it exists (else limits only).
ensure_bwrap() {
  if ! command -v bwrap >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing bubblewrap (the autograder's sandbox)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >/dev/null; } ||
      echo "bubblewrap could not be installed: the autograder runs kernels without a sandbox" >&2
  fi
}

fetch_data() {
  "$VENV/bin/python" -m minitf.datasets fetch mnist
}

case "${1:-}" in
  lab)
    setup
    fetch_data
    args=(--no-browser --ip=127.0.0.1 --port="${PORT:-8888}" --notebook-dir="$ROOT/notebooks")
    [ "$(id -u)" = 0 ] && args+=(--allow-root)
    exec "$VENV/bin/jupyter" lab "${args[@]}"
    ;;
  train)
    setup
    fetch_data
    shift
    case " $* " in
      *" --model"*) exec "$VENV/bin/python" -m minitf.examples.mnist --export-dir "$ROOT/models" "$@" ;;
    esac
    "$VENV/bin/python" -m minitf.examples.mnist --model mlp --export-dir "$ROOT/models" "$@"
    "$VENV/bin/python" -m minitf.examples.mnist --model cnn --export-dir "$ROOT/models" "$@"
    ;;
  serve)
    setup
    shift
    # models/mnist_mlp/N and models/mnist_cnn/N are written by ./run.sh train
    config=$ROOT/models/models.config
    mkdir -p "$ROOT/models"
    echo "model_config_list {" >"$config"
    found=0
    for name in mnist_mlp mnist_cnn; do
      if [ -d "$ROOT/models/$name" ]; then
        echo "  config { name: '$name' base_path: '$ROOT/models/$name' model_platform: 'tensorflow' }" >>"$config"
        found=1
      fi
    done
    echo "}" >>"$config"
    if [ "$found" = 0 ]; then
      echo "no trained models in $ROOT/models: run ./run.sh train first" >&2
      exit 1
    fi
    echo "==> open http://127.0.0.1:${PORT:-8501}/ to draw a digit"
    exec "$VENV/bin/python" -m minitf.serving --rest_api_port="${PORT:-8501}" \
      --model_config_file="$config" --enable_batching "$@"
    ;;
  test)
    setup
    fetch_data
    ensure_chromium
    ensure_bwrap
    shift
    "$VENV/bin/ruff" check .
    "$VENV/bin/python" -m minitf.backends.codegen --check
    "$VENV/bin/python" -m minitf.backends.cuda.codegen --check
    "$VENV/bin/python" -m course generate --check
    "$VENV/bin/python" -m pytest "$@"
    if [ -d tests/cudasim ]; then
      NUMBA_ENABLE_CUDASIM=1 "$VENV/bin/python" -m pytest -p no:nbval tests/cudasim "$@"
    fi
    ;;
  *)
    sed -n '2,6p' "$0"
    exit 2
    ;;
esac
