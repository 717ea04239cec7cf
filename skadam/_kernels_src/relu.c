/*
 * The ReLU and the leaky ReLU: the intercept added and the activation applied in one
 * pass, and the backward pass that reads the derivative from the activation's output.
 */
#include "kernels.h"

/* With a slope below zero, the leaky ReLU; with none, the ReLU, whose zeros stay +0. */
#define DEFINE_BIAS_RELU(NAME, T)                                                          \
    SKADAM_CLONES static void NAME(T *restrict z, const T *restrict b, Py_ssize_t n_rows,  \
                                   Py_ssize_t width, T slope)                              \
    {                                                                                      \
        for (Py_ssize_t r = 0; r < n_rows; r++, z += width) {                              \
            if (slope == (T)0) {                                                           \
                for (Py_ssize_t j = 0; j < width; j++) {                                   \
                    const T x = z[j] + b[j];                                               \
                    z[j] = x < (T)0 ? (T)0 : x; /* NaN passes, as in np.maximum */         \
                }                                                                          \
            } else {                                                                       \
                for (Py_ssize_t j = 0; j < width; j++) {                                   \
                    const T x = z[j] + b[j];                                               \
                    z[j] = x < (T)0 ? slope * x : x;                                       \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
    }

DEFINE_BIAS_RELU(bias_relu_f64, double)
DEFINE_BIAS_RELU(bias_relu_f32, float)

#define DEFINE_RELU_BACKPROP(NAME, T)                                                      \
    SKADAM_CLONES static void NAME(const T *restrict a, T *restrict delta,                \
                                   T *restrict column_sums, Py_ssize_t n_rows,             \
                                   Py_ssize_t width, T slope)                              \
    {                                                                                      \
        for (Py_ssize_t j = 0; j < width; j++) column_sums[j] = 0;                         \
        for (Py_ssize_t r = 0; r < n_rows; r++, a += width, delta += width) {              \
            if (slope == (T)0) {                                                           \
                for (Py_ssize_t j = 0; j < width; j++) {                                   \
                    const T d = a[j] > (T)0 ? delta[j] : (T)0;                             \
                    delta[j] = d;                                                          \
                    column_sums[j] += d;                                                   \
                }                                                                          \
            } else {                                                                       \
                /* The output has the input's sign: it tells which slope applied. */       \
                for (Py_ssize_t j = 0; j < width; j++) {                                   \
                    const T d = a[j] > (T)0 ? delta[j] : slope * delta[j];                 \
                    delta[j] = d;                                                          \
                    column_sums[j] += d;                                                   \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
    }

DEFINE_RELU_BACKPROP(relu_backprop_f64, double)
DEFINE_RELU_BACKPROP(relu_backprop_f32, float)

KERNEL_DOC(bias_relu_doc,
"bias_relu(Z, b, slope=0.0)\n"
"--\n\n"
"Z = max(Z + b, 0) in place, for Z of shape (n_rows, width) and b of shape (width,), or\n"
"for a stack: Z of shape (K, n_rows, width) and b of shape (K, width). With a slope,\n"
"the leaky ReLU: slope * (Z + b) below zero.");

PyObject *
bias_relu(PyObject *self, PyObject *args)
{
    PyObject *z_obj, *b_obj;
    double slope = 0.0;
    if (!PyArg_ParseTuple(args, "OO|d", &z_obj, &b_obj, &slope)) {
        return NULL;
    }
    static const char *const names[2] = {"Z", "b"};
    const ArraySpec specs[2] = {{z_obj, 1, 2, names[0]}, {b_obj, 0, 1, names[1]}};
    Blocks arrays[2];
    int acquired = 0;
    PyObject *result = NULL;
    if (acquire_all(specs, arrays, 2, &acquired) < 0) goto done;
    const Blocks *z = &arrays[0], *b = &arrays[1];
    if (!vector_per_run(z, b, z->cols)) {
        PyErr_SetString(PyExc_ValueError, "b must have Z's runs, width and dtype.");
        goto done;
    }
    if (refuse_overlap(arrays, names, 2, 0)) goto done;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < z->runs; r++) {
        if (z->dbl) {
            bias_relu_f64((double *)block(z, r), (const double *)block(b, r), z->rows,
                          z->cols, slope);
        } else {
            bias_relu_f32((float *)block(z, r), (const float *)block(b, r), z->rows, z->cols,
                          (float)slope);
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    release(arrays, acquired);
    return result;
}

KERNEL_DOC(relu_backprop_doc,
"relu_backprop(A, delta, column_sums, slope=0.0)\n"
"--\n\n"
"delta = where(A > 0, delta, 0) in place, for A and delta of shape (n_rows, width),\n"
"and column_sums = delta.sum(axis=0), the layer's intercept gradient, in the same pass;\n"
"or for a stack, A and delta of shape (K, n_rows, width) and column_sums (K, width).\n"
"With a slope, the leaky ReLU's: delta * slope where A <= 0.");

PyObject *
relu_backprop(PyObject *self, PyObject *args)
{
    return backprop_runs(args, "A", 1, relu_backprop_f64, relu_backprop_f32);
}
