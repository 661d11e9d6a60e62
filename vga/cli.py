"""The ``vga`` command line: ``sample``, ``validate``, ``run``, ``init``, ``check``.

Every command exits with a status from :data:`vga.errors.EXIT_CODES` (the
one table of them, printed by ``vga --help``). Refusals that need no data
(a bad option, period, path or configuration, an existing folder) come
before any table is read. Failures print one message without a traceback;
``--debug`` shows it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import textwrap
import traceback
import warnings
from pathlib import Path

from . import __version__
from .errors import EXIT_CODES, OutputError, UsageError, VgaError, write_fault


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # exit 2 with one line, as the spec says
        self.print_usage(sys.stderr)
        print(f"vga: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    epilog = "exit status:\n" + "\n".join(
        textwrap.fill(when, 100, initial_indent=f"  {code:<4}", subsequent_indent="      ") for code, when in EXIT_CODES)
    parser = _Parser(prog="vga", description="Customer value gap analysis for B2B SaaS.", epilog=epilog,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"vga {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show a traceback on failure, and the warnings of the libraries underneath")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("sample", help="write a synthetic data folder with planted effects")
    s.add_argument("--out", required=True, metavar="DIR", help="folder to write")
    s.add_argument("--accounts", type=_count, metavar="N",
                   # A string default goes through _count as if typed: a bad variable is named like a bad flag.
                   default=os.environ.get("VGA_SAMPLE_ACCOUNTS", "").strip() or "1500",
                   help="number of accounts (default 1500, the size the planted effects are calibrated for; "
                        "the environment variable VGA_SAMPLE_ACCOUNTS sets another, for a quick try-out)")
    s.add_argument("--seed", type=int, metavar="S", default=7, help="random seed (default 7)")
    s.add_argument("--minimal", action="store_true", help="only accounts (with health and usage scores) and renewals")
    s.add_argument("--no-effects", dest="effects", action="store_false",
                   help="plant no effect (the same company, every account alike): an analysis must flag nothing")
    s.add_argument("--force", action="store_true", help="replace a non-empty folder that is not an earlier sample")

    v = sub.add_parser("validate", help="check a data folder against the contract")
    v.add_argument("--data", required=True, metavar="DIR", help="data folder")
    v.add_argument("--config", metavar="FILE", help="your vga.toml (default: DATA/vga.toml if present, which may map columns and queries but "
                   "not name a warehouse or raise [limits]; else ./vga.toml, your working folder's; else the defaults)")
    v.add_argument("--strict", action="store_true", help="fail on any quarantined row or blanked cell")
    v.add_argument("--allow-outside-paths", dest="allow_outside", action="store_true",
                   help="read tables from files outside the data folder (vga.toml paths, symbolic links)")

    r = sub.add_parser("run", help="run the notebook series for a period")
    r.add_argument("--data", required=True, metavar="DIR", help="data folder")
    r.add_argument("--period", required=True, metavar="P", help="2026Q3, 2026 or 2026-09-30")
    r.add_argument("--config", metavar="FILE", help="your vga.toml (default: DATA/vga.toml if present, which may map columns and queries but "
                   "not name a warehouse or raise [limits]; else ./vga.toml, your working folder's; else the defaults)")
    r.add_argument("--out", default="reports", metavar="DIR", help="reports folder (default: reports)")
    r.add_argument("--force", action="store_true", help="replace an existing period folder")
    r.add_argument("--strict", action="store_true", help="fail on any quarantined row or blanked cell")
    r.add_argument("--allow-outside-paths", dest="allow_outside", action="store_true",
                   help="read tables from files outside the data folder (vga.toml paths, symbolic links)")
    r.add_argument("--allow-partial", dest="allow_partial", action="store_true",
                   help="write a report even when the data does not reach the period's as-of date (else exit 3)")
    r.add_argument("--rebuild", action="store_true",
                   help="empty the incremental store and the kept results of each step first: validate every event file, "
                   "aggregate every month, compute every step and execute every notebook again")
    r.add_argument("--redact", action="store_true",
                   help="replace account, CSM and sales-rep names by stable pseudonyms, for wide sharing")
    r.add_argument("--pdf", action="store_true",
                   help="also print the report to report.pdf (A4, a page per section) with Chromium or Chrome")
    r.add_argument("--notebooks", metavar="DIR", help="folder of your copy of the series (default: ./notebooks when it holds any; "
                                        "vga init writes one)")
    r.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show a traceback and the notebook kernels' own log on failure")

    i = sub.add_parser("init", help="make a working folder: a commented vga.toml, a copy of the notebooks, a README")
    i.add_argument("dir", help="folder to create (or an empty one)")
    i.add_argument("--force", action="store_true", help="write the working files into a folder that is not empty")
    c = sub.add_parser("check", help="check a working folder's notebooks and modules: every problem at once, "
                                     "nothing run, no data read")
    c.add_argument("dir", nargs="?", default=".", help="working folder (default: the current folder)")
    return parser


def cmd_check(args) -> int:
    from .run.series import ROUTE, check_folder

    problems, counts = check_folder(args.dir)
    for problem in problems:
        print(problem)
    checked = (f"{counts['series']} notebook{'s' if counts['series'] != 1 else ''} of the series, "
               f"{counts['yours']} of yours, {counts['modules']} module{'s' if counts['modules'] != 1 else ''}")
    if counts["ignored"]:
        print(f"not run (a chapter is named NN_<key>.ipynb): {', '.join(counts['ignored'])}")
    if problems:
        raise UsageError(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {checked} (listed above); "
                         + ROUTE)
    print(f"checked {checked}: no problem")
    return 0


def cmd_sample(args) -> int:
    import shutil

    from .sample import write_sample

    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        # A previous sample (it has truth.json) is replaced; anything else is
        # somebody's data and is only replaced when asked.
        if not (out / "truth.json").is_file() and not args.force:
            raise UsageError(f"{out} is not empty and holds no earlier sample; pass --force to replace it")
        shutil.rmtree(out)
    truth = write_sample(out, accounts=args.accounts, seed=args.seed, minimal=args.minimal, effects=args.effects)
    rows = sum(truth["rows_written"].values())
    print(f"wrote {len(truth['rows_written'])} tables ({rows:,} rows) for {args.accounts} accounts to {out}")
    if args.effects:
        print(f"planted effects are listed in {out / 'truth.json'}")
    else:
        print(f"no effect is planted (see {out / 'truth.json'}): an analysis of this sample should flag nothing")
    return 0


def cmd_validate(args) -> int:
    from .config import config_notice, load_config
    from .load import load_folder

    config = load_config(args.config, args.data, Path.cwd())
    print(config_notice(config, args.config))
    dataset = load_folder(args.data, config, strict=args.strict, allow_outside=args.allow_outside)
    print(f"{'table':<16} {'source':<28} {'read':>10} {'accepted':>10} {'quarantined':>12} {'blanked':>8}")
    for name, t in dataset.tables.items():
        q = t.quality
        source = Path(t.source).name + ("/" if Path(t.source).is_dir() else "")
        print(f"{name:<16} {source:<28} {q['rows_read']:>10,} {q['rows_accepted']:>10,} {q['rows_quarantined']:>12,} {q['cells_blanked']:>8,}")
    reasons = dataset.reasons()
    if len(reasons):
        print("\nreasons (count, kind, one example, first rows):")
        for _, r in reasons.iterrows():
            print(f"  {r['table']}: {r['action']} {r['count']:,}x  {r['kind']}")
            print(f"      e.g. {r['example']}  [rows {r['first_rows'] or 'n/a'}]")
    else:
        print("\nno rows quarantined, no cells blanked")
    sources = dataset.sources()
    from .contract import TABLES
    dated = sources[sources["last_date"].notna()]
    # Only the activity logs say how far the data runs; plans and sparse material are listed apart.
    logs = dated[dated["table"].map(lambda t: bool(getattr(TABLES.get(t), "logs_activity", False)))]
    other = dated[~dated.index.isin(logs.index)]
    if len(logs):
        print("\ndata runs to " + max(logs["last_date"]).date().isoformat() + " (activity logs: "
              + ", ".join(f"{r.table} to {r.last_date.date().isoformat()}" for r in logs.itertuples()) + ")")
    if len(other):
        print("dated, not activity (not part of how far the data runs): "
              + ", ".join(f"{r.table} to {r.last_date.date().isoformat()}" for r in other.itertuples()))
    return 0


def cmd_run(args) -> int:
    from .run.runner import run_period

    final = run_period(args.data, args.period, config_path=args.config, out=args.out, force=args.force,
                       strict=args.strict, debug=args.debug, redact=args.redact, rebuild=args.rebuild,
                       allow_outside=args.allow_outside, allow_partial=args.allow_partial, notebooks=args.notebooks,
                       pdf=args.pdf)
    print(f"report: {final / 'report.html'}")
    if args.pdf:
        print(f"pdf: {final / 'report.pdf'}")
    return 0


def cmd_init(args) -> int:
    from .run.workspace import init_folder

    written = init_folder(args.dir, force=args.force)
    folder = Path(args.dir)
    print(f"wrote {len(written)} files to {folder}: vga.toml (every setting, commented), README.md, "
          f"notebooks/ ({sum(p.suffix == '.ipynb' for p in written)} notebooks)")
    print(f"next: cd {folder} && vga sample --out data/sample && vga run --data data/sample --period 2026Q3")
    print("extend: cells tagged 'analyst', notebooks/NN_<key>.ipynb, nodes/<name>.py; vga check lists problems "
          "(see README.md there)")
    return 0


class _Stopped(KeyboardInterrupt):
    """SIGTERM (a scheduler's timeout, ``kill``): unwound like Ctrl-C, so the
    run cleans up after itself."""


def _on_sigterm(signum, frame):
    raise _Stopped()


def _quiet_matplotlib_cache() -> None:
    """Matplotlib keeps a font cache under ``~/.config/matplotlib``; where
    that cannot be written (a scheduler's user without a home, a read-only
    home) it makes a temporary one and prints three lines about it on every
    import, in the run and in each notebook kernel. vga gives it the
    temporary folder up front, quietly, and removes it at exit."""
    import atexit
    import os
    import shutil
    import tempfile

    if os.environ.get("MPLCONFIGDIR"):
        return
    try:
        home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "matplotlib"
        home.mkdir(parents=True, exist_ok=True)
        if os.access(home, os.W_OK):
            return
    except (OSError, RuntimeError):  # RuntimeError: no home directory at all
        pass
    folder = tempfile.mkdtemp(prefix="vga-matplotlib-")
    os.environ["MPLCONFIGDIR"] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)


def _count(text: str) -> int:
    """A positive whole number of accounts (argparse's type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of accounts (from --accounts or "
                                         "VGA_SAMPLE_ACCOUNTS)") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} accounts: give at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    _quiet_matplotlib_cache()
    args = parser.parse_args(argv)
    try:
        previous = (signal.signal(signal.SIGTERM, _on_sigterm),)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    # Warnings of the libraries underneath (pandas, statsmodels, DuckDB...)
    # speak to developers, not to the people running a period: they are kept
    # from the console, and --debug prints them at the end.
    caught = warnings.catch_warnings(record=True)
    seen = caught.__enter__()
    warnings.simplefilter("default")
    try:
        code = {"sample": cmd_sample, "validate": cmd_validate, "run": cmd_run, "init": cmd_init, "check": cmd_check}[args.command](args)
    except VgaError as exc:
        if args.debug:
            _print_traceback(args)
        if isinstance(exc, OutputError):
            _quiet_failed_writes()
        print(f"vga: {_scrubbed(str(exc), args)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        if args.debug:
            _print_traceback(args)
        how, code = ("stopped by SIGTERM", 128 + signal.SIGTERM) if isinstance(exc, _Stopped) else ("interrupted", 130)
        after = "; earlier reports are untouched" if args.command == "run" else ""
        print(f"vga: {how}{after}", file=sys.stderr)
        return code
    except OSError as exc:  # a failure no layer below put into words: still one line
        if args.debug:
            _print_traceback(args)
        fault = write_fault(exc, getattr(args, "out", None) or ".")
        if fault:
            _quiet_failed_writes()
        print(f"vga: {_scrubbed(str(fault or exc), args)}", file=sys.stderr)
        return fault.exit_code if fault else 1
    except Exception as exc:  # a fault of vga itself: one line still, and never a secret
        if args.debug:
            _print_traceback(args)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "no detail"
        print(f"vga: unexpected error ({type(exc).__name__}: {_scrubbed(detail, args)[:300]}); earlier reports are "
              "untouched; run again with --debug for the traceback, and report it", file=sys.stderr)
        return 1
    finally:
        caught.__exit__(None, None, None)
        if args.debug and seen:
            _print_warnings(seen)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous[0] if previous[0] is not None else signal.SIG_DFL)
    return code


def _print_warnings(seen: list) -> None:
    """The library warnings of the command, each once (``--debug``)."""
    shown = set()
    for w in seen:
        line = warnings.formatwarning(w.message, w.category, w.filename, w.lineno).strip()
        if line not in shown:
            shown.add(line)
            print(f"vga --debug: {line}", file=sys.stderr)


def _quiet_failed_writes() -> None:
    """After a write failed for want of space or permission, files left
    half-written fail again when they are garbage-collected at exit
    ("Exception ignored in ... __del__"): not news, so not shown; any other
    such error still is."""
    import errno

    default = sys.unraisablehook
    repeats = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}

    def hook(unraisable):
        if not (isinstance(unraisable.exc_value, OSError) and unraisable.exc_value.errno in repeats):
            default(unraisable)

    sys.unraisablehook = hook


def _print_traceback(args) -> None:
    """The traceback of the exception being handled (``--debug``), with every
    secret of the warehouse URL taken out."""
    print(_scrubbed(traceback.format_exc(), args), file=sys.stderr, end="")


def _scrubbed(text: str, args) -> str:
    """A message with any warehouse password taken out."""
    from .config import scrub

    try:
        from .config import load_config

        config = load_config(getattr(args, "config", None), getattr(args, "data", None))
    except Exception:
        config = {}
    return scrub(text, config)


if __name__ == "__main__":
    sys.exit(main())


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
