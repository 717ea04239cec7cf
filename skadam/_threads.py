"""skadam's threads: the one pool of worker threads, and who gets the cores in a fit.

NumPy releases the GIL inside its element-wise loops, products and gathers, so work
handed to a worker thread runs on another core while the calling thread goes on. Used
for the parts of a stack of runs, the chunks of large optimizer steps, and gathering
the next shuffled block of training data while the current one is trained on.

The cores of a fit go to one of two uses, decided by the work of one network's step
(:func:`split_rows`, :func:`training_threads`): BLAS's own threads inside each product
where the products are large enough to pay for them (``MIN_WORK_FOR_BLAS_THREADS``),
otherwise single-threaded BLAS, with the rows of a stack cut into one part per core
where each part has the work for a thread (``MIN_WORK_PER_PART``). The decision reads
one network's work only, never the number of networks in the stack, so a network
makes the same calls alone as in any stack, with the same bits.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext

import numpy as np
from threadpoolctl import ThreadpoolController

from ._kernels import flush_subnormals


def _usable_cores():
    # The cores this process may run on: a taskset or a container's CPU set leaves fewer
    # than the machine has, and threads beyond them would only contend.
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


N_THREADS = max(1, min(4, _usable_cores()))

_pool = None
_busy = 0  # stacks training on every core: no step may split itself between threads
_lock = threading.Lock()


class _Pool:
    """A thread pool whose tasks run with their submitter's treatment of subnormal
    numbers (:func:`subnormals_flushed`), so that a step's part on a worker computes
    what it would on the calling thread."""

    def __init__(self, n_workers):
        self._executor = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="skadam")

    def submit(self, function, *args):
        return self._executor.submit(_in_mode, flush_subnormals(), function, *args)


def _in_mode(flushed, function, *args):
    previous = flush_subnormals(flushed)
    try:
        return function(*args)
    finally:
        flush_subnormals(previous)


def thread_pool():
    """The shared pool with ``N_THREADS - 1`` workers (None on a single core).

    Its ``submit(function, *args)`` returns a :class:`concurrent.futures.Future`.

    Examples
    --------
    >>> from skadam._threads import N_THREADS, thread_pool
    >>> (thread_pool() is None) == (N_THREADS == 1)
    True
    """
    global _pool
    if _pool is None and N_THREADS > 1:
        _pool = _Pool(N_THREADS - 1)
    return _pool


@contextmanager
def subnormals_flushed():
    """While in this context, the calling thread treats subnormal numbers as zero.

    Training runs in it. Weights that only the L2 penalty moves, and optimizer moments
    of gradients that stay zero, decay geometrically until they are subnormal (below
    about 2.2e-308 in float64), and every product that reads one takes a microcode
    assist of about a hundred cycles: a 200-epoch fit on 41,000 rows slowed from 57 to
    260 ms an epoch. Flushed, such numbers are zero, on every x86-64 instruction set
    alike; numbers that are not subnormal compute as before, bit for bit.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._threads import subnormals_flushed
    >>> tiny = np.array([1e-310])
    >>> with subnormals_flushed():
    ...     flushed = tiny * 1.0
    >>> bool((tiny * 1.0)[0] > 0), bool(flushed[0] == 0)
    (True, True)
    """
    previous = flush_subnormals(True)
    try:
        yield
    finally:
        flush_subnormals(previous)


@contextmanager
def cores_taken():
    """While in this context, every core trains a part of a stack: steps stay serial.

    A step that split itself between threads would wait for a worker that is busy
    training, or, inside that worker, for itself.

    Examples
    --------
    >>> from skadam._threads import cores_taken, steps_may_split
    >>> with cores_taken():
    ...     steps_may_split()
    False
    """
    global _busy
    with _lock:
        _busy += 1
    try:
        yield
    finally:
        with _lock:
            _busy -= 1


def steps_may_split():
    """Whether an optimizer step may hand parts of its buffer to worker threads."""
    return N_THREADS > 1 and _busy == 0


# The work of one network's step (multiply-adds of its forward products, the batch's
# rows times Network.blas_work_per_row) from which BLAS's threads pay. Below it, the
# products of a minibatch are too small: on a quiet 2-core machine two threads gain
# nothing up to a few million multiply-adds a step, and while another process holds a
# core they make every product wait for it (a 100-unit network on 100 columns: 0.041 s
# an epoch on one thread, 0.073 s on two with one core busy). From about ten million
# on, two threads are 1.5x faster on a quiet machine (``python benchmarks/threads.py``
# measures both sides on any machine).
MIN_WORK_FOR_BLAS_THREADS = 8_000_000

# The work a part's step must have for a thread of its own to pay: handing the GIL back
# and forth between the threads, some twenty times a step, costs more than the second
# core brings below about two million multiply-adds a step. ``python
# benchmarks/parts.py`` measures it on any machine: on a 2-core machine with AVX-512,
# two members of the default regressor on 9 embedded columns (about 0.9 million a step
# each) took 0.71 s on one thread and 1.18 s on two, four members (1.7 million a part)
# 1.51 s against 1.60 s, and no fit it measures was faster on two; on an earlier machine,
# with the periodic embedding's heavier compiled work, two threads paid from about half
# a million.
MIN_WORK_PER_PART = 2_000_000


def blas_threads_pay(blas_work):
    """Whether one network's step, of ``blas_work`` multiply-adds in its products, makes
    them with BLAS's own threads.

    Examples
    --------
    >>> from skadam._threads import blas_threads_pay
    >>> blas_threads_pay(128 * (20 * 100 + 100 * 2))  # a default MLP on 20 columns
    False
    """
    return N_THREADS > 1 and blas_work >= MIN_WORK_FOR_BLAS_THREADS


def split_rows(rows, work_per_row, blas_work):
    """Consecutive groups of the rows of a stack, one per thread that trains them.

    One group where a network's products take BLAS's threads (``blas_work``, its step's
    multiply-adds in products, from ``MIN_WORK_FOR_BLAS_THREADS`` on); otherwise as
    many as the cores, but no more than give each part ``MIN_WORK_PER_PART`` of work a
    step (``work_per_row`` each, all of a network's step counted).

    Examples
    --------
    >>> from skadam._threads import split_rows
    >>> split_rows(["a", "b"], work_per_row=1000, blas_work=1000)
    [['a', 'b']]
    """
    worth = int(len(rows) * work_per_row // MIN_WORK_PER_PART)
    n_parts = 1 if blas_threads_pay(blas_work) else max(1, min(N_THREADS, len(rows), worth))
    bounds = np.linspace(0, len(rows), n_parts + 1).round().astype(int)
    return [rows[start:stop] for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]


_controller = None


def training_threads(n_parts, blas_work):
    """The context a fit trains in: BLAS's own threads where a network's products pay
    for them (``blas_threads_pay``), single-threaded BLAS otherwise, the cores marked
    taken when several parts share them, and subnormal numbers flushed to zero
    (:func:`subnormals_flushed`).

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> from skadam._threads import training_threads
    >>> with training_threads(1, blas_work=1000):
    ...     {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}
    {1}
    """
    if n_parts == 1 and blas_threads_pay(blas_work):
        return subnormals_flushed()
    return _single_threaded_blas(cores_shared=n_parts > 1)


@contextmanager
def _single_threaded_blas(*, cores_shared):
    global _controller
    if _controller is None:
        # Made once: finding the loaded BLAS libraries costs about half a millisecond,
        # a limit through the controller a few microseconds, which matters for a stream
        # of short partial_fit calls.
        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"), (
            cores_taken() if cores_shared else nullcontext()), subnormals_flushed():
        yield
