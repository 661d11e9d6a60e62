"""What a run says while it works: one line per event, or a progress bar on a terminal."""

from __future__ import annotations

import sys


def say(text: str, quiet: bool) -> None:
    if not quiet:
        print(text, flush=True)


class Progress:
    """What a run shows while it works: a progress bar over the steps and
    notebooks on a terminal (tqdm), one line per event elsewhere (CI logs),
    nothing when quiet."""

    def __init__(self, total: int, quiet: bool):
        self.quiet = quiet
        self.bar = None
        if not quiet and sys.stdout.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="part", desc="[vga]", leave=False, dynamic_ncols=True)

    def say(self, text: str) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text, flush=True)

    def advance(self, text: str, parts: int = 1) -> None:
        """``parts`` more done; ``text`` says what (a line in a log)."""
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(parts)
        else:
            self.say(f"[vga] {text}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def table_line(load) -> str:
    q = load.quality
    dates = f"  to {load.last_date.date().isoformat()}" if load.last_date is not None else ""
    return (f"[vga]   {load.table:<16} {q['rows_read']:>10,} read  {q['rows_accepted']:>10,} accepted  "
            f"{q['rows_quarantined']:>6,} quarantined  {q['cells_blanked']:>4,} cells blanked{dates}")
