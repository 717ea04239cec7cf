"""Generate ``torch_golden.npz``: torch.optim trajectories used as golden data.

This script is run once by hand and its output is committed; the test suite
and the package never import torch.  It needs torch, which is not a
dependency of skadam:

    pip install torch==2.13.0

then, from this directory:

    python make_torch_golden.py

For a few fixed float64 gradient sequences it runs torch.optim optimizers,
assigning the stored gradient to ``p.grad`` before every ``step()`` (no
autograd: the gradients do not depend on the parameters), and records the
parameters after every step.

Layout of the npz (all arrays float64 unless noted):

``meta/torch_version``                 0-d str, torch.__version__ used
``meta/configs_json``                  0-d str, JSON object: config name ->
                                       {"optimizer", "implementation",
                                        "hyperparameters" (skadam's names),
                                        "torch_kwargs"}
``meta/sequences_json``                0-d str, JSON object: sequence name ->
                                       description
``sequences/<seq>/grads``              (n_steps, n_params)
``sequences/<seq>/params0``            (n_params,)
``<config>/<seq>/trajectory``          (n_steps, n_params), params after each step
"""

import json
from pathlib import Path

import numpy as np

N_STEPS = 300
N_PARAMS = 12
SEED = 20240611

OUT = Path(__file__).resolve().parent / "torch_golden.npz"


def make_sequences(rng):
    """Gradient sequences chosen to stress different parts of the updates."""
    seqs = {}

    # Per-coordinate scales over six decades: Adam-family updates should be
    # scale-free while SGD is not, so both behaviours get exercised.
    scales = np.logspace(-3, 3, N_PARAMS)
    seqs["normal_wide_scale"] = (
        rng.standard_normal((N_STEPS, N_PARAMS)) * scales,
        rng.standard_normal(N_PARAMS),
        "standard normal gradients, per-coordinate scale logspace(1e-3, 1e3)",
    )

    # sqrt(v) is of the same order as epsilon here, so adding eps inside vs
    # outside the square root, or before vs after bias correction, gives
    # visibly different trajectories.
    scales = np.logspace(-9, -7, N_PARAMS)
    drift = rng.choice([-1.0, 1.0], size=N_PARAMS) * 0.5
    seqs["tiny"] = (
        (rng.standard_normal((N_STEPS, N_PARAMS)) + drift) * scales,
        rng.standard_normal(N_PARAMS),
        "gradients of magnitude 1e-9..1e-7 (normal plus a constant drift), "
        "where the placement of epsilon matters",
    )

    # Alternating signs keep first moments near zero while second moments
    # grow; exact zeros test coordinates whose accumulators are still empty.
    mag = np.exp(rng.normal(0.0, 1.5, size=(N_STEPS, N_PARAMS)))
    sign = np.where(np.arange(N_STEPS)[:, None] % 2 == 0, 1.0, -1.0)
    sign = sign * rng.choice([-1.0, 1.0], size=N_PARAMS)
    g = mag * sign
    g[rng.random((N_STEPS, N_PARAMS)) < 0.3] = 0.0
    g[:, 0] = 0.0  # never receives a gradient
    g[:50, 1] = 0.0  # first gradient arrives late
    g[N_STEPS // 2 :, 2] = 0.0  # gradient stops halfway, moments decay
    seqs["sparse_sign_flip"] = (
        g,
        rng.standard_normal(N_PARAMS),
        "sign-flipping log-normal gradients with ~30% exact zeros; column 0 "
        "always zero, column 1 zero for the first 50 steps, column 2 zero "
        "from halfway on",
    )
    return seqs


def adam_hp(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, amsgrad=False):
    return dict(
        learning_rate=learning_rate,
        beta_1=beta_1,
        beta_2=beta_2,
        epsilon=epsilon,
        amsgrad=amsgrad,
        bias_correction=True,
    )


def adamw_hp(weight_decay=0.01, **kw):
    hp = adam_hp(**kw)
    hp["weight_decay"] = weight_decay
    return hp


def to_torch_kwargs(optimizer, hp):
    if optimizer in ("Adam", "AdamW"):
        kw = dict(
            lr=hp["learning_rate"],
            betas=(hp["beta_1"], hp["beta_2"]),
            eps=hp["epsilon"],
            amsgrad=hp["amsgrad"],
            weight_decay=hp.get("weight_decay", 0.0),
        )
    elif optimizer == "SGD":
        kw = dict(lr=hp["learning_rate"], momentum=hp["momentum"], nesterov=hp["nesterov"])
    elif optimizer == "RMSprop":
        kw = dict(
            lr=hp["learning_rate"], alpha=hp["rho"], eps=hp["epsilon"], momentum=hp["momentum"]
        )
    elif optimizer == "Adagrad":
        kw = dict(lr=hp["learning_rate"], eps=hp["epsilon"])
    else:
        raise ValueError(optimizer)
    return kw


def make_configs():
    base = {
        "adam_default": ("Adam", adam_hp()),
        "adam_lr0.01_b0.8_0.99": ("Adam", adam_hp(learning_rate=0.01, beta_1=0.8, beta_2=0.99)),
        "adam_amsgrad": ("Adam", adam_hp(amsgrad=True)),
        "adam_eps1e-6": ("Adam", adam_hp(epsilon=1e-6)),
        "adamw_default": ("AdamW", adamw_hp()),
        "adamw_wd0.1_lr0.01": ("AdamW", adamw_hp(weight_decay=0.1, learning_rate=0.01)),
        "adamw_amsgrad": ("AdamW", adamw_hp(amsgrad=True)),
    }
    configs = {}
    for name, (opt, hp) in base.items():
        configs[name] = (opt, "default", hp)
        # The fused CPU kernel is a separate implementation; keeping both
        # shows whether torch agrees with itself to the tolerance we test at.
        configs[name + "_fused"] = (opt, "fused", hp)
    configs.update(
        {
            "sgd_lr0.01": (
                "SGD",
                "default",
                dict(learning_rate=0.01, momentum=0.0, nesterov=False),
            ),
            "sgd_momentum0.9": (
                "SGD",
                "default",
                dict(learning_rate=0.01, momentum=0.9, nesterov=False),
            ),
            "sgd_nesterov0.9": (
                "SGD",
                "default",
                dict(learning_rate=0.01, momentum=0.9, nesterov=True),
            ),
            "rmsprop_rho0.9": (
                "RMSprop",
                "default",
                dict(learning_rate=0.001, rho=0.9, epsilon=1e-8, momentum=0.0),
            ),
            "rmsprop_rho0.9_momentum0.9": (
                "RMSprop",
                "default",
                dict(learning_rate=0.001, rho=0.9, epsilon=1e-8, momentum=0.9),
            ),
            "adagrad_lr0.01": (
                "Adagrad",
                "default",
                dict(learning_rate=0.01, epsilon=1e-10),
            ),
        }
    )
    return configs


def run_torch(optimizer, implementation, torch_kwargs, params0, grads):
    import torch

    p = torch.nn.Parameter(torch.tensor(params0, dtype=torch.float64))
    kwargs = dict(torch_kwargs)
    if implementation == "fused":
        kwargs["fused"] = True
    opt = getattr(torch.optim, optimizer)([p], **kwargs)
    out = np.empty_like(grads)
    for t, g in enumerate(grads):
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        out[t] = p.detach().numpy()
    return out


def main():
    # Imported here rather than at the top: pytest's doctest collection imports
    # every module under tests/, and torch is not a test dependency.
    import torch

    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    seqs = make_sequences(rng)
    configs = make_configs()

    arrays = {"meta/torch_version": np.array(torch.__version__)}
    arrays["meta/sequences_json"] = np.array(
        json.dumps({name: desc for name, (_, _, desc) in seqs.items()}, indent=1)
    )
    for name, (g, p0, _) in seqs.items():
        arrays[f"sequences/{name}/grads"] = g
        arrays[f"sequences/{name}/params0"] = p0

    meta = {}
    for cname, (opt, impl, hp) in configs.items():
        tkw = to_torch_kwargs(opt, hp)
        meta[cname] = {
            "optimizer": opt,
            "implementation": impl,
            "hyperparameters": hp,
            "torch_kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in tkw.items()},
        }
        for sname, (g, p0, _) in seqs.items():
            traj = run_torch(opt, impl, tkw, p0, g)
            if not np.all(np.isfinite(traj)):
                raise RuntimeError(f"non-finite trajectory for {cname}/{sname}")
            arrays[f"{cname}/{sname}/trajectory"] = traj
    arrays["meta/configs_json"] = np.array(json.dumps(meta, indent=1, sort_keys=True))

    np.savez_compressed(OUT, **arrays)
    print(
        f"wrote {OUT.name}: {len(configs)} configs x {len(seqs)} sequences, "
        f"{OUT.stat().st_size / 1e6:.2f} MB, torch {torch.__version__}"
    )


if __name__ == "__main__":
    main()
