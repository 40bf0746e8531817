"""Start a student's kernel under operating-system limits, in a sandbox where bubblewrap exists.

Run as ``python -m course.jail --scratch DIR [--hide PATH ...] [limits] -- COMMAND ...``: sets
resource limits (address space, CPU seconds, file size, process count, no core dumps), then
execs COMMAND - inside ``bwrap`` when it is installed: a read-only root, a private ``/tmp``, no
network, the grader's folders (``--hide``) replaced by empty ones, and only ``--scratch`` (and
``--bind`` folders, e.g. the kernel's connection folder) writable. Without bwrap it warns once,
on stderr, and runs COMMAND with the limits only. The limits hold in both cases, except that
Linux never applies the process-count limit to root: ``worker.py`` also counts processes.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys

MiB = 1 << 20


def bwrap() -> str | None:
    """The bubblewrap executable, or None when it is not installed (or disabled for a test)."""
    if os.environ.get("COURSE_NO_BWRAP"):
        return None
    return shutil.which("bwrap")


def sandbox_command(command: list[str], scratch: str, hide: list[str], bind: list[str],
                    exe: str) -> list[str]:
    """``command`` wrapped in bubblewrap: read-only root, private /tmp, no network."""
    cmd = [exe, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
           "--unshare-net", "--unshare-pid", "--as-pid-1",  # ipykernel quits when its ppid is 1
           "--unshare-ipc", "--unshare-uts",
           "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    # the code the kernel imports (a copy of the course, a venv) may live under /tmp
    keep = [sys.prefix, *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    for path in sorted({os.path.realpath(p) for p in keep if p}):
        if (path + "/").startswith("/tmp/") and os.path.exists(path):
            cmd += ["--ro-bind", path, path]
    for path in hide:  # empty folders where the tests, the other students and the grades are
        cmd += ["--tmpfs", path]
    for path in [*bind, scratch]:  # after the tmpfs: a bind below a hidden folder stays visible
        cmd += ["--bind", path, path]
    for path in hide:  # read-only once the binds below it exist: writing there fails
        cmd += ["--remount-ro", path]
    return [*cmd, "--setenv", "HOME", scratch, "--setenv", "TMPDIR", "/tmp", "--chdir", scratch,
            "--", *command]


def set_limits(memory_mib: int, cpu_s: int, fsize_mib: int, nproc: int) -> None:
    """Lower this process's limits (inherited by everything it starts); never raise them."""
    for which, value in ((resource.RLIMIT_AS, memory_mib * MiB), (resource.RLIMIT_CPU, cpu_s),
                         (resource.RLIMIT_FSIZE, fsize_mib * MiB), (resource.RLIMIT_CORE, 0),
                         (resource.RLIMIT_NPROC, nproc)):
        _, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))


def _private_numba_cache(scratch: str) -> None:
    """Give the kernel a copy of the grader's Numba cache in its scratch folder.

    Numba's cache files are pickles it loads: a cache shared between students would let one
    submission plant code that runs in another's kernel, so the shared one stays read-only. A
    read-only cache is not used at all, though, and each notebook would compile minitf's kernels
    again; a private copy (tens of MB) keeps them compiled and can only harm its own student.
    """
    shared = os.environ.get("NUMBA_CACHE_DIR")
    if not shared or not os.path.isdir(shared):
        return
    private = os.path.join(scratch, ".numba_cache")
    if not os.path.isdir(private):
        shutil.copytree(shared, private, symlinks=False, ignore_dangling_symlinks=True)
    os.environ["NUMBA_CACHE_DIR"] = private


def _keep_dataset_cache() -> None:
    """Point the kernel at the grader's dataset cache (read-only in the sandbox): the kernel's
    HOME becomes its scratch folder, where ``~/.minitf/datasets`` (minitf/datasets/_cache.py's
    default) would be empty, and the sandbox has no network to fetch MNIST again."""
    os.environ.setdefault("MINITF_DATA_DIR",
                          os.path.join(os.path.expanduser("~"), ".minitf", "datasets"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.jail", description=__doc__)
    parser.add_argument("--scratch", required=True, help="the only writable folder")
    parser.add_argument("--hide", action="append", default=[], help="a folder to hide")
    parser.add_argument("--bind", action="append", default=[], help="another writable folder")
    parser.add_argument("--memory-mib", type=int, default=4096)
    parser.add_argument("--cpu-s", type=int, default=600)
    parser.add_argument("--fsize-mib", type=int, default=64)
    parser.add_argument("--nproc", type=int, default=512)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run")
    _private_numba_cache(args.scratch)
    _keep_dataset_cache()
    exe = bwrap()
    if exe:
        hide = [h for h in args.hide if os.path.isdir(h)]
        command = sandbox_command(command, args.scratch, hide, args.bind, exe)
    else:
        print("course.jail: bwrap (bubblewrap) not found: the kernel runs with resource limits "
              "only, no file-system or network sandbox", file=sys.stderr, flush=True)
        os.chdir(args.scratch)
    set_limits(args.memory_mib, args.cpu_s, args.fsize_mib, args.nproc)
    os.execvp(command[0], command)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main())
