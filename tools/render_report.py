"""Render a report's HTML in headless Chromium: PNG screenshots and a layout/media check.

    python tools/render_report.py report/report.html --out screenshots/            # 1280 and 400 px wide
    python tools/render_report.py report/report.html --out shots/ --widths 1024 --json

For each width (CSS pixels) it loads the page, waits for its media, and checks that the document
never scrolls sideways (``scrollWidth <= innerWidth``), that every image decoded and that every
audio element loaded and plays; then it saves a full-page screenshot ``report-<width>.png``. It drives
Debian's ``chromium`` through ``chromium-driver`` with selenium (``apt-get install chromium
chromium-driver``; ``$CHROMIUM`` and ``$CHROMEDRIVER`` override the paths), with every background
network feature off. Exit status 1 when a check fails, 2 when Chromium cannot be started.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

#: Flags for a closed network (no background connections, no first-run UI).
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
    "--autoplay-policy=no-user-gesture-required",
]

MEASURE = """
const audio = Array.from(document.querySelectorAll('audio'));
return {
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  scrollHeight: document.documentElement.scrollHeight,
  loaded: document.readyState === 'complete',
  images: Array.from(document.images).map(i => i.complete && i.naturalWidth > 0),
  audio: audio.map(a => ({ready: a.readyState, duration: a.duration, error: a.error ? a.error.code : null})),
};
"""


class ChromiumMissing(RuntimeError):
    """Chromium, its driver or selenium is not installed."""


def find(name: str, env: str, candidates: tuple[str, ...]) -> str | None:
    if os.environ.get(env):
        return os.environ[env]
    for candidate in candidates:
        path = shutil.which(candidate)
        if path:
            return path
    return None


def open_browser():
    """A headless Chromium driven by selenium; raises :class:`ChromiumMissing` with what to install."""
    chromium = find(name="chromium", env="CHROMIUM", candidates=("chromium", "chromium-browser", "google-chrome"))
    driver_path = find(name="chromedriver", env="CHROMEDRIVER", candidates=("chromedriver",))
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise ChromiumMissing("selenium is not installed: pip install selenium") from None
    if chromium is None or driver_path is None:
        raise ChromiumMissing("Chromium or its driver is missing: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver_path), options=options)


def measure(browser, html: Path, width: int, wait: float = 15.0) -> dict:
    """Load ``html`` in a viewport ``width`` CSS pixels wide; what the page measures of itself once loaded."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}
    )
    browser.get(html.resolve().as_uri())
    deadline = time.monotonic() + wait
    while True:
        measured = browser.execute_script(MEASURE)
        pending = [a for a in measured["audio"] if a["ready"] < 1 and a["error"] is None]
        if (measured["loaded"] and not pending) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    # the audio plays: start every player, let it run, see its clock move, stop it
    browser.execute_script("document.querySelectorAll('audio').forEach(a => { a.currentTime = 0; a.play(); });")
    time.sleep(0.8)
    played = browser.execute_script(
        "return Array.from(document.querySelectorAll('audio'))"
        ".map(a => { const t = a.currentTime; a.pause(); return t; });"
    )
    for entry, position in zip(measured["audio"], played):
        entry["played_seconds"] = position
    return measured


def screenshot(browser, width: int, height: int, out: Path) -> Path:
    """The whole page (``height`` CSS pixels) as PNG."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": max(height, 1), "deviceScaleFactor": 1, "mobile": False},
    )
    out.write_bytes(browser.get_screenshot_as_png())
    return out


def problems(measured: dict) -> list[str]:
    """What is wrong with a measured page (empty when nothing is)."""
    out = []
    if measured["scrollWidth"] > measured["innerWidth"]:
        out.append(
            f"the page scrolls sideways ({measured['scrollWidth']} px wide in a {measured['innerWidth']} px window)"
        )
    broken = [i for i, ok in enumerate(measured["images"]) if not ok]
    if broken:
        out.append(f"images that did not load: {broken}")
    silent = [i for i, a in enumerate(measured["audio"]) if a["ready"] < 1 or a["error"] is not None]
    if silent:
        out.append(f"audio elements that did not load: {silent}")
    still = [i for i, a in enumerate(measured["audio"]) if i not in silent and not a.get("played_seconds", 0) > 0]
    if still:
        out.append(f"audio elements that did not play: {still}")
    return out


def render(html: Path, out_dir: Path, widths: list[int]) -> dict[int, dict]:
    """Measure and screenshot ``html`` at every width: ``{width: {"measured", "problems", "screenshot"}}``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    browser = open_browser()
    try:
        results = {}
        for width in widths:
            measured = measure(browser, html, width)
            shot = screenshot(browser, width, measured["scrollHeight"], out_dir / f"report-{width}.png")
            results[width] = {"measured": measured, "problems": problems(measured), "screenshot": str(shot)}
        return results
    finally:
        browser.quit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", type=Path)
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--widths", type=int, nargs="+", default=[1280, 400])
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    args = parser.parse_args(argv)
    try:
        results = render(args.html, args.out, args.widths)
    except ChromiumMissing as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        for width, r in results.items():
            m = r["measured"]
            state = (
                "; ".join(r["problems"])
                or "no sideways scrolling, every image loaded, every audio element loaded and played"
            )
            print(f"{width} px: {state} ({len(m['images'])} images, {len(m['audio'])} audio) -> {r['screenshot']}")
    return 1 if any(r["problems"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
