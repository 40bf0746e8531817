"""The student's lab (``./run.sh lab``) in a real browser: it opens on START_HERE.md, the file
browser reaches an assignment in exercises/, and there are no instructor tools (nbgrader's
menu, Create Assignment, formgrader), no news pop-up and no solutions/ or hidden tests; the
notebooks are trusted. Skips, saying why, without Chromium or Playwright.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from test_browser_smoke import ARTIFACTS, _free_port, chromium_page, jupyter_server

ROOT = Path(__file__).resolve().parent.parent


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


@pytest.fixture
def student_lab(tmp_path):
    """``./run.sh lab`` (no set-up, settings and signatures in tmp_path); yields its URL."""
    pytest.importorskip("jupyterlab")
    port = _free_port()
    env = dict(os.environ, PORT=str(port), MINITF_NO_SETUP="1", MPLBACKEND="Agg",
               JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    cmd = ["bash", str(ROOT / "run.sh"), "lab", "--IdentityProvider.token=",
           "--ServerApp.password=", "--LabApp.expose_app_in_browser=True",
           f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
           f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}"]
    autosave = tmp_path / "settings/@jupyterlab/docmanager-extension/plugin.jupyterlab-settings"
    autosave.parent.mkdir(parents=True)
    autosave.write_text('{"autosave": false}')  # the committed assignment must not change
    with jupyter_server(cmd, env, port, tmp_path / "lab.log") as url:
        yield url, tmp_path


def test_student_lab_serves_chapters_and_assignments_only(student_lab):
    url, tmp = student_lab
    status, body = _get(f"{url}/api/contents")
    assert status == 200
    names = {item["name"] for item in json.loads(body)["content"]}
    assert names == {"START_HERE.md", "exercises", "notebooks"}, names
    assert _get(f"{url}/api/contents/exercises/01_tensors.ipynb?content=0")[0] == 200
    assert _get(f"{url}/api/contents/solutions")[0] == 404  # not served at all
    assert _get(f"{url}/formgrader")[0] == 404  # nbgrader's server extensions are off
    # ./run.sh lab signed the notebooks: they open trusted
    from nbformat import read
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary(data_dir=str(tmp / "data"))
    for path in (ROOT / "exercises" / "01_tensors.ipynb", ROOT / "notebooks" / "01_tensors.ipynb"):
        with open(path, encoding="utf-8") as f:
            assert notary.check_signature(read(f, as_version=4)), f"{path.name} is not trusted"


def test_student_lab_in_a_browser(student_lab):
    url, _ = student_lab
    shot = ARTIFACTS / "student_lab.png"
    with chromium_page(1400, 1000) as page:
        try:
            page.set_default_timeout(30_000)
            page.goto(url + "/", timeout=120_000)  # the default URL: START_HERE.md, rendered
            page.locator(".jp-RenderedMarkdown h1", has_text="Start here").wait_for()
            # the file browser: into exercises/, open the first assignment
            listing = page.locator(".jp-DirListing-content")
            listing.locator(".jp-DirListing-item", has_text="exercises").dblclick()
            item = listing.locator(".jp-DirListing-item", has_text="01_tensors.ipynb")
            item.dblclick()
            page.wait_for_function(
                "() => { const w = window.jupyterapp.shell.currentWidget;"
                " return w && w.context && w.context.path === 'exercises/01_tensors.ipynb'"
                " && w.content && w.content.model && w.content.model.cells.length > 0; }")
            page.wait_for_timeout(3000)  # long enough for the news toast, were it on
            menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
            assert "Nbgrader" not in menus, menus
            assert page.get_by_text("Create Assignment").count() == 0
            assert page.get_by_text("Validate").count() == 0
            plugins = page.evaluate("() => window.jupyterapp.listPlugins()"
                                    ".filter(p => p.includes('nbgrader'))"
                                    ".filter(p => window.jupyterapp.isPluginActivated(p))")
            assert plugins == [], plugins
            assert page.get_by_text("Jupyter news").count() == 0  # the news pop-up
            assert page.locator(".jp-Notification-Toast").count() == 0
        finally:
            page.screenshot(path=str(shot))
    assert shot.stat().st_size > 0
