"""The one pool of worker threads that skadam hands NumPy work to.

NumPy releases the GIL inside its element-wise loops, products and gathers, so work
handed to a worker thread runs on another core while the calling thread goes on. Used
for the parts of a stack of runs, the chunks of large optimizer steps, and gathering
the next shuffled block of training data while the current one is trained on.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager


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


def thread_pool():
    """The shared executor with ``N_THREADS - 1`` workers (None on a single core).

    Examples
    --------
    >>> from skadam._threads import N_THREADS, thread_pool
    >>> (thread_pool() is None) == (N_THREADS == 1)
    True
    """
    global _pool
    if _pool is None and N_THREADS > 1:
        _pool = ThreadPoolExecutor(max_workers=N_THREADS - 1, thread_name_prefix="skadam")
    return _pool


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
