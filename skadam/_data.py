"""The data of a training call: encoded training data, held-out data, shuffled blocks."""

import numpy as np
import scipy.sparse as sp

from ._threads import thread_pool


class TrainingData:
    """Encoded training data of one call: ``X``, the targets ``Y`` the loss takes, weights.

    ``sample_weight`` is rescaled to mean one (or is None for unit weights), so that the
    gradient of a batch of ``m`` rows, ``sum(weight * grad_loss) / m``, is an unbiased
    estimate of the gradient of the weighted mean loss whatever the batch size.
    """

    def __init__(self, X, Y, sample_weight):
        self.X, self.Y = X, Y
        if sample_weight is not None:
            sample_weight = sample_weight / np.mean(sample_weight)
        self.sample_weight = sample_weight
        self.n_samples = X.shape[0]


class Validation:
    """What early stopping monitors: a held-out set and how to score a model on it.

    Scores are higher-is-better: the negative weighted mean validation loss for
    ``scoring="loss"``, otherwise the scorer's value on the original targets, on
    ``X_scored``: the rows of ``X`` as the estimator's ``predict`` takes them (with the
    column names it was fitted with), ``X`` itself by default.
    """

    def __init__(self, X, y, Y, sample_weight, scorer, X_scored=None):
        self.X, self.y, self.Y = X, y, Y
        self.X_scored = X if X_scored is None else X_scored
        self.sample_weight = sample_weight
        self.scorer = scorer

    def scores(self, runs, network, loss):
        """The score of each run: of its members' averaged prediction for an ensemble."""
        if self.scorer is None:
            scores = []
            for run in runs:
                raw = loss.combine(network.outputs(run.params, self.X))
                losses = loss.per_sample(raw, self.Y)
                scores.append(-float(np.average(losses, weights=self.sample_weight)))
            return scores
        weights = {} if self.sample_weight is None else {"sample_weight": self.sample_weight}
        return [run.hooks.score(self.scorer, self.X_scored, self.y, **weights)
                for run in runs]


# Rows gathered at a time when shuffling: about 512 KiB, so the gathered block is still in
# cache when its batches are read, and the epoch needs no second copy of the data.
_BLOCK_BYTES = 2**19


def shuffled_blocks(data, batch_size, rng):
    """Yield ``(X, Y, weight)`` blocks of whole batches, in a new random order per epoch.

    One permutation per epoch decides the order; rows are gathered block by block into
    two reused buffers, the next block by a worker thread while the current one is
    trained on. That costs one copy of the data per epoch, like a permuted copy would,
    without allocating one, and hides most of the gather's memory latency.
    """
    X, Y, weight = data.X, data.Y, data.sample_weight
    if rng is None:
        yield X, Y, weight
        return
    # The permutation rng.permutation(n) would give, in half the memory for n < 2**31.
    order = np.arange(data.n_samples, dtype=np.int32 if data.n_samples < 2**31 else np.intp)
    rng.shuffle(order)
    row_bytes = max(1, X.shape[1] * X.dtype.itemsize)
    block = min(data.n_samples, batch_size * max(1, _BLOCK_BYTES // (batch_size * row_bytes)))
    dense = not sp.issparse(X)
    buffers = [
        (np.empty((block, X.shape[1]), X.dtype) if dense else None,
         np.empty((block, *Y.shape[1:]), Y.dtype),
         None if weight is None else np.empty(block, weight.dtype))
        for _ in range(2)
    ]

    def gather(start, buffer):
        rows = order[start:start + block]
        n = rows.shape[0]
        X_buffer, Y_buffer, w_buffer = buffer
        # mode="clip" (the rows are a permutation, always in range): with the default
        # mode="raise", take fills a temporary copy of `out` and copies it over.
        X_part = np.take(X, rows, axis=0, out=X_buffer[:n], mode="clip") if dense else X[rows]
        np.take(Y, rows, axis=0, out=Y_buffer[:n], mode="clip")
        if w_buffer is not None:
            np.take(weight, rows, out=w_buffer[:n], mode="clip")
        return X_part, Y_buffer[:n], None if w_buffer is None else w_buffer[:n]

    pool = thread_pool()
    starts = range(0, data.n_samples, block)
    pending = gather(starts[0], buffers[0])
    for index in range(len(starts)):
        current = pending if index == 0 else pending.result()
        if index + 1 < len(starts):
            args = (starts[index + 1], buffers[(index + 1) % 2])
            # The other buffer is free: the block it held was trained on last time round.
            pending = pool.submit(gather, *args) if pool else _Done(gather(*args))
        yield current


class _Done:
    """A finished result with the interface of a future, for single-core machines."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value
