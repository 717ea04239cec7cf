"""Build of the one compiled module; everything else is declared in pyproject.toml."""

import sys

from setuptools import Extension, setup

# Contraction into fused multiply-adds would make results depend on the instruction set
# the loader picks; -fno-math-errno lets sqrt vectorise.
compile_args = [] if sys.platform == "win32" else ["-O3", "-ffp-contract=off", "-fno-math-errno",
                                                    "-fno-trapping-math"]

# One file per family of kernels, beside the module's table and what the families share;
# the header they all include is a dependency, so that a change to it rebuilds them and
# an sdist carries it.
kernel_sources = [
    "skadam/_kernels_src/module.c",
    "skadam/_kernels_src/blocks.c",
    "skadam/_kernels_src/adam.c",
    "skadam/_kernels_src/penalty.c",
    "skadam/_kernels_src/finite.c",
    "skadam/_kernels_src/relu.c",
    "skadam/_kernels_src/mish.c",
    "skadam/_kernels_src/cross_entropy.c",
    "skadam/_kernels_src/embedding.c",
    "skadam/_kernels_src/piecewise.c",
    "skadam/_kernels_src/narrow.c",
    "skadam/_kernels_src/scales.c",
    "skadam/_kernels_src/fp_mode.c",
]
kernel_headers = ["skadam/_kernels_src/kernels.h"]

setup(
    ext_modules=[
        Extension("skadam._kernels", kernel_sources, depends=kernel_headers,
                  extra_compile_args=compile_args)
    ]
)
