/*
 * Mish: the intercept added and the activation applied in one pass, its slopes kept for
 * the backward pass, and that backward pass (delta times the kept slopes).
 */
#include "kernels.h"

/* Mish (Misra, 2019): x tanh(softplus(x)) = x w with w = n / (n + 2), n = e^x (e^x + 2),
 * one exponential (exp_branchless, kernels.h); its slope w + x 4 e^x (e^x + 1) / (n + 2)^2.
 * Beyond x = 20, w is 1 to double precision: e^x is taken at 20 at most, which keeps n
 * finite. Computed in double. With slopes, the derivative is written there for the
 * backward pass. */
#define DEFINE_BIAS_MISH(NAME, T)                                                          \
    SKADAM_CLONES static void NAME(T *restrict z, const T *restrict b,                     \
                                   T *restrict slopes, Py_ssize_t n_rows, Py_ssize_t width) \
    {                                                                                      \
        for (Py_ssize_t r = 0; r < n_rows; r++, z += width) {                              \
            for (Py_ssize_t j = 0; j < width; j++) {                                       \
                const double x = (double)z[j] + (double)b[j];                              \
                const double capped = x > 20.0 ? 20.0 : x;                                 \
                const double e = exp_branchless(capped), n = e * (e + 2.0);                \
                const double w = n / (n + 2.0);                                            \
                z[j] = (T)(x * w);                                                         \
                if (slopes != NULL) {                                                      \
                    const double d = n + 2.0;                                              \
                    slopes[r * width + j] = (T)(w + capped * (4.0 * e * (e + 1.0)) / (d * d)); \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
    }

DEFINE_BIAS_MISH(bias_mish_f64, double)
DEFINE_BIAS_MISH(bias_mish_f32, float)

/* `slope` only gives the kernel the signature backprop_runs calls (the ReLU's): the kept
   slopes are the whole derivative. */
#define DEFINE_SLOPE_BACKPROP(NAME, T)                                                     \
    SKADAM_CLONES static void NAME(const T *restrict slopes, T *restrict delta,           \
                                   T *restrict column_sums, Py_ssize_t n_rows,             \
                                   Py_ssize_t width, T slope)                              \
    {                                                                                      \
        (void)slope;                                                                       \
        for (Py_ssize_t j = 0; j < width; j++) column_sums[j] = 0;                         \
        for (Py_ssize_t r = 0; r < n_rows; r++, slopes += width, delta += width) {         \
            for (Py_ssize_t j = 0; j < width; j++) {                                       \
                const T d = delta[j] * slopes[j];                                          \
                delta[j] = d;                                                              \
                column_sums[j] += d;                                                       \
            }                                                                              \
        }                                                                                  \
    }

DEFINE_SLOPE_BACKPROP(slope_backprop_f64, double)
DEFINE_SLOPE_BACKPROP(slope_backprop_f32, float)

KERNEL_DOC(bias_mish_doc,
"bias_mish(Z, b, slopes=None)\n"
"--\n\n"
"Z = mish(Z + b) in place, mish(x) = x tanh(log(1 + e^x)), for Z of shape (n_rows, width)\n"
"and b of shape (width,), or for a stack: Z of shape (K, n_rows, width) and b of shape\n"
"(K, width). With slopes (Z's shape and dtype), its derivative at Z + b is written there.");

PyObject *
bias_mish(PyObject *self, PyObject *args)
{
    PyObject *z_obj, *b_obj, *s_obj = Py_None;
    if (!PyArg_ParseTuple(args, "OO|O", &z_obj, &b_obj, &s_obj)) {
        return NULL;
    }
    const ArraySpec specs[3] = {{z_obj, 1, 2, "Z"}, {b_obj, 0, 1, "b"}, {s_obj, 1, 2, "slopes"}};
    const int n_arrays = s_obj == Py_None ? 2 : 3;
    Blocks arrays[3];
    int acquired = 0, i, j;
    PyObject *result = NULL;
    if (acquire_all(specs, arrays, n_arrays, &acquired) < 0) goto done;
    const Blocks *z = &arrays[0], *b = &arrays[1], *slopes = n_arrays == 3 ? &arrays[2] : NULL;
    if (!vector_per_run(z, b, z->cols)) {
        PyErr_SetString(PyExc_ValueError, "b must have Z's runs, width and dtype.");
        goto done;
    }
    if (slopes != NULL && !same_blocks(z, slopes)) {
        PyErr_SetString(PyExc_ValueError, "slopes must have Z's shape and dtype.");
        goto done;
    }
    if (find_overlap(arrays, n_arrays, 0, &i, &j)) {
        PyErr_SetString(PyExc_ValueError, "Z, b and slopes must not share memory.");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < z->runs; r++) {
        if (z->dbl) {
            bias_mish_f64((double *)block(z, r), (const double *)block(b, r),
                          slopes == NULL ? NULL : (double *)block(slopes, r), z->rows,
                          z->cols);
        } else {
            bias_mish_f32((float *)block(z, r), (const float *)block(b, r),
                          slopes == NULL ? NULL : (float *)block(slopes, r), z->rows,
                          z->cols);
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    release(arrays, acquired);
    return result;
}

KERNEL_DOC(slope_backprop_doc,
"slope_backprop(slopes, delta, column_sums)\n"
"--\n\n"
"delta *= slopes in place, for slopes and delta of shape (n_rows, width), and\n"
"column_sums = delta.sum(axis=0), the layer's intercept gradient, in the same pass; or\n"
"for a stack, slopes and delta of shape (K, n_rows, width) and column_sums (K, width).\n"
"The backward pass of an activation whose slopes its forward pass kept.");

PyObject *
slope_backprop(PyObject *self, PyObject *args)
{
    return backprop_runs(args, "slopes", 0, slope_backprop_f64, slope_backprop_f32);
}
