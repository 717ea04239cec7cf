/*
 * The cross-entropies of the classifiers' outputs: softmax over classes with int64 class
 * codes, and sigmoid per output with 0/1 targets; each writes the losses per row and the
 * gradient at the raw outputs in one call.
 */
#include "kernels.h"

/* log without branches, as exp_branchless (kernels.h), so that the compiler vectorises
 * the loop calling it: libm's is a scalar call, which made the cross-entropy of a wide
 * output the dearest step after the matrix products. It works in double precision,
 * within about an ulp.
 *
 * log of a positive normal x: x = 2^e m with m in [sqrt(2)/2, sqrt(2)), then fdlibm's
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

KERNEL_DOC(softmax_cross_entropy_doc,
"softmax_cross_entropy(raw, codes, out, losses)\n"
"--\n\n"
"Per row of raw (n_rows, n_classes): out = softmax(raw) - onehot(codes) and\n"
"losses = logsumexp(raw) - raw[codes], with codes int64 class indices. out may be raw.\n"
"For a stack, raw and out are (K, n_rows, n_classes) and losses (K, n_rows); the codes\n"
"are the same for every run.");

PyObject *
softmax_cross_entropy(PyObject *self, PyObject *args)
{
    PyObject *raw_obj, *codes_obj, *out_obj, *losses_obj;
    if (!PyArg_ParseTuple(args, "OOOO", &raw_obj, &codes_obj, &out_obj, &losses_obj)) {
        return NULL;
    }
    const ArraySpec specs[3] = {{raw_obj, 0, 2, "raw"}, {out_obj, 1, 2, "out"},
                                {losses_obj, 1, 1, "losses"}};
    Blocks arrays[3];
    Py_buffer codes;
    int acquired = 0, have_codes = 0;
    PyObject *result = NULL;
    if (acquire_all(specs, arrays, 3, &acquired) < 0) goto done;
    if (PyObject_GetBuffer(codes_obj, &codes, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) goto done;
    have_codes = 1;
    if (codes.ndim != 1 || !is_int64(&codes)) {
        PyErr_SetString(PyExc_ValueError, "codes must be a contiguous 1-D int64 array.");
        goto done;
    }
    const Blocks *raw = &arrays[0], *out = &arrays[1], *losses = &arrays[2];
    const Py_ssize_t n_rows = raw->rows, k = raw->cols;
    if (codes.shape[0] != n_rows || !same_blocks(raw, out) ||
        !vector_per_run(raw, losses, n_rows) || k == 0) {
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

KERNEL_DOC(sigmoid_cross_entropy_doc,
"sigmoid_cross_entropy(raw, Y, out, losses)\n"
"--\n\n"
"For raw and 0/1 targets Y of shape (n_rows, n_outputs): per row, losses = the mean over\n"
"outputs of log(1 + exp(raw)) - Y * raw, and out = (sigmoid(raw) - Y) / n_outputs, its\n"
"gradient. out may be raw. For a stack, raw and out are (K, n_rows, n_outputs) and\n"
"losses (K, n_rows); Y is the same for every run.");

PyObject *
sigmoid_cross_entropy(PyObject *self, PyObject *args)
{
    PyObject *raw_obj, *y_obj, *out_obj, *losses_obj;
    if (!PyArg_ParseTuple(args, "OOOO", &raw_obj, &y_obj, &out_obj, &losses_obj)) {
        return NULL;
    }
    const ArraySpec specs[4] = {{raw_obj, 0, 2, "raw"}, {y_obj, 0, 2, "Y"},
                                {out_obj, 1, 2, "out"}, {losses_obj, 1, 1, "losses"}};
    Blocks arrays[4];
    int acquired = 0;
    PyObject *result = NULL;
    if (acquire_all(specs, arrays, 4, &acquired) < 0) goto done;
    const Blocks *raw = &arrays[0], *y = &arrays[1], *out = &arrays[2], *losses = &arrays[3];
    const Py_ssize_t n_rows = raw->rows, k = raw->cols;
    if (y->view.ndim != 2 || !matches(raw, y, n_rows, k, 1) || !same_blocks(raw, out) ||
        !vector_per_run(raw, losses, n_rows) || k == 0) {
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
