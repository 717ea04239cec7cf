"""
Adam's bias correction over the first steps
===========================================

Adam's moment estimates ``m`` and ``v`` start at zero, so early on they are biased
towards zero: after ``t`` steps of a constant gradient ``g``, ``m = (1 - β1ᵗ) g`` and
``v = (1 - β2ᵗ) g²``. Dividing by ``1 - β1ᵗ`` and ``1 - β2ᵗ`` undoes that. Without the
correction, the step ``η m / (√v + ε)`` is ``η (1 - β1ᵗ) / √(1 - β2ᵗ)``: with the default
β2 = 0.999 the first steps are several times the learning rate, before they settle.
With it, every step is η from the first.
"""

import matplotlib.pyplot as plt
import numpy as np

from skadam.optim import Adam

n_steps = 3000
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
for bias_correction, style in [(True, "-"), (False, "--")]:
    optimizer = Adam(learning_rate=0.001, bias_correction=bias_correction)
    params = np.zeros(1)
    state = optimizer.init_state(params)
    steps = []
    for _ in range(n_steps):
        before = params[0]
        optimizer.step(params, np.array([1.0]), state)  # a constant gradient of 1
        steps.append(before - params[0])
    label = "with correction" if bias_correction else "without"
    axes[0].plot(np.arange(1, n_steps + 1), np.array(steps) / 0.001, style, label=label)
    axes[1].plot(np.arange(1, n_steps + 1), -np.cumsum(steps), style, label=label)
axes[0].set_xscale("log")
axes[0].set_xlabel("step t")
axes[0].set_ylabel("step size / learning rate")
axes[0].set_title("Each step")
axes[1].set_xlabel("step t")
axes[1].set_ylabel("parameter")
axes[1].set_title("The parameter, gradient 1 throughout")
axes[0].legend()
plt.show()
