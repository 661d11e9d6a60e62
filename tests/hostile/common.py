"""What the attack tests share: a small data folder, a mapping written into
its own vga.toml (as a sender would), and ``vga`` run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ACCOUNTS = "account_id,arr,segment\na,100,SMB\nb,200,Mid-Market\nc,300,Enterprise\n"


def data_folder(root: Path) -> Path:
    """``root/data`` with three accounts."""
    folder = root / "data"
    folder.mkdir(parents=True)
    (folder / "accounts.csv").write_text(ACCOUNTS)
    return folder


def mapping(folder: Path, sql: str, extra: str = "") -> Path:
    """The data folder's own vga.toml building accounts with ``sql``."""
    path = folder / "vga.toml"
    path.write_text(f'[sources.accounts]\nsql = """\n{sql}\n"""\n{extra}')
    return path


def vga(*args, cwd: Path | None = None, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m vga ARGS`` in ``cwd``, with ``env`` added to the environment."""
    return subprocess.run([sys.executable, "-m", "vga", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=timeout)


def one_line(done: subprocess.CompletedProcess) -> str:
    """The one line a refusal prints (and nothing else on standard error)."""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


def every_text(folder: Path) -> str:
    """Everything under ``folder`` as text (workbooks by their cells and sheet names)."""
    parts = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".xlsx":
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True)
            parts += list(book.sheetnames)
            for sheet in book.worksheets:
                for row in sheet.iter_rows(values_only=True):
                    parts += [str(v) for v in row if v is not None]
            book.close()
        elif path.suffix == ".parquet":
            import pyarrow.parquet as pq

            parts.append(pq.read_table(path).to_pandas().to_csv())
        else:
            parts.append(path.read_text(errors="replace"))
        parts.append(path.name)
    return "\n".join(parts)
