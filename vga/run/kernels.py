"""Executing the notebooks of a run: warm kernels, side by side.

Kernels are started ahead, while the run loads and computes, and warmed
with the imports every notebook makes, so a notebook waits for neither.
A kernel then runs one notebook after another: between two notebooks its
namespace is reset (``%reset -f``), so no variable of one notebook is seen
by the next, while the imported modules stay loaded. Starting and warming a
kernel costs seconds of CPU; on two cores, one fresh kernel per notebook
made the notebooks three times slower. A kernel whose notebook failed is
shut down and replaced. Kernels talk over local IPC sockets (no TCP port, hence no
"running over TCP without encryption" warning), and their own output goes to
a log file that ``--debug`` prints, not to the console.

The kernels are asynchronous kernel managers: with them papermill's cell
time limit and its check that the kernel is alive work (with a blocking
manager a kernel that died or stopped answering mid-cell left papermill
waiting forever). Each cell has :data:`CELL_TIMEOUT` seconds
(``VGA_CELL_TIMEOUT``); a notebook whose cell hits it, or whose kernel dies,
runs once more on a fresh kernel, and a second such failure stops the run
naming the notebook.
"""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from ..errors import VgaError

#: Seconds a notebook cell may run before its kernel counts as hung (the
#: cells only read results and draw them: seconds, even at scale).
CELL_TIMEOUT = int(os.environ.get("VGA_CELL_TIMEOUT", "600"))

WARM_UP = "import pandas, matplotlib, vga.notebook, vga.present.blocks, vga.present.plots"
#: Run between two notebooks in one kernel: drop every name the last one made,
#: and the currency its chapter set for amounts (a module's state outlives %reset).
RESET = ("get_ipython().run_line_magic('reset', '-f')\nimport gc\ngc.collect()\n"
         "from vga.present.blocks import set_currency\nset_currency('')\ndel set_currency")


class KernelPool:
    """Up to ``size`` started, warmed kernels waiting for a notebook."""

    def __init__(self, size: int, total: int, log: Path, cwd: Path, path: list[Path] = ()):
        """``cwd`` is the folder the kernels start in (the analyst's working
        folder, else the package's notebooks); ``path`` the folders put
        first on their import path (the working folder and its notebooks)."""
        self.size, self.remaining = size, total
        self.log = open(log, "ab")
        self.cwd = cwd
        self.env = dict(os.environ)
        if path:
            self.env["PYTHONPATH"] = os.pathsep.join([str(p) for p in path]
                                                     + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))
        self.ready: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.managers: list = []
        self.closed = False
        # IPC sockets live in a short private folder: socket paths are
        # limited to about 100 characters, and relative ones depend on cwd.
        self.sockets = Path(tempfile.mkdtemp(prefix="vga-kernels-"))
        self.count = 0
        for _ in range(min(size, total)):
            self._start_one()

    def _start_one(self) -> None:
        async def warm(km) -> None:
            await km.start_kernel(stdout=self.log, stderr=self.log, cwd=str(self.cwd), env=self.env)
            kc = km.client()
            kc.start_channels()
            try:
                await kc.wait_for_ready(timeout=60)
                kc.execute(WARM_UP, silent=True, store_history=False)
                await kc.get_shell_msg(timeout=120)
            finally:
                kc.stop_channels()

        def start():
            from jupyter_client import AsyncKernelManager

            with self.lock:
                if self.closed:
                    return
                self.count += 1
                km = AsyncKernelManager(kernel_name="python3", transport="ipc",
                                        ip=str(self.sockets / f"k{self.count}"))
                self.managers.append(km)
            try:
                asyncio.run(warm(km))
                self.ready.put(km)
            except Exception as exc:  # handed to the notebook that takes it
                self.ready.put(exc)

        with self.lock:
            if self.remaining <= 0:
                return
            self.remaining -= 1
        threading.Thread(target=start, daemon=True).start()

    def take(self):
        km = self.ready.get(timeout=180)
        if isinstance(km, Exception):
            raise VgaError(f"a notebook kernel did not start: {km}")
        return km

    def give_back(self, km, reuse: bool = True) -> None:
        """Reset the kernel's namespace and queue it for the next notebook;
        when ``reuse`` is false (its notebook failed) or the reset fails,
        shut it down and start a fresh one."""
        async def reset() -> dict:
            kc = km.client()
            kc.start_channels()
            try:
                kc.execute(RESET, silent=True, store_history=False)
                return await kc.get_shell_msg(timeout=60)
            finally:
                kc.stop_channels()

        if reuse:
            try:
                if asyncio.run(reset())["content"].get("status") == "ok":
                    self.ready.put(km)
                    return
            except Exception:
                pass
        with self.lock:
            self.remaining += 1  # a replacement is due
        try:
            _shutdown(km)
        finally:
            self._start_one()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            managers = list(self.managers)
        for km in managers:
            _shutdown(km)
        self.log.close()
        shutil.rmtree(self.sockets, ignore_errors=True)


def _shutdown(km) -> None:
    """Stop a kernel at once (quietly: it may be dead already). Run on a
    thread of its own: the caller's thread may already run an event loop
    (a browser driver's, a notebook's), where ``asyncio.run`` cannot."""
    def stop():
        try:
            if km.has_kernel:
                asyncio.run(km.shutdown_kernel(now=True))
        except Exception:
            pass

    worker = threading.Thread(target=stop, daemon=True)
    worker.start()
    worker.join(timeout=60)


def _renumber(path: Path) -> None:
    """Number the executed cells 1, 2, 3... as a fresh kernel would (a
    reused kernel keeps counting from the notebook before)."""
    import nbformat

    book = nbformat.read(path, as_version=4)
    n = 0
    for cell in book.cells:
        if cell.cell_type == "code" and cell.get("execution_count") is not None:
            n += 1
            cell.execution_count = n
            for output in cell.get("outputs", []):
                if "execution_count" in output:
                    output["execution_count"] = n
    nbformat.write(book, path)


def execute(jobs: list[tuple[str, Path, Path]], parameters: dict, pool: KernelPool, *, workers: int = 2,
            progress=None, yours: set[str] = frozenset()) -> dict[str, float]:
    """Run each (name, source .ipynb, executed .ipynb) with papermill, up to
    ``workers`` at once. Returns seconds per notebook; raises
    :class:`VgaError` naming the first notebook and cell that failed, the
    cell numbered as Jupyter's reader counts (:func:`failed_cell`).
    ``yours`` names the chapters of the analyst's own (said in a failure)."""
    import nbformat
    import papermill

    def one(name, source, target):
        t0 = time.perf_counter()
        book = nbformat.read(source, as_version=4)
        # What papermill left in a notebook it executed in place: its error
        # banner goes; its injected-parameters cell it replaces itself.
        book.cells = [c for c in book.cells if "papermill-error-cell-tag" not in c.metadata.get("tags", [])]
        for attempt in (1, 2):
            km = pool.take()
            ok = False
            try:
                papermill.execute_notebook(
                    book, str(target), parameters=parameters, progress_bar=False, kernel_name="python3", language="python",
                    km=km, execution_timeout=CELL_TIMEOUT,
                )
                ok = True
                _renumber(target)
                return name, time.perf_counter() - t0
            except papermill.PapermillExecutionError as exc:  # the notebook's own error: no second try
                detail = next((line.strip() for line in str(exc.evalue).splitlines() if line.strip()), "no detail")
                where, whose = failed_cell(source, target)
                if name in yours:
                    whose = "a chapter of your own"
                raise VgaError(
                    f"notebook {name} ({source}) failed in {where}{f' ({whose})' if whose else ''}: "
                    f"{exc.ename}: {detail[:300]}; the executed notebook is kept at {target} until the next run; "
                    "earlier reports are untouched"
                ) from None
            except Exception as exc:  # a cell past the time limit, a kernel that died
                if attempt == 2:
                    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "no detail"
                    raise VgaError(
                        f"notebook {name} did not finish, twice, on two kernels ({type(exc).__name__}: {detail}); "
                        f"a cell may run at most {CELL_TIMEOUT} s (VGA_CELL_TIMEOUT); earlier reports are "
                        "untouched") from None
            finally:
                pool.give_back(km, reuse=ok)

    seconds: dict[str, float] = {}
    with ThreadPoolExecutor(max_workers=workers) as threads:
        futures = [threads.submit(one, *job) for job in jobs]
        try:
            for future in as_completed(futures):
                name, took = future.result()
                seconds[name] = round(took, 3)
                if progress:
                    progress(name, took)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return seconds


def failed_cell(source: Path, executed: Path) -> tuple[str, str]:
    """Where an executed notebook failed, as the reader of ``source`` counts
    its cells in Jupyter (from the top, Markdown included, the first being
    cell 1; the kernel's execution count is no help: a reused kernel keeps
    counting), and whose cell it is ("a cell of your own, tagged analyst"
    or ""). Cells are matched by their id, which papermill keeps."""
    import nbformat

    try:
        ran = nbformat.read(executed, as_version=4)
        book = nbformat.read(source, as_version=4)
    except Exception:
        return "a cell", ""
    failed = next((c for c in ran.cells if c.cell_type == "code"
                   and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
    if failed is None:
        return "a cell", ""
    for i, cell in enumerate(book.cells, start=1):
        if cell.get("id") and cell.get("id") == failed.get("id"):
            whose = "a cell of your own, tagged analyst" if "analyst" in cell.metadata.get("tags", []) else ""
            return f"cell {i}", whose
    return "the cell papermill inserted (its parameters)", ""
