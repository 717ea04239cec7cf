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
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
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
                p[i] -= step_size * (mi / (SQRT(vi + epsilon_root) + epsilon));             \
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
                p[i] -= step_size * (mi / (SQRT(wi + epsilon_root) + epsilon));             \
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
"adam(params, grad, m, v, v_max, beta_1, beta_2, step_size, epsilon, epsilon_root, shrink,\n"
"     n_decayed)\n"
"--\n\n"
"One Adam step in place: params[:n_decayed] *= shrink, then\n"
"m = beta_1*m + (1-beta_1)*g, v = beta_2*v + (1-beta_2)*g*g,\n"
"params -= step_size * m / (sqrt(w + epsilon_root) + epsilon), with w = v, or\n"
"w = max(v_max, v) for AMSGrad.\n"
"v_max is None, or the AMSGrad running maximum of the raw v, updated in place.\n"
"With epsilon_root = 0 the step is exactly the one without it (v + 0 == v for v >= 0).\n"
"params may also be a 2-D stack of independent runs, one per row, with every buffer of\n"
"its shape; each of the six hyperparameters is then a number for all rows or a float64\n"
"vector with one value per row.");

static PyObject *
adam(PyObject *self, PyObject *args)
{
    enum { N_HYPER = 6 };
    PyObject *objects[5], *hyper_objects[N_HYPER];
    Py_ssize_t n_decayed;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOn", &objects[0], &objects[1], &objects[2],
                          &objects[3], &objects[4], &hyper_objects[0], &hyper_objects[1],
                          &hyper_objects[2], &hyper_objects[3], &hyper_objects[4],
                          &hyper_objects[5], &n_decayed)) {
        return NULL;
    }
    static const char *names[5] = {"params", "grad", "m", "v", "v_max"};
    static const char *hyper_names[N_HYPER] = {"beta_1", "beta_2", "step_size", "epsilon",
                                               "epsilon_root", "shrink"};
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
    hyper = PyMem_Malloc(N_HYPER * (n_rows > 0 ? n_rows : 1) * sizeof(double));
    if (hyper == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (int h = 0; h < N_HYPER; h++) {
        if (read_row_values(hyper_objects[h], n_rows, hyper + h * n_rows, hyper_names[h]) < 0) {
            goto done;
        }
    }
    n_decayed = n_decayed < 0 ? 0 : (n_decayed > n ? n : n_decayed);
    const double *b1 = hyper, *b2 = hyper + n_rows, *step = hyper + 2 * n_rows,
                 *eps = hyper + 3 * n_rows, *eps_root = hyper + 4 * n_rows,
                 *shrink = hyper + 5 * n_rows;
    int dbl = is_double(&views[0]);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < n_rows; r++) {
        if (dbl) {
            double *base[5];
            for (int i = 0; i < n_views; i++) base[i] = (double *)views[i].buf + r * n;
            adam_f64(base[0], base[1], base[2], base[3], n_views == 5 ? base[4] : NULL, n,
                     n_decayed, b1[r], b2[r], step[r], eps[r], eps_root[r], shrink[r]);
        } else {
            float *base[5];
            for (int i = 0; i < n_views; i++) base[i] = (float *)views[i].buf + r * n;
            adam_f32(base[0], base[1], base[2], base[3], n_views == 5 ? base[4] : NULL, n,
                     n_decayed, (float)b1[r], (float)b2[r], (float)step[r], (float)eps[r],
                     (float)eps_root[r], (float)shrink[r]);
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
