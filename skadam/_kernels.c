/*
 * Fused element-wise kernels for the training loop's hot spots.
 *
 * An Adam step written as NumPy ufuncs makes about a dozen passes over the parameter
 * buffer; one loop here reads params, grad, m and v once and writes them once, which is
 * what bounds the step on a CPU. The loops carry `restrict` pointers so that the
 * compiler vectorises them, and release the GIL so that the caller can split a large
 * buffer between threads. Floating-point contraction is turned off (setup.py) so that
 * the results do not depend on the instruction set the machine picks; trapping math is
 * off too, which lets the compiler turn the selects of a loop into vector blends (no
 * kernel reads the floating-point exception flags).
 *
 * Every kernel works on a stack of K independent runs: its arrays may carry a leading
 * axis of runs (of any stride; each run's block is C-contiguous), and each run's block
 * goes through the same loop as a run alone, so a run's results do not depend on K.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
/* One build that runs everywhere, with AVX-512 and AVX2 copies picked at load time where
   the CPU has them: four and two times the width of the SSE2 baseline. The copies
   compute the same operations in the same order (no contraction into fused
   multiply-adds), so every machine gets the same bits; a test compares them. */
#define SKADAM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SKADAM_CLONES
#endif

/* ------------------------------------------------------------------ stacks of blocks */

/* An array acquired as K blocks, one per run: `block_ndim` axes per block (1: a vector,
   2: a matrix), with or without a leading axis of runs (K = 1 without). */
typedef struct {
    Py_buffer view;
    Py_ssize_t runs, run_stride; /* run_stride in bytes */
    Py_ssize_t rows, cols;       /* a block's shape; rows = 1 for vectors */
    int dbl;
} Blocks;

static int
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

static inline char *
block(const Blocks *b, Py_ssize_t run)
{
    return (char *)b->view.buf + run * b->run_stride;
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

static int
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
static int
matches(const Blocks *a, const Blocks *b, Py_ssize_t rows, Py_ssize_t cols, int shared)
{
    return (b->runs == a->runs || (shared && b->view.ndim < a->view.ndim && b->runs == 1)) &&
           b->rows == rows && b->cols == cols && b->dbl == a->dbl;
}

static void
release(Blocks *arrays, int n)
{
    for (int i = 0; i < n; i++) PyBuffer_Release(&arrays[i].view);
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
    int is_int = view.format != NULL && view.itemsize == (Py_ssize_t)sizeof(long long) &&
                 strchr("lq", view.format[0]) != NULL;
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

/* ------------------------------------------------------------------------- Adam */

#define DEFINE_ADAM(NAME, T, SQRT)                                                         \
    SKADAM_CLONES static void NAME(                                                        \
        T *restrict p, const T *restrict g, T *restrict m, T *restrict v,                 \
        T *restrict v_max, Py_ssize_t n, Py_ssize_t n_decayed, T beta_1, T beta_2,        \
        T step_size, T epsilon, T epsilon_root, T shrink)                                 \
    {                                                                                      \
        const T one_minus_beta_1 = (T)1 - beta_1, one_minus_beta_2 = (T)1 - beta_2;       \
        if (shrink != (T)1) {                                                              \
            for (Py_ssize_t i = 0; i < n_decayed; i++) p[i] *= shrink;                     \
        }                                                                                  \
        if (v_max == NULL) {                                                               \
            for (Py_ssize_t i = 0; i < n; i++) {                                           \
                const T gi = g[i];                                                         \
                const T mi = beta_1 * m[i] + one_minus_beta_1 * gi;                        \
                const T vi = beta_2 * v[i] + (gi * gi) * one_minus_beta_2;                 \
                m[i] = mi;                                                                 \
                v[i] = vi;                                                                 \
                p[i] -= step_size * (mi / (SQRT(vi + epsilon_root) + epsilon));            \
            }                                                                              \
        } else {                                                                           \
            for (Py_ssize_t i = 0; i < n; i++) {                                           \
                const T gi = g[i];                                                         \
                const T mi = beta_1 * m[i] + one_minus_beta_1 * gi;                        \
                const T vi = beta_2 * v[i] + (gi * gi) * one_minus_beta_2;                 \
                const T wi = v_max[i] > vi ? v_max[i] : vi;                                \
                m[i] = mi;                                                                 \
                v[i] = vi;                                                                 \
                v_max[i] = wi;                                                             \
                p[i] -= step_size * (mi / (SQRT(wi + epsilon_root) + epsilon));            \
            }                                                                              \
        }                                                                                  \
    }

DEFINE_ADAM(adam_f64, double, sqrt)
DEFINE_ADAM(adam_f32, float, sqrtf)

/* A step's coefficients from a run's hyperparameters, in double precision. With
   c1 = 1 - beta_1^t and c2 = 1 - beta_2^t,
       m_hat / (sqrt(v_hat + eps_root) + eps) = m / (sqrt(v + eps_root c2) + eps sqrt(c2))
                                                * sqrt(c2) / c1,
   so the bias correction costs no pass over the buffers. Computed here for every run
   alike, with the C library's pow and sqrt, so that a run's step does not depend on the
   other runs of its stack. */
static void
adam_coefficients(double beta_1, double beta_2, double learning_rate, double epsilon,
                  double epsilon_root, double decay, double t, int bias_correction,
                  double *step_size, double *eps, double *eps_root, double *shrink)
{
    *step_size = learning_rate;
    *eps = epsilon;
    *eps_root = epsilon_root;
    if (bias_correction) {
        const double bias_2 = 1.0 - pow(beta_2, t);
        const double sqrt_bias_2 = sqrt(bias_2);
        *step_size = learning_rate * sqrt_bias_2 / (1.0 - pow(beta_1, t));
        *eps = epsilon * sqrt_bias_2;
        *eps_root = epsilon_root * bias_2;
    }
    *shrink = 1.0 - learning_rate * decay;
}

PyDoc_STRVAR(adam_doc,
"adam(params, grad, m, v, v_max, beta_1, beta_2, learning_rate, epsilon, epsilon_root,\n"
"     weight_decay, t, bias_correction, n_decayed, start, stop)\n"
"--\n\n"
"Adam step t (counted from 1) in place, on entries [start, stop) of each run:\n"
"params[:n_decayed] *= 1 - learning_rate * weight_decay, then\n"
"m = beta_1*m + (1-beta_1)*g, v = beta_2*v + (1-beta_2)*g*g,\n"
"params -= learning_rate * m_hat / (sqrt(w_hat + epsilon_root) + epsilon), with w = v,\n"
"or w = max(v_max, v) for AMSGrad, and the hats the bias corrections by 1 - beta**t\n"
"(none without bias_correction). v_max is None, or the AMSGrad running maximum of the\n"
"raw v, updated in place. params and the buffers are 1-D, or 2-D with one run per row;\n"
"each of the seven per-run values (beta_1 ... t) is then a number for all runs or a\n"
"vector of one value per run.");

static PyObject *
adam(PyObject *self, PyObject *args)
{
    enum { N_VALUES = 7 };
    PyObject *objects[5], *value_objects[N_VALUES];
    int bias_correction;
    Py_ssize_t n_decayed, start, stop;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOOpnnn", &objects[0], &objects[1], &objects[2],
                          &objects[3], &objects[4], &value_objects[0], &value_objects[1],
                          &value_objects[2], &value_objects[3], &value_objects[4],
                          &value_objects[5], &value_objects[6], &bias_correction,
                          &n_decayed, &start, &stop)) {
        return NULL;
    }
    static const char *names[5] = {"params", "grad", "m", "v", "v_max"};
    static const char *value_names[N_VALUES] = {"beta_1", "beta_2", "learning_rate",
                                                "epsilon", "epsilon_root", "weight_decay",
                                                "t"};
    Blocks arrays[5];
    int n_arrays = objects[4] == Py_None ? 4 : 5, acquired = 0;
    double *values = NULL;
    PyObject *result = NULL;
    for (; acquired < n_arrays; acquired++) {
        if (get_blocks(objects[acquired], &arrays[acquired], acquired != 1, 1,
                       names[acquired]) < 0) {
            goto done;
        }
        if (acquired > 0 && (arrays[acquired].view.ndim != arrays[0].view.ndim ||
                             !matches(&arrays[0], &arrays[acquired], 1, arrays[0].cols, 0))) {
            PyErr_Format(PyExc_ValueError, "%s must have the shape and dtype of params.",
                         names[acquired]);
            acquired++;
            goto done;
        }
    }
    for (int i = 0; i < n_arrays; i++) {
        for (int j = i + 1; j < n_arrays; j++) {
            if (overlaps(&arrays[i], &arrays[j])) {
                PyErr_Format(PyExc_ValueError, "%s and %s must not share memory.",
                             names[i], names[j]);
                goto done;
            }
        }
    }
    const Py_ssize_t runs = arrays[0].runs, n = arrays[0].cols;
    values = PyMem_Malloc(N_VALUES * (runs > 0 ? runs : 1) * sizeof(double));
    if (values == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (int h = 0; h < N_VALUES; h++) {
        if (read_run_values(value_objects[h], runs, values + h * runs, value_names[h]) < 0) {
            goto done;
        }
    }
    start = start < 0 ? 0 : (start > n ? n : start);
    stop = stop < start ? start : (stop > n ? n : stop);
    n_decayed = n_decayed < start ? 0 : (n_decayed > stop ? stop - start : n_decayed - start);
    const double *b1 = values, *b2 = values + runs, *lr = values + 2 * runs,
                 *eps = values + 3 * runs, *eps_root = values + 4 * runs,
                 *decay = values + 5 * runs, *t = values + 6 * runs;
    const int dbl = arrays[0].dbl;
    const Py_ssize_t itemsize = arrays[0].view.itemsize;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < runs; r++) {
        double step_size, epsilon, epsilon_root, shrink;
        adam_coefficients(b1[r], b2[r], lr[r], eps[r], eps_root[r], decay[r], t[r],
                          bias_correction, &step_size, &epsilon, &epsilon_root, &shrink);
        char *base[5] = {NULL, NULL, NULL, NULL, NULL};
        for (int i = 0; i < n_arrays; i++) base[i] = block(&arrays[i], r) + start * itemsize;
        if (dbl) {
            adam_f64((double *)base[0], (double *)base[1], (double *)base[2],
                     (double *)base[3], (double *)base[4], stop - start, n_decayed, b1[r],
                     b2[r], step_size, epsilon, epsilon_root, shrink);
        } else {
            adam_f32((float *)base[0], (float *)base[1], (float *)base[2], (float *)base[3],
                     (float *)base[4], stop - start, n_decayed, (float)b1[r], (float)b2[r],
                     (float)step_size, (float)epsilon, (float)epsilon_root, (float)shrink);
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyMem_Free(values);
    release(arrays, acquired);
    return result;
}

/* ------------------------------------------- L2 penalty, averages of the weights */

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

/* y updated in place from x, one scalar per run: the two kernels of this section. */
static PyObject *
update_runs(PyObject *args, const char *scalar_name, update_f64 f64, update_f32 f32)
{
    PyObject *y_obj, *x_obj, *scalar_obj;
    if (!PyArg_ParseTuple(args, "OOO", &y_obj, &x_obj, &scalar_obj)) {
        return NULL;
    }
    Blocks arrays[2];
    int acquired = 0;
    double *scalar = NULL;
    PyObject *result = NULL;
    if (get_blocks(y_obj, &arrays[0], 1, 1, "y") < 0) goto done;
    acquired = 1;
    if (get_blocks(x_obj, &arrays[1], 0, 1, "x") < 0) goto done;
    acquired = 2;
    const Blocks *y = &arrays[0], *x = &arrays[1];
    if (x->view.ndim != y->view.ndim || !matches(y, x, 1, y->cols, 0)) {
        PyErr_SetString(PyExc_ValueError, "x must have the shape and dtype of y.");
        goto done;
    }
    if (overlaps(y, x)) {
        PyErr_SetString(PyExc_ValueError, "y and x must not share memory.");
        goto done;
    }
    scalar = PyMem_Malloc((y->runs > 0 ? y->runs : 1) * sizeof(double));
    if (scalar == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (read_run_values(scalar_obj, y->runs, scalar, scalar_name) < 0) goto done;
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

PyDoc_STRVAR(add_scaled_doc,
"add_scaled(y, x, alpha)\n"
"--\n\n"
"y += alpha * x in place, with no temporary array. y and x are 1-D, or 2-D with one run\n"
"per row (rows of any stride); alpha is a number, or a float64 vector of one value per\n"
"run. A run whose alpha is zero is left as it is.");

static PyObject *
add_scaled(PyObject *self, PyObject *args)
{
    return update_runs(args, "alpha", add_scaled_f64, add_scaled_f32);
}

PyDoc_STRVAR(move_towards_doc,
"move_towards(y, x, weight)\n"
"--\n\n"
"y += weight * (x - y) in place, one pass with no temporary array: a moving average y\n"
"of x. y and x are 1-D, or 2-D with one run per row (rows of any stride); weight is a\n"
"number, or a float64 vector of one value per run. A run whose weight is zero is left\n"
"as it is; a weight of one makes y a copy of x.");

static PyObject *
move_towards(PyObject *self, PyObject *args)
{
    return update_runs(args, "weight", move_towards_f64, move_towards_f32);
}

/* ------------------------------------------------------------------- finiteness */

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

PyDoc_STRVAR(all_finite_doc,
"all_finite(x)\n"
"--\n\n"
"Whether every entry of x is finite: x is 1-D, or 2-D with one run per row (rows of\n"
"any stride). One pass, no temporary array.");

static PyObject *
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

/* ------------------------------------------------------------------------- ReLU */

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

PyDoc_STRVAR(bias_relu_doc,
"bias_relu(Z, b, slope=0.0)\n"
"--\n\n"
"Z = max(Z + b, 0) in place, for Z of shape (n_rows, width) and b of shape (width,), or\n"
"for a stack: Z of shape (K, n_rows, width) and b of shape (K, width). With a slope,\n"
"the leaky ReLU: slope * (Z + b) below zero.");

static PyObject *
bias_relu(PyObject *self, PyObject *args)
{
    PyObject *z_obj, *b_obj;
    double slope = 0.0;
    if (!PyArg_ParseTuple(args, "OO|d", &z_obj, &b_obj, &slope)) {
        return NULL;
    }
    Blocks arrays[2];
    int acquired = 0;
    PyObject *result = NULL;
    if (get_blocks(z_obj, &arrays[0], 1, 2, "Z") < 0) goto done;
    acquired = 1;
    if (get_blocks(b_obj, &arrays[1], 0, 1, "b") < 0) goto done;
    acquired = 2;
    const Blocks *z = &arrays[0], *b = &arrays[1];
    if (b->view.ndim + 1 != z->view.ndim || !matches(z, b, 1, z->cols, 0)) {
        PyErr_SetString(PyExc_ValueError, "b must have Z's runs, width and dtype.");
        goto done;
    }
    if (overlaps(z, b)) {
        PyErr_SetString(PyExc_ValueError, "Z and b must not share memory.");
        goto done;
    }
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

PyDoc_STRVAR(relu_backprop_doc,
"relu_backprop(A, delta, column_sums, slope=0.0)\n"
"--\n\n"
"delta = where(A > 0, delta, 0) in place, for A and delta of shape (n_rows, width),\n"
"and column_sums = delta.sum(axis=0), the layer's intercept gradient, in the same pass;\n"
"or for a stack, A and delta of shape (K, n_rows, width) and column_sums (K, width).\n"
"With a slope, the leaky ReLU's: delta * slope where A <= 0.");

/* ----------------------------------------------------------------- cross-entropies */

/* exp and log without branches, so that the compiler vectorises the loops calling them;
 * libm's are scalar calls and made the cross-entropy of a wide output the dearest step
 * after the matrix products. Both work in double precision, within about an ulp.
 *
 * exp: x = k ln2 + r with |r| <= ln2/2 (Cody and Waite's two-part ln2, exact products
 * for |k| < 2^21), exp(r) by its Taylor series to r^13 (truncation below 1e-17), and
 * 2^k built in the exponent bits, in two factors so that results down to the smallest
 * subnormal come out right. */
static inline double exp_branchless(double x)
{
    const double shifter = 0x1.8p52, log2e = 0x1.71547652b82fep0;
    const double ln2_hi = 0x1.62e42feep-1, ln2_lo = 0x1.a39ef35793c76p-33;
    const double low = -745.2, high = 709.78;
    const double clamped = x < low ? low : (x > high ? high : x);
    const double shifted = clamped * log2e + shifter;
    const double k = shifted - shifter;
    const double r = (clamped - k * ln2_hi) - k * ln2_lo;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    long long bits, k_int;
    memcpy(&bits, &shifted, sizeof bits);
    k_int = bits - 0x4338000000000000LL; /* the bits of the shifter */
    const long long half = k_int / 2;
    const long long bits_1 = (half + 1023) << 52, bits_2 = (k_int - half + 1023) << 52;
    double scale_1, scale_2;
    memcpy(&scale_1, &bits_1, sizeof scale_1);
    memcpy(&scale_2, &bits_2, sizeof scale_2);
    const double result = p * scale_1 * scale_2;
    /* Beyond the clamps: 0, infinity, or NaN passed through. */
    return x < low ? 0.0 : (x > high ? HUGE_VAL : (x != x ? x : result));
}

/* log of a positive normal x: x = 2^e m with m in [sqrt(2)/2, sqrt(2)), then fdlibm's
 * reduction log(m) = f - f^2/2 + s (f^2/2 + R(s^2)) with f = m - 1, s = f / (2 + f) and
 * its minimax R. Zero, subnormal, negative or non-finite x are for the caller. */
static inline double log_branchless(double x)
{
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    const double lg1 = 6.666666666666735130e-01, lg2 = 3.999999999940941908e-01;
    const double lg3 = 2.857142874366239149e-01, lg4 = 2.222219843214978396e-01;
    const double lg5 = 1.818357216161805012e-01, lg6 = 1.531383769920937332e-01;
    const double lg7 = 1.479819860511658591e-01;
    long long bits;
    memcpy(&bits, &x, sizeof bits);
    /* Move m's range to [sqrt(2)/2, sqrt(2)) by offsetting the bits before the split. */
    const long long offset = 0x3ff0000000000000LL - 0x3fe6a09e667f3bcdLL;
    const long long shifted = bits + offset;
    const long long mantissa_bits = (shifted & 0x000fffffffffffffLL) + 0x3fe6a09e667f3bcdLL;
    /* The biased exponent (0 to 2047) as a double by way of 2^52's bits: a 64-bit
       integer conversion has no vector instruction before AVX-512. */
    const long long exponent_bits = (shifted >> 52) + 0x4330000000000000LL;
    double m, k;
    memcpy(&m, &mantissa_bits, sizeof m);
    memcpy(&k, &exponent_bits, sizeof k);
    k -= 0x1p52 + 1023.0;
    const double f = m - 1.0;
    const double s = f / (2.0 + f), z = s * s, w = z * z;
    const double t1 = w * (lg2 + w * (lg4 + w * lg6));
    const double t2 = z * (lg1 + w * (lg3 + w * (lg5 + w * lg7)));
    const double hfsq = 0.5 * f * f;
    const double result = k * ln2_hi - ((hfsq - (s * (hfsq + t2 + t1) + k * ln2_lo)) - f);
    return x == 1.0 ? 0.0 : result;
}

/* In place over n values: separate functions with restrict pointers, which the compiler
   vectorises where an inline loop over the kernel's possibly aliased arrays it would not. */
#define DEFINE_MAP(NAME, T, FUNCTION)                                                      \
    static inline void NAME(T *restrict values, Py_ssize_t n)                              \
    {                                                                                      \
        for (Py_ssize_t i = 0; i < n; i++) values[i] = (T)FUNCTION((double)values[i]);     \
    }

DEFINE_MAP(exp_in_place_f64, double, exp_branchless)
DEFINE_MAP(exp_in_place_f32, float, exp_branchless)

/* log of the totals (each at least 1 unless the outputs held NaN or infinity, whose log is
   the total itself) minus each row's shifted true-class output. */
static inline void log_minus(double *restrict totals, const double *restrict shifted,
                             Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        const double t = totals[i];
        totals[i] = (t <= DBL_MAX ? log_branchless(t) : t) - shifted[i];
    }
}

/* Rows per block: the block's outputs stay in L1 across the passes over it. */
#define SOFTMAX_BLOCK 256

#define DEFINE_SOFTMAX_CROSS_ENTROPY(NAME, T, EXP_IN_PLACE)                                \
    /* Rows whose code is out of range are left for the caller to report: returns the */  \
    /* first such row, or -1. `raw` may be `out` itself. A block of rows at a time: */    \
    /* shifts by the row maxima, one vectorised pass of exponentials, row sums and     */ \
    /* normalisation, one vectorised pass of logarithms. */                               \
    SKADAM_CLONES static Py_ssize_t NAME(const T *raw, const long long *codes, T *out,    \
                                         T *losses, Py_ssize_t n_rows, Py_ssize_t k)       \
    {                                                                                      \
        double true_shifted[SOFTMAX_BLOCK], totals[SOFTMAX_BLOCK];                         \
        for (Py_ssize_t r = 0; r < n_rows; r++) {                                          \
            if (codes[r] < 0 || codes[r] >= k) return r;                                   \
        }                                                                                  \
        for (Py_ssize_t first = 0; first < n_rows; first += SOFTMAX_BLOCK) {               \
            const Py_ssize_t m = n_rows - first < SOFTMAX_BLOCK ? n_rows - first           \
                                                                 : SOFTMAX_BLOCK;           \
            const T *x = raw + first * k;                                                  \
            T *o = out + first * k;                                                        \
            for (Py_ssize_t r = 0; r < m; r++) {                                           \
                const T *row = x + r * k;                                                  \
                T *o_row = o + r * k;                                                      \
                T top = row[0];                                                            \
                for (Py_ssize_t j = 1; j < k; j++) top = row[j] > top ? row[j] : top;      \
                true_shifted[r] = (double)(row[codes[first + r]] - top);                   \
                for (Py_ssize_t j = 0; j < k; j++) o_row[j] = row[j] - top;                \
            }                                                                              \
            EXP_IN_PLACE(o, m * k);                                                        \
            for (Py_ssize_t r = 0; r < m; r++) {                                           \
                T *o_row = o + r * k;                                                      \
                T total = 0;                                                               \
                for (Py_ssize_t j = 0; j < k; j++) total += o_row[j];                      \
                const T inverse = (T)1 / total;                                            \
                for (Py_ssize_t j = 0; j < k; j++) o_row[j] *= inverse;                    \
                o_row[codes[first + r]] -= (T)1;                                           \
                totals[r] = (double)total;                                                 \
            }                                                                              \
            log_minus(totals, true_shifted, m);                                            \
            for (Py_ssize_t r = 0; r < m; r++) losses[first + r] = (T)totals[r];           \
        }                                                                                  \
        return -1;                                                                         \
    }

DEFINE_SOFTMAX_CROSS_ENTROPY(softmax_cross_entropy_f64, double, exp_in_place_f64)
DEFINE_SOFTMAX_CROSS_ENTROPY(softmax_cross_entropy_f32, float, exp_in_place_f32)

PyDoc_STRVAR(softmax_cross_entropy_doc,
"softmax_cross_entropy(raw, codes, out, losses)\n"
"--\n\n"
"Per row of raw (n_rows, n_classes): out = softmax(raw) - onehot(codes) and\n"
"losses = logsumexp(raw) - raw[codes], with codes int64 class indices. out may be raw.\n"
"For a stack, raw and out are (K, n_rows, n_classes) and losses (K, n_rows); the codes\n"
"are the same for every run.");

static PyObject *
softmax_cross_entropy(PyObject *self, PyObject *args)
{
    PyObject *raw_obj, *codes_obj, *out_obj, *losses_obj;
    if (!PyArg_ParseTuple(args, "OOOO", &raw_obj, &codes_obj, &out_obj, &losses_obj)) {
        return NULL;
    }
    Blocks arrays[3];
    Py_buffer codes;
    int acquired = 0, have_codes = 0;
    PyObject *result = NULL;
    if (get_blocks(raw_obj, &arrays[0], 0, 2, "raw") < 0) goto done;
    acquired = 1;
    if (get_blocks(out_obj, &arrays[1], 1, 2, "out") < 0) goto done;
    acquired = 2;
    if (get_blocks(losses_obj, &arrays[2], 1, 1, "losses") < 0) goto done;
    acquired = 3;
    if (PyObject_GetBuffer(codes_obj, &codes, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) goto done;
    have_codes = 1;
    if (codes.ndim != 1 || codes.itemsize != (Py_ssize_t)sizeof(long long) ||
        codes.format == NULL || strchr("lq", codes.format[0]) == NULL) {
        PyErr_SetString(PyExc_ValueError, "codes must be a contiguous 1-D int64 array.");
        goto done;
    }
    const Blocks *raw = &arrays[0], *out = &arrays[1], *losses = &arrays[2];
    const Py_ssize_t n_rows = raw->rows, k = raw->cols;
    if (codes.shape[0] != n_rows || out->view.ndim != raw->view.ndim ||
        !matches(raw, out, n_rows, k, 0) || losses->view.ndim + 1 != raw->view.ndim ||
        !matches(raw, losses, 1, n_rows, 0) || k == 0) {
        PyErr_SetString(PyExc_ValueError,
                        "out must have raw's shape and dtype, codes and losses one entry "
                        "per row of raw, losses raw's runs and dtype.");
        goto done;
    }
    Py_ssize_t bad = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < raw->runs && bad < 0; r++) {
        if (raw->dbl) {
            bad = softmax_cross_entropy_f64((const double *)block(raw, r), codes.buf,
                                            (double *)block(out, r),
                                            (double *)block(losses, r), n_rows, k);
        } else {
            bad = softmax_cross_entropy_f32((const float *)block(raw, r), codes.buf,
                                            (float *)block(out, r), (float *)block(losses, r),
                                            n_rows, k);
        }
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        PyErr_Format(PyExc_ValueError, "codes[%zd] = %lld is not a class index in [0, %zd).",
                     bad, ((long long *)codes.buf)[bad], k);
        goto done;
    }
    result = Py_None;
    Py_INCREF(result);
done:
    if (have_codes) PyBuffer_Release(&codes);
    release(arrays, acquired);
    return result;
}

#define DEFINE_SIGMOID_CROSS_ENTROPY(NAME, T, EXP, LOG1P)                                 \
    /* `raw` may be `out` itself. */                                                       \
    static void NAME(const T *raw, const T *y, T *out, T *losses, Py_ssize_t n_rows,      \
                     Py_ssize_t k)                                                         \
    {                                                                                      \
        const T inverse_k = (T)1 / (T)k;                                                   \
        for (Py_ssize_t r = 0; r < n_rows; r++, raw += k, y += k, out += k) {              \
            T total = 0;                                                                   \
            for (Py_ssize_t j = 0; j < k; j++) {                                           \
                const T x = raw[j];                                                        \
                /* Both the softplus log(1 + e^x) and the sigmoid from e = exp(-|x|) <= 1,  \
                   which cannot overflow. */                                               \
                const T e = EXP(x < (T)0 ? x : -x);                                        \
                const T softplus = (x > (T)0 ? x : (T)0) + LOG1P(e);                       \
                const T sigmoid = x >= (T)0 ? (T)1 / ((T)1 + e) : e / ((T)1 + e);          \
                total += softplus - y[j] * x;                                              \
                out[j] = (sigmoid - y[j]) * inverse_k;                                     \
            }                                                                              \
            losses[r] = total * inverse_k;                                                 \
        }                                                                                  \
    }

DEFINE_SIGMOID_CROSS_ENTROPY(sigmoid_cross_entropy_f64, double, exp, log1p)
DEFINE_SIGMOID_CROSS_ENTROPY(sigmoid_cross_entropy_f32, float, expf, log1pf)

PyDoc_STRVAR(sigmoid_cross_entropy_doc,
"sigmoid_cross_entropy(raw, Y, out, losses)\n"
"--\n\n"
"For raw and 0/1 targets Y of shape (n_rows, n_outputs): per row, losses = the mean over\n"
"outputs of log(1 + exp(raw)) - Y * raw, and out = (sigmoid(raw) - Y) / n_outputs, its\n"
"gradient. out may be raw. For a stack, raw and out are (K, n_rows, n_outputs) and\n"
"losses (K, n_rows); Y is the same for every run.");

static PyObject *
sigmoid_cross_entropy(PyObject *self, PyObject *args)
{
    PyObject *raw_obj, *y_obj, *out_obj, *losses_obj;
    if (!PyArg_ParseTuple(args, "OOOO", &raw_obj, &y_obj, &out_obj, &losses_obj)) {
        return NULL;
    }
    Blocks arrays[4];
    int acquired = 0;
    PyObject *result = NULL;
    if (get_blocks(raw_obj, &arrays[0], 0, 2, "raw") < 0) goto done;
    acquired = 1;
    if (get_blocks(y_obj, &arrays[1], 0, 2, "Y") < 0) goto done;
    acquired = 2;
    if (get_blocks(out_obj, &arrays[2], 1, 2, "out") < 0) goto done;
    acquired = 3;
    if (get_blocks(losses_obj, &arrays[3], 1, 1, "losses") < 0) goto done;
    acquired = 4;
    const Blocks *raw = &arrays[0], *y = &arrays[1], *out = &arrays[2], *losses = &arrays[3];
    const Py_ssize_t n_rows = raw->rows, k = raw->cols;
    if (y->view.ndim != 2 || !matches(raw, y, n_rows, k, 1) ||
        out->view.ndim != raw->view.ndim || !matches(raw, out, n_rows, k, 0) ||
        losses->view.ndim + 1 != raw->view.ndim || !matches(raw, losses, 1, n_rows, 0) ||
        k == 0) {
        PyErr_SetString(PyExc_ValueError,
                        "Y (one run's) and out must have raw's shape and dtype, losses one "
                        "entry per row of raw and raw's runs and dtype.");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < raw->runs; r++) {
        if (raw->dbl) {
            sigmoid_cross_entropy_f64((const double *)block(raw, r), y->view.buf,
                                      (double *)block(out, r), (double *)block(losses, r),
                                      n_rows, k);
        } else {
            sigmoid_cross_entropy_f32((const float *)block(raw, r), y->view.buf,
                                      (float *)block(out, r), (float *)block(losses, r),
                                      n_rows, k);
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    release(arrays, acquired);
    return result;
}

/* ------------------------------------------------------------------------- Mish */

/* Mish (Misra, 2019): x tanh(softplus(x)) = x w with w = n / (n + 2), n = e^x (e^x + 2),
 * one exponential (exp_branchless, above); its slope w + x 4 e^x (e^x + 1) / (n + 2)^2. Beyond x = 20, w is 1
 * to double precision: e^x is taken at 20 at most, which keeps n finite. Computed in
 * double. With slopes, the derivative is written there for the backward pass. */
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

#define DEFINE_SLOPE_BACKPROP(NAME, T)                                                     \
    SKADAM_CLONES static void NAME(const T *restrict slopes, T *restrict delta,           \
                                   T *restrict column_sums, Py_ssize_t n_rows,             \
                                   Py_ssize_t width)                                       \
    {                                                                                      \
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

PyDoc_STRVAR(bias_mish_doc,
"bias_mish(Z, b, slopes=None)\n"
"--\n\n"
"Z = mish(Z + b) in place, mish(x) = x tanh(log(1 + e^x)), for Z of shape (n_rows, width)\n"
"and b of shape (width,), or for a stack: Z of shape (K, n_rows, width) and b of shape\n"
"(K, width). With slopes (Z's shape and dtype), its derivative at Z + b is written there.");

static PyObject *
bias_mish(PyObject *self, PyObject *args)
{
    PyObject *z_obj, *b_obj, *s_obj = Py_None;
    if (!PyArg_ParseTuple(args, "OO|O", &z_obj, &b_obj, &s_obj)) {
        return NULL;
    }
    Blocks arrays[3];
    int acquired = 0;
    PyObject *result = NULL;
    if (get_blocks(z_obj, &arrays[0], 1, 2, "Z") < 0) goto done;
    acquired = 1;
    if (get_blocks(b_obj, &arrays[1], 0, 1, "b") < 0) goto done;
    acquired = 2;
    const Blocks *z = &arrays[0], *b = &arrays[1], *slopes = NULL;
    if (s_obj != Py_None) {
        if (get_blocks(s_obj, &arrays[2], 1, 2, "slopes") < 0) goto done;
        acquired = 3;
        slopes = &arrays[2];
    }
    if (b->view.ndim + 1 != z->view.ndim || !matches(z, b, 1, z->cols, 0)) {
        PyErr_SetString(PyExc_ValueError, "b must have Z's runs, width and dtype.");
        goto done;
    }
    if (slopes != NULL && (slopes->view.ndim != z->view.ndim ||
                           !matches(z, slopes, z->rows, z->cols, 0))) {
        PyErr_SetString(PyExc_ValueError, "slopes must have Z's shape and dtype.");
        goto done;
    }
    if (overlaps(z, b) || (slopes != NULL && (overlaps(z, slopes) || overlaps(b, slopes)))) {
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

PyDoc_STRVAR(slope_backprop_doc,
"slope_backprop(slopes, delta, column_sums)\n"
"--\n\n"
"delta *= slopes in place, for slopes and delta of shape (n_rows, width), and\n"
"column_sums = delta.sum(axis=0), the layer's intercept gradient, in the same pass; or\n"
"for a stack, slopes and delta of shape (K, n_rows, width) and column_sums (K, width).\n"
"The backward pass of an activation whose slopes its forward pass kept.");

/* The backward pass of an activation, for relu_backprop (documented with the ReLU) and
   slope_backprop: delta times the activation's derivative, read from its output A (the
   ReLU's, with a slope below zero) or from the slopes its forward pass kept, and
   column_sums its column sums. */
static PyObject *
backprop_runs(PyObject *args, const char *first, int kept_slopes)
{
    PyObject *a_obj, *d_obj, *s_obj;
    double slope = 0.0;
    if (!PyArg_ParseTuple(args, kept_slopes ? "OOO" : "OOO|d", &a_obj, &d_obj, &s_obj,
                          &slope)) {
        return NULL;
    }
    Blocks arrays[3];
    int acquired = 0;
    PyObject *result = NULL;
    if (get_blocks(a_obj, &arrays[0], 0, 2, first) < 0) goto done;
    acquired = 1;
    if (get_blocks(d_obj, &arrays[1], 1, 2, "delta") < 0) goto done;
    acquired = 2;
    if (get_blocks(s_obj, &arrays[2], 1, 1, "column_sums") < 0) goto done;
    acquired = 3;
    const Blocks *a = &arrays[0], *d = &arrays[1], *sums = &arrays[2];
    if (d->view.ndim != a->view.ndim || !matches(a, d, a->rows, a->cols, 0) ||
        sums->view.ndim + 1 != a->view.ndim || !matches(a, sums, 1, a->cols, 0)) {
        PyErr_Format(PyExc_ValueError,
                     "delta must have the shape and dtype of %s, column_sums its runs, "
                     "width and dtype.", first);
        goto done;
    }
    if (overlaps(a, d) || overlaps(a, sums) || overlaps(d, sums)) {
        PyErr_Format(PyExc_ValueError, "%s, delta and column_sums must not share memory.",
                     first);
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < a->runs; r++) {
        if (a->dbl) {
            const double *ar = (const double *)block(a, r);
            double *dr = (double *)block(d, r), *sr = (double *)block(sums, r);
            if (kept_slopes) {
                slope_backprop_f64(ar, dr, sr, a->rows, a->cols);
            } else {
                relu_backprop_f64(ar, dr, sr, a->rows, a->cols, slope);
            }
        } else {
            const float *ar = (const float *)block(a, r);
            float *dr = (float *)block(d, r), *sr = (float *)block(sums, r);
            if (kept_slopes) {
                slope_backprop_f32(ar, dr, sr, a->rows, a->cols);
            } else {
                relu_backprop_f32(ar, dr, sr, a->rows, a->cols, (float)slope);
            }
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    release(arrays, acquired);
    return result;
}

static PyObject *
relu_backprop(PyObject *self, PyObject *args)
{
    return backprop_runs(args, "A", 0);
}

static PyObject *
slope_backprop(PyObject *self, PyObject *args)
{
    return backprop_runs(args, "slopes", 1);
}

/* ------------------------------------------------------------- periodic embeddings */

/* sin and cos of 2 pi t, t in turns, together and without branches, so that the loop
 * calling them vectorises across rows; libm's are scalar calls, several times dearer than
 * the rest of a periodic embedding. The reduction is exact in turns: q, the nearest
 * quarter turn (4 t rounded by the shifter), and r = t - q / 4, |r| <= 1/8 (Sterbenz),
 * then fdlibm's kernel polynomials for sin and cos of x = 2 pi r, |x| <= pi/4, and the
 * quadrant q mod 4 picking and signing them: within about an ulp. |t| beyond 2^40 is
 * clamped (a phase that large says nothing), NaN passes through. */
static inline void sincos_turns(double t, double *sine, double *cosine)
{
    const double shifter = 0x1.8p52, limit = 0x1p40, two_pi = 6.283185307179586476925286766559;
    const double s1 = -1.66666666666666324348e-01, s2 = 8.33333333332248946124e-03;
    const double s3 = -1.98412698298579493134e-04, s4 = 2.75573137070700676789e-06;
    const double s5 = -2.50507602534068634195e-08, s6 = 1.58969099521155010221e-10;
    const double c1 = 4.16666666666666019037e-02, c2 = -1.38888888888741095749e-03;
    const double c3 = 2.48015872894767294178e-05, c4 = -2.75573143513906633035e-07;
    const double c5 = 2.08757232129817482790e-09, c6 = -1.13596475577881948265e-11;
    const double clamped = t < -limit ? -limit : (t > limit ? limit : t);
    const double shifted = clamped * 4.0 + shifter;
    const double q = shifted - shifter;
    const double x = two_pi * (clamped - 0.25 * q);
    const double z = x * x;
    const double sin_x = x + x * z * (s1 + z * (s2 + z * (s3 + z * (s4 + z * (s5 + z * s6)))));
    const double half = 0.5 * z, w = 1.0 - half;
    const double cos_x = w + (((1.0 - w) - half) +
                              z * z * (c1 + z * (c2 + z * (c3 + z * (c4 + z * (c5 + z * c6))))));
    long long bits;
    memcpy(&bits, &shifted, sizeof bits);
    const long long quadrant = bits - 0x4338000000000000LL; /* q, from the shifter's bits */
    const double s = (quadrant & 1) ? cos_x : sin_x, c = (quadrant & 1) ? sin_x : cos_x;
    *sine = (quadrant & 2) ? -s : s;
    *cosine = ((quadrant + 1) & 2) ? -c : c;
}

/* The largest numbers of frequencies and of features per column the embedding kernels
   take. */
#define EMBED_MAX_FREQUENCIES 64
#define EMBED_MAX_DIMS 16

/* The backward pass sums over the rows in 8 lanes, row i in lane i mod 8, each lane in
   order, and adds the lanes up in a fixed tree: a machine of any vector width computes
   the same sums. The lanes are two vectors of 4 doubles (GCC's vector extension), which
   the compiler keeps in registers on every instruction set; the loop vectoriser does not
   vectorise a sum over the rows without reordering it. */
typedef double lanes4 __attribute__((vector_size(32)));
typedef double lanes4_unaligned __attribute__((vector_size(32), aligned(8)));
typedef float lanes4f_unaligned __attribute__((vector_size(16), aligned(4)));
#define EMBED_LANES 8

#define LOAD4_F64(p) (*(const lanes4_unaligned *)(p))
#define LOAD4_F32(p) __builtin_convertvector(*(const lanes4f_unaligned *)(p), lanes4)

static inline double
sum_of_lanes(const lanes4 *lanes)
{
    return ((lanes[0][0] + lanes[0][1]) + (lanes[0][2] + lanes[0][3])) +
           ((lanes[1][0] + lanes[1][1]) + (lanes[1][2] + lanes[1][3]));
}

/* Forward pass of a periodic embedding for one run. For each column j, frequency f and
   row i, the phase in turns, s (w_jf u_ji + b_jf / 2 pi), its cosine and sine, kept for
   the backward pass at [j F + f, i] (a frequency's rows side by side, so that every loop
   runs along the rows), and the column's features s (c_jd + sum_f cos V_jfd), summed in
   the order of f in `sums` (D rows of n) and written where the first layer reads them,
   features[i, j D + d]. The parameters are stored divided by `scale`. */
#define DEFINE_EMBED_FORWARD(NAME, T)                                                      \
    SKADAM_CLONES static void NAME(const T *restrict U, const T *restrict w,               \
                                   const T *restrict b, const T *restrict V,               \
                                   const T *restrict c, T *restrict cosines,               \
                                   T *restrict sines, T *restrict features,                \
                                   double *restrict sums, Py_ssize_t m, Py_ssize_t n,      \
                                   Py_ssize_t F, Py_ssize_t D, double scale)               \
    {                                                                                      \
        const double two_pi = 6.283185307179586476925286766559;                            \
        for (Py_ssize_t j = 0; j < m; j++) {                                               \
            const T *restrict u = U + j * n;                                               \
            for (Py_ssize_t d = 0; d < D; d++) {                                           \
                const double bias = scale * (double)c[j * D + d];                          \
                for (Py_ssize_t i = 0; i < n; i++) sums[d * n + i] = bias;                 \
            }                                                                              \
            for (Py_ssize_t f = 0; f < F; f++) {                                           \
                const double a = scale * (double)w[j * F + f];                             \
                const double offset = scale * (double)b[j * F + f] / two_pi;               \
                T *restrict cos_f = cosines + (j * F + f) * n;                             \
                T *restrict sin_f = sines + (j * F + f) * n;                               \
                for (Py_ssize_t i = 0; i < n; i++) {                                       \
                    double sine, cosine;                                                   \
                    sincos_turns(a * (double)u[i] + offset, &sine, &cosine);               \
                    cos_f[i] = (T)cosine;                                                  \
                    sin_f[i] = (T)sine;                                                    \
                }                                                                          \
                for (Py_ssize_t d = 0; d < D; d++) {                                       \
                    const double v = scale * (double)V[(j * F + f) * D + d];               \
                    double *restrict sum = sums + d * n;                                   \
                    for (Py_ssize_t i = 0; i < n; i++) sum[i] += (double)cos_f[i] * v;     \
                }                                                                          \
            }                                                                              \
            for (Py_ssize_t i = 0; i < n; i++)                                             \
                for (Py_ssize_t d = 0; d < D; d++)                                         \
                    features[i * m * D + j * D + d] = (T)sums[d * n + i];                  \
        }                                                                                  \
    }

DEFINE_EMBED_FORWARD(embed_forward_f64, double)
DEFINE_EMBED_FORWARD(embed_forward_f32, float)

/* Backward pass of a periodic embedding for one run, from delta[i, j D + d], the
   gradient at the features, copied column by column into `g` (D rows of n): the
   gradients of the stored (divided) parameters, each summed over the rows in the 8
   lanes. COLUMN_NAME does one column's frequencies; it is called with D = 3, a
   constant, for RealMLP's embedding, so that its lanes stay in registers. */
#define DEFINE_EMBED_BACKWARD(NAME, T, LOAD4)                                              \
    static inline __attribute__((always_inline)) void NAME##_column(                       \
        const T *restrict u, const T *restrict V, const T *restrict cosines,               \
        const T *restrict sines, const double *restrict g, T *restrict grad_w,             \
        T *restrict grad_b, T *restrict grad_V, Py_ssize_t n, Py_ssize_t F, Py_ssize_t D,  \
        double scale)                                                                      \
    {                                                                                      \
        const double two_pi = 6.283185307179586476925286766559;                            \
        const Py_ssize_t whole = n - n % EMBED_LANES;                                      \
        for (Py_ssize_t f = 0; f < F; f++) {                                               \
            const T *restrict cos_f = cosines + f * n, *restrict sin_f = sines + f * n;    \
            double mixing[EMBED_MAX_DIMS];                                                 \
            lanes4 sum_w[2] = {{0.0}}, sum_b[2] = {{0.0}}, sum_V[EMBED_MAX_DIMS][2];        \
            for (Py_ssize_t d = 0; d < D; d++) {                                           \
                mixing[d] = scale * (double)V[f * D + d];                                  \
                sum_V[d][0] = sum_V[d][1] = (lanes4){0.0};                                 \
            }                                                                              \
            for (Py_ssize_t i = 0; i < whole; i += EMBED_LANES) {                          \
                for (int h = 0; h < 2; h++) {                                              \
                    const Py_ssize_t at = i + 4 * h;                                       \
                    const lanes4 cos_i = LOAD4(cos_f + at);                                \
                    lanes4 d_cos = {0.0};                                                  \
                    for (Py_ssize_t d = 0; d < D; d++) {                                   \
                        const lanes4 g_d = LOAD4_F64(g + d * n + at);                      \
                        d_cos += g_d * mixing[d];                                          \
                        sum_V[d][h] += cos_i * g_d;                                        \
                    }                                                                      \
                    /* d cos / d phase = -sin: t is minus the gradient at the phase. */    \
                    const lanes4 t = LOAD4(sin_f + at) * d_cos;                            \
                    sum_b[h] += t;                                                         \
                    sum_w[h] += t * LOAD4(u + at);                                         \
                }                                                                          \
            }                                                                              \
            for (Py_ssize_t i = whole; i < n; i++) { /* the same sums, lane by lane */     \
                const int h = (int)(i - whole) / 4, k = (int)(i - whole) % 4;              \
                double d_cos = 0.0;                                                        \
                for (Py_ssize_t d = 0; d < D; d++) {                                       \
                    d_cos += g[d * n + i] * mixing[d];                                     \
                    sum_V[d][h][k] += (double)cos_f[i] * g[d * n + i];                     \
                }                                                                          \
                const double t = (double)sin_f[i] * d_cos;                                 \
                sum_b[h][k] += t;                                                          \
                sum_w[h][k] += t * (double)u[i];                                           \
            }                                                                              \
            grad_w[f] = (T)(-two_pi * scale * sum_of_lanes(sum_w));                        \
            grad_b[f] = (T)(-scale * sum_of_lanes(sum_b));                                 \
            for (Py_ssize_t d = 0; d < D; d++)                                             \
                grad_V[f * D + d] = (T)(scale * sum_of_lanes(sum_V[d]));                   \
        }                                                                                  \
    }                                                                                      \
                                                                                           \
    SKADAM_CLONES static void NAME(const T *restrict U, const T *restrict V,               \
                                   const T *restrict cosines, const T *restrict sines,     \
                                   const T *restrict delta, T *restrict grad_w,            \
                                   T *restrict grad_b, T *restrict grad_V,                 \
                                   T *restrict grad_c, double *restrict g, Py_ssize_t m,   \
                                   Py_ssize_t n, Py_ssize_t F, Py_ssize_t D, double scale) \
    {                                                                                      \
        const Py_ssize_t whole = n - n % EMBED_LANES;                                      \
        for (Py_ssize_t j = 0; j < m; j++) {                                               \
            for (Py_ssize_t i = 0; i < n; i++)                                             \
                for (Py_ssize_t d = 0; d < D; d++)                                         \
                    g[d * n + i] = (double)delta[i * m * D + j * D + d];                   \
            for (Py_ssize_t d = 0; d < D; d++) {                                           \
                const double *restrict g_d = g + d * n;                                    \
                lanes4 sum[2] = {{0.0}};                                                   \
                for (Py_ssize_t i = 0; i < whole; i += EMBED_LANES) {                      \
                    sum[0] += LOAD4_F64(g_d + i);                                          \
                    sum[1] += LOAD4_F64(g_d + i + 4);                                      \
                }                                                                          \
                for (Py_ssize_t i = whole; i < n; i++)                                     \
                    sum[(i - whole) / 4][(i - whole) % 4] += g_d[i];                       \
                grad_c[j * D + d] = (T)(scale * sum_of_lanes(sum));                        \
            }                                                                              \
            const T *restrict u = U + j * n, *restrict V_j = V + j * F * D;                \
            const T *restrict cos_j = cosines + j * F * n, *restrict sin_j = sines + j * F * n; \
            if (D == 3)                                                                    \
                NAME##_column(u, V_j, cos_j, sin_j, g, grad_w + j * F, grad_b + j * F,     \
                              grad_V + j * F * D, n, F, 3, scale);                         \
            else                                                                           \
                NAME##_column(u, V_j, cos_j, sin_j, g, grad_w + j * F, grad_b + j * F,     \
                              grad_V + j * F * D, n, F, D, scale);                         \
        }                                                                                  \
    }

DEFINE_EMBED_BACKWARD(embed_backward_f64, double, LOAD4_F64)
DEFINE_EMBED_BACKWARD(embed_backward_f32, float, LOAD4_F32)

/* Acquire `count` arrays by the specs given, or release what was acquired and fail. */
typedef struct {
    PyObject *obj;
    int writable;
    const char *name;
} ArraySpec;

static int
acquire_all(const ArraySpec *specs, Blocks *arrays, int count, int *acquired)
{
    for (int i = 0; i < count; i++) {
        if (get_blocks(specs[i].obj, &arrays[i], specs[i].writable, 2, specs[i].name) < 0)
            return -1;
        *acquired = i + 1;
    }
    return 0;
}

/* D rows of n doubles for an embedding kernel's sums, or NULL with MemoryError set. */
static double *
embed_scratch(Py_ssize_t n, Py_ssize_t D)
{
    double *scratch = PyMem_RawMalloc((size_t)(n > 0 ? n : 1) * (size_t)D * sizeof(double));
    if (scratch == NULL) PyErr_NoMemory();
    return scratch;
}

/* Shapes of the embedding kernels' arrays: U (m, n); per run w and b (m, F), V (m, F D),
   c (m, D), cosines and sines (m F, n), features and delta (n, m D). */
static int
embedding_shapes(const Blocks *U, const Blocks *w, const Blocks *b, const Blocks *V,
                 const Blocks *c, const Blocks *cosines, const Blocks *sines,
                 const Blocks *features, Py_ssize_t *F, Py_ssize_t *D)
{
    const Py_ssize_t m = U->rows, n = U->cols;
    *F = w->cols;
    *D = c->cols;
    int ok = U->view.ndim == 2 && *F >= 1 && *F <= EMBED_MAX_FREQUENCIES && *D >= 1 &&
             *D <= EMBED_MAX_DIMS && w->rows == m && matches(w, b, m, *F, 0) &&
             matches(w, V, m, *F * *D, 0) && matches(w, c, m, *D, 0) &&
             matches(w, cosines, m * *F, n, 0) && matches(w, sines, m * *F, n, 0) &&
             matches(w, features, n, m * *D, 0) && matches(w, U, m, n, 1);
    const Blocks *per_run[7] = {w, b, V, c, cosines, sines, features};
    for (int i = 0; ok && i < 7; i++) ok = per_run[i]->view.ndim == 3;
    if (!ok) {
        PyErr_Format(PyExc_ValueError,
                     "the embedding kernels need U (m, n) and, with a leading axis of runs, "
                     "w and b (m, F), V (m, F * D), c (m, D), cosines and sines (m * F, n), "
                     "features or delta (n, m * D), all of one dtype, with F <= %d and "
                     "D <= %d.", EMBED_MAX_FREQUENCIES, EMBED_MAX_DIMS);
        return -1;
    }
    return 0;
}

static int
any_overlap(const Blocks *arrays, int count, int first_output)
{
    for (int i = first_output; i < count; i++) {
        for (int j = 0; j < count; j++) {
            if (i != j && overlaps(&arrays[i], &arrays[j])) {
                PyErr_SetString(PyExc_ValueError,
                                "an embedding kernel's outputs must not share memory with "
                                "each other or with its inputs.");
                return 1;
            }
        }
    }
    return 0;
}

PyDoc_STRVAR(embed_forward_doc,
"embed_forward(U, w, b, V, c, scale, cosines, sines, features)\n"
"--\n\n"
"Periodic embedding of m columns: for U of shape (m, n) (the columns' values,\n"
"transposed) and, per run k, the stored parameters w and b (m, F), V (m, F * D) and c\n"
"(m, D), each multiplied by scale, with phases 2 pi w[j, f] U[j, i] + b[j, f]:\n"
"cosines and sines (m * F, n) of the phases, at [j * F + f, i], and features\n"
"(n, m * D), features[i, j * D + d] = sum_f cos * V[j, f * D + d] + c[j, d]. Computed\n"
"in double precision, the sums in a fixed order.");

static PyObject *
embed_forward(PyObject *self, PyObject *args)
{
    ArraySpec specs[8] = {{NULL, 0, "U"}, {NULL, 0, "w"}, {NULL, 0, "b"}, {NULL, 0, "V"},
                          {NULL, 0, "c"}, {NULL, 1, "cosines"}, {NULL, 1, "sines"},
                          {NULL, 1, "features"}};
    double scale;
    if (!PyArg_ParseTuple(args, "OOOOOdOOO", &specs[0].obj, &specs[1].obj, &specs[2].obj,
                          &specs[3].obj, &specs[4].obj, &scale, &specs[5].obj,
                          &specs[6].obj, &specs[7].obj)) {
        return NULL;
    }
    Blocks a[8];
    int acquired = 0;
    PyObject *result = NULL;
    double *sums = NULL;
    Py_ssize_t F, D;
    if (acquire_all(specs, a, 8, &acquired) < 0) goto done;
    if (embedding_shapes(&a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6], &a[7], &F, &D) < 0)
        goto done;
    if (any_overlap(a, 8, 5)) goto done;
    const Py_ssize_t m = a[0].rows, n = a[0].cols;
    if ((sums = embed_scratch(n, D)) == NULL) goto done;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < a[1].runs; r++) {
        if (a[1].dbl) {
            embed_forward_f64((const double *)a[0].view.buf, (const double *)block(&a[1], r),
                              (const double *)block(&a[2], r),
                              (const double *)block(&a[3], r),
                              (const double *)block(&a[4], r), (double *)block(&a[5], r),
                              (double *)block(&a[6], r), (double *)block(&a[7], r), sums, m,
                              n, F, D, scale);
        } else {
            embed_forward_f32((const float *)a[0].view.buf, (const float *)block(&a[1], r),
                              (const float *)block(&a[2], r), (const float *)block(&a[3], r),
                              (const float *)block(&a[4], r), (float *)block(&a[5], r),
                              (float *)block(&a[6], r), (float *)block(&a[7], r), sums, m, n,
                              F, D, scale);
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyMem_RawFree(sums);
    release(a, acquired);
    return result;
}

PyDoc_STRVAR(embed_backward_doc,
"embed_backward(U, V, scale, cosines, sines, delta, grad_w, grad_b, grad_V, grad_c)\n"
"--\n\n"
"Backward pass of embed_forward: from delta (n, m * D) per run, the gradient at the\n"
"features, and the cosines and sines the forward pass kept, the gradients of the\n"
"stored parameters w, b (m, F), V (m, F * D) and c (m, D), summed over the rows in a\n"
"fixed order (8 lanes, row i in lane i mod 8, added up in a fixed tree).");

static PyObject *
embed_backward(PyObject *self, PyObject *args)
{
    ArraySpec specs[9] = {{NULL, 0, "U"}, {NULL, 0, "V"}, {NULL, 0, "cosines"},
                          {NULL, 0, "sines"}, {NULL, 0, "delta"}, {NULL, 1, "grad_w"},
                          {NULL, 1, "grad_b"}, {NULL, 1, "grad_V"}, {NULL, 1, "grad_c"}};
    double scale;
    if (!PyArg_ParseTuple(args, "OOdOOOOOOO", &specs[0].obj, &specs[1].obj, &scale,
                          &specs[2].obj, &specs[3].obj, &specs[4].obj, &specs[5].obj,
                          &specs[6].obj, &specs[7].obj, &specs[8].obj)) {
        return NULL;
    }
    Blocks a[9];
    int acquired = 0;
    PyObject *result = NULL;
    double *g = NULL;
    Py_ssize_t F, D;
    if (acquire_all(specs, a, 9, &acquired) < 0) goto done;
    /* grad_w, grad_b, V, grad_c, cosines, sines, delta in the roles of the forward's. */
    if (embedding_shapes(&a[0], &a[5], &a[6], &a[1], &a[8], &a[2], &a[3], &a[4], &F, &D) < 0 ||
        !matches(&a[5], &a[7], a[5].rows, F * D, 0) || a[7].view.ndim != 3) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "grad_V must have V's shape and dtype.");
        goto done;
    }
    if (any_overlap(a, 9, 5)) goto done;
    const Py_ssize_t m = a[0].rows, n = a[0].cols;
    if ((g = embed_scratch(n, D)) == NULL) goto done;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < a[5].runs; r++) {
        if (a[5].dbl) {
            embed_backward_f64((const double *)a[0].view.buf, (const double *)block(&a[1], r),
                               (const double *)block(&a[2], r),
                               (const double *)block(&a[3], r),
                               (const double *)block(&a[4], r), (double *)block(&a[5], r),
                               (double *)block(&a[6], r), (double *)block(&a[7], r),
                               (double *)block(&a[8], r), g, m, n, F, D, scale);
        } else {
            embed_backward_f32((const float *)a[0].view.buf, (const float *)block(&a[1], r),
                               (const float *)block(&a[2], r), (const float *)block(&a[3], r),
                               (const float *)block(&a[4], r), (float *)block(&a[5], r),
                               (float *)block(&a[6], r), (float *)block(&a[7], r),
                               (float *)block(&a[8], r), g, m, n, F, D, scale);
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyMem_RawFree(g);
    release(a, acquired);
    return result;
}

/* ------------------------------------------------------------ subnormal numbers */

/* Weights that only the L2 penalty moves, and Adam's moments of gradients that stay
   zero, decay towards zero geometrically and end up subnormal; every product that reads
   a subnormal number takes a microcode assist of about a hundred cycles on x86, so a
   long fit slowed down fourfold as its dead units' weights became subnormal. Training
   therefore treats subnormal numbers as zero, inputs (DAZ) and results (FTZ), in the
   threads that train: the same flags on every x86-64 instruction set, FZ on ARM64. */
#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#define SUBNORMAL_FLAGS 0x8040u /* MXCSR's flush-to-zero (bit 15) and denormals-are-zero (6) */
static unsigned long long get_fp_mode(void) { return _mm_getcsr(); }
static void set_fp_mode(unsigned long long mode) { _mm_setcsr((unsigned int)mode); }
#elif defined(__aarch64__) && defined(__GNUC__)
#define SUBNORMAL_FLAGS (1ull << 24) /* FPCR's FZ */
static unsigned long long get_fp_mode(void)
{
    unsigned long long mode;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(mode));
    return mode;
}
static void set_fp_mode(unsigned long long mode) { __asm__ __volatile__("msr fpcr, %0" : : "r"(mode)); }
#else
#define SUBNORMAL_FLAGS 0ull /* elsewhere subnormal numbers are kept (and slow) */
static unsigned long long get_fp_mode(void) { return 0; }
static void set_fp_mode(unsigned long long mode) { (void)mode; }
#endif

PyDoc_STRVAR(flush_subnormals_doc,
"flush_subnormals(on=None)\n"
"--\n\n"
"Treat subnormal floating-point numbers as zero in the calling thread (on=True), or\n"
"keep them (on=False), or leave the mode as it is (None); return whether they were\n"
"flushed before the call. Without the hardware's flags (neither x86-64 nor ARM64)\n"
"nothing changes and the result is False.");

static PyObject *
flush_subnormals(PyObject *self, PyObject *args)
{
    PyObject *on = Py_None;
    if (!PyArg_ParseTuple(args, "|O", &on)) {
        return NULL;
    }
    const unsigned long long mode = get_fp_mode();
    const int was_on = SUBNORMAL_FLAGS != 0 && (mode & SUBNORMAL_FLAGS) == SUBNORMAL_FLAGS;
    if (on != Py_None) {
        const int flush = PyObject_IsTrue(on);
        if (flush < 0) return NULL;
        set_fp_mode(flush ? (mode | SUBNORMAL_FLAGS) : (mode & ~SUBNORMAL_FLAGS));
    }
    return PyBool_FromLong(was_on);
}

static PyMethodDef methods[] = {
    {"adam", adam, METH_VARARGS, adam_doc},
    {"add_scaled", add_scaled, METH_VARARGS, add_scaled_doc},
    {"move_towards", move_towards, METH_VARARGS, move_towards_doc},
    {"all_finite", all_finite, METH_VARARGS, all_finite_doc},
    {"bias_relu", bias_relu, METH_VARARGS, bias_relu_doc},
    {"relu_backprop", relu_backprop, METH_VARARGS, relu_backprop_doc},
    {"bias_mish", bias_mish, METH_VARARGS, bias_mish_doc},
    {"slope_backprop", slope_backprop, METH_VARARGS, slope_backprop_doc},
    {"softmax_cross_entropy", softmax_cross_entropy, METH_VARARGS, softmax_cross_entropy_doc},
    {"sigmoid_cross_entropy", sigmoid_cross_entropy, METH_VARARGS, sigmoid_cross_entropy_doc},
    {"embed_forward", embed_forward, METH_VARARGS, embed_forward_doc},
    {"embed_backward", embed_backward, METH_VARARGS, embed_backward_doc},
    {"flush_subnormals", flush_subnormals, METH_VARARGS, flush_subnormals_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernels",
    "Fused element-wise kernels of the training loop; they release the GIL.", -1,
    methods,
};

PyMODINIT_FUNC
PyInit__kernels(void)
{
    return PyModule_Create(&module);
}
