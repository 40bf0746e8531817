"""Execute one notebook in a fresh kernel and log, cell by cell, what happened (JSON lines).

Run as ``python -m course.worker NOTEBOOK EVENTS --cell-timeout S``; the autograder starts one
such process per submission and kills it (kernel included) at the notebook timeout. Events are
flushed as they happen, so a killed run still tells which cells passed and which cell hung.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def error_parts(content: dict[str, Any]) -> dict[str, Any]:
    """``{"error": "Name: message", "line": n, "code": src}`` of an error reply.

    ``line`` and ``code`` are the cell's failing line, when the traceback shows it (else absent).
    """
    head = f"{content.get('ename', 'Error')}: {content.get('evalue', '')}".strip().rstrip(":")
    for frame in content.get("traceback") or []:
        for line in _ANSI.sub("", frame).splitlines():
            m = re.match(r"^-+>\s*(\d+)\s(.*)$", line)
            if m:
                return {"error": head, "line": int(m.group(1)), "code": m.group(2).strip()}
    return {"error": head}


def _kernel_manager(tmp: Path, jail: list[str]):
    """A kernel manager that starts ipykernel with this interpreter, whatever kernelspecs exist.

    The kernel starts through ``python -m course.jail JAIL...`` (limits, sandbox), imports
    ``course.guard`` before the first cell, and talks over Unix sockets in ``tmp``: the sandbox
    has no network, not even to this process.
    """
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    spec = tmp / "kernels" / "course-grader"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "course.jail", "--bind", str(tmp), *jail, "--",
            sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
            "--IPKernelApp.exec_lines=['import course.guard']"]
    (spec / "kernel.json").write_text(json.dumps(
        # a signal would reach bwrap, not the kernel: interrupt through the control channel
        {"argv": argv, "display_name": "grader", "language": "python",
         "interrupt_mode": "message"}))
    ksm = KernelSpecManager(kernel_dirs=[str(tmp / "kernels")], ensure_native_kernel=False)
    return AsyncKernelManager(kernel_name="course-grader", kernel_spec_manager=ksm,
                              transport="ipc", connection_file=str(tmp / "kernel.json"))


def _watch_processes(limit: int, stop: threading.Event, on_kill: Callable[[str], None]) -> None:
    """Kill every process this worker started once there are more than ``limit`` of them.

    The kernel's process-count rlimit does not bind root; this bounds a fork bomb anyway
    (the kernel dies with them, and the notebook is reported as crashed).
    """
    import psutil

    me = psutil.Process()
    while not stop.wait(0.05):
        family = me.children(recursive=True)
        if len(family) > limit:
            on_kill(f"the notebook started more than {limit} processes")
            for p in family:
                try:
                    p.kill()
                except psutil.Error:
                    pass


def run(notebook: Path, events: Path, cell_timeout: float, scratch: Path | None = None,
        jail: list[str] = (), max_processes: int = 64) -> int:
    """Execute ``notebook`` with its kernel in ``scratch``; return 0, or 3 when the kernel died.

    Test cells run with ``guard.CHECK_LINE`` in front (the line numbers reported are the
    cell's own); ``jail`` are ``course.jail`` options (limits, folders to hide).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    from .cells import is_test
    from .guard import CHECK_LINE

    nb = nbformat.read(notebook, as_version=4)
    log = events.open("a", buffering=1, encoding="utf-8")

    t0 = time.monotonic()

    def emit(**event: Any) -> None:
        log.write(json.dumps({**event, "t": round(time.monotonic() - t0, 2)}) + "\n")

    scratch = scratch or notebook.parent
    originals: dict[int, str] = {}

    def on_start(cell, cell_index, **_):
        emit(event="start", index=cell_index)
        if is_test(cell):  # guard first; put back once run
            originals[cell_index] = cell.source
            cell.source = CHECK_LINE + "\n" + cell.source

    def on_executed(cell, cell_index, execute_reply, **_):
        content = (execute_reply or {}).get("content", {})
        ok = content.get("status", "ok") == "ok"
        error = {} if ok else error_parts(content)
        if cell_index in originals:
            cell.source = originals.pop(cell_index)
            if "line" in error:
                error["line"] -= 1
                if error["line"] < 1:  # the guard's own line failed
                    del error["line"], error["code"]
        emit(event="done", index=cell_index, ok=ok, **error)

    os.environ.setdefault("MPLBACKEND", "Agg")
    stop = threading.Event()
    threading.Thread(target=_watch_processes, daemon=True,
                     args=(max_processes, stop, lambda why: emit(event="killed", why=why))).start()
    with tempfile.TemporaryDirectory(prefix="course-kernel-") as tmp:
        client = NotebookClient(
            nb,
            km=_kernel_manager(Path(tmp), ["--scratch", str(scratch), *jail]),
            timeout=max(1, math.ceil(cell_timeout)),  # nbclient takes whole seconds
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={
                "ename": "Timeout",
                "evalue": f"the cell ran longer than {cell_timeout:g} s and was interrupted",
                "traceback": [],
            },
            record_timing=False,
            on_cell_start=on_start,
            on_cell_executed=on_executed,
            resources={"metadata": {"path": str(scratch)}},
        )
        try:
            client.execute()
            emit(event="finished")
        except DeadKernelError:
            emit(event="dead")
            return 3
        finally:
            stop.set()
            log.close()
    nbformat.write(nb, notebook)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.worker", description=__doc__)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("events", type=Path)
    parser.add_argument("--cell-timeout", type=float, default=60.0)
    parser.add_argument("--scratch", type=Path, help="the kernel's folder (default: the notebook's)")
    parser.add_argument("--max-processes", type=int, default=64)
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)  # then course.jail's options
    args, jail = parser.parse_args(argv[:cut]), argv[cut + 1:]
    return run(args.notebook, args.events, args.cell_timeout, args.scratch, jail,
               args.max_processes)


if __name__ == "__main__":
    sys.exit(main())
