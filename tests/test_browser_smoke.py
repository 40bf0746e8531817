"""A real browser opens a chapter in JupyterLab, runs every cell, and sees a live ipywidget.

JupyterLab serves a copy of the chapter on 127.0.0.1 (free port, no token); Debian's Chromium is
driven headless by Playwright. A screenshot is saved to test-artifacts/. Skips, saying why,
without Chromium or Playwright.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

@contextlib.contextmanager
def chromium_page(width: int = 1400, height: int = 1000):
    """A page of Debian's Chromium driven headless by Playwright, closed afterwards; skips,
    saying why, where either is missing (every browser test starts its browser here)."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent (Debian: apt-get install chromium; ./run.sh test does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


# Every code cell has run, the kernel is idle; or the first error output, if any.
_STATE_JS = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!w || !w.content || !w.content.model) return {ready: false};
  const cells = w.content.model.cells;
  let code = 0, ran = 0, errors = [];
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i);
    if (c.type !== 'code') continue;
    code++;
    if (c.executionCount) ran++;
    for (const o of c.outputs.toJSON()) {
      if (o.output_type === 'error') errors.push(`cell ${i + 1}: ${o.ename}: ${o.evalue}`);
    }
  }
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  return {ready: code > 0 && ran === code && !!kernel && kernel.status === 'idle',
          code, ran, errors, status: kernel ? kernel.status : 'none'};
}"""


def _chapter() -> Path:
    for name in ("01_tensors.ipynb", "02_computation_graphs.ipynb"):
        if (ROOT / "notebooks" / name).exists():
            return ROOT / "notebooks" / name
    pytest.skip("no notebooks/01_tensors.ipynb or 02_computation_graphs.ipynb")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# No autosave (the committed chapter must not change) and no news pop-up over the screenshot.
_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": '{"autosave": false}',
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": '{"fetchNews": "false"}',
}


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server over a copy of the chapter, yielding (base URL, notebook name)."""
    pytest.importorskip("jupyterlab")
    chapter = _chapter()
    served = tmp_path / "served"
    served.mkdir()
    shutil.copyfile(chapter, served / chapter.name)
    with served_lab(served, tmp_path) as url:
        yield url, chapter


@contextlib.contextmanager
def served_lab(served: Path, tmp_path: Path, inline_figures: bool = False):
    """A plain JupyterLab over the folder ``served`` (no autosave, no news), yielding its URL;
    figures go to Agg (not drawn) unless ``inline_figures``."""
    settings = tmp_path / "settings"
    for rel, text in _SETTINGS.items():
        (settings / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings / rel).write_text(text)
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", f"--ServerApp.root_dir={served}", "--IdentityProvider.token=",
           "--ServerApp.password=", "--LabApp.expose_app_in_browser=True",
           f"--LabApp.user_settings_dir={settings}",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.getuid() == 0:
        cmd.append("--allow-root")
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    if not inline_figures:
        env["MPLBACKEND"] = "Agg"
    with jupyter_server(cmd, env, port, tmp_path / "lab.log") as url:
        yield url


@contextlib.contextmanager
def jupyter_server(cmd: list[str], env: dict, port: int, log_path: Path):
    """Run ``cmd`` (a Jupyter server on 127.0.0.1:``port``) until it answers, within 120 s;
    yield its URL; stop it after (terminate, then kill after 20 s)."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=5)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{cmd[:3]} did not start:\n" + log_path.read_text()[-3000:])
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_all_cells(page, notebook_url: str, shot: Path) -> None:
    """Open a notebook in the lab, run all its cells (bounded waits), screenshot to ``shot``
    and fail on the first error output."""
    page.goto(notebook_url, timeout=120_000)
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
        timeout=120_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    try:
        page.wait_for_function(f"() => ({_STATE_JS})().ready", timeout=240_000, polling=1000)
    finally:
        state = page.evaluate(f"({_STATE_JS})()")
        page.screenshot(path=str(shot))
    assert state["errors"] == [], state["errors"]


def test_chapter_runs_in_a_real_browser(lab):
    url, chapter = lab
    shot = ARTIFACTS / f"browser_smoke_{chapter.stem}.png"
    with chromium_page() as page:
        run_all_cells(page, f"{url}/lab/tree/{chapter.name}", shot)
        widget = page.locator(".jp-OutputArea-output .jupyter-widgets").first
        widget.wait_for(state="attached", timeout=60_000)
        widget.scroll_into_view_if_needed()
        assert widget.is_visible(), "no rendered ipywidget in the outputs"
        page.screenshot(path=str(shot))
    assert shot.stat().st_size > 0
