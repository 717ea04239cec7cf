/*
 * The floating-point mode of the calling thread: whether subnormal numbers are flushed
 * to zero, on x86-64 and ARM64.
 */
#include "kernels.h"

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

KERNEL_DOC(flush_subnormals_doc,
"flush_subnormals(on=None)\n"
"--\n\n"
"Treat subnormal floating-point numbers as zero in the calling thread (on=True), or\n"
"keep them (on=False), or leave the mode as it is (None); return whether they were\n"
"flushed before the call. Without the hardware's flags (neither x86-64 nor ARM64)\n"
"nothing changes and the result is False.");

PyObject *
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
