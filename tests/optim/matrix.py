"""The optimizer configurations every matrix test runs over."""

from skadam.optim import SGD, Adagrad, Adam, AdamW, RMSprop

OPTIMIZERS = {
    "adam": Adam(),
    "adam_amsgrad": Adam(amsgrad=True),
    "adam_no_bias_correction": Adam(bias_correction=False),
    "adamw": AdamW(),
    "adamw_amsgrad": AdamW(amsgrad=True, weight_decay=0.001),
    "sgd": SGD(),
    "sgd_momentum": SGD(momentum=0.9),
    "sgd_nesterov": SGD(momentum=0.9, nesterov=True),
    "rmsprop": RMSprop(),
    "rmsprop_momentum": RMSprop(momentum=0.9),
    "adagrad": Adagrad(),
}
