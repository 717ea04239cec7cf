/*
 * The L2 penalty and the averages of the weights, over the runs of a stack: add_scaled
 * adds the penalty's gradient (alpha times the weights) to the loss's, move_towards moves
 * the moving average of the weights towards them.
 */
#include "kernels.h"

#define DEFINE_ADD_SCALED(NAME, T)                                                         \
    SKADAM_CLONES static void NAME(T *restrict y, const T *restrict x, Py_ssize_t n,      \
                                   T alpha)                                                \
    {                                                                                      \
        for (Py_ssize_t i = 0; i < n; i++) y[i] += alpha * x[i];                           \
    }

DEFINE_ADD_SCALED(add_scaled_f64, double)
DEFINE_ADD_SCALED(add_scaled_f32, float)

/* A weight of one copies: y + (x - y) need not round to x. */
#define DEFINE_MOVE_TOWARDS(NAME, T)                                                       \
    SKADAM_CLONES static void NAME(T *restrict y, const T *restrict x, Py_ssize_t n,      \
                                   T weight)                                               \
    {                                                                                      \
        if (weight == (T)1) {                                                              \
            memcpy(y, x, n * sizeof(T));                                                   \
            return;                                                                        \
        }                                                                                  \
        for (Py_ssize_t i = 0; i < n; i++) y[i] += weight * (x[i] - y[i]);                 \
    }

DEFINE_MOVE_TOWARDS(move_towards_f64, double)
DEFINE_MOVE_TOWARDS(move_towards_f32, float)

typedef void (*update_f64)(double *restrict, const double *restrict, Py_ssize_t, double);
typedef void (*update_f32)(float *restrict, const float *restrict, Py_ssize_t, float);

/* y updated in place from x, one scalar per run: the two kernels of this file. */
static PyObject *
update_runs(PyObject *args, const char *scalar_name, update_f64 f64, update_f32 f32)
{
    PyObject *y_obj, *x_obj, *scalar_obj;
    if (!PyArg_ParseTuple(args, "OOO", &y_obj, &x_obj, &scalar_obj)) {
        return NULL;
    }
    static const char *const names[2] = {"y", "x"};
    const ArraySpec specs[2] = {{y_obj, 1, 1, names[0]}, {x_obj, 0, 1, names[1]}};
    Blocks arrays[2];
    int acquired = 0;
    double *scalar = NULL;
    PyObject *result = NULL;
    if (acquire_all(specs, arrays, 2, &acquired) < 0) goto done;
    const Blocks *y = &arrays[0], *x = &arrays[1];
    if (!same_blocks(y, x)) {
        PyErr_SetString(PyExc_ValueError, "x must have the shape and dtype of y.");
        goto done;
    }
    if (refuse_overlap(arrays, names, 2, 0)) goto done;
    scalar = read_all_run_values(&scalar_obj, &scalar_name, 1, y->runs);
    if (scalar == NULL) goto done;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < y->runs; r++) {
        if (scalar[r] == 0.0) continue;
        if (y->dbl) {
            f64((double *)block(y, r), (const double *)block(x, r), y->cols, scalar[r]);
        } else {
            f32((float *)block(y, r), (const float *)block(x, r), y->cols, (float)scalar[r]);
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyMem_Free(scalar);
    release(arrays, acquired);
    return result;
}

KERNEL_DOC(add_scaled_doc,
"add_scaled(y, x, alpha)\n"
"--\n\n"
"y += alpha * x in place, with no temporary array. y and x are 1-D, or 2-D with one run\n"
"per row (rows of any stride); alpha is a number, or a float64 vector of one value per\n"
"run. A run whose alpha is zero is left as it is.");

PyObject *
add_scaled(PyObject *self, PyObject *args)
{
    return update_runs(args, "alpha", add_scaled_f64, add_scaled_f32);
}

KERNEL_DOC(move_towards_doc,
"move_towards(y, x, weight)\n"
"--\n\n"
"y += weight * (x - y) in place, one pass with no temporary array: a moving average y\n"
"of x. y and x are 1-D, or 2-D with one run per row (rows of any stride); weight is a\n"
"number, or a float64 vector of one value per run. A run whose weight is zero is left\n"
"as it is; a weight of one makes y a copy of x.");

PyObject *
move_towards(PyObject *self, PyObject *args)
{
    return update_runs(args, "weight", move_towards_f64, move_towards_f32);
}
