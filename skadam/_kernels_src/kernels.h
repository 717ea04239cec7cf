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
 *
 * This header holds what the files of the module share: the stacks of blocks and the
 * acquisition and checks of their arrays (defined in blocks.c), the exp every family
 * that needs one calls, and the prototypes of each family's functions and docstrings,
 * which module.c's table reads. One file per family of kernels, so that each family's
 * loops, checks and documentation read together.
 */
#ifndef SKADAM_KERNELS_H
#define SKADAM_KERNELS_H

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

/* What one file defines for another stays out of the shared object's exports, which
   hold PyInit__kernels alone, so that no other library's symbol of the same name can
   stand in for it. */
#if defined(__GNUC__)
#define SKADAM_INTERNAL __attribute__((visibility("hidden")))
#else
#define SKADAM_INTERNAL
#endif

/* A docstring defined beside its function and read by module.c's table. */
#define KERNEL_DOC(name, text) const char name[] = PyDoc_STR(text)

/* ------------------------------------------------------------------ stacks of blocks */

/* An array acquired as K blocks, one per run: `block_ndim` axes per block (1: a vector,
   2: a matrix), with or without a leading axis of runs (K = 1 without). */
typedef struct {
    Py_buffer view;
    Py_ssize_t runs, run_stride; /* run_stride in bytes */
    Py_ssize_t rows, cols;       /* a block's shape; rows = 1 for vectors */
    int dbl;
} Blocks;

SKADAM_INTERNAL int get_blocks(PyObject *obj, Blocks *b, int writable, int block_ndim,
                               const char *name);

static inline char *
block(const Blocks *b, Py_ssize_t run)
{
    return (char *)b->view.buf + run * b->run_stride;
}

SKADAM_INTERNAL int overlaps(const Blocks *a, const Blocks *b);

SKADAM_INTERNAL int matches(const Blocks *a, const Blocks *b, Py_ssize_t rows,
                            Py_ssize_t cols, int shared);

/* b has a's axes, runs, block shape and dtype: an output, or a buffer, beside its input. */
static inline int
same_blocks(const Blocks *a, const Blocks *b)
{
    return b->view.ndim == a->view.ndim && matches(a, b, a->rows, a->cols, 0);
}

/* b holds one vector of `cols` values per run of a, in a's dtype: an axis fewer than a,
   whose blocks are matrices (an intercept, column sums, a loss per row). */
static inline int
vector_per_run(const Blocks *a, const Blocks *b, Py_ssize_t cols)
{
    return b->view.ndim + 1 == a->view.ndim && matches(a, b, 1, cols, 0);
}

SKADAM_INTERNAL void release(Blocks *arrays, int n);

/* An array a kernel takes: the object passed, whether the kernel writes it, the axes of
   a run's block, and its name in the error messages. */
typedef struct {
    PyObject *obj;
    int writable;
    int block_ndim;
    const char *name;
} ArraySpec;

SKADAM_INTERNAL int acquire_all(const ArraySpec *specs, Blocks *arrays, int count,
                                int *acquired);

SKADAM_INTERNAL int find_overlap(const Blocks *arrays, int count, int first_output,
                                 int *first, int *second);

SKADAM_INTERNAL int refuse_overlap(const Blocks *arrays, const char *const *names, int count,
                                   int first_output);

/* Whether a buffer holds int64 values, as NumPy's buffers name them ('l' or 'q'). */
static inline int
is_int64(const Py_buffer *view)
{
    return view->format != NULL && view->itemsize == (Py_ssize_t)sizeof(long long) &&
           strchr("lq", view->format[0]) != NULL;
}

SKADAM_INTERNAL double *read_all_run_values(PyObject *const *objects,
                                            const char *const *names, int count,
                                            Py_ssize_t k);

/* An activation's backward pass over one run's block: delta times the derivative read
   from `a`, column_sums its column sums; `slope` is the leaky ReLU's below zero. */
typedef void (*backprop_f64)(const double *restrict a, double *restrict delta,
                             double *restrict column_sums, Py_ssize_t n_rows,
                             Py_ssize_t width, double slope);
typedef void (*backprop_f32)(const float *restrict a, float *restrict delta,
                             float *restrict column_sums, Py_ssize_t n_rows,
                             Py_ssize_t width, float slope);

SKADAM_INTERNAL PyObject *backprop_runs(PyObject *args, const char *first, int takes_slope,
                                        backprop_f64 f64, backprop_f32 f32);

/* ------------------------------------------------------------------- sums in lanes */

/* A long sum (over a batch's rows, or a matrix row's columns) runs in 8 lanes, term i in
   lane i mod 8, each lane in order, and the lanes are added up in a fixed tree: a
   machine of any vector width computes the same sums. The lanes are two vectors of 4
   doubles (GCC's vector extension), which the compiler keeps in registers on every
   instruction set; the loop vectoriser does not vectorise a sum without reordering it. */
typedef double lanes4 __attribute__((vector_size(32)));
typedef double lanes4_unaligned __attribute__((vector_size(32), aligned(8)));
typedef float lanes4f_unaligned __attribute__((vector_size(16), aligned(4)));
#define SUM_LANES 8

#define LOAD4_F64(p) (*(const lanes4_unaligned *)(p))
#define LOAD4_F32(p) __builtin_convertvector(*(const lanes4f_unaligned *)(p), lanes4)

static inline double
sum_of_lanes(const lanes4 *lanes)
{
    return ((lanes[0][0] + lanes[0][1]) + (lanes[0][2] + lanes[0][3])) +
           ((lanes[1][0] + lanes[1][1]) + (lanes[1][2] + lanes[1][3]));
}

/* -------------------------------------------------------------------- branchless exp */

/* exp without branches, so that the compiler vectorises the loops calling it (the
 * cross-entropies' and Mish's); libm's is a scalar call and made the cross-entropy of a
 * wide output the dearest step after the matrix products. It works in double precision,
 * within about an ulp.
 *
 * x = k ln2 + r with |r| <= ln2/2 (Cody and Waite's two-part ln2, exact products for
 * |k| < 2^21), exp(r) by its Taylor series to r^13 (truncation below 1e-17), and 2^k
 * built in the exponent bits, in two factors so that results down to the smallest
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

/* ------------------------------------------------------------ the module's functions */

/* Each family's functions and docstrings, for module.c's method table. */
#define KERNEL_FUNCTION(name)                                                              \
    SKADAM_INTERNAL PyObject *name(PyObject *self, PyObject *args);                       \
    SKADAM_INTERNAL extern const char name##_doc[]

KERNEL_FUNCTION(adam);                  /* adam.c */
KERNEL_FUNCTION(add_scaled);            /* penalty.c */
KERNEL_FUNCTION(move_towards);          /* penalty.c */
KERNEL_FUNCTION(all_finite);            /* finite.c */
KERNEL_FUNCTION(bias_relu);             /* relu.c */
KERNEL_FUNCTION(relu_backprop);         /* relu.c */
KERNEL_FUNCTION(bias_mish);             /* mish.c */
KERNEL_FUNCTION(slope_backprop);        /* mish.c */
KERNEL_FUNCTION(softmax_cross_entropy); /* cross_entropy.c */
KERNEL_FUNCTION(sigmoid_cross_entropy); /* cross_entropy.c */
KERNEL_FUNCTION(embed_forward);         /* embedding.c */
KERNEL_FUNCTION(embed_backward);        /* embedding.c */
KERNEL_FUNCTION(piecewise_forward);     /* piecewise.c */
KERNEL_FUNCTION(piecewise_backward);    /* piecewise.c */
KERNEL_FUNCTION(narrow_product);        /* narrow.c */
KERNEL_FUNCTION(scale_rows);            /* scales.c */
KERNEL_FUNCTION(scale_rows_backward);   /* scales.c */
KERNEL_FUNCTION(flush_subnormals);      /* fp_mode.c */

#endif /* SKADAM_KERNELS_H */
