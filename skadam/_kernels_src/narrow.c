/*
 * The product of a matrix by the transpose of a narrow one, delta W^T with delta of
 * shape (n, o) and W of shape (h, o), o small: backpropagation through an output layer of
 * a few units. BLAS spends more on such a product's set-up than on its o multiply-adds per
 * element (a 128 x 1 by 1 x 100 product took 15 us, three times the element-wise
 * multiplications' time); here each output row is the sum, over o in order, of delta's
 * entries times W's columns, contiguous after a transposition of W.
 */
#include "kernels.h"

#define DEFINE_NARROW_PRODUCT(NAME, T)                                                     \
    SKADAM_CLONES static void NAME(const T *restrict delta, const T *restrict W_t,         \
                                   T *restrict out, Py_ssize_t n, Py_ssize_t h,            \
                                   Py_ssize_t o)                                           \
    {                                                                                      \
        for (Py_ssize_t i = 0; i < n; i++, delta += o, out += h) {                        \
            const T first = delta[0];                                                      \
            for (Py_ssize_t j = 0; j < h; j++) out[j] = first * W_t[j];                    \
            for (Py_ssize_t k = 1; k < o; k++) {                                           \
                const T d = delta[k];                                                      \
                const T *restrict column = W_t + k * h;                                    \
                for (Py_ssize_t j = 0; j < h; j++) out[j] += d * column[j];                \
            }                                                                              \
        }                                                                                  \
    }

DEFINE_NARROW_PRODUCT(narrow_product_f64, double)
DEFINE_NARROW_PRODUCT(narrow_product_f32, float)

KERNEL_DOC(narrow_product_doc,
"narrow_product(delta, W, out)\n"
"--\n\n"
"out = delta @ W.T for delta of shape (n, o) and W of shape (h, o), each element the sum\n"
"of o products in order; or for a stack, delta (K, n, o), W (K, h, o) and out (K, n, h).\n"
"Meant for a small o, where a BLAS product costs its set-up.");

PyObject *
narrow_product(PyObject *self, PyObject *args)
{
    PyObject *delta_obj, *w_obj, *out_obj;
    if (!PyArg_ParseTuple(args, "OOO", &delta_obj, &w_obj, &out_obj)) {
        return NULL;
    }
    static const char *const names[3] = {"delta", "W", "out"};
    const ArraySpec specs[3] = {{delta_obj, 0, 2, names[0]}, {w_obj, 0, 2, names[1]},
                                {out_obj, 1, 2, names[2]}};
    Blocks arrays[3];
    int acquired = 0;
    void *transposed = NULL;
    PyObject *result = NULL;
    if (acquire_all(specs, arrays, 3, &acquired) < 0) goto done;
    const Blocks *delta = &arrays[0], *W = &arrays[1], *out = &arrays[2];
    if (delta->cols < 1 || W->view.ndim != delta->view.ndim ||
        !matches(delta, W, W->rows, delta->cols, 0) ||
        out->view.ndim != delta->view.ndim || !matches(delta, out, delta->rows, W->rows, 0)) {
        PyErr_SetString(PyExc_ValueError,
                        "delta (n, o), W (h, o) and out (n, h) must share o, n, h, their "
                        "runs and their dtype, with o at least 1.");
        goto done;
    }
    if (refuse_overlap(arrays, names, 3, 2)) goto done;
    const Py_ssize_t n = delta->rows, h = W->rows, o = delta->cols;
    transposed = PyMem_Malloc((size_t)(h * o) * (size_t)W->view.itemsize + 1);
    if (transposed == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < delta->runs; r++) {
        if (delta->dbl) {
            const double *w = (const double *)block(W, r);
            double *w_t = transposed;
            for (Py_ssize_t a = 0; a < h; a++)
                for (Py_ssize_t k = 0; k < o; k++) w_t[k * h + a] = w[a * o + k];
            narrow_product_f64((const double *)block(delta, r), w_t, (double *)block(out, r),
                               n, h, o);
        } else {
            const float *w = (const float *)block(W, r);
            float *w_t = transposed;
            for (Py_ssize_t a = 0; a < h; a++)
                for (Py_ssize_t k = 0; k < o; k++) w_t[k * h + a] = w[a * o + k];
            narrow_product_f32((const float *)block(delta, r), w_t, (float *)block(out, r),
                               n, h, o);
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyMem_Free(transposed);
    release(arrays, acquired);
    return result;
}
