/*
 * Adam: the fused step over the parameters and their moments, one run of a stack at a
 * time, and the step's coefficients from each run's hyperparameters.
 */
#include "kernels.h"

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

KERNEL_DOC(adam_doc,
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

PyObject *
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
    static const char *const names[5] = {"params", "grad", "m", "v", "v_max"};
    static const char *const value_names[N_VALUES] = {"beta_1", "beta_2", "learning_rate",
                                                      "epsilon", "epsilon_root",
                                                      "weight_decay", "t"};
    Blocks arrays[5];
    int n_arrays = objects[4] == Py_None ? 4 : 5, acquired = 0;
    double *values = NULL;
    PyObject *result = NULL;
    for (; acquired < n_arrays; acquired++) {
        if (get_blocks(objects[acquired], &arrays[acquired], acquired != 1, 1,
                       names[acquired]) < 0) {
            goto done;
        }
        /* Each array checked against params before the next is acquired: a mismatch is
           the error reported, even where a later array could not be read either. */
        if (acquired > 0 && !same_blocks(&arrays[0], &arrays[acquired])) {
            PyErr_Format(PyExc_ValueError, "%s must have the shape and dtype of params.",
                         names[acquired]);
            acquired++;
            goto done;
        }
    }
    if (refuse_overlap(arrays, names, n_arrays, 0)) goto done;
    const Py_ssize_t runs = arrays[0].runs, n = arrays[0].cols;
    values = read_all_run_values(value_objects, value_names, N_VALUES, runs);
    if (values == NULL) goto done;
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
