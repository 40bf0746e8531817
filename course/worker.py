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
import time
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


def _kernel_manager(tmp: Path):
    """A kernel manager that starts ipykernel with this interpreter, whatever kernelspecs exist."""
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    spec = tmp / "kernels" / "course-grader"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "grader", "language": "python"}))
    ksm = KernelSpecManager(kernel_dirs=[str(tmp / "kernels")], ensure_native_kernel=False)
    return AsyncKernelManager(kernel_name="course-grader", kernel_spec_manager=ksm)


def run(notebook: Path, events: Path, cell_timeout: float) -> int:
    """Execute ``notebook`` (in its own folder); return 0, or 3 when the kernel died."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    nb = nbformat.read(notebook, as_version=4)
    log = events.open("a", buffering=1, encoding="utf-8")

    t0 = time.monotonic()

    def emit(**event: Any) -> None:
        log.write(json.dumps({**event, "t": round(time.monotonic() - t0, 2)}) + "\n")

    def on_start(cell, cell_index, **_):
        emit(event="start", index=cell_index)

    def on_executed(cell, cell_index, execute_reply, **_):
        content = (execute_reply or {}).get("content", {})
        ok = content.get("status", "ok") == "ok"
        emit(event="done", index=cell_index, ok=ok, **({} if ok else error_parts(content)))

    os.environ.setdefault("MPLBACKEND", "Agg")
    with tempfile.TemporaryDirectory(prefix="course-kernel-") as tmp:
        client = NotebookClient(
            nb,
            km=_kernel_manager(Path(tmp)),
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
            resources={"metadata": {"path": str(notebook.parent)}},
        )
        try:
            client.execute()
            emit(event="finished")
        except DeadKernelError:
            emit(event="dead")
            return 3
        finally:
            log.close()
    nbformat.write(nb, notebook)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.worker", description=__doc__)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("events", type=Path)
    parser.add_argument("--cell-timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    return run(args.notebook, args.events, args.cell_timeout)


if __name__ == "__main__":
    sys.exit(main())
