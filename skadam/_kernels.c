/*
 * Fused element-wise kernels for the training loop's hot spots.
 *
 * An Adam step written as NumPy ufuncs makes about a dozen passes over the parameter
 * buffer; one loop here reads params, grad, m and v once and writes them once, which is
 * what bounds the step on a CPU. The loops carry `restrict` pointers so that the
 * compiler vectorises them, and release the GIL so that the caller can split a large
 * buffer between threads. Floating-point contraction is turned off (setup.py) so that
 * the results do not depend on the instruction set the machine picks.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
/* One build that runs everywhere, with an AVX2 copy picked at load time where the CPU
   has it: twice the width of the SSE2 baseline. */
#define SKADAM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SKADAM_CLONES
#endif

#define DEFINE_ADAM(NAME, T, SQRT)                                                         \
    SKADAM_CLONES static void NAME(                                                        \
        T *restrict p, const T *restrict g, T *restrict m, T *restrict v,                 \
        T *restrict v_max, Py_ssize_t n, Py_ssize_t n_decayed, T beta_1, T beta_2,        \
        T step_size, T epsilon, T shrink)                                                 \
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
                p[i] -= step_size * (mi / (SQRT(vi) + epsilon));                           \
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
                p[i] -= step_size * (mi / (SQRT(wi) + epsilon));                           \
            }                                                                              \
        }                                                                                  \
    }

DEFINE_ADAM(adam_f64, double, sqrt)
DEFINE_ADAM(adam_f32, float, sqrtf)

#define DEFINE_ADD_SCALED(NAME, T)                                                         \
    SKADAM_CLONES static void NAME(T *restrict y, const T *restrict x, Py_ssize_t n,      \
                                   T alpha)                                                \
    {                                                                                      \
        for (Py_ssize_t i = 0; i < n; i++) y[i] += alpha * x[i];                           \
    }

DEFINE_ADD_SCALED(add_scaled_f64, double)
DEFINE_ADD_SCALED(add_scaled_f32, float)

/* Acquire a C-contiguous buffer of doubles ('d') or floats ('f') with `ndim` axes. */
static int
get_array(PyObject *obj, Py_buffer *view, int writable, int ndim, const char *name)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        return -1;
    }
    if (view->ndim != ndim || view->format == NULL ||
        !(strcmp(view->format, "d") == 0 || strcmp(view->format, "f") == 0)) {
        PyErr_Format(PyExc_ValueError,
                     "%s must be a contiguous %d-D float64 or float32 array.", name, ndim);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static int
get_vector(PyObject *obj, Py_buffer *view, int writable, const char *name)
{
    return get_array(obj, view, writable, 1, name);
}

static int
is_double(Py_buffer *view)
{
    return strcmp(view->format, "d") == 0;
}

static int
same_layout(Py_buffer *a, Py_buffer *b, const char *name)
{
    if (a->shape[0] != b->shape[0] || strcmp(a->format, b->format) != 0) {
        PyErr_Format(PyExc_ValueError,
                     "%s must have the length and dtype of params.", name);
        return -1;
    }
    return 0;
}

static int
overlaps(Py_buffer *a, Py_buffer *b)
{
    const char *a0 = a->buf, *b0 = b->buf;
    return a0 < b0 + b->len && b0 < a0 + a->len;
}

/* Fill `out[0:k]` from a number (the same for every row) or a float64 vector of k values. */
static int
read_row_values(PyObject *obj, Py_ssize_t k, double *out, const char *name)
{
    if (PyFloat_Check(obj) || PyLong_Check(obj)) {
        double value = PyFloat_AsDouble(obj);
        if (value == -1.0 && PyErr_Occurred()) return -1;
        for (Py_ssize_t i = 0; i < k; i++) out[i] = value;
        return 0;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    int ok = view.ndim == 1 && view.shape[0] == k && view.format != NULL &&
             strcmp(view.format, "d") == 0;
    if (ok) {
        memcpy(out, view.buf, k * sizeof(double));
    } else {
        PyErr_Format(PyExc_ValueError,
                     "%s must be a number or a float64 vector with one value per row of "
                     "params (%zd).", name, k);
    }
    PyBuffer_Release(&view);
    return ok ? 0 : -1;
}

PyDoc_STRVAR(adam_doc,
"adam(params, grad, m, v, v_max, beta_1, beta_2, step_size, epsilon, shrink, n_decayed)\n"
"--\n\n"
"One Adam step in place: params[:n_decayed] *= shrink, then\n"
"m = beta_1*m + (1-beta_1)*g, v = beta_2*v + (1-beta_2)*g*g,\n"
"params -= step_size * m / (sqrt(v or max(v_max, v)) + epsilon).\n"
"v_max is None, or the AMSGrad running maximum, updated in place.\n"
"params may also be a 2-D stack of independent runs, one per row, with every buffer of\n"
"its shape; each of the five hyperparameters is then a number for all rows or a float64\n"
"vector with one value per row.");

static PyObject *
adam(PyObject *self, PyObject *args)
{
    PyObject *objects[5], *hyper_objects[5];
    Py_ssize_t n_decayed;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOn", &objects[0], &objects[1], &objects[2],
                          &objects[3], &objects[4], &hyper_objects[0], &hyper_objects[1],
                          &hyper_objects[2], &hyper_objects[3], &hyper_objects[4],
                          &n_decayed)) {
        return NULL;
    }
    static const char *names[5] = {"params", "grad", "m", "v", "v_max"};
    static const char *hyper_names[5] = {"beta_1", "beta_2", "step_size", "epsilon", "shrink"};
    Py_buffer views[5];
    int n_views = objects[4] == Py_None ? 4 : 5, acquired = 0;
    double *hyper = NULL;
    PyObject *result = NULL;
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT;
    for (; acquired < n_views; acquired++) {
        Py_buffer *view = &views[acquired];
        if (PyObject_GetBuffer(objects[acquired], view,
                               flags | (acquired != 1 ? PyBUF_WRITABLE : 0)) < 0) {
            goto done;
        }
        int ndim_ok = acquired == 0 ? (view->ndim == 1 || view->ndim == 2)
                                    : view->ndim == views[0].ndim;
        int shape_ok = ndim_ok && (acquired == 0 || (view->shape[0] == views[0].shape[0] &&
                                   (view->ndim == 1 || view->shape[1] == views[0].shape[1])));
        if (!shape_ok || view->format == NULL ||
            !(strcmp(view->format, "d") == 0 || strcmp(view->format, "f") == 0) ||
            strcmp(view->format, views[0].format) != 0) {
            PyErr_Format(PyExc_ValueError,
                         "%s must be a contiguous float64 or float32 array of params' "
                         "shape and dtype (params: 1-D, or 2-D with one run per row).",
                         names[acquired]);
            acquired++;
            goto done;
        }
    }
    for (int i = 0; i < n_views; i++) {
        for (int j = i + 1; j < n_views; j++) {
            if (overlaps(&views[i], &views[j])) {
                PyErr_Format(PyExc_ValueError, "%s and %s must not share memory.",
                             names[i], names[j]);
                goto done;
            }
        }
    }
    Py_ssize_t n_rows = views[0].ndim == 2 ? views[0].shape[0] : 1;
    Py_ssize_t n = views[0].ndim == 2 ? views[0].shape[1] : views[0].shape[0];
    hyper = PyMem_Malloc(5 * (n_rows > 0 ? n_rows : 1) * sizeof(double));
    if (hyper == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (int h = 0; h < 5; h++) {
        if (read_row_values(hyper_objects[h], n_rows, hyper + h * n_rows, hyper_names[h]) < 0) {
            goto done;
        }
    }
    n_decayed = n_decayed < 0 ? 0 : (n_decayed > n ? n : n_decayed);
    const double *b1 = hyper, *b2 = hyper + n_rows, *step = hyper + 2 * n_rows,
                 *eps = hyper + 3 * n_rows, *shrink = hyper + 4 * n_rows;
    int dbl = is_double(&views[0]);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < n_rows; r++) {
        if (dbl) {
            double *base[5];
            for (int i = 0; i < n_views; i++) base[i] = (double *)views[i].buf + r * n;
            adam_f64(base[0], base[1], base[2], base[3], n_views == 5 ? base[4] : NULL, n,
                     n_decayed, b1[r], b2[r], step[r], eps[r], shrink[r]);
        } else {
            float *base[5];
            for (int i = 0; i < n_views; i++) base[i] = (float *)views[i].buf + r * n;
            adam_f32(base[0], base[1], base[2], base[3], n_views == 5 ? base[4] : NULL, n,
                     n_decayed, (float)b1[r], (float)b2[r], (float)step[r], (float)eps[r],
                     (float)shrink[r]);
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyMem_Free(hyper);
    for (int i = 0; i < acquired; i++) {
        PyBuffer_Release(&views[i]);
    }
    return result;
}

PyDoc_STRVAR(add_scaled_doc,
"add_scaled(y, x, alpha)\n"
"--\n\n"
"y += alpha * x in place, with no temporary array.");

static PyObject *
add_scaled(PyObject *self, PyObject *args)
{
    PyObject *y_obj, *x_obj;
    double alpha;
    if (!PyArg_ParseTuple(args, "OOd", &y_obj, &x_obj, &alpha)) {
        return NULL;
    }
    Py_buffer y, x;
    if (get_vector(y_obj, &y, 1, "y") < 0) {
        return NULL;
    }
    if (get_vector(x_obj, &x, 0, "x") < 0) {
        PyBuffer_Release(&y);
        return NULL;
    }
    PyObject *result = NULL;
    if (same_layout(&y, &x, "x") == 0) {
        if (overlaps(&y, &x)) {
            PyErr_SetString(PyExc_ValueError, "y and x must not share memory.");
        } else {
            Py_BEGIN_ALLOW_THREADS
            if (is_double(&y)) {
                add_scaled_f64(y.buf, x.buf, y.shape[0], alpha);
            } else {
                add_scaled_f32(y.buf, x.buf, y.shape[0], (float)alpha);
            }
            Py_END_ALLOW_THREADS
            result = Py_None;
            Py_INCREF(result);
        }
    }
    PyBuffer_Release(&x);
    PyBuffer_Release(&y);
    return result;
}

#define DEFINE_BIAS_RELU(NAME, T)                                                          \
    SKADAM_CLONES static void NAME(T *restrict z, const T *restrict b, Py_ssize_t n_rows,  \
                                   Py_ssize_t width)                                       \
    {                                                                                      \
        for (Py_ssize_t r = 0; r < n_rows; r++, z += width) {                              \
            for (Py_ssize_t j = 0; j < width; j++) {                                       \
                const T x = z[j] + b[j];                                                   \
                z[j] = x < (T)0 ? (T)0 : x; /* NaN passes, as in np.maximum */             \
            }                                                                              \
        }                                                                                  \
    }

DEFINE_BIAS_RELU(bias_relu_f64, double)
DEFINE_BIAS_RELU(bias_relu_f32, float)

PyDoc_STRVAR(bias_relu_doc,
"bias_relu(Z, b)\n"
"--\n\n"
"Z = max(Z + b, 0) in place, for Z of shape (n_rows, width) and b of shape (width,).");

static PyObject *
bias_relu(PyObject *self, PyObject *args)
{
    PyObject *z_obj, *b_obj;
    if (!PyArg_ParseTuple(args, "OO", &z_obj, &b_obj)) {
        return NULL;
    }
    Py_buffer z, b;
    if (get_array(z_obj, &z, 1, 2, "Z") < 0) {
        return NULL;
    }
    if (get_vector(b_obj, &b, 0, "b") < 0) {
        PyBuffer_Release(&z);
        return NULL;
    }
    PyObject *result = NULL;
    if (b.shape[0] != z.shape[1] || strcmp(b.format, z.format) != 0) {
        PyErr_SetString(PyExc_ValueError, "b must have Z's width and dtype.");
    } else if (overlaps(&z, &b)) {
        PyErr_SetString(PyExc_ValueError, "Z and b must not share memory.");
    } else {
        Py_BEGIN_ALLOW_THREADS
        if (is_double(&z)) {
            bias_relu_f64(z.buf, b.buf, z.shape[0], z.shape[1]);
        } else {
            bias_relu_f32(z.buf, b.buf, z.shape[0], z.shape[1]);
        }
        Py_END_ALLOW_THREADS
        result = Py_None;
        Py_INCREF(result);
    }
    PyBuffer_Release(&b);
    PyBuffer_Release(&z);
    return result;
}

#define DEFINE_RELU_BACKPROP(NAME, T)                                                      \
    SKADAM_CLONES static void NAME(const T *restrict a, T *restrict delta,                \
                                   T *restrict column_sums, Py_ssize_t n_rows,             \
                                   Py_ssize_t width)                                       \
    {                                                                                      \
        for (Py_ssize_t j = 0; j < width; j++) column_sums[j] = 0;                         \
        for (Py_ssize_t r = 0; r < n_rows; r++, a += width, delta += width) {              \
            for (Py_ssize_t j = 0; j < width; j++) {                                       \
                const T d = a[j] > (T)0 ? delta[j] : (T)0;                                 \
                delta[j] = d;                                                              \
                column_sums[j] += d;                                                       \
            }                                                                              \
        }                                                                                  \
    }

DEFINE_RELU_BACKPROP(relu_backprop_f64, double)
DEFINE_RELU_BACKPROP(relu_backprop_f32, float)

PyDoc_STRVAR(relu_backprop_doc,
"relu_backprop(A, delta, column_sums)\n"
"--\n\n"
"delta = where(A > 0, delta, 0) in place, for A and delta of shape (n_rows, width),\n"
"and column_sums = delta.sum(axis=0), the layer's intercept gradient, in the same pass.");

static PyObject *
relu_backprop(PyObject *self, PyObject *args)
{
    PyObject *a_obj, *d_obj, *s_obj;
    if (!PyArg_ParseTuple(args, "OOO", &a_obj, &d_obj, &s_obj)) {
        return NULL;
    }
    Py_buffer a, d, sums;
    if (get_array(a_obj, &a, 0, 2, "A") < 0) {
        return NULL;
    }
    if (get_array(d_obj, &d, 1, 2, "delta") < 0) {
        PyBuffer_Release(&a);
        return NULL;
    }
    if (get_vector(s_obj, &sums, 1, "column_sums") < 0) {
        PyBuffer_Release(&d);
        PyBuffer_Release(&a);
        return NULL;
    }
    PyObject *result = NULL;
    if (a.shape[0] != d.shape[0] || a.shape[1] != d.shape[1] || sums.shape[0] != a.shape[1] ||
        strcmp(a.format, d.format) != 0 || strcmp(a.format, sums.format) != 0) {
        PyErr_SetString(PyExc_ValueError,
                        "delta must have A's shape and dtype, column_sums A's width and dtype.");
    } else if (overlaps(&a, &d) || overlaps(&a, &sums) || overlaps(&d, &sums)) {
        PyErr_SetString(PyExc_ValueError, "A, delta and column_sums must not share memory.");
    } else {
        Py_BEGIN_ALLOW_THREADS
        if (is_double(&a)) {
            relu_backprop_f64(a.buf, d.buf, sums.buf, a.shape[0], a.shape[1]);
        } else {
            relu_backprop_f32(a.buf, d.buf, sums.buf, a.shape[0], a.shape[1]);
        }
        Py_END_ALLOW_THREADS
        result = Py_None;
        Py_INCREF(result);
    }
    PyBuffer_Release(&sums);
    PyBuffer_Release(&d);
    PyBuffer_Release(&a);
    return result;
}

#define DEFINE_SOFTMAX_CROSS_ENTROPY(NAME, T, EXP, LOG)                                    \
    /* Rows whose code is out of range are left for the caller to report: returns the */  \
    /* first such row, or -1. `raw` may be `out` itself. */                              \
    static Py_ssize_t NAME(const T *raw, const long long *codes, T *out, T *losses,       \
                           Py_ssize_t n_rows, Py_ssize_t k)                                \
    {                                                                                      \
        for (Py_ssize_t r = 0; r < n_rows; r++, raw += k, out += k) {                      \
            const long long c = codes[r];                                                  \
            if (c < 0 || c >= k) return r;                                                 \
            T top = raw[0];                                                                \
            for (Py_ssize_t j = 1; j < k; j++) top = raw[j] > top ? raw[j] : top;          \
            const T true_shifted = raw[c] - top;                                           \
            T total = 0;                                                                   \
            for (Py_ssize_t j = 0; j < k; j++) {                                           \
                /* exp(0) is exactly 1: the top class costs no exponential. */             \
                const T shifted = raw[j] - top;                                            \
                const T e = shifted == 0 ? (T)1 : EXP(shifted);                            \
                out[j] = e;                                                                \
                total += e;                                                                \
            }                                                                              \
            const T inverse = (T)1 / total;                                                \
            for (Py_ssize_t j = 0; j < k; j++) out[j] *= inverse;                          \
            out[c] -= (T)1;                                                                \
            losses[r] = LOG(total) - true_shifted;                                         \
        }                                                                                  \
        return -1;                                                                         \
    }

DEFINE_SOFTMAX_CROSS_ENTROPY(softmax_cross_entropy_f64, double, exp, log)
DEFINE_SOFTMAX_CROSS_ENTROPY(softmax_cross_entropy_f32, float, expf, logf)

PyDoc_STRVAR(softmax_cross_entropy_doc,
"softmax_cross_entropy(raw, codes, out, losses)\n"
"--\n\n"
"Per row of raw (n_rows, n_classes): out = softmax(raw) - onehot(codes) and\n"
"losses = logsumexp(raw) - raw[codes], with codes int64 class indices. out may be raw.");

static PyObject *
softmax_cross_entropy(PyObject *self, PyObject *args)
{
    PyObject *raw_obj, *codes_obj, *out_obj, *losses_obj;
    if (!PyArg_ParseTuple(args, "OOOO", &raw_obj, &codes_obj, &out_obj, &losses_obj)) {
        return NULL;
    }
    Py_buffer raw, codes, out, losses;
    int acquired = 0;
    PyObject *result = NULL;
    if (get_array(raw_obj, &raw, 0, 2, "raw") < 0) goto done;
    acquired = 1;
    if (PyObject_GetBuffer(codes_obj, &codes, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) goto done;
    acquired = 2;
    if (codes.ndim != 1 || codes.itemsize != (Py_ssize_t)sizeof(long long) ||
        codes.format == NULL || strchr("lq", codes.format[0]) == NULL) {
        PyErr_SetString(PyExc_ValueError, "codes must be a contiguous 1-D int64 array.");
        goto done;
    }
    if (get_array(out_obj, &out, 1, 2, "out") < 0) goto done;
    acquired = 3;
    if (get_vector(losses_obj, &losses, 1, "losses") < 0) goto done;
    acquired = 4;
    Py_ssize_t n_rows = raw.shape[0], k = raw.shape[1];
    if (codes.shape[0] != n_rows || out.shape[0] != n_rows || out.shape[1] != k ||
        losses.shape[0] != n_rows || strcmp(out.format, raw.format) != 0 ||
        strcmp(losses.format, raw.format) != 0 || k == 0) {
        PyErr_SetString(PyExc_ValueError,
                        "out must have raw's shape and dtype, codes and losses one entry "
                        "per row of raw, losses raw's dtype.");
        goto done;
    }
    Py_ssize_t bad;
    Py_BEGIN_ALLOW_THREADS
    if (is_double(&raw)) {
        bad = softmax_cross_entropy_f64(raw.buf, codes.buf, out.buf, losses.buf, n_rows, k);
    } else {
        bad = softmax_cross_entropy_f32(raw.buf, codes.buf, out.buf, losses.buf, n_rows, k);
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
    if (acquired >= 4) PyBuffer_Release(&losses);
    if (acquired >= 3) PyBuffer_Release(&out);
    if (acquired >= 2) PyBuffer_Release(&codes);
    if (acquired >= 1) PyBuffer_Release(&raw);
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
"gradient. out may be raw.");

static PyObject *
sigmoid_cross_entropy(PyObject *self, PyObject *args)
{
    PyObject *raw_obj, *y_obj, *out_obj, *losses_obj;
    if (!PyArg_ParseTuple(args, "OOOO", &raw_obj, &y_obj, &out_obj, &losses_obj)) {
        return NULL;
    }
    Py_buffer raw, y, out, losses;
    int acquired = 0;
    PyObject *result = NULL;
    if (get_array(raw_obj, &raw, 0, 2, "raw") < 0) goto done;
    acquired = 1;
    if (get_array(y_obj, &y, 0, 2, "Y") < 0) goto done;
    acquired = 2;
    if (get_array(out_obj, &out, 1, 2, "out") < 0) goto done;
    acquired = 3;
    if (get_vector(losses_obj, &losses, 1, "losses") < 0) goto done;
    acquired = 4;
    Py_ssize_t n_rows = raw.shape[0], k = raw.shape[1];
    if (y.shape[0] != n_rows || y.shape[1] != k || out.shape[0] != n_rows ||
        out.shape[1] != k || losses.shape[0] != n_rows || k == 0 ||
        strcmp(y.format, raw.format) != 0 || strcmp(out.format, raw.format) != 0 ||
        strcmp(losses.format, raw.format) != 0) {
        PyErr_SetString(PyExc_ValueError,
                        "Y and out must have raw's shape and dtype, losses one entry per "
                        "row of raw and raw's dtype.");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    if (is_double(&raw)) {
        sigmoid_cross_entropy_f64(raw.buf, y.buf, out.buf, losses.buf, n_rows, k);
    } else {
        sigmoid_cross_entropy_f32(raw.buf, y.buf, out.buf, losses.buf, n_rows, k);
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    if (acquired >= 4) PyBuffer_Release(&losses);
    if (acquired >= 3) PyBuffer_Release(&out);
    if (acquired >= 2) PyBuffer_Release(&y);
    if (acquired >= 1) PyBuffer_Release(&raw);
    return result;
}

static PyMethodDef methods[] = {
    {"adam", adam, METH_VARARGS, adam_doc},
    {"add_scaled", add_scaled, METH_VARARGS, add_scaled_doc},
    {"bias_relu", bias_relu, METH_VARARGS, bias_relu_doc},
    {"relu_backprop", relu_backprop, METH_VARARGS, relu_backprop_doc},
    {"softmax_cross_entropy", softmax_cross_entropy, METH_VARARGS, softmax_cross_entropy_doc},
    {"sigmoid_cross_entropy", sigmoid_cross_entropy, METH_VARARGS, sigmoid_cross_entropy_doc},
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
