"""The MPI world, found once: mpi4py's COMM_WORLD under a launcher, a 1-process world otherwise.

mpi4py is imported only when a launcher (``mpiexec``, ``srun``) started this process, so a
plain ``python script.py`` needs no MPI at all. Collectives work on NumPy arrays (the buffer
interface: no pickling); tensors are converted by the callers.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import numpy as np

# the world size as MPICH's Hydra (and srun --mpi=pmi2), Open MPI's mpiexec and an srun step say
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_STEP_NUM_TASKS")

_world: World | None = None
# an all-reduce of at least this many bytes goes through the node's shared memory (when every
# rank is on this node): below it, MPI's own small-message algorithms are as fast; the window
# (two slots per rank) stays within SHM_WINDOW_BYTES of /dev/shm, larger data goes through MPI
SHM_MIN_BYTES = 64 * 1024
SHM_WINDOW_BYTES = 64 * 1024 * 1024
_DTYPES = [np.dtype(t) for t in ("float32", "float64", "float16", "int32", "int64", "uint8")]
_MAX_DIMS = 8


class World:
    """One communicator: rank, size, and the collectives minitf needs."""

    def __init__(self, comm: Any = None) -> None:
        self.comm = comm
        self.rank = 0 if comm is None else comm.Get_rank()
        self.size = 1 if comm is None else comm.Get_size()
        self.local_rank = self.rank
        self._shm: _SharedSum | None = None
        if comm is not None:
            from mpi4py import MPI

            local = comm.Split_type(MPI.COMM_TYPE_SHARED)
            self.local_rank = local.Get_rank()
            on_one_node = local.Get_size() == self.size
            local.Free()
            if on_one_node and self.size > 1 and os.environ.get("MINITF_SHM_ALLREDUCE") != "0":
                self._shm = _SharedSum(comm)

    def allreduce_sum_packed(self, arrays: Sequence[np.ndarray]) -> np.ndarray:
        """The arrays (one dtype) packed into one flat array and summed over all ranks: a new
        array, the same on every rank.

        When every rank is on this node and the data is large (``SHM_MIN_BYTES``, and the
        window within ``SHM_WINDOW_BYTES``), each rank packs into its own slot of a
        shared-memory window, one barrier, and every rank adds the slots itself in rank order
        (no message, no rendezvous: the rank that comes last pays one pass over the data after
        the barrier, where MPI's all-reduce makes it wait for its peer's copy too). Otherwise,
        or with ``MINITF_SHM_ALLREDUCE=0``: packed, then MPI's in-place all-reduce."""
        n = sum(a.size for a in arrays)
        dtype = np.dtype(arrays[0].dtype) if arrays else np.dtype(np.float32)
        nbytes = n * dtype.itemsize
        if self._shm is not None and SHM_MIN_BYTES <= nbytes <= self._shm.max_bytes():
            out = self._shm.sum(arrays, n, dtype)
            if out is not None:
                return out
            self._shm = None  # no window could be had (/dev/shm full?): MPI on every rank
        return self.allreduce_sum_inplace(_pack(arrays, np.empty(n, dtype)))

    def allreduce_sum(self, a: np.ndarray) -> np.ndarray:
        """The element-wise sum over all ranks (the same array on every rank)."""
        a = np.array(a, copy=True, order="C")
        if self.comm is None:
            return a
        from mpi4py import MPI

        out = np.empty_like(a)
        self.comm.Allreduce(a, out, op=MPI.SUM)
        return out.reshape(np.shape(a))

    def allreduce_sum_inplace(self, a: np.ndarray) -> np.ndarray:
        """``a`` replaced by its element-wise sum over all ranks (MPI_IN_PLACE: no copy, no
        second buffer); ``a`` must be C-contiguous and the caller's own. Returns ``a``."""
        if not a.flags.c_contiguous or not a.flags.writeable:
            raise ValueError("allreduce_sum_inplace needs a writeable C-contiguous array")
        if self.comm is not None:
            from mpi4py import MPI

            self.comm.Allreduce(MPI.IN_PLACE, a, op=MPI.SUM)
        return a

    def broadcast(self, a: np.ndarray, root: int = 0) -> np.ndarray:
        """Rank ``root``'s array on every rank (shape and dtype must agree)."""
        a = np.array(a, copy=True, order="C")
        if self.comm is not None:
            self.comm.Bcast(a, root=root)
        return a

    def allgather(self, a: np.ndarray) -> np.ndarray:
        """Every rank's array concatenated along axis 0, in rank order (first dims may differ)."""
        a = np.ascontiguousarray(a)
        if self.comm is None:
            return a.copy()
        counts = self.comm.allgather(a.shape[0])
        rest = self.comm.allgather(a.shape[1:])
        if any(r != a.shape[1:] for r in rest):
            raise ValueError(f"allgather: the ranks' shapes differ beyond axis 0: {rest}")
        row = int(np.prod(a.shape[1:], dtype=np.int64))
        out = np.empty((sum(counts), *a.shape[1:]), dtype=a.dtype)
        self.comm.Allgatherv(a, [out, [c * row for c in counts]])
        return out

    def send_array(self, a: np.ndarray, dest: int, tag: int = 0) -> None:
        """Send ``a`` to rank ``dest``: a fixed header (dtype, rank, dims), then the raw buffer
        (no pickle)."""
        a = np.ascontiguousarray(a)
        if a.dtype not in _DTYPES or a.ndim > _MAX_DIMS:
            raise ValueError(f"send_array: {a.dtype} arrays of {a.ndim} dims are not supported")
        header = np.zeros(2 + _MAX_DIMS, np.int64)
        header[:2 + a.ndim] = [_DTYPES.index(a.dtype), a.ndim, *a.shape]
        self.comm.Send(header, dest=dest, tag=tag)
        self.comm.Send(a, dest=dest, tag=tag)

    def recv_array(self, source: int, tag: int = 0) -> np.ndarray:
        """The array ``send_array`` sent from rank ``source``."""
        header = np.empty(2 + _MAX_DIMS, np.int64)
        self.comm.Recv(header, source=source, tag=tag)
        out = np.empty(tuple(header[2:2 + header[1]]), _DTYPES[header[0]])
        self.comm.Recv(out, source=source, tag=tag)
        return out

    def barrier(self) -> None:
        if self.comm is not None:
            self.comm.Barrier()


def _pack(arrays: Sequence[np.ndarray], flat: np.ndarray) -> np.ndarray:
    """The arrays copied one after the other into ``flat`` (of their total size)."""
    at = 0
    for a in arrays:
        flat[at:at + a.size] = a.reshape(-1)
        at += a.size
    return flat


class _SharedSum:
    """Sums over the ranks of one node through an MPI-3 shared-memory window (each rank reads
    the others' packed arrays in place).

    The window holds two slots of one segment per rank; call k uses slot k % 2. A rank writes
    its segment of slot k % 2 again at call k + 2 only after the barrier of call k + 1, which
    every rank passes only once it has finished reading call k's slot: one barrier per call
    suffices. Every rank adds the segments in rank order, so all get the same bits. The window
    grows (a collective, but every rank asks for the same sizes, as MPI_Allreduce's counts must
    match) up to ``SHM_WINDOW_BYTES`` and stays until exit."""

    def __init__(self, comm: Any) -> None:
        self.comm, self.win, self.capacity, self.calls = comm, None, 0, 0
        self.segments: list[list[np.ndarray]] = []

    def max_bytes(self) -> int:
        """The largest sum that fits the window's limit (``SHM_WINDOW_BYTES``)."""
        return SHM_WINDOW_BYTES // (2 * self.comm.Get_size()) // 64 * 64

    def _allocate(self, nbytes: int) -> Any:
        from mpi4py import MPI

        return MPI.Win.Allocate_shared(nbytes, 1, comm=self.comm)

    def _grow(self, nbytes: int) -> bool:
        """A window for ``nbytes`` per slot (doubling, within the limit); False on every rank
        when any rank could not get one."""
        from mpi4py import MPI

        if self.win is not None:
            self.win.Unlock_all()
            self.win.Free()
            self.win = None
        capacity = min(max(nbytes, 2 * self.capacity), self.max_bytes())
        self.capacity = capacity + (-capacity) % 64  # every segment 64-byte aligned
        try:
            win = self._allocate(2 * self.capacity)
        except MPI.Exception:
            win = None
        if not self.comm.allreduce(win is not None, op=MPI.LAND):
            if win is not None:
                win.Free()
            return False
        size, self.win = self.comm.Get_size(), win
        self.win.Lock_all(MPI.MODE_NOCHECK)  # the shared-memory model: Sync + Barrier
        bases = [np.frombuffer(self.win.Shared_query(r)[0], np.uint8) for r in range(size)]
        self.segments = [[b[s * self.capacity:(s + 1) * self.capacity] for b in bases]
                         for s in (0, 1)]
        self.calls = 0
        return True

    def sum(self, arrays: Sequence[np.ndarray], n: int, dtype: np.dtype) -> np.ndarray | None:
        """The packed arrays summed over the ranks (a new array), or None (on every rank) when
        no window could be allocated."""
        nbytes = n * dtype.itemsize
        if nbytes > self.capacity and not self._grow(nbytes):
            return None
        slot = [seg[:nbytes].view(dtype) for seg in self.segments[self.calls % 2]]
        self.calls += 1
        _pack(arrays, slot[self.comm.Get_rank()])
        self.win.Sync()  # my writes visible, then everyone's
        self.comm.Barrier()
        self.win.Sync()
        out = np.add(slot[0], slot[1])
        for other in slot[2:]:
            np.add(out, other, out=out)
        return out


def launched_by_mpi() -> bool:
    """True when a launcher started this process as one of several ranks."""
    return any(os.environ.get(v, "1").strip() not in ("", "0", "1") for v in _SIZE_VARS)


def world() -> World:
    """The process's World, created on first use (MPI initialized then, abort-on-error set)."""
    global _world
    if _world is None:
        if launched_by_mpi():
            try:
                from mpi4py import MPI
            except ImportError as e:
                raise ImportError("this process was started by an MPI launcher but mpi4py is not "
                                  "installed: pip install 'minitf[distributed]'") from e
            _world = World(MPI.COMM_WORLD)
            if _world.size > 1:
                _install_abort_hook(_world)
        else:
            _world = World()
    return _world


def _install_abort_hook(w: World) -> None:
    """An uncaught exception on any rank ends every rank at once (MPI_Abort), naming the rank,
    instead of leaving the others blocked in a collective forever."""
    def hook(kind: type, value: BaseException, tb: Any) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(f"minitf.distribute: rank {w.rank} of {w.size} failed, aborting the "
                         f"job:\n{text}")
        sys.stderr.flush()
        w.comm.Abort(1)  # every rank of the job ends, none waits in a collective

    sys.excepthook = hook
