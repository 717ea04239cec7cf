"""
Optimizers in Rosenbrock's valley
=================================

Each optimizer of :mod:`skadam.optim` starts at (-1.2, 1) on Rosenbrock's function and
takes 3,000 steps with a learning rate suited to it. Adam's per-coordinate step sizes carry
it along the curved valley floor; plain SGD needs a small step to stay stable across the
steep walls, and with it crawls along the floor.
"""

import matplotlib.pyplot as plt
import numpy as np

from skadam.optim import SGD, Adagrad, Adam, RMSprop


def rosenbrock(x):
    a, b = x
    loss = (1 - a) ** 2 + 100 * (b - a**2) ** 2
    grad = np.array([-2 * (1 - a) - 400 * a * (b - a**2), 200 * (b - a**2)])
    return loss, grad


optimizers = {
    "Adam(learning_rate=0.03)": Adam(learning_rate=0.03),
    "Adam(amsgrad=True, learning_rate=0.1)": Adam(amsgrad=True, learning_rate=0.1),
    "SGD(learning_rate=0.001)": SGD(learning_rate=0.001),
    "SGD(learning_rate=0.001, momentum=0.9)": SGD(learning_rate=0.001, momentum=0.9),
    "RMSprop(learning_rate=0.001)": RMSprop(learning_rate=0.001),
    "Adagrad(learning_rate=0.3)": Adagrad(learning_rate=0.3),
}

fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(11, 4.5))
a, b = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-1, 3, 300))
ax_path.contour(a, b, np.log1p((1 - a) ** 2 + 100 * (b - a**2) ** 2), levels=30, cmap="Greys")
for name, optimizer in optimizers.items():
    params = np.array([-1.2, 1.0])
    state = optimizer.init_state(params)
    path, losses = [params.copy()], []
    for _ in range(3_000):
        loss, grad = rosenbrock(params)
        losses.append(loss)
        optimizer.step(params, grad, state)
        path.append(params.copy())
    path = np.array(path)
    ax_path.plot(path[:, 0], path[:, 1], label=name, lw=1.2)
    ax_loss.semilogy(losses, label=name)
    print(f"{name:<42} final loss {rosenbrock(params)[0]:.2e}")

ax_path.plot(1, 1, "k*", ms=12)
ax_path.set(xlabel="x", ylabel="y", title="Paths to the minimum at (1, 1)")
ax_loss.set(xlabel="step", ylabel="loss", title="Loss per step")
ax_loss.legend(fontsize=8)
fig.tight_layout()
plt.show()
