"""HTML → PDF with headless Chromium through the DevTools protocol (Page.printToPDF).

The DevTools call is the one way Chromium prints page numbers (its footer template); CSS
@page margin boxes are ignored. The browser listens on a random local port it picks itself
and reports in DevToolsActivePort, with networking features that phone home switched off.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from websockets.sync.client import connect

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
STARTUP_TIMEOUT_S = 30.0
PRINT_TIMEOUT_S = 120.0

# The footer is a separate document that cannot load the page's embedded font; the page
# number is set as official documents do (GB/T 9704: — 1 —) in a TrueType Latin font.
FOOTER_TEMPLATE = (
    '<div style="width:100%;text-align:center;font-size:10px;color:#333;'
    "font-family:'DejaVu Sans';\">"
    '— <span class="pageNumber"></span> —</div>'
)
HEADER_TEMPLATE = "<div></div>"

A4_INCHES = (8.27, 11.69)
MARGIN_INCHES = {"marginTop": 0.6, "marginBottom": 0.7, "marginLeft": 0.6, "marginRight": 0.6}


def find_chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(
        "Chromium is needed to write the PDF report: install the Debian package `chromium` "
        "(scripts/apt-packages.txt), or ask for --format html,xlsx only."
    )


def print_options() -> dict:
    """Page.printToPDF parameters: A4 portrait, backgrounds (status colours), page numbers."""
    return {
        "paperWidth": A4_INCHES[0],
        "paperHeight": A4_INCHES[1],
        **MARGIN_INCHES,
        "printBackground": True,
        "displayHeaderFooter": True,
        "headerTemplate": HEADER_TEMPLATE,
        "footerTemplate": FOOTER_TEMPLATE,
        "preferCSSPageSize": False,
        "generateDocumentOutline": True,
        "generateTaggedPDF": True,
    }


def html_to_pdf(html_file: Path, pdf_file: Path) -> Path:
    """Print a local HTML file to an A4 PDF with page numbers; returns pdf_file."""
    chromium = find_chromium()
    # Chromium's helper processes may still write to the profile as the browser stops.
    with tempfile.TemporaryDirectory(prefix="ruralcare-chromium-", ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [
                chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--disable-dev-shm-usage",
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                f"--user-data-dir={profile}", "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            endpoint = _wait_for_endpoint(Path(profile) / "DevToolsActivePort", process)
            pdf_bytes = _print(endpoint, html_file.resolve().as_uri(), print_options())
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    pdf_file.write_bytes(pdf_bytes)
    return pdf_file


def _wait_for_endpoint(port_file: Path, process: subprocess.Popen) -> str:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Chromium exited at start-up (code {process.returncode})")
        if port_file.exists():
            lines = port_file.read_text().split()
            if len(lines) >= 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        time.sleep(0.05)
    raise RuntimeError(f"Chromium did not open its DevTools port within {STARTUP_TIMEOUT_S:.0f} s")


class _DevTools:
    """A minimal DevTools client: numbered commands over one browser websocket (flat sessions)."""

    def __init__(self, socket) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        message_id = next(self._ids)
        message = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._socket.send(json.dumps(message))
        deadline = time.monotonic() + PRINT_TIMEOUT_S
        while True:
            reply = json.loads(self._socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"Chromium {method} failed: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> None:
        if any(e.get("method") == method and e.get("sessionId") == session for e in self.events):
            return
        deadline = time.monotonic() + PRINT_TIMEOUT_S
        while True:
            event = json.loads(self._socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if event.get("method") == method and event.get("sessionId") == session:
                return


def _print(endpoint: str, url: str, options: dict) -> bytes:
    with connect(endpoint, max_size=None, open_timeout=STARTUP_TIMEOUT_S) as socket:
        devtools = _DevTools(socket)
        target = devtools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = devtools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        devtools.send("Page.enable", session=session)
        devtools.send("Page.navigate", {"url": url}, session=session)
        devtools.wait_for("Page.loadEventFired", session)
        # Web fonts are local files; wait until the layout uses them before printing.
        devtools.send("Runtime.evaluate", {"expression": "document.fonts.ready", "awaitPromise": True},
                      session=session)
        result = devtools.send("Page.printToPDF", options, session=session)
        devtools.send("Browser.close")
    return base64.b64decode(result["data"])
