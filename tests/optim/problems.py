"""Deterministic test problems with known optima: ``loss_and_grad(x)`` and ``optimum``."""

import numpy as np
from scipy.optimize import minimize
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler


class Quadratic:
    """An ill-conditioned convex quadratic (condition number 100) with minimum 0."""

    name = "quadratic"

    def __init__(self, n=10):
        self.curvature = np.logspace(0, 2, n)
        self.center = np.linspace(-1.0, 2.0, n)
        self.start = np.zeros(n)
        self.optimum = 0.0

    def loss_and_grad(self, x):
        diff = x - self.center
        return 0.5 * np.dot(self.curvature * diff, diff), self.curvature * diff


class Rosenbrock:
    """Rosenbrock's banana valley from (-1.2, 1); minimum 0 at (1, 1)."""

    name = "rosenbrock"

    def __init__(self):
        self.start = np.array([-1.2, 1.0])
        self.optimum = 0.0

    def loss_and_grad(self, x):
        a, b = x
        loss = (1 - a) ** 2 + 100 * (b - a**2) ** 2
        grad = np.array([-2 * (1 - a) - 400 * a * (b - a**2), 200 * (b - a**2)])
        return loss, grad


class Logistic:
    """L2-penalised mean log-loss on standardised breast-cancer data; optimum by L-BFGS."""

    name = "logistic"

    def __init__(self, alpha=1e-2):
        X, y = load_breast_cancer(return_X_y=True)
        self.X = StandardScaler().fit_transform(X)
        self.sign = np.where(y == 1, 1.0, -1.0)
        self.alpha = alpha
        self.start = np.zeros(X.shape[1] + 1)
        result = minimize(
            self.loss_and_grad, self.start, jac=True, method="L-BFGS-B",
            options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000},
        )
        self.solution, self.optimum = result.x, result.fun

    def loss_and_grad(self, x):
        w, b = x[:-1], x[-1]
        margin = self.sign * (self.X @ w + b)
        loss = np.mean(np.logaddexp(0.0, -margin)) + 0.5 * self.alpha * np.dot(w, w)
        # d/dmargin log(1 + exp(-margin)) = -1 / (1 + exp(margin))
        coef = -self.sign / (1.0 + np.exp(margin)) / len(margin)
        grad = np.append(self.X.T @ coef + self.alpha * w, coef.sum())
        return loss, grad
