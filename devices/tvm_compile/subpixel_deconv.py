"""A strided transposed convolution rewritten as a convolution on the LR grid + pixel shuffle.

TVM 0.27 lowers ``nn.conv2d_transpose`` by inserting stride-1 zeros between the input pixels and
running a dense conv over the result: for FSRCNN's 9x9, stride-4 deconvolution 56→3 at 90x160
that is 3.1 G multiply-adds, 16x the 196 M the layer needs (TVM tuned 70 ms, onnxruntime 14 ms
for the whole network, benchmarks/results/compile_local_cpu.csv). When the output is exactly
stride x the input (as in every SR upsampler), output pixel ``s*i + r`` of phase ``r`` reads input
pixels ``i + t`` through kernel tap ``r + pad - s*t`` only, so the layer equals one ordinary conv
with ``s*s*C_out`` outputs and a ``ceil(k/s)``-ish kernel (taps that fall outside the original
kernel are zero), followed by a pixel shuffle (Shi et al., ESPCN, CVPR 2016, make the same
observation). The new weights are computed once from the constant kernel; the result is exact.
"""
from __future__ import annotations

import math

import numpy as np

from devices.tvm_compile.relax_rewrite import rewrite_functions


def phase_taps(stride: int, pad: int, kernel: int) -> tuple[int, int]:
    """(t_lo, t_hi): the input offsets any phase reads (t in [t_lo, t_hi])."""
    t_lo = min(math.ceil((r + pad - kernel + 1) / stride) for r in range(stride))
    t_hi = max((r + pad) // stride for r in range(stride))
    return t_lo, t_hi


def subpixel_weight(weight: np.ndarray, stride: tuple[int, int], pad: tuple[int, int]) -> np.ndarray:
    """Conv weight (s_h*s_w*C_out, C_in, K_h, K_w) equal to a transposed-conv weight
    (C_in, C_out, k_h, k_w) (IOHW), its output channels ordered as PixelShuffle reads them."""
    c_in, c_out, k_h, k_w = weight.shape
    (s_h, s_w), (p_h, p_w) = stride, pad
    (lo_h, hi_h), (lo_w, hi_w) = phase_taps(s_h, p_h, k_h), phase_taps(s_w, p_w, k_w)
    out = np.zeros((c_out, s_h, s_w, c_in, hi_h - lo_h + 1, hi_w - lo_w + 1), dtype=weight.dtype)
    for r_h in range(s_h):
        for m_h in range(hi_h - lo_h + 1):
            tap_h = r_h + p_h - s_h * (m_h + lo_h)
            if not 0 <= tap_h < k_h:
                continue
            for r_w in range(s_w):
                for m_w in range(hi_w - lo_w + 1):
                    tap_w = r_w + p_w - s_w * (m_w + lo_w)
                    if 0 <= tap_w < k_w:
                        out[:, r_h, r_w, :, m_h, m_w] = weight[:, :, tap_h, tap_w].T
    return out.reshape(c_out * s_h * s_w, c_in, hi_h - lo_h + 1, hi_w - lo_w + 1)


def _plan(call):
    """(stride, pad, (lo_h, hi_h), (lo_w, hi_w)) when `call` can be rewritten, else None."""
    a = call.attrs
    if (int(a.groups) != 1 or str(a.data_layout) != "NCHW" or str(a.kernel_layout) != "IOHW"
            or str(a.out_layout) != "NCHW" or any(int(d) != 1 for d in a.dilation)):
        return None
    shape = call.args[0].ty.shape
    weight_shape = call.args[1].ty.shape
    if shape is None or weight_shape is None:
        return None
    _, _, h, w = (int(v) for v in shape)
    k_h, k_w = int(weight_shape[2]), int(weight_shape[3])
    (s_h, s_w), pads, out_pad = [int(v) for v in a.strides], [int(v) for v in a.padding], [int(v) for v in a.output_padding]
    p_h, p_w, p_b, p_r = pads if len(pads) == 4 else (pads[0], pads[1], pads[0], pads[1])
    if (h - 1) * s_h - p_h - p_b + k_h + out_pad[0] != s_h * h or (w - 1) * s_w - p_w - p_r + k_w + out_pad[1] != s_w * w:
        return None
    taps_h, taps_w = phase_taps(s_h, p_h, k_h), phase_taps(s_w, p_w, k_w)
    if min(-taps_h[0], taps_h[1], -taps_w[0], taps_w[1]) < 0:
        return None
    return (s_h, s_w), (p_h, p_w), taps_h, taps_w


def rewrite(mod):
    """`mod` with every rewritable conv2d_transpose (constant weight, NCHW, output = stride x
    input) replaced by conv2d + pixel shuffle; other calls are left as they are."""
    import tvm
    from tvm import relax
    from tvm.relax.expr_functor import PyExprMutator, mutator

    const_type = type(relax.const(0.0))

    @mutator
    class SubpixelDeconv(PyExprMutator):
        def visit_call_(self, call):
            call = super().visit_call_(call)
            if not (isinstance(call.op, tvm.ir.Op) and call.op.name == "relax.nn.conv2d_transpose"
                    and isinstance(call.args[1], const_type)):
                return call
            plan = _plan(call)
            if plan is None:
                return call
            stride, pad, (lo_h, hi_h), (lo_w, hi_w) = plan
            x, weight = call.args
            kernel = subpixel_weight(weight.value.numpy(), stride, pad)
            c_out = kernel.shape[0] // (stride[0] * stride[1])
            n, _, h, w = (int(v) for v in x.ty.shape)
            dtype = str(call.attrs.out_dtype)
            y = relax.op.nn.conv2d(x, relax.const(kernel), padding=[-lo_h, -lo_w, hi_h, hi_w],
                                   out_dtype=dtype if dtype and dtype != "void" else None)
            y = relax.op.reshape(y, [n, c_out, stride[0], stride[1], h, w])
            y = relax.op.permute_dims(y, [0, 1, 4, 2, 5, 3])
            return relax.op.reshape(y, [n, c_out, h * stride[0], w * stride[1]])

    return rewrite_functions(mod, SubpixelDeconv)
