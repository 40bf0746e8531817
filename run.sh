#!/usr/bin/env bash
# minitf course: one command for each job, each doing its own set-up on a fresh machine.
#   ./run.sh lab     the student's JupyterLab (127.0.0.1): chapters and assignments, no instructor tools
#   ./run.sh instructor  JupyterLab on the whole project, with nbgrader's tools (course/instructor_guide.md)
#   ./run.sh train   headless: train the MNIST models (MLP, then CNN; --model mlp|cnn for one;
#                    --workers N: data-parallel on N MPI processes, never more than the cores)
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
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -e ".[course,test,distributed]"
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

# JupyterLab for `lab` (student) or `instructor`; extra arguments go to jupyter lab.
# MINITF_NO_SETUP=1 skips the set-up and the MNIST download (tests/test_student_lab.py).
serve_lab() {
  local who=$1
  shift
  if [ "${MINITF_NO_SETUP:-}" != 1 ]; then
    setup
    fetch_data
  fi
  # Signed notebooks open trusted (their widgets and HTML outputs render).
  "$VENV/bin/jupyter" trust notebooks/*.ipynb exercises/*.ipynb >/dev/null
  # No news pop-up, no update check; Markdown opens rendered (lab/START_HERE.md).
  local args=(--no-browser --ip=127.0.0.1 --port="${PORT:-8888}"
    --LabApp.app_settings_dir="$ROOT/course/lab_config/app_settings"
    --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate)
  if [ "$who" = student ]; then
    # lab/ shows notebooks/ and exercises/ (links) and START_HERE.md, not solutions/ or the
    # hidden tests; course/lab_config turns nbgrader's instructor extensions off.
    export JUPYTER_CONFIG_DIR=$ROOT/course/lab_config
    args+=(--ServerApp.root_dir="$ROOT/lab" --LabApp.default_url=/lab/tree/START_HERE.md)
  else
    args+=(--ServerApp.root_dir="$ROOT")
  fi
  [ "$(id -u)" = 0 ] && args+=(--allow-root)
  exec "$VENV/bin/jupyter" lab "${args[@]}" "$@"
}

case "${1:-}" in
  lab)
    shift
    serve_lab student "$@"
    ;;
  instructor)
    shift
    serve_lab instructor "$@"
    ;;
  train)
    setup
    fetch_data
    shift
    py=("$VENV/bin/python")
    rest=()
    while [ $# -gt 0 ]; do
      case "$1" in
        --workers) py=("$VENV/bin/mpiexec" -n "$2" "$VENV/bin/python"); shift 2 ;;
        --workers=*) py=("$VENV/bin/mpiexec" -n "${1#*=}" "$VENV/bin/python"); shift ;;
        *) rest+=("$1"); shift ;;
      esac
    done
    set -- ${rest[@]+"${rest[@]}"}
    case " $* " in
      *" --model"*) exec "${py[@]}" -m minitf.examples.mnist --export-dir "$ROOT/models" "$@" ;;
    esac
    "${py[@]}" -m minitf.examples.mnist --model mlp --export-dir "$ROOT/models" "$@"
    "${py[@]}" -m minitf.examples.mnist --model cnn --export-dir "$ROOT/models" "$@"
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
    # Two passes: most tests on one pytest-xdist worker per core (a file stays on one worker:
    # nbval's kernel and module fixtures live per file), then the `serial` ones alone (MPI ranks,
    # servers, browsers, notebook grading under tight time limits; tests/conftest.py lists them).
    # Exit status 5 is "nothing selected": extra arguments may pick tests of one pass only.
    jobs=$(nproc 2>/dev/null || echo 2); [ "$jobs" -gt 4 ] && jobs=4
    pass_ok() { [ "$1" = 0 ] || [ "$1" = 5 ]; }
    rc=0; "$VENV/bin/python" -m pytest -n "$jobs" --dist loadfile -m "not serial" "$@" || rc=$?
    pass_ok $rc || exit $rc
    rc=0; "$VENV/bin/python" -m pytest -m serial "$@" || rc=$?
    pass_ok $rc || exit $rc
    if [ -d tests/cudasim ]; then
      NUMBA_ENABLE_CUDASIM=1 "$VENV/bin/python" -m pytest -n "$jobs" -p no:nbval tests/cudasim "$@"
    fi
    ;;
  *)
    sed -n '2,6p' "$0"
    exit 2
    ;;
esac
