"""Central finite differences: the reference gradient of the backpropagation tests."""

import numpy as np


def central_differences(objective, params, step):
    """The gradient of ``objective`` at ``params`` (1-D), one coordinate at a time.

    ``(objective(params + step e_j) - objective(params - step e_j)) / (2 step)`` for each
    coordinate ``j``; ``params`` is left as it was.
    """
    gradient = np.empty_like(params)
    for j in range(params.size):
        up, down = params.copy(), params.copy()
        up[j] += step
        down[j] -= step
        gradient[j] = (objective(up) - objective(down)) / (2 * step)
    return gradient
