"""The report as a PDF deck (``vga run --pdf``), printed by Chromium.

The HTML report carries its own print stylesheet (:data:`vga.run.report.CSS`):
the executive summary on page 1, each section of the story on a new page,
the appendix and the glossary run on; folded detail stays in the HTML and
in ``results/``. This module only asks a headless Chromium (or Chrome) to
print it to A4, with no header or footer, in a throwaway profile. Nothing
here is needed to read or print the HTML report: any browser prints it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import UsageError, VgaError

#: Browsers tried, in order, when ``VGA_CHROMIUM`` does not name one.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
#: Seconds a print may take before it is given up (the sample's takes about 3).
PRINT_TIMEOUT = 180

HOW_TO = ("--pdf prints the report with Chromium or Chrome, and none was found: install one (on Debian or Ubuntu: "
          "apt-get install chromium) or set VGA_CHROMIUM to its path; without --pdf, report.html prints to PDF from "
          "any browser (File > Print, A4)")


class PdfError(VgaError):
    """The browser could not print the report: the run stops, nothing is moved into place."""


def find_browser() -> str:
    """The Chromium or Chrome to print with: ``VGA_CHROMIUM`` when set (it
    must exist), else the first of :data:`BROWSERS` on the PATH; a
    :class:`UsageError` naming the routes that work when there is none."""
    given = os.environ.get("VGA_CHROMIUM", "").strip()
    if given:
        if not (Path(given).is_file() and os.access(given, os.X_OK)):
            raise UsageError(f"VGA_CHROMIUM={given} is not an executable file; {HOW_TO}")
        return given
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise UsageError(HOW_TO)


def page_count(pdf: bytes) -> int:
    """Pages of a PDF as Chromium writes it (one ``/Type /Page`` object each)."""
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def print_pdf(report: Path, out: Path, browser: str | None = None) -> int:
    """Print ``report`` (an HTML file) to ``out`` as A4 with the report's
    print stylesheet; returns the number of pages. Runs the browser headless
    in a fresh profile, without a sandbox only when running as root (where
    Chromium refuses one), and gives up after :data:`PRINT_TIMEOUT` seconds."""
    browser = browser or find_browser()
    with tempfile.TemporaryDirectory(prefix="vga-pdf-") as profile:
        command = [browser, "--headless", "--disable-gpu", "--no-pdf-header-footer", "--disable-extensions",
                   "--disable-background-networking", "--no-first-run", f"--user-data-dir={profile}",
                   f"--print-to-pdf={out}", report.resolve().as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PRINT_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"{browser} did not print the report within {PRINT_TIMEOUT} s") from None
        except OSError as exc:
            raise PdfError(f"{browser} could not be started to print the report ({exc})") from None
    if done.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        last = (done.stderr or "").strip().splitlines()[-1:] or ["no message"]
        raise PdfError(f"{browser} could not print the report (exit {done.returncode}: {last[0][:200]})")
    return page_count(out.read_bytes())
