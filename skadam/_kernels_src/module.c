/*
 * The module skadam._kernels: its method table, which reads each family's functions and
 * docstrings from the family's file, and its initialisation.
 */
#include "kernels.h"

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
    {"piecewise_forward", piecewise_forward, METH_VARARGS, piecewise_forward_doc},
    {"piecewise_backward", piecewise_backward, METH_VARARGS, piecewise_backward_doc},
    {"narrow_product", narrow_product, METH_VARARGS, narrow_product_doc},
    {"scale_rows", scale_rows, METH_VARARGS, scale_rows_doc},
    {"scale_rows_backward", scale_rows_backward, METH_VARARGS, scale_rows_backward_doc},
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
