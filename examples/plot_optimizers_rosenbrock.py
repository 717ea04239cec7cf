"""
Optimizers in Rosenbrock's valley
=================================

Each optimizer of :mod:`skadam.optim` starts at (-1.2, 1) on Rosenbrock's function and
takes 3,000 steps with a learning rate suited to it. Adam's per-coordinate step sizes carry
it along the curved valley floor; plain SGD needs a small step to stay stable across the
steep walls, and with it crawls along the floor.

Each small panel shows one optimizer's path, with a dot every 300 steps, so the paths
that share the valley floor do not hide each other; the right panel compares their
losses.
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

names = list(optimizers)
mosaic = [[f"path {i}" for i in range(3)] + ["loss"],
          [f"path {i}" for i in range(3, 6)] + ["loss"]]
fig, axes = plt.subplot_mosaic(mosaic, figsize=(14, 6), layout="constrained",
                               width_ratios=[1, 1, 1, 1.6])
a, b = np.meshgrid(np.linspace(-1.6, 1.6, 300), np.linspace(-0.6, 2.2, 300))
valley = np.log1p((1 - a) ** 2 + 100 * (b - a**2) ** 2)
ax_loss = axes["loss"]
for index, (name, optimizer) in enumerate(optimizers.items()):
    params = np.array([-1.2, 1.0])
    state = optimizer.init_state(params)
    path, losses = [params.copy()], []
    for _ in range(3_000):
        loss, grad = rosenbrock(params)
        losses.append(loss)
        optimizer.step(params, grad, state)
        path.append(params.copy())
    path = np.array(path)
    (line,) = ax_loss.semilogy(losses, label=name)
    ax = axes[f"path {index}"]
    ax.contour(a, b, valley, levels=20, cmap="Greys", linewidths=0.6)
    ax.plot(path[:, 0], path[:, 1], color=line.get_color(), lw=1.5)
    ax.plot(path[::300, 0], path[::300, 1], "o", color=line.get_color(), ms=4)
    ax.plot(-1.2, 1.0, "ks", ms=5)
    ax.plot(1, 1, "k*", ms=10)
    final = rosenbrock(params)[0]
    ax.set_title(f"{name.replace('(', chr(10) + '(', 1)}\nfinal loss {final:.1e}", fontsize=9)
    ax.set(xticks=[-1, 0, 1], yticks=[0, 1, 2])
    print(f"{name:<42} final loss {final:.2e}")

ax_loss.set(xlabel="step", ylabel="loss", title="Loss per step")
ax_loss.legend(fontsize=8)
fig.suptitle("From (-1.2, 1), the square, to the minimum at (1, 1), the star")
plt.show()
