/*
 * Periodic embeddings of numeric columns: the forward pass (the phases' cosines and sines,
 * kept, and the features mixed from them) and its backward pass (the gradients of the
 * embedding's parameters), one run of a stack at a time, summed in a fixed order.
 */
#include "kernels.h"

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
        const Py_ssize_t whole = n - n % SUM_LANES;                                        \
        for (Py_ssize_t f = 0; f < F; f++) {                                               \
            const T *restrict cos_f = cosines + f * n, *restrict sin_f = sines + f * n;    \
            double mixing[EMBED_MAX_DIMS];                                                 \
            lanes4 sum_w[2] = {{0.0}}, sum_b[2] = {{0.0}}, sum_V[EMBED_MAX_DIMS][2];        \
            for (Py_ssize_t d = 0; d < D; d++) {                                           \
                mixing[d] = scale * (double)V[f * D + d];                                  \
                sum_V[d][0] = sum_V[d][1] = (lanes4){0.0};                                 \
            }                                                                              \
            for (Py_ssize_t i = 0; i < whole; i += SUM_LANES) {                            \
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
        const Py_ssize_t whole = n - n % SUM_LANES;                                        \
        for (Py_ssize_t j = 0; j < m; j++) {                                               \
            for (Py_ssize_t i = 0; i < n; i++)                                             \
                for (Py_ssize_t d = 0; d < D; d++)                                         \
                    g[d * n + i] = (double)delta[i * m * D + j * D + d];                   \
            for (Py_ssize_t d = 0; d < D; d++) {                                           \
                const double *restrict g_d = g + d * n;                                    \
                lanes4 sum[2] = {{0.0}};                                                   \
                for (Py_ssize_t i = 0; i < whole; i += SUM_LANES) {                        \
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

KERNEL_DOC(embed_forward_doc,
"embed_forward(U, w, b, V, c, scale, cosines, sines, features)\n"
"--\n\n"
"Periodic embedding of m columns: for U of shape (m, n) (the columns' values,\n"
"transposed) and, per run k, the stored parameters w and b (m, F), V (m, F * D) and c\n"
"(m, D), each multiplied by scale, with phases 2 pi w[j, f] U[j, i] + b[j, f]:\n"
"cosines and sines (m * F, n) of the phases, at [j * F + f, i], and features\n"
"(n, m * D), features[i, j * D + d] = sum_f cos * V[j, f * D + d] + c[j, d]. Computed\n"
"in double precision, the sums in a fixed order.");

PyObject *
embed_forward(PyObject *self, PyObject *args)
{
    static const char *const names[8] = {"U", "w", "b", "V", "c", "cosines", "sines",
                                         "features"};
    ArraySpec specs[8] = {{NULL, 0, 2, names[0]}, {NULL, 0, 2, names[1]},
                          {NULL, 0, 2, names[2]}, {NULL, 0, 2, names[3]},
                          {NULL, 0, 2, names[4]}, {NULL, 1, 2, names[5]},
                          {NULL, 1, 2, names[6]}, {NULL, 1, 2, names[7]}};
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
    if (refuse_overlap(a, names, 8, 5)) goto done;
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

KERNEL_DOC(embed_backward_doc,
"embed_backward(U, V, scale, cosines, sines, delta, grad_w, grad_b, grad_V, grad_c)\n"
"--\n\n"
"Backward pass of embed_forward: from delta (n, m * D) per run, the gradient at the\n"
"features, and the cosines and sines the forward pass kept, the gradients of the\n"
"stored parameters w, b (m, F), V (m, F * D) and c (m, D), summed over the rows in a\n"
"fixed order (8 lanes, row i in lane i mod 8, added up in a fixed tree).");

PyObject *
embed_backward(PyObject *self, PyObject *args)
{
    static const char *const names[9] = {"U", "V", "cosines", "sines", "delta", "grad_w",
                                         "grad_b", "grad_V", "grad_c"};
    ArraySpec specs[9] = {{NULL, 0, 2, names[0]}, {NULL, 0, 2, names[1]},
                          {NULL, 0, 2, names[2]}, {NULL, 0, 2, names[3]},
                          {NULL, 0, 2, names[4]}, {NULL, 1, 2, names[5]},
                          {NULL, 1, 2, names[6]}, {NULL, 1, 2, names[7]},
                          {NULL, 1, 2, names[8]}};
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
    if (refuse_overlap(a, names, 9, 5)) goto done;
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
