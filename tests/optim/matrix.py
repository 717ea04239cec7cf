"""The optimizer configurations every matrix test runs over."""

from skadam.optim import SGD, Adagrad, Adam, AdamW, RMSprop

OPTIMIZERS = {
    "adam": Adam(),
    "adam_amsgrad": Adam(amsgrad=True),
    "adam_no_bias_correction": Adam(bias_correction=False),
    "adam_epsilon_root": Adam(epsilon=0.0, epsilon_root=1e-8),
    "adamw": AdamW(),
    "adamw_amsgrad": AdamW(amsgrad=True, weight_decay=0.001),
    "adamw_amsgrad_epsilon_root": AdamW(amsgrad=True, weight_decay=0.001, epsilon_root=1e-6,
                                        bias_correction=False),
    "sgd": SGD(),
    "sgd_momentum": SGD(momentum=0.9),
    "sgd_nesterov": SGD(momentum=0.9, nesterov=True),
    "rmsprop": RMSprop(),
    "rmsprop_momentum": RMSprop(momentum=0.9),
    "adagrad": Adagrad(),
}
