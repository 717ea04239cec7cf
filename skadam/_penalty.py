"""The L2 penalty that ``alpha="auto"`` stands for."""

import numpy as np

# alpha="auto" is AUTO_ALPHA_SCALE * n_features / n_samples, clipped to AUTO_ALPHA_RANGE.
AUTO_ALPHA_SCALE = 0.1
AUTO_ALPHA_RANGE = (1e-4, 1e-2)
# What "auto" is for partial_fit on a model not yet fitted: a stream does not say how many
# rows it will bring.
STREAM_ALPHA = 1e-3


def auto_alpha(n_features, n_samples):
    """The penalty of ``alpha="auto"`` for a fit on ``n_samples`` rows of ``n_features``.

    For ridge regression of standardised data at a given signal-to-noise ratio, the best
    penalty on the mean squared error grows with the number of inputs and shrinks with
    the number of rows (it is ``sigma^2 * d / (n * ||w||^2)`` for ``d`` inputs, ``n``
    rows, noise variance ``sigma^2`` and true weights ``w``). The networks' penalty follows
    that ratio, ``0.1 * n_features / n_samples``, kept within ``[1e-4, 1e-2]``: a network
    has more weights than a linear model, and the clip keeps a very small or very large
    set from an extreme penalty.

    Parameters
    ----------
    n_features : int
        Columns of the data the estimator sees.
    n_samples : int
        Rows given to ``fit`` (the validation rows it holds out included).

    Returns
    -------
    alpha : float
        The strength of the L2 penalty ``alpha / 2 * ||W||^2`` on the mean loss.

    Examples
    --------
    >>> from skadam._penalty import auto_alpha
    >>> auto_alpha(10, 5000)
    0.0002
    >>> auto_alpha(200, 1000)
    0.01
    """
    low, high = AUTO_ALPHA_RANGE
    return float(np.clip(AUTO_ALPHA_SCALE * n_features / n_samples, low, high))
