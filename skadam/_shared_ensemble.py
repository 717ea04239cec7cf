"""Ensembles whose members share their hidden layers (TabM-mini; Gorishniy et al., 2025).

The k members of such an ensemble are one network that every member runs through.
Member m scales the first layer's input by a vector ``r_m`` of its own, drawn as
random signs so that the members differ from the first step. The hidden layers'
weights and intercepts belong to all the members, and each member has its own output
layer. For the shared layers a batch of n rows is k·n rows: one product per layer
instead of k, and one optimizer step over weights that all the members train.
Training minimises the mean of the members' losses (:class:`MemberMeanLoss`), not the
loss of their mean prediction. The TabM paper finds the first helps the members learn
something of their own. Predictions average the members' (probabilities, for the
classifiers), as for an ensemble of independent networks.

Member m's first layer, ``(X * r_m) @ W``, equals ``X @ (r_m[:, None] * W)``. So a pass
forms the k matrices ``W_m`` once, and ``X``, dense or sparse, is never copied k times.
"""

import numpy as np

from ._model import Network, Workspace, adapter_views, backprop_product, is_sparse


class SharedEnsembleNetwork(Network):
    """A :class:`~skadam._model.Network` of ``layout.shared_members`` members that share
    every layer but the output layer, for K runs at once.

    ``forward`` returns the members' raw outputs as a (K, members, n_rows, n_outputs)
    array, and ``outputs`` as (K * members, n_rows, n_outputs), the shape a loss's
    ``combine`` averages.

    Parameters
    ----------
    layout : ParameterLayout
        A layout with ``shared_members`` of at least 2 and at least one hidden layer.
    activation : str
        The hidden layers' activation.
    embedding : PeriodicEmbedding or None, default=None
        The embedding of numeric columns in front of the first layer, shared too.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._layout import ParameterLayout
    >>> from skadam._shared_ensemble import SharedEnsembleNetwork
    >>> network = SharedEnsembleNetwork(ParameterLayout((3, 8, 1), shared_members=4), "relu")
    >>> params = np.random.default_rng(0).normal(size=(1, network.layout.n_params))
    >>> network.outputs(params, np.ones((5, 3))).shape
    (4, 5, 1)
    """

    def __init__(self, layout, activation, embedding=None):
        if layout.shared_members < 2 or layout.n_layers < 2:
            raise ValueError("A shared ensemble needs two members or more and a hidden layer.")
        super().__init__(layout, activation, embedding)
        self.n_members = self.rows_per_sample = layout.shared_members


    @property
    def blas_work_per_row(self):
        return self.n_members * super().blas_work_per_row

    @property
    def work_per_row(self):
        embedding = 0 if self.embedding is None else self.embedding.work_per_row
        return self.blas_work_per_row + embedding

    def workspace(self, params, grad, n_rows):
        return SharedWorkspace(self, params, grad, n_rows)

    def outputs(self, params, X):
        """Raw outputs of every member of every run: (K * members, n_rows, n_outputs)."""
        n_rows, n_runs = X.shape[0], params.shape[0]
        per_row = n_runs * self.n_members * sum(self.layout.layer_sizes)
        chunk = max(1, min(n_rows, 2**22 // max(per_row, 1)))
        work = self.workspace(params, None, chunk)
        raw = np.empty((n_runs, self.n_members, n_rows, self.layout.layer_sizes[-1]),
                       dtype=params.dtype)
        for start in range(0, n_rows, chunk):
            raw[:, :, start:start + chunk] = self.forward(work, X[start:start + chunk])
        return raw.reshape(n_runs * self.n_members, n_rows, -1)

    def forward(self, work, X, dropout=None):
        n_rows = X.shape[0]
        last = self.layout.n_layers - 1
        activations, slopes = work.activations(n_rows), work.slopes(n_rows)
        self._first_layer(work, X, activations[0])
        for layer in range(last):
            Z = activations[layer]
            if layer:
                np.matmul(activations[layer - 1], work.coefs[layer], out=Z)
            if slopes is None:
                self.activate(Z, work.intercepts[layer])
            else:
                self.activate(Z, work.intercepts[layer], slopes[layer])
            if dropout is not None:
                dropout.drop(layer, Z)
        # Each member's output layer reads its own rows of the last hidden layer.
        raw = activations[last]
        np.matmul(work.members(activations[last - 1]), work.coefs[last], out=raw)
        if self.layout.fit_intercept:
            raw += work.intercepts[last][:, :, np.newaxis, :]
        if work.skip is not None:  # each member's linear skip, from X as it comes
            linear = work.members(work.skip_outputs(n_rows * self.n_members))
            _members_product(X, work.skip, out=linear)
            raw += linear
        return raw

    def backward(self, work, X, output_delta, dropout=None):
        n_rows = X.shape[0]
        last = self.layout.n_layers - 1
        activations, deltas = work.activations(n_rows), work.deltas(n_rows)
        slopes = work.slopes(n_rows)
        if work.skip is not None:
            _members_product(X.T, output_delta, out=work.grad_skip)
        hidden = work.members(activations[last - 1])
        np.matmul(hidden.transpose(0, 1, 3, 2), output_delta, out=work.grad_coefs[last])
        if self.layout.fit_intercept:
            np.matmul(work.ones[:n_rows], output_delta, out=work.grad_intercepts[last])
        backprop_product(output_delta, work.coefs[last], out=work.members(deltas[last - 1]))
        for layer in range(last - 1, -1, -1):
            delta = deltas[layer]
            if dropout is not None:
                dropout.backprop(layer, activations[layer], delta)
            self.backprop(activations[layer] if slopes is None else slopes[layer], delta,
                          work.grad_intercepts[layer])
            if layer == 0:
                break
            np.matmul(activations[layer - 1].transpose(0, 2, 1), delta,
                      out=work.grad_coefs[layer])
            backprop_product(delta, work.coefs[layer], out=deltas[layer - 1])
        self._first_layer_backward(work, X, work.members(deltas[0]))

    def _first_layer(self, work, X, Z):
        weights = work.first_weights()  # (K, members, fan_in, width)
        Z = work.members(Z)
        if self.embedding is None:
            _members_product(X, weights, out=Z)
            return
        width = self.embedding.width
        features = self.embedding.forward(work.embedding_params, X, work.embedding)
        if is_sparse(X):
            _members_product(X, weights[:, :, width:], out=Z)
            Z += np.matmul(features[:, np.newaxis], weights[:, :, :width])
            return
        inputs = work.first_inputs(X.shape[0])
        inputs[:, :, :width] = features
        inputs[:, :, width:] = X
        np.matmul(inputs[:, np.newaxis], weights, out=Z)

    def _first_layer_backward(self, work, X, delta):
        """From the first hidden layer's delta, (K, members, n_rows, width): the gradients
        of the shared first-layer weights, of the members' scales and of the embedding."""
        weights = work.first_weights_now()
        grads = work.member_grads  # the gradient of each member's W_m
        width = 0 if self.embedding is None else self.embedding.width
        if self.embedding is None or is_sparse(X):
            _members_product(X.T, delta, out=grads[:, :, width:])
        if self.embedding is not None:
            if is_sparse(X):
                features = work.embedding.shaped("features", X.shape[0])
                np.matmul(features[:, np.newaxis].transpose(0, 1, 3, 2), delta,
                          out=grads[:, :, :width])
            else:
                np.matmul(work.first_inputs(X.shape[0])[:, np.newaxis].transpose(0, 1, 3, 2),
                          delta, out=grads)
            delta_features = np.matmul(delta, weights[:, :, :width].transpose(0, 1, 3, 2))
            np.sum(delta_features, axis=1, out=work.embedding_delta(X.shape[0]))
        # W_m = r_m[:, None] * W: r_m's gradient sums W * G_m over the units, W's sums
        # r_m[:, None] * G_m over the members.
        np.einsum("kih,kmih->kmi", work.coefs[0], grads, out=work.grad_adapter)
        grads *= work.adapter[:, :, :, np.newaxis]
        np.sum(grads, axis=1, out=work.grad_coefs[0])
        if self.embedding is not None:
            self.embedding.backward(work.embedding_params, work.grad_embedding, X,
                                    work.embedding_delta(X.shape[0]), work.embedding)


class SharedWorkspace(Workspace):
    """A :class:`~skadam._model.Workspace` whose hidden layers hold ``members`` rows per
    sample: (K, members * n_rows, width) arrays, member after member, and whose output
    layer's (K, members, n_rows, n_outputs)."""

    def __init__(self, network, params, grad, n_rows):
        self.n_members = network.n_members
        super().__init__(network, params, grad, n_rows * self.n_members)
        layout = network.layout
        self.adapter = adapter_views(layout, params)
        shape = (params.shape[0], self.n_members, layout.layer_sizes[0],
                 layout.layer_sizes[1])
        self._member_weights = np.empty(shape, dtype=params.dtype)
        if grad is not None:
            self.grad_adapter = adapter_views(layout, grad)
            self.member_grads = np.empty(shape, dtype=params.dtype)

    def first_weights(self):
        """Each member's first-layer weights ``r_m[:, None] * W`` for the coming pass,
        (K, members, fan_in, width)."""
        np.multiply(self.adapter[:, :, :, np.newaxis], self.coefs[0][:, np.newaxis],
                    out=self._member_weights)
        return self._member_weights

    def first_weights_now(self):
        """The members' first-layer weights the last forward pass used."""
        return self._member_weights

    def members(self, array):
        """A (K, members * n_rows, width) array as (K, members, n_rows, width)."""
        n_runs, rows, width = array.shape
        return array.reshape(n_runs, self.n_members, rows // self.n_members, width)

    def _views(self, kind, n_rows):
        key = ("members", kind, n_rows)
        views = self._shaped.get(key)
        if views is None:
            views = list(super()._views(kind, n_rows * self.n_members))
            if kind != "slopes":
                views[-1] = self.members(views[-1])
            self._shaped[key] = views
        return views


def _members_product(A, B, out):
    """``A @ B[k, m]`` for every run k and member m, with ``A`` one (possibly sparse)
    matrix."""
    if not is_sparse(A):
        np.matmul(A, B, out=out)
        return
    for run in range(B.shape[0]):
        for member in range(B.shape[1]):
            out[run, member] = A @ B[run, member]


class MemberMeanLoss:
    """The loss of a shared ensemble: the mean of its members' losses.

    Wraps a loss of :mod:`skadam._losses`. The raw outputs of training are
    (K, members, n_rows, n_outputs), and each member's gradient is the inner loss's
    divided by the number of members. ``combine`` and everything else is the inner
    loss's: predictions average the members' as an ensemble's do.

    Parameters
    ----------
    loss : Loss
        The members' loss.
    n_members : int
        The members.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._losses import SquaredError
    >>> from skadam._shared_ensemble import MemberMeanLoss
    >>> loss = MemberMeanLoss(SquaredError(1), 2)
    >>> raw = np.array([[[[1.0]], [[3.0]]]])  # one run, two members, one row
    >>> loss.per_sample(raw, np.zeros((1, 1)))  # the mean of 0.5 and 4.5
    array([[2.5]])
    """

    def __init__(self, loss, n_members):
        self.loss, self.n_members = loss, n_members

    def __getattr__(self, name):
        if name == "loss":  # not set yet (a copy being made)
            raise AttributeError(name)
        return getattr(self.loss, name)

    def loss_and_gradient(self, raw, Y, out):
        n_runs, n_members, n_rows, n_outputs = raw.shape
        losses = self.loss.loss_and_gradient(
            raw.reshape(n_runs * n_members, n_rows, n_outputs), Y,
            out.reshape(n_runs * n_members, n_rows, n_outputs))
        out *= 1.0 / n_members
        return losses.reshape(n_runs, n_members, n_rows).mean(axis=1)

    def per_sample(self, raw, Y):
        if raw.ndim != 4:  # a prediction, the members already combined
            return self.loss.per_sample(raw, Y)
        n_runs, n_members, n_rows, n_outputs = raw.shape
        losses = self.loss.per_sample(raw.reshape(n_runs * n_members, n_rows, n_outputs), Y)
        return losses.reshape(n_runs, n_members, n_rows).mean(axis=1)


def make_network(layout, activation, embedding=None):
    """The network a layout describes: a shared ensemble's, or one network's."""
    if layout.shared_members:
        return SharedEnsembleNetwork(layout, activation, embedding)
    return Network(layout, activation, embedding)


def independent_members(layout, params):
    """The members of a shared ensemble written out as independent networks.

    Member m is the network whose first layer is ``r_m[:, None] * W``, whose hidden
    layers are the shared ones and whose output layer (and linear skip) is its own: the
    same outputs, for exports that know only plain networks.

    Parameters
    ----------
    layout : ParameterLayout
        The shared ensemble's layout.
    params : ndarray of shape (n_params,)
        Its parameters.

    Returns
    -------
    plain : ParameterLayout
        The layout of one member.
    rows : ndarray of shape (shared_members, plain.n_params)
        Each member's parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._layout import ParameterLayout
    >>> from skadam._model import Network
    >>> from skadam._shared_ensemble import SharedEnsembleNetwork, independent_members
    >>> layout = ParameterLayout((3, 8, 1), shared_members=4)
    >>> params = np.random.default_rng(0).normal(size=layout.n_params)
    >>> X = np.random.default_rng(1).normal(size=(5, 3))
    >>> shared = SharedEnsembleNetwork(layout, "relu").outputs(params[np.newaxis], X)
    >>> plain, rows = independent_members(layout, params)
    >>> alone = Network(plain, "relu").outputs(rows, X)
    >>> bool(np.allclose(shared, alone))
    True
    """
    from ._layout import ParameterLayout

    plain = ParameterLayout(layout.layer_sizes, layout.fit_intercept,
                            n_embedding=layout.n_embedding, skip_inputs=layout.skip_inputs)
    coefs, intercepts = layout.coefs(params), layout.intercepts(params)
    scales, last = layout.adapter(params), layout.n_layers - 1
    rows = np.empty((layout.shared_members, plain.n_params), dtype=params.dtype)
    for member, row in enumerate(rows):
        for layer, (coef, intercept) in enumerate(zip(plain.coefs(row),
                                                      plain.intercepts(row), strict=True)):
            coef[...] = coefs[layer][member] if layer == last else coefs[layer]
            intercept[...] = intercepts[layer][member] if layer == last else intercepts[layer]
        plain.coefs(row)[0][...] *= scales[member][:, np.newaxis]
        if layout.skip_inputs:
            plain.skip(row)[...] = layout.skip(params)[member]
        row[plain.embedding_start:] = params[layout.embedding_start:]
    return plain, rows
