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

    def __init__(self, size: int, total: int, log: Path, cwd: Path):
        self.size, self.remaining = size, total
        self.log = open(log, "ab")
        self.cwd = cwd
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
            await km.start_kernel(stdout=self.log, stderr=self.log, cwd=str(self.cwd))
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
            progress=None) -> dict[str, float]:
    """Run each (name, source .ipynb, executed .ipynb) with papermill, up to
    ``workers`` at once. Returns seconds per notebook; raises
    :class:`VgaError` naming the first notebook and cell that failed."""
    import papermill

    def one(name, source, target):
        t0 = time.perf_counter()
        for attempt in (1, 2):
            km = pool.take()
            ok = False
            try:
                papermill.execute_notebook(
                    str(source), str(target), parameters=parameters, progress_bar=False, kernel_name="python3",
                    cwd=str(source.parent), km=km, execution_timeout=CELL_TIMEOUT,
                )
                ok = True
                _renumber(target)
                return name, time.perf_counter() - t0
            except papermill.PapermillExecutionError as exc:  # the notebook's own error: no second try
                detail = next((line.strip() for line in str(exc.evalue).splitlines() if line.strip()), "no detail")
                raise VgaError(
                    f"notebook {name} failed in cell {exc.exec_count}: {exc.ename}: {detail[:300]}; "
                    f"the executed notebook is kept at {target} until the next run; earlier reports are untouched"
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
