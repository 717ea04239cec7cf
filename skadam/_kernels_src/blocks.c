/*
 * The stacks of blocks every kernel works on: an array's acquisition as one block per
 * run and its checks (dtype, layout, shapes, shared memory), the per-run values a kernel
 * takes as numbers or vectors, and the one wrapper of the activations' backward passes.
 */
#include "kernels.h"

int
get_blocks(PyObject *obj, Blocks *b, int writable, int block_ndim, const char *name)
{
    int flags = PyBUF_STRIDES | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->view, flags) < 0) {
        return -1;
    }
    Py_buffer *v = &b->view;
    int ok = v->format != NULL && (strcmp(v->format, "d") == 0 || strcmp(v->format, "f") == 0)
             && (v->ndim == block_ndim || v->ndim == block_ndim + 1);
    if (ok) {
        int lead = v->ndim - block_ndim;
        b->runs = lead ? v->shape[0] : 1;
        b->run_stride = lead ? v->strides[0] : 0;
        b->rows = block_ndim == 2 ? v->shape[lead] : 1;
        b->cols = v->shape[v->ndim - 1];
        b->dbl = v->format[0] == 'd';
        ok = (b->cols <= 1 || v->strides[v->ndim - 1] == v->itemsize) &&
             (block_ndim == 1 || b->rows <= 1 || v->strides[lead] == b->cols * v->itemsize);
    }
    if (!ok) {
        PyErr_Format(PyExc_ValueError,
                     "%s must be a float64 or float32 array of %d axes, or %d with a leading "
                     "axis of runs, each run's block C-contiguous.",
                     name, block_ndim, block_ndim + 1);
        PyBuffer_Release(v);
        return -1;
    }
    return 0;
}

/* The bytes an array of blocks spans, for the overlap checks. */
static void
span(const Blocks *b, const char **first, const char **last)
{
    const char *start = b->view.buf;
    Py_ssize_t extent = b->rows * b->cols * b->view.itemsize;
    Py_ssize_t reach = (b->runs > 0 ? b->runs - 1 : 0) * b->run_stride;
    *first = reach < 0 ? start + reach : start;
    *last = (reach < 0 ? start : start + reach) + extent;
}

int
overlaps(const Blocks *a, const Blocks *b)
{
    const char *a0, *a1, *b0, *b1;
    span(a, &a0, &a1);
    span(b, &b0, &b1);
    if (!(a0 < b1 && b0 < a1 && a1 > a0 && b1 > b0)) return 0;
    /* Interleaved blocks: the parts of each run's row of one (K, n) buffer (the runs'
       parameters or gradients) span the same bytes without sharing any. With one
       positive stride longer than both blocks, run r of a meets run q of b only for
       q - r next to the quotient of their offsets. */
    const Py_ssize_t stride = a->run_stride;
    const Py_ssize_t extent_a = a->rows * a->cols * a->view.itemsize;
    const Py_ssize_t extent_b = b->rows * b->cols * b->view.itemsize;
    if (a->runs != b->runs || a->runs < 2 || stride != b->run_stride || stride <= 0 ||
        stride < extent_a || stride < extent_b) {
        return 1;
    }
    const Py_ssize_t offset = (const char *)b->view.buf - (const char *)a->view.buf;
    const Py_ssize_t quotient = offset >= 0 ? offset / stride : -((-offset + stride - 1) / stride);
    for (Py_ssize_t t = quotient - 1; t <= quotient + 1; t++) {
        if (t <= -a->runs || t >= a->runs) continue;
        /* b's block of run r + t starts this far after a's block of run r. */
        const Py_ssize_t start = offset - t * stride;
        if (start < extent_a && -start < extent_b) return 1;
    }
    return 0;
}

/* Blocks of `b` match those of `a`: the same number of runs (or one shared by all, when
   `shared` allows it), the block shape (rows, cols) given, and a's dtype. */
int
matches(const Blocks *a, const Blocks *b, Py_ssize_t rows, Py_ssize_t cols, int shared)
{
    return (b->runs == a->runs || (shared && b->view.ndim < a->view.ndim && b->runs == 1)) &&
           b->rows == rows && b->cols == cols && b->dbl == a->dbl;
}

void
release(Blocks *arrays, int n)
{
    for (int i = 0; i < n; i++) PyBuffer_Release(&arrays[i].view);
}

/* Acquire `count` arrays by the specs given, in order, counting them in *acquired for
   the caller's release; the first that cannot be acquired sets the error. */
int
acquire_all(const ArraySpec *specs, Blocks *arrays, int count, int *acquired)
{
    for (int i = 0; i < count; i++) {
        if (get_blocks(specs[i].obj, &arrays[i], specs[i].writable, specs[i].block_ndim,
                       specs[i].name) < 0)
            return -1;
        *acquired = i + 1;
    }
    return 0;
}

/* Whether two of the arrays share memory, among the pairs that hold an output (an array
   from `first_output` on): inputs alone may share theirs, being only read. The first
   such pair, in order, goes to *first and *second. */
int
find_overlap(const Blocks *arrays, int count, int first_output, int *first, int *second)
{
    for (int i = 0; i < count; i++) {
        for (int j = i + 1 > first_output ? i + 1 : first_output; j < count; j++) {
            if (overlaps(&arrays[i], &arrays[j])) {
                *first = i;
                *second = j;
                return 1;
            }
        }
    }
    return 0;
}

/* Whether two of the arrays share memory, the first such pair named in the error: any
   two, or with `first_output` > 0 the outputs, from `first_output` on, with each other or
   with any array. */
int
refuse_overlap(const Blocks *arrays, const char *const *names, int count, int first_output)
{
    int i, j;
    if (!find_overlap(arrays, count, first_output, &i, &j)) return 0;
    PyErr_Format(PyExc_ValueError, "%s and %s must not share memory.", names[i], names[j]);
    return 1;
}

/* Fill `out[0:k]` from a number (the same for every run) or a vector of k float64 or
   int64 values. */
static int
read_run_values(PyObject *obj, Py_ssize_t k, double *out, const char *name)
{
    if (PyFloat_Check(obj) || PyLong_Check(obj)) {
        double value = PyFloat_AsDouble(obj);
        if (value == -1.0 && PyErr_Occurred()) return -1;
        for (Py_ssize_t i = 0; i < k; i++) out[i] = value;
        return 0;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    int is_float = view.format != NULL && strcmp(view.format, "d") == 0;
    int is_int = is_int64(&view);
    int ok = view.ndim == 1 && view.shape[0] == k && (is_float || is_int);
    if (ok && is_float) {
        memcpy(out, view.buf, k * sizeof(double));
    } else if (ok) {
        for (Py_ssize_t i = 0; i < k; i++) out[i] = (double)((long long *)view.buf)[i];
    } else {
        PyErr_Format(PyExc_ValueError,
                     "%s must be a number or a float64 or int64 vector with one value per "
                     "run (%zd).", name, k);
    }
    PyBuffer_Release(&view);
    return ok ? 0 : -1;
}

/* `count` per-run values for k runs, value h of run r at [h * k + r], each read as
   read_run_values reads it: one block to free with PyMem_Free, or NULL with the error
   set. */
double *
read_all_run_values(PyObject *const *objects, const char *const *names, int count,
                    Py_ssize_t k)
{
    double *values = PyMem_Malloc(count * (k > 0 ? k : 1) * sizeof(double));
    if (values == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (int h = 0; h < count; h++) {
        if (read_run_values(objects[h], k, values + h * k, names[h]) < 0) {
            PyMem_Free(values);
            return NULL;
        }
    }
    return values;
}

/* The backward pass of an activation, for relu_backprop (relu.c) and slope_backprop
   (mish.c): delta times the activation's derivative, read from its output A (the
   ReLU's, with a slope below zero) or from the slopes its forward pass kept, and
   column_sums its column sums. Only the ReLU's takes a slope. */
PyObject *
backprop_runs(PyObject *args, const char *first, int takes_slope, backprop_f64 f64,
              backprop_f32 f32)
{
    ArraySpec specs[3] = {{NULL, 0, 2, first}, {NULL, 1, 2, "delta"},
                          {NULL, 1, 1, "column_sums"}};
    double slope = 0.0;
    if (!PyArg_ParseTuple(args, takes_slope ? "OOO|d" : "OOO", &specs[0].obj, &specs[1].obj,
                          &specs[2].obj, &slope)) {
        return NULL;
    }
    Blocks arrays[3];
    int acquired = 0, i, j;
    PyObject *result = NULL;
    if (acquire_all(specs, arrays, 3, &acquired) < 0) goto done;
    const Blocks *a = &arrays[0], *d = &arrays[1], *sums = &arrays[2];
    if (!same_blocks(a, d) || !vector_per_run(a, sums, a->cols)) {
        PyErr_Format(PyExc_ValueError,
                     "delta must have the shape and dtype of %s, column_sums its runs, "
                     "width and dtype.", first);
        goto done;
    }
    if (find_overlap(arrays, 3, 0, &i, &j)) {
        PyErr_Format(PyExc_ValueError, "%s, delta and column_sums must not share memory.",
                     first);
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < a->runs; r++) {
        if (a->dbl) {
            f64((const double *)block(a, r), (double *)block(d, r), (double *)block(sums, r),
                a->rows, a->cols, slope);
        } else {
            f32((const float *)block(a, r), (float *)block(d, r), (float *)block(sums, r),
                a->rows, a->cols, (float)slope);
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    release(arrays, acquired);
    return result;
}
