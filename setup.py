"""Build of the one compiled module; everything else is declared in pyproject.toml."""

import sys

from setuptools import Extension, setup

# Contraction into fused multiply-adds would make results depend on the instruction set
# the loader picks; -fno-math-errno lets sqrt vectorise.
compile_args = [] if sys.platform == "win32" else ["-O3", "-ffp-contract=off", "-fno-math-errno",
                                                    "-fno-trapping-math"]

setup(
    ext_modules=[
        Extension("skadam._kernels", ["skadam/_kernels.c"], extra_compile_args=compile_args)
    ]
)
