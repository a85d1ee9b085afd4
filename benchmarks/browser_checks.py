"""What a reader's browser sees: the built book and the demo's report, and chapters run in JupyterLab.

Needs headless Chromium and Playwright, which the project does not install (a scratch venv will do):

    apt-get install -y chromium && python3 -m venv /tmp/pw && /tmp/pw/bin/pip install playwright nbformat
    /tmp/pw/bin/python benchmarks/browser_checks.py pages --out runs/browser   # after `make book` (and `make demo`)
    /tmp/pw/bin/python benchmarks/browser_checks.py lab --out runs/browser     # starts `make lab`'s server itself

``pages`` serves book/_build/html (and runs/demo/report.html when there is one) on 127.0.0.1 and opens
each page: it prints every request to another host, every console error, anything wider than the
page (code, tables, figure legends cut off), and saves a full-page screenshot of each.
``lab`` starts JupyterLab (with the save hook `make lab` uses), runs a scratch cell that updates a
live curve four times (printing each state the page showed), then opens chapters, runs all, saves,
and compares every tracked notebook file before and after (`git status` must stay clean).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"

#: Elements wider than the space they are given: what a reader sees cut off or scrolled sideways.
OVERFLOW_JS = """() => {
  const out = [];
  if (document.documentElement.scrollWidth > window.innerWidth + 1)
    out.push(`page: ${document.documentElement.scrollWidth}px wide in a ${window.innerWidth}px window`);
  for (const el of document.querySelectorAll('main pre, main table, .bd-article pre, .bd-article table, body > table, .js-plotly-plot')) {
    const box = el.getBoundingClientRect();
    const parent = el.parentElement.getBoundingClientRect();
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible')
      out.push(`${el.tagName.toLowerCase()} spills: ${el.scrollWidth}px content in ${el.clientWidth}px`);
    else if (box.right > parent.right + 1 && box.width > 0)
      out.push(`${el.tagName.toLowerCase()} ends ${Math.round(box.right - parent.right)}px past its column`);
  }
  return out;
}"""


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path == "/favicon.ico":  # asked for by the browser itself, not by any page
                self.send_response(204)
                self.end_headers()
                return
            super().do_GET()

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # a browser closing a connection early (favicon.ico: 404) is not the page's problem

    handler = functools.partial(Quiet, directory=str(folder.resolve()))
    server = Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def check_pages(out: Path, width: int = 1280) -> int:
    from playwright.sync_api import sync_playwright

    book = ROOT / "book" / "_build" / "html"
    if not (book / "index.html").is_file():
        raise SystemExit("no built book: run `make book` first")
    site = out / "site"
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(book, site)
    pages = ["index.html", *sorted(str(p.relative_to(site)) for p in (site / "chapters").glob("*.html"))]
    report = ROOT / "runs" / "demo" / "report.html"
    if report.is_file():
        shutil.copy(report, site / "report.html")
        pages.append("report.html")
    server, port = _serve(site)
    problems = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for page_path in pages:
            shot = out / (page_path.replace("/", "_").replace(".html", "") + ".png")
            external, errors, overflow = _check_one(browser, f"http://127.0.0.1:{port}/{page_path}", shot, width)
            problems += len(external) + len(errors) + len(overflow)
            print(f"{page_path}: {len(external)} requests to other hosts, {len(errors)} console errors, "
                  f"{len(overflow)} too wide -> {shot.name}")
            for line in [*(f"  request {u}" for u in external), *(f"  console {e[:200]}" for e in errors),
                         *(f"  wide {w}" for w in overflow)]:
                print(line)
        browser.close()
    server.shutdown()
    return problems


def _check_one(browser, url: str, shot: Path, width: int) -> tuple[list[str], list[str], list[str]]:
    """Open ``url``: requests to other hosts, console errors, elements too wide; a full-page screenshot."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    external: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: external.append(r.url)
            if urlparse(r.url).hostname not in ("127.0.0.1", None, "") and not r.url.startswith("data:") else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"HTTP {r.status} for {r.url}") if r.status >= 400 else None)
    page.goto(url, wait_until="networkidle")
    time.sleep(1)
    overflow = page.evaluate(OVERFLOW_JS)
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    return external, errors, overflow


def _digests() -> dict[str, str]:
    tracked = subprocess.run(["git", "ls-files", "notebooks"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    return {name: hashlib.sha256((ROOT / name).read_bytes()).hexdigest() for name in tracked}


def check_lab(out: Path, chapters: list[str], port: int = 8899) -> int:
    import nbformat
    from playwright.sync_api import sync_playwright

    python = ROOT / ".venv" / "bin" / "python"
    server = subprocess.Popen(
        [str(python), "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}", "--ServerApp.token=check",
         "--LabApp.expose_app_in_browser=True",
         "--ContentsManager.pre_save_hook=proactive.lab_saving.pre_save_hook"],
        cwd=ROOT / "notebooks", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    scratch = ROOT / "notebooks" / "scratch_live_check.ipynb"
    before = _digests()
    problems = 0
    try:
        time.sleep(15)
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                           "language": "python"}
        notebook.cells = [nbformat.v4.new_code_cell(
            "import time, plotly.graph_objects as go\nfrom proactive.plots import LiveFigure\nlive = LiveFigure()\n"
            "ys = []\nfor step in range(4):\n    ys.append(step * 0.1)\n"
            "    live.update(go.Figure(go.Scatter(y=list(ys), name='reward'), layout_title_text='reward'))\n"
            "    time.sleep(4)\nlive.finish()\n")]
        nbformat.write(notebook, scratch)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            def open_and_run(name: str, workspace: str) -> None:
                page.goto(f"http://127.0.0.1:{port}/lab/workspaces/{workspace}/tree/{name}?reset&token=check")
                page.wait_for_function("window.jupyterapp !== undefined", timeout=120_000)
                page.wait_for_selector(".jp-Notebook", timeout=120_000, state="attached")
                time.sleep(8)  # the kernel starts
                # Not awaited: the command's promise settles only when every cell has run.
                page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")

            open_and_run(scratch.name, "live")
            seen: list[str] = []
            for _ in range(60):
                time.sleep(1)
                texts = page.eval_on_selector_all(
                    ".jp-OutputArea-output", "els => els.map(e => e.textContent).filter(t => t.includes('points;'))")
                if texts and (not seen or seen[-1] != texts[0]):
                    seen.append(texts[0])
                    page.screenshot(path=str(out / f"lab-live-{len(seen)}.png"))
                if seen and page.query_selector(".js-plotly-plot"):
                    break
            time.sleep(2)
            page.screenshot(path=str(out / "lab-live-final.png"))
            final = bool(page.query_selector(".js-plotly-plot"))
            print(f"live curve in Lab: {len(seen)} states shown, then the full figure: {final}")
            for text in seen:
                print(f"  {text[:90]}")
            problems += (len(seen) < 4) + (not final)
            for chapter in chapters:
                open_and_run(f"{chapter}.ipynb", chapter)
                started = time.time()
                while time.time() - started < 900:
                    time.sleep(5)
                    busy = page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session"
                                         "?.kernel?.status !== 'idle'")
                    counts = page.evaluate("() => { const m = window.jupyterapp.shell.currentWidget.content.model;"
                                           " const out = []; for (let i = 0; i < m.cells.length; i++) {"
                                           " const c = m.cells.get(i); if (c.type === 'code') out.push(c.executionCount);"
                                           " } return out; }")
                    if not busy and counts and all(counts):
                        break
                page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
                time.sleep(3)
                page.screenshot(path=str(out / f"lab-{chapter}.png"))
                print(f"{chapter}: ran {sum(1 for c in counts if c)} of {len(counts)} code cells in Lab in "
                      f"{time.time() - started:.0f} s, saved")
            print(f"console errors in Lab: {len(errors)}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        scratch.unlink(missing_ok=True)
        shutil.rmtree(ROOT / "notebooks" / ".ipynb_checkpoints", ignore_errors=True)
    after = _digests()
    changed = sorted(name for name in before if before[name] != after.get(name))
    print("tracked notebook files changed by running and saving in Lab:", json.dumps(changed))
    status = subprocess.run(["git", "status", "--short", "notebooks"], cwd=ROOT, capture_output=True, text=True,
                            check=False).stdout
    print(f"git status --short notebooks: {status.strip() or '(clean)'}")
    return problems + len(changed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("pages", "lab"))
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "browser")
    parser.add_argument("--chapters", nargs="*", default=["01_masking", "04_training"])
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    problems = check_pages(args.out) if args.what == "pages" else check_lab(args.out, args.chapters)
    print(f"{problems} problems; screenshots in {args.out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
