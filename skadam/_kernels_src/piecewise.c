/*
 * Piecewise-linear embeddings of numeric columns: the forward pass (each value's bin
 * among its column's quantile edges and its position in it, kept, and the features they
 * give) and its backward pass (the gradients of the embedding's parameters), one run of
 * a stack at a time, summed in the order of the rows.
 */
#include "kernels.h"

/* The largest numbers of bins and of features per column the kernels take. */
#define PIECEWISE_MAX_BINS 1024
#define PIECEWISE_MAX_DIMS 16

/* The bins of one column's values: for edges e_0 < ... < e_B (the column's row of
   `edges`, whose unused tail is +inf), bin k of x is the last k < B with e_k <= x (0
   below e_0), and x's position in it is (x - e_k) / (e_{k+1} - e_k), below 0 under the
   first edge and above 1 past the last, as the first and last bins are open. The bin
   is the count of the inner edges e_1 ... e_{B-1} at most x: one comparison per edge,
   which vectorises across the rows, where a binary search's branches would each be
   mispredicted half the time. */
#define DEFINE_PIECEWISE_BINS(NAME, T)                                                     \
    SKADAM_CLONES static void NAME(const T *restrict u, const T *restrict e,               \
                                   long long *restrict bins, T *restrict positions,        \
                                   Py_ssize_t n, Py_ssize_t n_bins)                        \
    {                                                                                      \
        for (Py_ssize_t i = 0; i < n; i++) bins[i] = 0;                                    \
        for (Py_ssize_t t = 1; t < n_bins; t++) {                                          \
            const T edge = e[t];                                                           \
            for (Py_ssize_t i = 0; i < n; i++) bins[i] += u[i] >= edge;                    \
        }                                                                                  \
        for (Py_ssize_t i = 0; i < n; i++) {                                               \
            const long long k = bins[i];                                                   \
            positions[i] = (T)(((double)u[i] - (double)e[k]) /                             \
                               ((double)e[k + 1] - (double)e[k]));                         \
        }                                                                                  \
    }

DEFINE_PIECEWISE_BINS(piecewise_bins_f64, double)
DEFINE_PIECEWISE_BINS(piecewise_bins_f32, float)

/* Features of one run: per column j and row i in bin k at position p, the stored
   parameters times `scale` give features[i, j D + d] = (c_jd + sum_{t < k} V_jtd)
   + p V_jkd, the prefix sums over the bins formed in the order of t in `prefix`. */
#define DEFINE_PIECEWISE_FORWARD(NAME, T)                                                  \
    SKADAM_CLONES static void NAME(const long long *restrict bins,                         \
                                   const T *restrict positions, const T *restrict V,       \
                                   const T *restrict c, T *restrict features,              \
                                   double *restrict prefix, Py_ssize_t m, Py_ssize_t n,    \
                                   Py_ssize_t B, Py_ssize_t D, double scale)               \
    {                                                                                      \
        for (Py_ssize_t j = 0; j < m; j++) {                                               \
            const T *restrict V_j = V + j * B * D;                                         \
            for (Py_ssize_t d = 0; d < D; d++) prefix[d] = scale * (double)c[j * D + d];   \
            for (Py_ssize_t t = 1; t < B; t++)                                             \
                for (Py_ssize_t d = 0; d < D; d++)                                         \
                    prefix[t * D + d] =                                                    \
                        prefix[(t - 1) * D + d] + scale * (double)V_j[(t - 1) * D + d];    \
            const long long *restrict bin = bins + j * n;                                  \
            const T *restrict position = positions + j * n;                                \
            for (Py_ssize_t i = 0; i < n; i++) {                                           \
                const Py_ssize_t k = (Py_ssize_t)bin[i];                                   \
                const double p = (double)position[i];                                      \
                for (Py_ssize_t d = 0; d < D; d++)                                         \
                    features[i * m * D + j * D + d] =                                      \
                        (T)(prefix[k * D + d] + p * (scale * (double)V_j[k * D + d]));     \
            }                                                                              \
        }                                                                                  \
    }

DEFINE_PIECEWISE_FORWARD(piecewise_forward_f64, double)
DEFINE_PIECEWISE_FORWARD(piecewise_forward_f32, float)

/* Backward pass of one run, from delta[i, j D + d], the gradient at the features: per
   column, each bin's sums of the deltas (`whole`, of the rows past it) and of the
   positions times the deltas (`part`), in the order of the rows; then the gradients of
   the stored V, scale (part_k + sum of whole over the bins after k), summed from the
   last bin down, and of c, scale times the sum of whole over all bins. */
#define DEFINE_PIECEWISE_BACKWARD(NAME, T)                                                 \
    SKADAM_CLONES static void NAME(const long long *restrict bins,                         \
                                   const T *restrict positions, const T *restrict delta,   \
                                   T *restrict grad_V, T *restrict grad_c,                 \
                                   double *restrict whole, double *restrict part,          \
                                   Py_ssize_t m, Py_ssize_t n, Py_ssize_t B, Py_ssize_t D, \
                                   double scale)                                           \
    {                                                                                      \
        for (Py_ssize_t j = 0; j < m; j++) {                                               \
            for (Py_ssize_t s = 0; s < B * D; s++) whole[s] = part[s] = 0.0;               \
            const long long *restrict bin = bins + j * n;                                  \
            const T *restrict position = positions + j * n;                                \
            for (Py_ssize_t i = 0; i < n; i++) {                                           \
                const Py_ssize_t k = (Py_ssize_t)bin[i];                                   \
                const double p = (double)position[i];                                      \
                for (Py_ssize_t d = 0; d < D; d++) {                                       \
                    const double g = (double)delta[i * m * D + j * D + d];                 \
                    whole[k * D + d] += g;                                                 \
                    part[k * D + d] += p * g;                                              \
                }                                                                          \
            }                                                                              \
            for (Py_ssize_t d = 0; d < D; d++) {                                           \
                double after = 0.0;                                                        \
                for (Py_ssize_t t = B - 1; t >= 0; t--) {                                  \
                    grad_V[(j * B + t) * D + d] = (T)(scale * (part[t * D + d] + after));  \
                    after += whole[t * D + d];                                             \
                }                                                                          \
                grad_c[j * D + d] = (T)(scale * after);                                    \
            }                                                                              \
        }                                                                                  \
    }

DEFINE_PIECEWISE_BACKWARD(piecewise_backward_f64, double)
DEFINE_PIECEWISE_BACKWARD(piecewise_backward_f32, float)

/* bins and positions (m, n), shared by the runs, bins as int64: acquired C-contiguous. */
static int
get_bins(PyObject *obj, Py_buffer *view, int writable, Py_ssize_t m, Py_ssize_t n)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) return -1;
    if (view->ndim != 2 || !is_int64(view) || view->shape[0] != m || view->shape[1] != n) {
        PyErr_SetString(PyExc_ValueError,
                        "bins must be a C-contiguous int64 array of shape (m, n).");
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* The shapes the kernels take, from positions (m, n) and, per run, V (m, B * D) and
   features or delta (n, m * D); B and D from V and c (m, D). */
static int
piecewise_shapes(const Blocks *positions, const Blocks *V, const Blocks *c,
                 const Blocks *features, Py_ssize_t *B, Py_ssize_t *D)
{
    const Py_ssize_t m = positions->rows, n = positions->cols;
    *D = c->cols;
    *B = *D > 0 ? V->cols / *D : 0;
    int ok = positions->view.ndim == 2 && m >= 1 && *D >= 1 && *D <= PIECEWISE_MAX_DIMS &&
             *B >= 1 && *B <= PIECEWISE_MAX_BINS && *B * *D == V->cols && V->rows == m &&
             matches(V, c, m, *D, 0) && matches(V, features, n, m * *D, 0) &&
             matches(V, positions, m, n, 1) && V->view.ndim == 3 && c->view.ndim == 3 &&
             features->view.ndim == 3;
    if (!ok) {
        PyErr_Format(PyExc_ValueError,
                     "the piecewise-linear kernels need positions (m, n) and, with a leading "
                     "axis of runs, V (m, B * D), c (m, D), features or delta (n, m * D), "
                     "all of one dtype, with 1 <= B <= %d and 1 <= D <= %d.",
                     PIECEWISE_MAX_BINS, PIECEWISE_MAX_DIMS);
        return -1;
    }
    return 0;
}

KERNEL_DOC(piecewise_forward_doc,
"piecewise_forward(U, edges, V, c, scale, bins, positions, features)\n"
"--\n\n"
"Piecewise-linear embedding of m columns: for U of shape (m, n) (the columns' values,\n"
"transposed) and edges (m, B + 1) (each column's increasing bin edges, padded with\n"
"+inf; at least two finite), bins (int64) and positions (m, n): each value's bin k,\n"
"the last one whose lower edge is at most the value (0 below the first edge), and its\n"
"position (x - e_k) / (e_{k+1} - e_k) in it; and per run k, from the stored\n"
"parameters V (m, B * D) and c (m, D), each multiplied by scale: features (n, m * D),\n"
"features[i, j * D + d] = c[j, d] + sum over the bins t below k of V[j, t * D + d]\n"
"+ position * V[j, k * D + d]. Computed in double precision, the sums in a fixed\n"
"order.");

PyObject *
piecewise_forward(PyObject *self, PyObject *args)
{
    static const char *const names[6] = {"U", "edges", "V", "c", "positions", "features"};
    ArraySpec specs[6] = {{NULL, 0, 2, names[0]}, {NULL, 0, 2, names[1]},
                          {NULL, 0, 2, names[2]}, {NULL, 0, 2, names[3]},
                          {NULL, 1, 2, names[4]}, {NULL, 1, 2, names[5]}};
    PyObject *bins_obj;
    double scale;
    if (!PyArg_ParseTuple(args, "OOOOdOOO", &specs[0].obj, &specs[1].obj, &specs[2].obj,
                          &specs[3].obj, &scale, &bins_obj, &specs[4].obj, &specs[5].obj)) {
        return NULL;
    }
    Blocks a[6];
    Py_buffer bins;
    int acquired = 0, have_bins = 0;
    PyObject *result = NULL;
    double *prefix = NULL;
    Py_ssize_t B, D;
    if (acquire_all(specs, a, 6, &acquired) < 0) goto done;
    if (piecewise_shapes(&a[4], &a[2], &a[3], &a[5], &B, &D) < 0) goto done;
    const Py_ssize_t m = a[4].rows, n = a[4].cols;
    if (!matches(&a[2], &a[0], m, n, 1) || a[0].view.ndim != 2 ||
        !matches(&a[2], &a[1], m, B + 1, 1) || a[1].view.ndim != 2) {
        PyErr_SetString(PyExc_ValueError,
                        "U must be (m, n) and edges (m, B + 1), in V's dtype, for V of "
                        "shape (m, B * D).");
        goto done;
    }
    if (refuse_overlap(a, names, 6, 4)) goto done;
    if (get_bins(bins_obj, &bins, 1, m, n) < 0) goto done;
    have_bins = 1;
    /* The bins of each column: those up to its last finite edge. */
    Py_ssize_t *n_bins = PyMem_RawMalloc(m * sizeof(Py_ssize_t));
    if (n_bins == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t j = 0; j < m; j++) {
        Py_ssize_t finite = 0;
        for (Py_ssize_t t = 0; t <= B; t++) {
            const double e = a[1].dbl ? ((const double *)a[1].view.buf)[j * (B + 1) + t]
                                      : ((const float *)a[1].view.buf)[j * (B + 1) + t];
            finite += isfinite(e) != 0;
        }
        n_bins[j] = finite - 1;
        if (n_bins[j] < 1) {
            PyMem_RawFree(n_bins);
            PyErr_SetString(PyExc_ValueError,
                            "each column needs at least two finite edges, at its start.");
            goto done;
        }
    }
    if ((prefix = PyMem_RawMalloc(B * D * sizeof(double))) == NULL) {
        PyMem_RawFree(n_bins);
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    long long *bin = bins.buf;
    for (Py_ssize_t j = 0; j < m; j++) {
        if (a[2].dbl) {
            piecewise_bins_f64((const double *)a[0].view.buf + j * n,
                               (const double *)a[1].view.buf + j * (B + 1), bin + j * n,
                               (double *)a[4].view.buf + j * n, n, n_bins[j]);
        } else {
            piecewise_bins_f32((const float *)a[0].view.buf + j * n,
                               (const float *)a[1].view.buf + j * (B + 1), bin + j * n,
                               (float *)a[4].view.buf + j * n, n, n_bins[j]);
        }
    }
    for (Py_ssize_t r = 0; r < a[2].runs; r++) {
        if (a[2].dbl) {
            piecewise_forward_f64(bin, (const double *)a[4].view.buf,
                                  (const double *)block(&a[2], r),
                                  (const double *)block(&a[3], r), (double *)block(&a[5], r),
                                  prefix, m, n, B, D, scale);
        } else {
            piecewise_forward_f32(bin, (const float *)a[4].view.buf,
                                  (const float *)block(&a[2], r),
                                  (const float *)block(&a[3], r), (float *)block(&a[5], r),
                                  prefix, m, n, B, D, scale);
        }
    }
    Py_END_ALLOW_THREADS
    PyMem_RawFree(n_bins);
    result = Py_None;
    Py_INCREF(result);
done:
    PyMem_RawFree(prefix);
    if (have_bins) PyBuffer_Release(&bins);
    release(a, acquired);
    return result;
}

KERNEL_DOC(piecewise_backward_doc,
"piecewise_backward(bins, positions, scale, delta, grad_V, grad_c)\n"
"--\n\n"
"Backward pass of piecewise_forward: from delta (n, m * D) per run, the gradient at\n"
"the features, and the bins and positions the forward pass kept, the gradients of\n"
"the stored parameters V (m, B * D) and c (m, D), summed over the rows in their\n"
"order.");

PyObject *
piecewise_backward(PyObject *self, PyObject *args)
{
    static const char *const names[4] = {"positions", "delta", "grad_V", "grad_c"};
    ArraySpec specs[4] = {{NULL, 0, 2, names[0]}, {NULL, 0, 2, names[1]},
                          {NULL, 1, 2, names[2]}, {NULL, 1, 2, names[3]}};
    PyObject *bins_obj;
    double scale;
    if (!PyArg_ParseTuple(args, "OOdOOO", &bins_obj, &specs[0].obj, &scale, &specs[1].obj,
                          &specs[2].obj, &specs[3].obj)) {
        return NULL;
    }
    Blocks a[4];
    Py_buffer bins;
    int acquired = 0, have_bins = 0;
    PyObject *result = NULL;
    double *scratch = NULL;
    Py_ssize_t B, D;
    if (acquire_all(specs, a, 4, &acquired) < 0) goto done;
    if (piecewise_shapes(&a[0], &a[2], &a[3], &a[1], &B, &D) < 0) goto done;
    if (refuse_overlap(a, names, 4, 2)) goto done;
    const Py_ssize_t m = a[0].rows, n = a[0].cols;
    if (get_bins(bins_obj, &bins, 0, m, n) < 0) goto done;
    have_bins = 1;
    const long long *bin = bins.buf;
    for (Py_ssize_t i = 0; i < m * n; i++) {
        if (bin[i] < 0 || bin[i] >= B) {
            PyErr_Format(PyExc_ValueError, "bins[%zd] = %lld is not a bin in [0, %zd).",
                         i, bin[i], B);
            goto done;
        }
    }
    if ((scratch = PyMem_RawMalloc(2 * B * D * sizeof(double))) == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < a[2].runs; r++) {
        if (a[2].dbl) {
            piecewise_backward_f64(bin, (const double *)a[0].view.buf,
                                   (const double *)block(&a[1], r), (double *)block(&a[2], r),
                                   (double *)block(&a[3], r), scratch, scratch + B * D, m, n,
                                   B, D, scale);
        } else {
            piecewise_backward_f32(bin, (const float *)a[0].view.buf,
                                   (const float *)block(&a[1], r), (float *)block(&a[2], r),
                                   (float *)block(&a[3], r), scratch, scratch + B * D, m, n,
                                   B, D, scale);
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyMem_RawFree(scratch);
    if (have_bins) PyBuffer_Release(&bins);
    release(a, acquired);
    return result;
}
