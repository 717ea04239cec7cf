/*
 * Finiteness: whether every entry of a stack's runs is finite, the check of the
 * gradients and losses before a step.
 */
#include "kernels.h"

#define DEFINE_ALL_FINITE(NAME, T, MAX)                                                    \
    SKADAM_CLONES static int NAME(const T *restrict x, Py_ssize_t n)                       \
    {                                                                                      \
        int bad = 0;                                                                       \
        /* NaN fails the comparison too; no early exit, so that the loop vectorises. */   \
        for (Py_ssize_t i = 0; i < n; i++) bad |= !(x[i] <= MAX && x[i] >= -MAX);         \
        return !bad;                                                                       \
    }

DEFINE_ALL_FINITE(all_finite_f64, double, DBL_MAX)
DEFINE_ALL_FINITE(all_finite_f32, float, FLT_MAX)

KERNEL_DOC(all_finite_doc,
"all_finite(x)\n"
"--\n\n"
"Whether every entry of x is finite: x is 1-D, or 2-D with one run per row (rows of\n"
"any stride). One pass, no temporary array.");

PyObject *
all_finite(PyObject *self, PyObject *args)
{
    PyObject *x_obj;
    if (!PyArg_ParseTuple(args, "O", &x_obj)) {
        return NULL;
    }
    Blocks x;
    if (get_blocks(x_obj, &x, 0, 1, "x") < 0) {
        return NULL;
    }
    int finite = 1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < x.runs && finite; r++) {
        finite = x.dbl ? all_finite_f64((const double *)block(&x, r), x.cols)
                       : all_finite_f32((const float *)block(&x, r), x.cols);
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&x.view);
    return PyBool_FromLong(finite);
}
