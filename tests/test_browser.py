"""The notebooks in a real browser: JupyterLab driven by headless Chromium.

nbmake executes notebooks but never renders them. Here JupyterLab is started the way `make lab`
starts it (on 127.0.0.1, with a temporary token, a free port, temporary settings and a temporary
copy of notebooks/, so nothing is ever saved into the repository), and headless
Chromium opens notebooks 00 and 06, runs all cells (the kernel inherits SEEDKIT_FAST=1), and we
check what a student would see: the clip player is a <video> that loads and carries an audio track,
and the widgets render. Screenshots go to the test's temporary folder.

Needs Debian's `chromium` (`make browser` installs it when missing, with root) and Playwright's
Python client (a dev extra; its own browser downloads are not used). Skipped, saying why, only
where no Chromium is installed.
"""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("00_tour.ipynb", "06_flow_matching.ipynb")
RUN_TIMEOUT_S = 900  # both notebooks run at once in fast mode: about 1.5 min on 2 idle CPU cores, far more on a loaded one

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1500)]


def _chromium() -> str | None:
    # the real binary, not Debian's /usr/bin/chromium shell wrapper
    for path in ("/usr/lib/chromium/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if path and os.access(path, os.X_OK):
            return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(folder: Path) -> None:
    """JupyterLab user settings: render every cell (no windowing), no news pop-up, no autosave."""
    for plugin, values in {"notebook-extension/tracker": {"windowingMode": "none"},
                           "apputils-extension/notification": {"fetchNews": "false"},
                           "docmanager-extension/plugin": {"autosave": False}}.items():
        path = folder / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1: yields its base URL with the token query."""
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium here: install Debian's `chromium` (`make browser` does, as root)")
    pytest.importorskip("playwright", reason="Playwright's Python client (dev extra) is not installed")
    tmp = tmp_path_factory.mktemp("lab")
    # serve a copy: a notebook run in the browser must never write its outputs into the repository
    shutil.copytree(ROOT / "notebooks", tmp / "notebooks", ignore=shutil.ignore_patterns("outputs", ".*"))
    _write_settings(tmp / "settings")
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "SEEDKIT_FAST": "1", "WANDB_MODE": "disabled",
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
           "JUPYTER_CONFIG_DIR": str(tmp / "config"), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces")}
    env.pop("MPLBACKEND", None)  # the kernel must use the inline backend, as in class
    # `make lab`'s command, plus what a test needs: its port and token, no browser of its own, the
    # app exposed to the page (to run all cells through JupyterLab's own command), root allowed (CI)
    cmd = [str(Path(sys.executable).with_name("jupyter")), "lab", "--ip=127.0.0.1",
           f"--notebook-dir={tmp / 'notebooks'}", f"--port={port}", "--ServerApp.port_retries=0", "--no-browser",
           f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True", "--allow-root"]
    log = open(tmp / "lab.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    pytest.fail(f"JupyterLab did not start: {(tmp / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield {"base": base, "token": token, "chromium": chromium, "shots": tmp}
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


# the notebook's own panel, found by its path (never "the current widget": a restored layout
# may hold other notebooks)
PANEL = """(name) => {
  if (!window.jupyterapp) return null;  // the app is still loading
  for (const w of window.jupyterapp.shell.widgets('main')) {
    if (w.context && w.context.path === name) return w;
  }
  return null;
}"""

KERNEL_IDLE = f"""(name) => {{
  const w = ({PANEL})(name);
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}}"""

RUN_ALL = f"""(name) => {{
  const w = ({PANEL})(name);
  window.jupyterapp.shell.activateById(w.id);
  window.jupyterapp.commands.execute('notebook:run-all-cells');  // not awaited: it resolves when all have run
}}"""

# done: every code cell has run, or one failed (run-all stops there); returns the failures
RUN_STATE = f"""(name) => {{
  const w = ({PANEL})(name);
  const cells = Array.from(w.content.model.cells).filter(c => c.type === 'code');
  const errors = [];
  cells.forEach((c, i) => c.outputs.toJSON().forEach(o => {{
    if (o.output_type === 'error') errors.push(`code cell ${{i}}: ${{o.ename}}: ${{o.evalue}}`);
  }}));
  const busy = Array.from(w.node.querySelectorAll('.jp-InputPrompt')).some(p => p.textContent.includes('*'));
  const done = !busy && (errors.length > 0 || cells.every(c => c.executionCount !== null));
  return {{done, errors, cells: cells.length}};
}}"""

# play every <video> muted for a moment; report what Chromium decoded
VIDEOS = """async () => {
  const out = [];
  for (const v of document.querySelectorAll('.jp-Notebook video')) {
    v.muted = true;
    v.scrollIntoView();
    let playError = null;
    try { await v.play(); } catch (e) { playError = String(e); }
    await new Promise(r => setTimeout(r, 1500));
    v.pause();
    out.push({readyState: v.readyState, duration: v.duration, width: v.videoWidth,
              audioBytes: v.webkitAudioDecodedByteCount, videoBytes: v.webkitVideoDecodedByteCount,
              audioTracks: v.audioTracks ? v.audioTracks.length : null,
              error: v.error ? v.error.code : null, playError});
  }
  return out;
}"""


@pytest.fixture(scope="module")
def executed(lab):
    """Both notebooks opened in their own tab and run to the end (at the same time)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # AudioVideoTracks: expose HTMLMediaElement.audioTracks (behind a flag in Chromium)
        # the two tabs run at once: keep the one in the background from being throttled
        browser = p.chromium.launch(executable_path=lab["chromium"], args=[
            "--autoplay-policy=no-user-gesture-required", "--enable-blink-features=AudioVideoTracks",
            "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows"])
        pages = {}
        for i, name in enumerate(NOTEBOOKS):
            # one browser context and one JupyterLab workspace each: in a shared (default) workspace
            # the second tab restores the first tab's layout and may run the wrong notebook
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(f"{lab['base']}/lab/workspaces/test{i}/tree/{name}?token={lab['token']}")
            page.wait_for_function(KERNEL_IDLE, arg=name, timeout=120_000, polling=500)
            page.evaluate(RUN_ALL, name)
            pages[name] = page
        deadline = time.time() + RUN_TIMEOUT_S
        states = {}
        for name, page in pages.items():
            page.wait_for_function(RUN_STATE.replace("return {done", "return done && {done"), arg=name,
                                   timeout=max(1, deadline - time.time()) * 1000, polling=1000)
            states[name] = page.evaluate(RUN_STATE, name)
            page.screenshot(path=str(lab["shots"] / f"{name}.png"))
        yield {"pages": pages, "states": states, "shots": lab["shots"]}
        browser.close()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_to_the_end_in_the_browser(executed, name):
    state = executed["states"][name]
    assert state["errors"] == [], f"{name} failed in JupyterLab: {state['errors']}"
    assert state["cells"] > 3


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_widgets_render(executed, name):
    page = executed["pages"][name]
    errors = page.get_by_text("Error displaying widget")
    assert errors.count() == 0, f"{name}: {errors.first.evaluate('e => e.parentElement.innerText')}"
    sliders = page.locator(".jp-Notebook .widget-slider")
    assert sliders.count() >= 1, f"{name}: no slider widget rendered"
    sliders.first.screenshot(path=str(executed["shots"] / f"{name}.slider.png"))


def test_tour_clip_player_is_a_video_with_sound(executed):
    page = executed["pages"]["00_tour.ipynb"]
    videos = page.evaluate(VIDEOS)
    assert videos, "00_tour shows no <video> element"
    for v in videos:
        assert v["error"] is None and v["playError"] is None, v
        assert v["readyState"] >= 2 and v["width"] > 0 and v["duration"] > 1, v  # decoded frames
        assert v["audioTracks"] == 1 and v["audioBytes"] > 0, v  # an AAC track that decodes
    page.locator(".jp-Notebook video").first.screenshot(path=str(executed["shots"] / "00_player.png"))


def test_tour_scene_slider_drives_the_player(executed):
    """The widget is live: moving the slider replaces the player with another scene's."""
    page = executed["pages"]["00_tour.ipynb"]
    widget = page.locator(".jp-Notebook .widget-interact").first
    before = widget.locator("video").get_attribute("src")
    widget.locator(".widget-slider .noUi-handle, .widget-slider [role=slider]").first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "(src) => { const v = document.querySelector('.jp-Notebook .widget-interact video');"
        " return v && v.getAttribute('src') !== src; }", arg=before, timeout=60_000)
    widget.screenshot(path=str(executed["shots"] / "00_slider_moved.png"))
