"""The one pool of worker threads that skadam hands NumPy work to.

NumPy releases the GIL inside its element-wise loops and gathers, so work handed to a
worker thread runs on another core while the calling thread goes on. Used for the chunks
of large optimizer steps and for gathering the next shuffled block of training data while
the current one is trained on.
"""

import os
from concurrent.futures import ThreadPoolExecutor

N_THREADS = max(1, min(4, os.cpu_count() or 1))

_pool = None


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
