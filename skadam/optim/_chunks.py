"""Walking a flat buffer in cache-sized chunks, split between threads when it is large.

An optimizer step written as NumPy ufuncs is a handful of element-wise passes. Over a
whole buffer each pass would stream every array from memory again; over a chunk of 64k
elements (512 KiB of float64) the arrays of all the passes stay in a core's L2 cache.
NumPy and the compiled kernels release the GIL inside their loops, so parts given to
different threads run on different cores: a buffer of at least ``PARALLEL_MIN_SIZE``
elements is cut into one contiguous part per thread (:func:`for_each_column_range`), and each
part into chunks (:func:`for_each_chunk`) when the step is made of several passes.
"""

import math

from .._threads import N_THREADS, steps_may_split, thread_pool

CHUNK_SIZE = 65_536
# Below this the cost of handing work to a thread (tens of microseconds, and a core that
# BLAS threads may still be spinning on after a matrix product) outweighs the gain.
PARALLEL_MIN_SIZE = 2 * CHUNK_SIZE


def chunk_layout(n):
    """Chunk length and number of threads for a buffer of ``n`` elements.

    Examples
    --------
    >>> from skadam.optim._chunks import chunk_layout
    >>> chunk_layout(1_000)
    (1000, 1)
    """
    n_threads = N_THREADS if n >= PARALLEL_MIN_SIZE else 1
    return max(1, min(CHUNK_SIZE, math.ceil(n / n_threads))), n_threads


def for_each_chunk(function, arrays, scratch):
    """Call ``function(start, views, scratch_row)`` for every chunk of equal-length arrays.

    ``scratch`` has one row per thread (``OptimizerState.scratch``); each thread passes
    its own row, cut to the chunk's length. Exceptions raised in a thread propagate.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam.optim._chunks import for_each_chunk
    >>> x = np.arange(5.0)
    >>> def double(start, views, scratch):
    ...     (chunk,) = views
    ...     chunk *= 2
    >>> for_each_chunk(double, (x,), np.empty((1, 5)))
    >>> x
    array([0., 2., 4., 6., 8.])
    """
    n = arrays[0].shape[0]
    chunk, n_threads = chunk_layout(n)
    starts = range(0, n, chunk)
    if n_threads == 1 or len(starts) == 1 or not steps_may_split():
        _run(function, arrays, starts, chunk, scratch[0])
        return
    per_thread = math.ceil(len(starts) / n_threads)
    groups = [starts[i:i + per_thread] for i in range(0, len(starts), per_thread)]
    futures = [
        thread_pool().submit(_run, function, arrays, group, chunk, scratch[row])
        for row, group in enumerate(groups[1:], start=1)
    ]
    _run(function, arrays, groups[0], chunk, scratch[0])
    for future in futures:
        future.result()


def for_each_column_range(function, n, arguments=()):
    """Call ``function(*arguments, start, stop)`` on one range of ``range(n)`` per thread.

    For a step that is one fused loop over the columns of a stack of runs, which needs no
    chunking: small buffers are one range, large ones (``PARALLEL_MIN_SIZE`` or more) one
    range per thread.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam.optim._chunks import for_each_column_range
    >>> x = np.ones((2, 4))
    >>> def scale(factor, start, stop):
    ...     x[:, start:stop] *= factor
    >>> for_each_column_range(scale, 4, (2.0,))
    >>> x
    array([[2., 2., 2., 2.],
           [2., 2., 2., 2.]])
    """
    if n < PARALLEL_MIN_SIZE or not steps_may_split():
        function(*arguments, 0, n)
        return
    part = math.ceil(n / N_THREADS)
    futures = [thread_pool().submit(function, *arguments, start, min(start + part, n))
               for start in range(part, n, part)]
    function(*arguments, 0, part)
    for future in futures:
        future.result()


def _run(function, arrays, starts, chunk, scratch):
    for start in starts:
        views = tuple(array[start:start + chunk] for array in arrays)
        function(start, views, scratch[: views[0].shape[0]])
