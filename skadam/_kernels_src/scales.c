/*
 * The scaling layer's two passes over the first layer's weights, W of shape
 * (fan_in, width) and one scale per input row s: the weights the product reads,
 * s[:, None] * W, and, from G, the gradient at those, the gradients of W and s. NumPy
 * spends 6 us broadcasting a row's scale over a 108 x 100 matrix, a loop call per row;
 * these take one pass each.
 */
#include "kernels.h"

#define DEFINE_SCALE_ROWS(NAME, T)                                                         \
    SKADAM_CLONES static void NAME(const T *restrict W, const T *restrict s,               \
                                   T *restrict out, Py_ssize_t rows, Py_ssize_t width)     \
    {                                                                                      \
        for (Py_ssize_t i = 0; i < rows; i++, W += width, out += width) {                  \
            const T scale = s[i];                                                          \
            for (Py_ssize_t j = 0; j < width; j++) out[j] = W[j] * scale;                  \
        }                                                                                  \
    }

DEFINE_SCALE_ROWS(scale_rows_f64, double)
DEFINE_SCALE_ROWS(scale_rows_f32, float)

/* grad_s[i] = sum_j W[i, j] G[i, j], summed in the 8 lanes (kernels.h), in double for
   float32 too, and grad_W = s[:, None] * G. */
#define DEFINE_SCALE_ROWS_BACKWARD(NAME, T, LOAD4)                                         \
    SKADAM_CLONES static void NAME(const T *restrict W, const T *restrict s,               \
                                   const T *restrict G, T *restrict grad_W,                \
                                   T *restrict grad_s, Py_ssize_t rows, Py_ssize_t width)  \
    {                                                                                      \
        const Py_ssize_t whole = width - width % SUM_LANES;                                \
        for (Py_ssize_t i = 0; i < rows; i++, W += width, G += width, grad_W += width) {   \
            lanes4 sum[2] = {{0.0}};                                                       \
            for (Py_ssize_t j = 0; j < whole; j += SUM_LANES) {                            \
                sum[0] += LOAD4(W + j) * LOAD4(G + j);                                     \
                sum[1] += LOAD4(W + j + 4) * LOAD4(G + j + 4);                             \
            }                                                                              \
            for (Py_ssize_t j = whole; j < width; j++)                                     \
                sum[(j - whole) / 4][(j - whole) % 4] += (double)W[j] * (double)G[j];      \
            grad_s[i] = (T)sum_of_lanes(sum);                                              \
            const T scale = s[i];                                                          \
            for (Py_ssize_t j = 0; j < width; j++) grad_W[j] = G[j] * scale;               \
        }                                                                                  \
    }

DEFINE_SCALE_ROWS_BACKWARD(scale_rows_backward_f64, double, LOAD4_F64)
DEFINE_SCALE_ROWS_BACKWARD(scale_rows_backward_f32, float, LOAD4_F32)

KERNEL_DOC(scale_rows_doc,
"scale_rows(W, s, out)\n"
"--\n\n"
"out = s[:, None] * W for W of shape (rows, width) and s of shape (rows,); or for a\n"
"stack, W and out (K, rows, width) and s (K, rows).");

PyObject *
scale_rows(PyObject *self, PyObject *args)
{
    PyObject *w_obj, *s_obj, *out_obj;
    if (!PyArg_ParseTuple(args, "OOO", &w_obj, &s_obj, &out_obj)) {
        return NULL;
    }
    static const char *const names[3] = {"W", "s", "out"};
    const ArraySpec specs[3] = {{w_obj, 0, 2, names[0]}, {s_obj, 0, 1, names[1]},
                                {out_obj, 1, 2, names[2]}};
    Blocks arrays[3];
    int acquired = 0;
    PyObject *result = NULL;
    if (acquire_all(specs, arrays, 3, &acquired) < 0) goto done;
    const Blocks *W = &arrays[0], *s = &arrays[1], *out = &arrays[2];
    if (!vector_per_run(W, s, W->rows) || !same_blocks(W, out)) {
        PyErr_SetString(PyExc_ValueError,
                        "s must hold one value per row of W, out W's shape, with W's runs "
                        "and dtype.");
        goto done;
    }
    if (refuse_overlap(arrays, names, 3, 2)) goto done;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < W->runs; r++) {
        if (W->dbl) {
            scale_rows_f64((const double *)block(W, r), (const double *)block(s, r),
                           (double *)block(out, r), W->rows, W->cols);
        } else {
            scale_rows_f32((const float *)block(W, r), (const float *)block(s, r),
                           (float *)block(out, r), W->rows, W->cols);
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    release(arrays, acquired);
    return result;
}

KERNEL_DOC(scale_rows_backward_doc,
"scale_rows_backward(W, s, G, grad_W, grad_s)\n"
"--\n\n"
"From G, the gradient at s[:, None] * W: grad_s = (W * G).sum(axis=1), summed in order,\n"
"and grad_W = s[:, None] * G. W, G and grad_W of shape (rows, width), s and grad_s\n"
"(rows,); or for a stack, a leading axis of K runs on each.");

PyObject *
scale_rows_backward(PyObject *self, PyObject *args)
{
    PyObject *w_obj, *s_obj, *g_obj, *grad_w_obj, *grad_s_obj;
    if (!PyArg_ParseTuple(args, "OOOOO", &w_obj, &s_obj, &g_obj, &grad_w_obj, &grad_s_obj)) {
        return NULL;
    }
    static const char *const names[5] = {"W", "s", "G", "grad_W", "grad_s"};
    const ArraySpec specs[5] = {{w_obj, 0, 2, names[0]}, {s_obj, 0, 1, names[1]},
                                {g_obj, 0, 2, names[2]}, {grad_w_obj, 1, 2, names[3]},
                                {grad_s_obj, 1, 1, names[4]}};
    Blocks arrays[5];
    int acquired = 0;
    PyObject *result = NULL;
    if (acquire_all(specs, arrays, 5, &acquired) < 0) goto done;
    const Blocks *W = &arrays[0], *s = &arrays[1], *G = &arrays[2], *grad_W = &arrays[3],
                 *grad_s = &arrays[4];
    if (!vector_per_run(W, s, W->rows) || !same_blocks(W, G) || !same_blocks(W, grad_W) ||
        !vector_per_run(W, grad_s, W->rows)) {
        PyErr_SetString(PyExc_ValueError,
                        "G and grad_W must have W's shape, s and grad_s one value per row of "
                        "W, all with W's runs and dtype.");
        goto done;
    }
    if (refuse_overlap(arrays, names, 5, 3)) goto done;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < W->runs; r++) {
        if (W->dbl) {
            scale_rows_backward_f64((const double *)block(W, r), (const double *)block(s, r),
                                    (const double *)block(G, r), (double *)block(grad_W, r),
                                    (double *)block(grad_s, r), W->rows, W->cols);
        } else {
            scale_rows_backward_f32((const float *)block(W, r), (const float *)block(s, r),
                                    (const float *)block(G, r), (float *)block(grad_W, r),
                                    (float *)block(grad_s, r), W->rows, W->cols);
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    release(arrays, acquired);
    return result;
}
