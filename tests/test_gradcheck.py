"""Every differentiable op of API.md, gradient-checked in float64 against central differences.

One parametrised harness: each case is ``(f, input makers)``; the inputs are float64 arrays
(they become leaves that require grad), so the check covers every floating input. The
harness also checks that values and gradients stay float64. Inputs avoid kinks (relu/abs
away from 0, max/min/pool without near-ties, clip away from its bounds).
"""
import zlib

import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
import zerodl.nn.functional as NF
from zerodl.utils import GradCheckResult, gradient_check, numerical_grad


# ----- input makers: each takes the case's generator ------------------------------------
def N(*shape):
    """Standard normal values."""
    return lambda rng: rng.standard_normal(shape)


def P(*shape, lo=0.5, hi=2.0):
    """Positive values (log, sqrt, div denominators, probabilities)."""
    return lambda rng: rng.uniform(lo, hi, shape)


def D(*shape, gap=0.1):
    """Distinct values at least ``gap`` apart and away from 0 (max, min, pools, relu, clip)."""

    def make(rng):
        n = int(np.prod(shape))
        v = (rng.permutation(n) - n / 2 + 0.5) * gap  # ..., -0.15, -0.05, 0.05, 0.15, ...
        return v.reshape(shape)

    return make


def A(arr):
    """A fixed array (constants given as inputs)."""
    return lambda rng: np.array(arr, dtype=np.float64)


def _seeded_dropout(p):
    def f(x):
        zd.manual_seed(7)  # the same mask on every call
        return F.dropout(x, p=p, training=True)

    return f


def _bn(training, layout):
    C = 3

    def f(x, gamma, beta):
        rm, rv = np.full(C, 0.1), np.full(C, 2.0)  # fresh stats on every call
        return F.batch_norm(x, gamma, beta, rm, rv, training=training)

    return f


_HAS_CONV = all(hasattr(F, n) for n in ("conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "im2col", "col2im"))
_conv = pytest.mark.skipif(not _HAS_CONV, reason="zerodl/functions/conv.py not written yet")

def _all_outputs(outputs):
    """(hs (N, T, H), hT (N, H)[, cT]) joined into one (N, T*H + H[+ H]) tensor."""
    hs, *last = outputs
    return F.concat([hs.reshape(hs.shape[0], -1), *last], axis=1)


def _sdpa_dropout(q, k, v):
    zd.manual_seed(3)  # the same dropout mask on every call
    return F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)


def _sdpa_both(q, k, v):
    """out and weights both feed the check (the weights are differentiable too)."""
    out, w = F.scaled_dot_product_attention(q, k, v, mask=CAUSAL, return_weights=True)
    return F.concat([out.reshape(2, -1), w.reshape(2, -1)], axis=1)


def _layer(make):
    """A layer built once in float64 (seeded): the check covers its inputs' gradients; its
    parameters are checked with ``gradient_check(params=...)`` in tests/test_attention.py."""
    import zerodl.nn as nn

    zd.manual_seed(11)
    with zd.default_dtype(np.float64):
        return make(nn)


_MHA = _layer(lambda nn: nn.MultiheadAttention(4, 2))
_ENC = _layer(lambda nn: nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0))
_DEC = _layer(lambda nn: nn.TransformerDecoderLayer(4, 2, dim_feedforward=6, dropout=0.0, norm_first=True))
_PE = _layer(lambda nn: nn.SinusoidalPositionalEncoding(4, max_len=8, scale=2.0))


CAUSAL = np.tril(np.ones((3, 4), dtype=bool))
PAD = np.array([[True, True, False, False], [True, True, True, True]])[:, None, :]  # (N, 1, Tk)
ROW_MASKED = np.array([[True, False, True, True], [False, False, False, False], [True, True, False, True]])
def _upsample(x):
    return nn.Upsample(scale_factor=2, mode="bilinear")(x)


ONEHOT = np.eye(4)[[0, 2, 1]]
IGNORED = np.array([1, -100, 0, 2])
CW = np.array([0.5, 2.0, 1.5])
SOFT = np.array([[0.2, 0.3, 0.1, 0.4], [0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1]])

CASES = [
    # --- arithmetic, with broadcasting ---
    ("add", F.add, [N(3, 4), N(3, 4)]),
    ("add_bcast_row", F.add, [N(3, 4), N(4)]),
    ("add_bcast_3d", F.add, [N(2, 1, 3), N(4, 1)]),
    ("add_operator_scalar", lambda x: x + 2.5, [N(3, 2)]),
    ("sub", F.sub, [N(3, 4), N(3, 1)]),
    ("rsub_operator", lambda x: 1.0 - x, [N(2, 3)]),
    ("mul", F.mul, [N(3, 4), N(3, 4)]),
    ("mul_bcast_3d", F.mul, [N(2, 1, 3), N(4, 1)]),
    ("div", F.div, [N(3, 4), P(4)]),
    ("div_bcast", F.div, [N(2, 1, 3), P(4, 1)]),
    ("rdiv_operator", lambda x: 2.0 / x, [P(2, 3)]),
    ("neg", F.neg, [N(3, 4)]),
    ("pow_const", lambda x: F.pow(x, 3), [N(3, 4)]),
    ("pow_operator", lambda x: x ** 2.5, [P(3, 2)]),
    ("pow_tensor_exp", F.pow, [P(3, 4), N(4)]),
    ("exp", F.exp, [N(3, 4)]),
    ("log", F.log, [P(3, 4)]),
    ("sqrt", F.sqrt, [P(3, 4)]),
    ("matmul", F.matmul, [N(3, 4), N(4, 2)]),
    ("matmul_batched", F.matmul, [N(2, 3, 4), N(2, 4, 5)]),
    ("matmul_batched_shared_W", F.matmul, [N(2, 3, 4), N(4, 2)]),
    ("matmul_bcast_batch", F.matmul, [N(2, 1, 3, 4), N(3, 4, 2)]),
    ("matmul_vec_mat", F.matmul, [N(4), N(4, 3)]),
    ("matmul_mat_vec", F.matmul, [N(3, 4), N(4)]),
    ("matmul_vec_vec", F.matmul, [N(4), N(4)]),
    # --- reductions and shape ---
    ("sum_all", F.sum, [N(3, 4)]),
    ("sum_axis", lambda x: F.sum(x, axis=1), [N(2, 3, 4)]),
    ("sum_axes_keepdims", lambda x: F.sum(x, axis=(0, 2), keepdims=True), [N(2, 3, 4)]),
    ("mean_all", F.mean, [N(3, 4)]),
    ("mean_axis_neg", lambda x: F.mean(x, axis=-1), [N(2, 3, 4)]),
    ("mean_keepdims", lambda x: x.mean(axis=0, keepdims=True), [N(3, 4)]),
    ("max_all", F.max, [D(3, 4)]),
    ("max_axis", lambda x: F.max(x, axis=1), [D(2, 3, 4)]),
    ("max_keepdims", lambda x: F.max(x, axis=0, keepdims=True), [D(3, 4)]),
    ("min_axis", lambda x: F.min(x, axis=-1), [D(3, 4)]),
    ("min_all", F.min, [D(2, 3)]),
    ("reshape", lambda x: F.reshape(x, (4, 3)), [N(2, 6)]),
    ("reshape_method", lambda x: x.reshape(3, -1) * N(3, 4)(np.random.default_rng(1)), [N(12)]),
    ("transpose", F.transpose, [N(3, 4)]),
    ("transpose_axes", lambda x: F.transpose(x, 1, 2, 0), [N(2, 3, 4)]),
    ("transpose_neg_axes", lambda x: x.transpose(0, -1, 1), [N(2, 3, 4)]),
    ("T", lambda x: x.T, [N(3, 4)]),
    ("transpose_swap_2d", lambda x: x.transpose(0, 1), [N(3, 4)]),
    ("transpose_swap_3d", lambda x: x.transpose(1, 2), [N(2, 3, 4)]),
    ("permute", lambda x: x.permute(2, 0, 1), [N(2, 3, 4)]),
    ("view_unsqueeze_flatten", lambda x: x.view(6, 2).unsqueeze(1).flatten(1) * 1.0, [N(3, 4)]),
    ("squeeze", lambda x: x.squeeze(1) * 1.0, [N(3, 1, 2)]),
    ("sum_dim_keepdim", lambda x: x.sum(dim=1, keepdim=True), [N(2, 3, 4)]),
    ("mean_dim", lambda x: F.mean(x, dim=(0, 2)), [N(2, 3, 4)]),
    ("max_dim_values", lambda x: x.max(dim=1)[0], [D(3, 4)]),
    ("min_dim_keepdim_values", lambda x: F.min(x, dim=0, keepdim=True).values, [D(3, 4)]),
    ("gather", lambda x: x.gather(1, np.array([[0, 0], [2, 1], [3, 3]])), [N(3, 4)]),
    ("cat_dim", lambda a, b: zd.cat([a, b], dim=1), [N(2, 2), N(2, 3)]),
    ("abs", F.abs, [D(3, 4)]),
    ("clone", lambda x: x.clone() * x, [N(3, 4)]),
    ("broadcast_to", lambda x: F.broadcast_to(x, (2, 3)), [N(3)]),
    ("broadcast_to_3d", lambda x: F.broadcast_to(x, (2, 4, 3)), [N(2, 1, 3)]),
    ("sum_to", lambda x: F.sum_to(x, (3, 1)), [N(2, 3, 4)]),
    ("sum_to_lead", lambda x: F.sum_to(x, (4,)), [N(2, 3, 4)]),
    ("getitem_int", lambda x: x[1], [N(3, 4)]),
    ("getitem_slice", lambda x: x[1:, ::2], [N(3, 4)]),
    ("getitem_ellipsis_none", lambda x: x[None, ..., 1], [N(2, 3, 4)]),
    ("getitem_array_repeats", lambda x: x[np.array([0, 0, 2, 0])], [N(3, 4)]),
    ("getitem_list_repeats", lambda x: x[[1, 1, 2]], [N(3, 2)]),
    ("getitem_2d_array", lambda x: F.getitem(x, np.array([[0, 1], [1, 1]])), [N(3, 2)]),
    ("getitem_tuple_arrays", lambda x: x[np.array([0, 1, 1]), np.array([2, 0, 2])], [N(3, 4)]),
    ("getitem_mixed", lambda x: x[:, np.array([3, 3, 0])], [N(2, 4)]),
    ("concat_axis0", lambda a, b, c: F.concat([a, b, c], axis=0), [N(2, 3), N(1, 3), N(3, 3)]),
    ("concat_axis_neg", lambda a, b: F.concat([a, b], axis=-1), [N(2, 2), N(2, 3)]),
    ("stack", lambda a, b, c: F.stack([a, b, c], axis=1), [N(2, 3), N(2, 3), N(2, 3)]),
    ("stack_last", lambda a, b: F.stack([a, b], axis=-1), [N(3), N(3)]),
    ("clip", lambda x: F.clip(x, -0.2, 0.3), [D(3, 4)]),
    ("clip_method", lambda x: x.clip(-0.2, None), [D(3, 4)]),
    ("where", lambda x, y: F.where(np.array([[True, False, True]]), x, y), [N(2, 3), N(2, 3)]),
    ("where_bcast", lambda x, y: F.where(np.array([True, False, True]), x, y), [N(2, 3), N(3)]),
    ("linear", F.linear, [N(3, 4), N(4, 2), N(2)]),
    ("linear_nobias", F.linear, [N(3, 4), N(4, 2)]),
    ("linear_3d", F.linear, [N(2, 3, 4), N(4, 2), N(2)]),
    # --- activations ---
    ("sigmoid", F.sigmoid, [N(3, 4)]),
    ("sigmoid_tails", F.sigmoid, [A([[-30.0, -8.0, 8.0, 25.0]])]),
    ("tanh", F.tanh, [N(3, 4)]),
    ("relu", F.relu, [D(3, 4)]),
    ("leaky_relu", F.leaky_relu, [D(3, 4)]),
    ("leaky_relu_slope", lambda x: F.leaky_relu(x, slope=0.2), [D(3, 4)]),
    ("leaky_relu_slope_gt1", lambda x: F.leaky_relu(x, slope=1.5), [D(3, 4)]),
    ("gelu", F.gelu, [N(3, 4)]),
    ("gelu_wide", F.gelu, [A([[-9.0, -4.0, -0.6, 0.3, 1.0, 6.0]])]),
    ("softmax", F.softmax, [N(3, 4)]),
    ("softmax_axis0", lambda x: F.softmax(x, axis=0), [N(3, 4)]),
    ("softmax_3d", lambda x: F.softmax(x, axis=1), [N(2, 3, 2)]),
    ("log_softmax", F.log_softmax, [N(3, 4)]),
    ("log_softmax_axis0", lambda x: F.log_softmax(x, axis=0), [N(3, 4)]),
    ("identity", lambda x: F.identity(x) * 1.0, [N(3, 4)]),
    # --- losses ---
    ("mean_squared_error", F.mean_squared_error, [N(3, 4), N(3, 4)]),
    ("sum_squared_error", F.sum_squared_error, [N(3, 4), N(3, 4)]),
    ("mean_absolute_error", lambda y: F.mean_absolute_error(y, np.zeros((3, 4))), [D(3, 4)]),
    ("mean_absolute_error_t", F.mean_absolute_error, [A([[0.5, -1.0], [2.0, 0.1]]), A([[0.1, 0.3], [-1.0, 0.4]])]),
    ("softmax_cross_entropy_idx", lambda x: F.softmax_cross_entropy(x, np.array([0, 2, 1])), [N(3, 4)]),
    ("softmax_cross_entropy_onehot", lambda x: F.softmax_cross_entropy(x, ONEHOT), [N(3, 4)]),
    ("softmax_cross_entropy_soft", lambda x: F.softmax_cross_entropy(x, SOFT), [N(3, 4)]),
    ("softmax_cross_entropy_3d", lambda x: F.softmax_cross_entropy(x, np.array([[0, 2], [1, 1]])), [N(2, 2, 3)]),
    ("cross_entropy_error_idx", lambda y: F.cross_entropy_error(y, np.array([0, 2, 1])), [P(3, 4, lo=0.05, hi=1.0)]),
    ("cross_entropy_error_onehot", lambda y: F.cross_entropy_error(y, ONEHOT), [P(3, 4, lo=0.05, hi=1.0)]),
    ("cross_entropy_error_of_softmax", lambda x: F.cross_entropy_error(F.softmax(x), np.array([3, 0, 1])), [N(3, 4)]),
    ("bce_with_logits", lambda z: F.binary_cross_entropy_with_logits(z, SOFT), [N(3, 4)]),
    ("bce_with_logits_binary", lambda z: F.binary_cross_entropy_with_logits(z, np.array([1.0, 0.0, 1.0])), [N(3)]),
    ("softmax_cross_entropy_ignore_index", lambda x: F.softmax_cross_entropy(x, IGNORED, ignore_index=-100), [N(4, 3)]),
    ("softmax_cross_entropy_ignore_3d",
     lambda x: F.softmax_cross_entropy(x, np.array([[0, 2], [2, 1]]), ignore_index=2), [N(2, 2, 3)]),
    ("binary_cross_entropy", lambda p: F.binary_cross_entropy(p, SOFT), [P(3, 4, lo=0.05, hi=0.95)]),
    # --- zerodl.nn.functional: PyTorch's losses with weight / ignore_index / reduction / smoothing ---
    ("nf_cross_entropy_weight_smooth", lambda x: NF.cross_entropy(x, IGNORED, weight=CW, label_smoothing=0.2), [N(4, 3)]),
    ("nf_cross_entropy_none_3d", lambda x: NF.cross_entropy(x, np.array([[0, 2], [1, 1]]), reduction="none"), [N(2, 3, 2)]),
    ("nf_cross_entropy_prob_sum", lambda x: NF.cross_entropy(x, SOFT, reduction="sum", label_smoothing=0.1), [N(3, 4)]),
    ("nf_nll_loss_weight", lambda x: NF.nll_loss(x, IGNORED, weight=CW), [N(4, 3)]),
    ("nf_mse_loss_none", lambda x, t: NF.mse_loss(x, t, reduction="none"), [N(3, 2), N(3, 2)]),
    ("nf_l1_loss_sum", lambda x: NF.l1_loss(x, np.zeros((3, 4)), reduction="sum"), [D(3, 4)]),
    ("nf_bce_weight_none", lambda p: NF.binary_cross_entropy(p, SOFT, weight=SOFT[0], reduction="none"), [P(3, 4, lo=0.05, hi=0.95)]),
    ("nf_bce_logits_pos_weight", lambda z: NF.binary_cross_entropy_with_logits(z, SOFT, pos_weight=np.array([1.0, 2.0, 0.5, 3.0])), [N(3, 4)]),
    ("nf_pad_constant", lambda x: NF.pad(x, (1, 2, 0, 1), value=0.5), [N(2, 2, 3)]),
    ("nf_pad_reflect", lambda x: NF.pad(x, (2, 1), mode="reflect"), [N(2, 4)]),
    ("nf_pad_replicate_crop", lambda x: NF.pad(x, (-1, 2), mode="replicate"), [N(2, 4)]),
    # --- dropout, batch norm, embedding ---
    ("dropout", _seeded_dropout(0.3), [N(4, 5)]),
    ("dropout_high_p", _seeded_dropout(0.8), [N(3, 5)]),
    ("batch_norm_2d_train", _bn(True, "NC"), [N(4, 3), N(3), N(3)]),
    ("batch_norm_4d_train", _bn(True, "NCHW"), [N(2, 3, 2, 2), N(3), N(3)]),
    ("batch_norm_2d_eval", _bn(False, "NC"), [N(4, 3), N(3), N(3)]),
    ("batch_norm_4d_eval", _bn(False, "NCHW"), [N(2, 3, 2, 2), N(3), N(3)]),
    ("layer_norm", lambda x, g, b: F.layer_norm(x, 4, g, b), [N(3, 4), N(4), N(4)]),
    ("layer_norm_2axes_3d", lambda x, g, b: F.layer_norm(x, (2, 3), g, b), [N(2, 2, 3), N(2, 3), N(2, 3)]),
    ("layer_norm_no_affine", lambda x: F.layer_norm(x, (5,), eps=1e-3), [N(2, 3, 5)]),
    # --- attention (zerodl/functions/attention.py) ---
    ("sdpa", F.scaled_dot_product_attention, [N(2, 3, 5), N(2, 4, 5), N(2, 4, 6)]),
    ("sdpa_heads_causal", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask=CAUSAL),
     [N(2, 2, 3, 4), N(2, 2, 4, 4), N(2, 2, 4, 3)]),
    ("sdpa_key_padding", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask=PAD, scale=1.0),
     [N(2, 3, 4), N(2, 4, 4), N(2, 4, 2)]),
    ("sdpa_fully_masked_row", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask=ROW_MASKED),
     [N(2, 3, 4), N(2, 4, 4), N(2, 4, 2)]),
    ("sdpa_weights_out", _sdpa_both, [N(2, 3, 4), N(2, 4, 4), N(2, 4, 2)]),
    ("sdpa_dropout", _sdpa_dropout, [N(2, 3, 4), N(2, 4, 4), N(2, 4, 3)]),
    ("sdpa_self", lambda x: F.scaled_dot_product_attention(x, x, x), [N(2, 3, 4)]),
    ("multihead_attention_cross", lambda q, kv: _MHA(q, kv, kv, key_padding_mask=~PAD[:, 0, :3])[0],
     [N(2, 3, 4), N(2, 3, 4)]),
    ("multihead_attention_qkv_weights", lambda q, k, v: _MHA(q, k, v, is_causal=True)[1], [N(2, 3, 4), N(2, 3, 4), N(2, 3, 4)]),
    ("transformer_encoder_layer", lambda x: _ENC(x), [N(2, 3, 4)]),
    ("transformer_decoder_layer", lambda t, m: _DEC(t, m, tgt_is_causal=True), [N(2, 3, 4), N(2, 5, 4)]),
    ("sinusoidal_positional_encoding", lambda x: _PE(x), [N(2, 3, 4)]),
    ("masked_mean_time", lambda x: F.masked_mean(x, PAD[:, 0, :, None], axis=1), [N(2, 4, 3)]),
    ("masked_mean_all", lambda x: F.masked_mean(x, PAD[:, 0, :]), [N(2, 4)]),
    ("masked_mean_keepdims", lambda x: F.masked_mean(x, ROW_MASKED, axis=-1, keepdims=True), [N(3, 4)]),
    ("embedding", lambda W: F.embedding(np.array([[1, 2, 1], [0, 4, 4]]), W), [N(5, 3)]),
    ("embedding_1d_ids", lambda W: F.embedding(np.array([3, 3, 3, 0]), W), [N(4, 2)]),
    ("embedding_dot", lambda h, W: F.embedding_dot(h, np.array([[1, 2, 1], [0, 4, 4]]), W), [N(2, 3), N(5, 3)]),
    ("embedding_dot_sparse", lambda h, W: F.embedding_dot(h, np.array([[3, 3], [0, 1]]), W, sparse=True) ** 2,
     [N(2, 4), N(4, 4)]),
    ("embedding_sparse", lambda W: F.embedding(np.array([[1, 2, 1], [0, 4, 4]]), W, sparse=True) ** 2, [N(5, 3)]),
    # --- convolution and pooling (zerodl/functions/conv.py) ---
    pytest.param("conv2d", lambda x, W, b: F.conv2d(x, W, b, stride=1, padding=1), [N(2, 2, 4, 4), N(3, 2, 3, 3), N(3)], marks=_conv),
    # 3x3 stride-1 convs with >= 8 input channels take the Winograd F(4x4, 3x3) path
    pytest.param("conv2d_winograd", lambda x, W, b: F.conv2d(x, W, b, stride=1, padding=1), [N(2, 8, 5, 6), N(3, 8, 3, 3), N(3)], marks=_conv),
    pytest.param("conv2d_winograd_pad2_nobias", lambda x, W: F.conv2d(x, W, padding=2), [N(1, 9, 4, 3), N(2, 9, 3, 3)], marks=_conv),
    pytest.param("conv2d_winograd_pad0_relu_pool", lambda x, W: F.max_pool2d(F.relu(F.conv2d(F.relu(F.conv2d(x, W, padding=1)), W)), 2),
                 [N(1, 8, 7, 7), N(8, 8, 3, 3)], marks=_conv),
    pytest.param("conv2d_stride2_nobias", lambda x, W: F.conv2d(x, W, stride=2), [N(1, 2, 5, 5), N(2, 2, 3, 3)], marks=_conv),
    pytest.param("conv2d_1x1", lambda x, W, b: F.conv2d(x, W, b), [N(2, 3, 2, 3), N(2, 3, 1, 1), N(2)], marks=_conv),
    pytest.param("conv2d_rect_kernel", lambda x, W: F.conv2d(x, W, stride=(1, 2), padding=(1, 0)), [N(1, 2, 4, 5), N(2, 2, 2, 3)], marks=_conv),
    pytest.param("conv_transpose2d", lambda x, W, b: F.conv_transpose2d(x, W, b, stride=2, padding=1), [N(2, 2, 3, 3), N(2, 3, 3, 3), N(3)], marks=_conv),
    pytest.param("conv_transpose2d_s1", lambda x, W: F.conv_transpose2d(x, W), [N(1, 3, 2, 3), N(3, 2, 2, 2)], marks=_conv),
    # stride-1 3x3 with >= 8 input channels: the equivalent conv2d through Winograd
    pytest.param("conv_transpose2d_s1_winograd", lambda x, W, b: F.conv_transpose2d(x, W, b, padding=1),
                 [N(2, 8, 4, 5), N(8, 3, 3, 3), N(3)], marks=_conv),
    # DCGAN's 4x4 stride-2 layers (the phase-image path: more window rows than output channels)
    pytest.param("conv2d_4x4_s2_phased", lambda x, W, b: F.conv2d(x, W, b, stride=2, padding=1), [N(2, 2, 6, 6), N(3, 2, 4, 4), N(3)], marks=_conv),
    pytest.param("conv_transpose2d_4x4_s2_phased", lambda x, W, b: F.conv_transpose2d(x, W, b, stride=2, padding=1),
                 [N(2, 3, 3, 3), N(3, 2, 4, 4), N(2)], marks=_conv),
    # with >= 16 input channels (of the conv) they go through Winograd F(4x4, 2x2) on phase images
    pytest.param("conv2d_4x4_s2_winograd", lambda x, W, b: F.conv2d(x, W, b, stride=2, padding=1),
                 [N(2, 16, 6, 4), N(3, 16, 4, 4), N(3)], marks=_conv),
    pytest.param("conv2d_4x4_s2_winograd_pad0_nobias", lambda x, W: F.conv2d(x, W, stride=2), [N(1, 16, 6, 8), N(2, 16, 4, 4)], marks=_conv),
    pytest.param("conv_transpose2d_4x4_s2_winograd", lambda x, W, b: F.conv_transpose2d(x, W, b, stride=2, padding=1),
                 [N(2, 3, 2, 3), N(3, 16, 4, 4), N(16)], marks=_conv),
    pytest.param("conv2d_3x2_s3x2_phased", lambda x, W: F.conv2d(x, W, stride=(3, 2), padding=(1, 0)), [N(1, 2, 7, 6), N(2, 2, 3, 2)], marks=_conv),
    pytest.param("max_pool2d", lambda x: F.max_pool2d(x, 2), [D(2, 2, 4, 4)], marks=_conv),
    pytest.param("max_pool2d_overlap_pad", lambda x: F.max_pool2d(x, 3, stride=2, padding=1), [D(1, 2, 5, 5)], marks=_conv),
    pytest.param("avg_pool2d", lambda x: F.avg_pool2d(x, 2), [N(2, 2, 4, 4)], marks=_conv),
    pytest.param("avg_pool2d_stride1", lambda x: F.avg_pool2d(x, 2, stride=1), [N(1, 2, 3, 4)], marks=_conv),
    pytest.param("im2col", lambda x: F.im2col(x, 3, 3, 1, 1), [N(2, 2, 3, 3)], marks=_conv),
    pytest.param("im2col_stride2", lambda x: F.im2col(x, 2, 2, 2, 0), [N(1, 2, 4, 4)], marks=_conv),
    pytest.param("col2im", lambda c: F.col2im(c, (2, 2, 3, 3), 3, 3, 1, 1), [N(18, 18)], marks=_conv),
    pytest.param("col2im_stride2", lambda c: F.col2im(c, (1, 2, 4, 4), 2, 2, 2, 0), [N(4, 8)], marks=_conv),
    # --- resizing (functions/resize.py; nn.Upsample) ---
    ("interpolate_nearest_x2", lambda x: F.interpolate(x, 2), [N(2, 2, 3, 4)]),
    ("interpolate_nearest_2x3_1d", lambda x: F.interpolate(x, 3), [N(2, 3, 4)]),
    ("interpolate_nearest_1.5", lambda x: F.interpolate(x, 1.5, mode="nearest"), [N(1, 2, 4, 3)]),
    ("interpolate_nearest_down", lambda x: F.interpolate(x, (0.5, 0.7)), [N(2, 1, 6, 5)]),
    ("interpolate_bilinear_x2", lambda x: F.interpolate(x, 2, mode="bilinear"), [N(2, 2, 3, 4)]),
    ("interpolate_bilinear_0.7", lambda x: F.interpolate(x, 0.7, mode="bilinear"), [N(1, 2, 5, 6)]),
    ("interpolate_bilinear_size_corners", lambda x: F.interpolate(x, size=(5, 2), mode="bilinear", align_corners=True),
     [N(2, 1, 3, 4)]),
    ("upsample_layer", lambda x: _upsample(x), [N(1, 2, 2, 3)]),
    # --- recurrent: every output (the whole sequence and the last states) feeds the check ---
    ("rnn", lambda x, h0, Wx, Wh, b: _all_outputs(F.rnn(x, h0, Wx, Wh, b)),
     [N(2, 3, 4), N(2, 5), N(4, 5), N(5, 5), N(5)]),
    ("lstm", lambda x, h0, c0, Wx, Wh, b: _all_outputs(F.lstm(x, h0, c0, Wx, Wh, b)),
     [N(2, 3, 4), N(2, 5), N(2, 5), N(4, 20), N(5, 20), N(20)]),
    ("gru", lambda x, h0, Wx, Wh, bx, bh: _all_outputs(F.gru(x, h0, Wx, Wh, bx, bh)),
     [N(2, 3, 4), N(2, 5), N(4, 15), N(5, 15), N(15), N(15)]),
    # the other activations (kinks of relu / hard_sigmoid are measure-zero for normal inputs)
    *[(f"rnn_{a}", lambda x, h0, Wx, Wh, b, a=a: _all_outputs(F.rnn(x, h0, Wx, Wh, b, activation=a)),
       [N(2, 3, 4), N(2, 5), N(4, 5), N(5, 5), N(5)]) for a in ("relu", "sigmoid", "hard_sigmoid")],
    *[(f"lstm_{a}_{r}", lambda x, h0, c0, Wx, Wh, b, a=a, r=r: _all_outputs(
        F.lstm(x, h0, c0, Wx, Wh, b, activation=a, recurrent_activation=r)),
       [N(2, 3, 4), N(2, 5), N(2, 5), N(4, 20), N(5, 20), N(20)])
      for a, r in (("relu", "sigmoid"), ("tanh", "hard_sigmoid"), ("sigmoid", "tanh"), ("relu", "hard_sigmoid"))],
    *[(f"gru_{a}_{r}", lambda x, h0, Wx, Wh, bx, bh, a=a, r=r: _all_outputs(
        F.gru(x, h0, Wx, Wh, bx, bh, activation=a, recurrent_activation=r)),
       [N(2, 3, 4), N(2, 5), N(4, 15), N(5, 15), N(15), N(15)])
      for a, r in (("relu", "sigmoid"), ("tanh", "hard_sigmoid"), ("relu", "hard_sigmoid"))],
]


def _ids(cases):
    return [c.values[0] if hasattr(c, "values") else c[0] for c in cases]


@pytest.mark.parametrize("name, f, makers", CASES, ids=_ids(CASES))
def test_gradient(name, f, makers):
    rng = np.random.default_rng(zlib.crc32(name.encode()))  # fixed per case
    arrays = [make(rng) for make in makers]

    # Values and gradients stay float64.
    xs = [zd.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    y = f(*xs)
    assert y.dtype == np.float64, f"{name}: output dtype {y.dtype}"
    y.backward(np.ones(y.shape))
    for i, x in enumerate(xs):
        assert x.grad is not None, f"{name}: input {i} got no gradient"
        assert x.grad.dtype == np.float64 and x.grad.shape == x.shape

    result = gradient_check(f, *arrays)
    assert result.ok, f"{name}: {result}"
    assert all(e is not None for e in result.errors)


# ----- the checker itself ------------------------------------------------------------------
class _WrongSquare(zd.Function):
    """x**2 with a wrong backward (3x instead of 2x)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        return 3 * self.x * gy


def test_gradient_check_catches_a_wrong_backward():
    x = np.linspace(0.5, 1.5, 6).reshape(2, 3)
    result = gradient_check(lambda t: _WrongSquare()(t).sum(), x)
    assert isinstance(result, GradCheckResult)
    assert not result.ok and not result
    assert result.max_abs_error == pytest.approx(1.5, rel=1e-6)  # |3x - 2x| at x = 1.5
    assert result.max_rel_error == pytest.approx(1 / 3, rel=1e-6)
    assert result.errors[0] == (result.max_abs_error, result.max_rel_error)


def test_numerical_grad_values_and_projection():
    x = np.array([1.0, -2.0, 3.0])
    (g,) = numerical_grad(lambda t: (t * t).sum(), x)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-8)
    assert g.dtype == np.float64

    # Non-scalar output: the same fixed projection R on every call; gradient of sum(R * x**2).
    g1 = numerical_grad(lambda t: t * t, x)[0]
    g2 = numerical_grad(lambda t: t * t, x)[0]
    np.testing.assert_array_equal(g1, g2)
    from zerodl.utils.gradcheck import _projection

    np.testing.assert_allclose(g1, 2 * x * _projection((3,), np.float64), rtol=1e-7)

    # float32 uses a larger default step and still gets close.
    x32 = zd.tensor([0.5, 1.5], dtype=np.float32)
    (g32,) = numerical_grad(lambda t: (t * t * t).sum(), x32)
    np.testing.assert_allclose(g32, 3 * x32.data.astype(np.float64) ** 2, rtol=1e-3)


def test_numerical_grad_skips_integer_inputs_and_keeps_inputs_intact():
    x = np.array([[0.1, 0.9, -0.3]])
    t = np.array([1])
    before = x.copy()
    gx, gt = numerical_grad(lambda a, b: F.softmax_cross_entropy(a, b), x, t)
    assert gt is None and gx.shape == (1, 3)
    np.testing.assert_array_equal(x, before)


def test_gradient_check_params_of_a_closure():
    rng = np.random.default_rng(0)
    W = zd.tensor(rng.standard_normal((4, 3)), dtype=np.float64, requires_grad=True)
    b = zd.tensor(rng.standard_normal(3), dtype=np.float64, requires_grad=True)
    W.grad = np.full(W.shape, 123.0)  # an existing .grad is left as it was

    def model(x):
        return F.softmax_cross_entropy(F.tanh(F.linear(x, W, b)), np.array([0, 2]))

    result = gradient_check(model, rng.standard_normal((2, 4)), params=[W, b])
    assert result.ok and len(result.errors) == 3
    assert np.all(W.grad == 123.0) and b.grad is None


def test_gradient_check_params_of_nn_layers():
    nn = pytest.importorskip("zerodl.nn")
    if not hasattr(nn, "Linear"):
        pytest.skip("zerodl.nn.Linear not written yet")
    with zd.default_dtype(np.float64):
        layer = nn.Linear(3, 2)
    params = list(layer.parameters())
    result = gradient_check(lambda x: F.tanh(layer(x)), np.random.default_rng(1).standard_normal((4, 3)), params=params)
    assert result.ok, result
    assert len(result.errors) == 1 + len(params)


def test_gradient_check_needs_a_differentiable_output():
    with pytest.raises(RuntimeError, match="gradient_check"):
        gradient_check(lambda x: zd.tensor([1.0], dtype=np.float64), np.ones(2))


# ----- against PyTorch, where it is installed: value and gradient of the same call ------------
# Each case: (name, zerodl f, torch f taking (torch, *tensors), input makers); both run in float64.
def _tt(torch, a):
    return torch.tensor(a)


TORCH_CASES = [
    ("nf_cross_entropy_weight_smooth", lambda x: NF.cross_entropy(x, IGNORED, weight=CW, label_smoothing=0.2),
     lambda torch, x: torch.nn.functional.cross_entropy(x, _tt(torch, IGNORED), weight=_tt(torch, CW), label_smoothing=0.2),
     [N(4, 3)]),
    ("nf_cross_entropy_none_3d", lambda x: NF.cross_entropy(x, np.array([[0, 2], [1, 1]]), reduction="none"),
     lambda torch, x: torch.nn.functional.cross_entropy(x, torch.tensor([[0, 2], [1, 1]]), reduction="none"), [N(2, 3, 2)]),
    ("nf_cross_entropy_3d_mean", lambda x: NF.cross_entropy(x, np.array([[0, 2], [1, -100]])),
     lambda torch, x: torch.nn.functional.cross_entropy(x, torch.tensor([[0, 2], [1, -100]])), [N(2, 3, 2)]),
    ("nf_cross_entropy_prob_smooth", lambda x: NF.cross_entropy(x, SOFT, label_smoothing=0.1, weight=np.array([1.0, 2, 3, 4])),
     lambda torch, x: torch.nn.functional.cross_entropy(x, _tt(torch, SOFT), label_smoothing=0.1,
                                                        weight=torch.tensor([1.0, 2, 3, 4], dtype=torch.float64)), [N(3, 4)]),
    ("nf_cross_entropy_sum_ignore", lambda x: NF.cross_entropy(x, IGNORED, reduction="sum", weight=CW),
     lambda torch, x: torch.nn.functional.cross_entropy(x, _tt(torch, IGNORED), reduction="sum", weight=_tt(torch, CW)), [N(4, 3)]),
    ("nf_nll_loss_weight", lambda x: NF.nll_loss(NF.log_softmax(x, dim=1), IGNORED, weight=CW),
     lambda torch, x: torch.nn.functional.nll_loss(torch.log_softmax(x, 1), _tt(torch, IGNORED), weight=_tt(torch, CW)), [N(4, 3)]),
    ("nf_mse_loss_sum", lambda x: NF.mse_loss(x, SOFT, reduction="sum"),
     lambda torch, x: torch.nn.functional.mse_loss(x, _tt(torch, SOFT), reduction="sum"), [N(3, 4)]),
    ("nf_l1_loss_none", lambda x: NF.l1_loss(x, SOFT, reduction="none"),
     lambda torch, x: torch.nn.functional.l1_loss(x, _tt(torch, SOFT), reduction="none"), [N(3, 4)]),
    ("nf_bce_weight", lambda p: NF.binary_cross_entropy(p, SOFT, weight=SOFT[0]),
     lambda torch, p: torch.nn.functional.binary_cross_entropy(p, _tt(torch, SOFT), weight=_tt(torch, SOFT[0])), [P(3, 4, lo=0.05, hi=0.95)]),
    ("nf_bce_logits_pos_weight_none",
     lambda z: NF.binary_cross_entropy_with_logits(z, SOFT, pos_weight=np.array([1.0, 2.0, 0.5, 3.0]), reduction="none"),
     lambda torch, z: torch.nn.functional.binary_cross_entropy_with_logits(
         z, _tt(torch, SOFT), pos_weight=torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64), reduction="none"), [N(3, 4)]),
    ("nf_pad_reflect_2d", lambda x: NF.pad(x, (2, 1, 1, 1), mode="reflect"),
     lambda torch, x: torch.nn.functional.pad(x, (2, 1, 1, 1), mode="reflect"), [N(1, 2, 3, 4)]),
    ("nf_pad_replicate", lambda x: NF.pad(x, (1, 3), mode="replicate"),
     lambda torch, x: torch.nn.functional.pad(x, (1, 3), mode="replicate"), [N(1, 2, 4)]),
    ("nf_pad_circular", lambda x: NF.pad(x, (1, 2), mode="circular"),
     lambda torch, x: torch.nn.functional.pad(x, (1, 2), mode="circular"), [N(1, 2, 4)]),
    ("nf_pad_constant_crop", lambda x: NF.pad(x, (1, -1, 0, 2), value=0.3),
     lambda torch, x: torch.nn.functional.pad(x, (1, -1, 0, 2), value=0.3), [N(2, 3, 4)]),
    ("nf_log_softmax_dim", lambda x: NF.log_softmax(x, dim=1), lambda torch, x: torch.log_softmax(x, dim=1), [N(2, 3, 4)]),
    ("nf_softmax_dim", lambda x: NF.softmax(x, dim=0), lambda torch, x: torch.softmax(x, dim=0), [N(3, 4)]),
    ("nf_batch_norm_train_torch_order", lambda x, w, b: NF.batch_norm(x, np.zeros(3), np.ones(3), w, b, training=True),
     lambda torch, x, w, b: torch.nn.functional.batch_norm(x, torch.zeros(3, dtype=torch.float64),
                                                           torch.ones(3, dtype=torch.float64), w, b, training=True),
     [N(4, 3, 2), N(3), N(3)]),
    ("nf_batch_norm_eval_torch_order", lambda x, w, b: NF.batch_norm(x, np.full(3, 0.5), np.full(3, 2.0), w, b),
     lambda torch, x, w, b: torch.nn.functional.batch_norm(x, torch.full((3,), 0.5, dtype=torch.float64),
                                                           torch.full((3,), 2.0, dtype=torch.float64), w, b),
     [N(4, 3), N(3), N(3)]),
    ("nf_batch_norm2d_train", lambda x, w, b: NF.batch_norm(x, np.zeros(3), np.ones(3), w, b, training=True),
     lambda torch, x, w, b: torch.nn.functional.batch_norm(x, torch.zeros(3, dtype=torch.float64),
                                                           torch.ones(3, dtype=torch.float64), w, b, training=True),
     [N(4, 3, 3, 2), N(3), N(3)]),
    # the strided conv path on phase images (DCGAN's 4x4 stride-2 layers; an odd stride pair)
    ("conv2d_4x4_s2_phased", lambda x, W, b: F.conv2d(x, W, b, stride=2, padding=1),
     lambda torch, x, W, b: torch.nn.functional.conv2d(x, W, b, stride=2, padding=1), [N(2, 2, 6, 7), N(3, 2, 4, 4), N(3)]),
    ("conv2d_3x3_s3x2_phased", lambda x, W: F.conv2d(x, W, stride=(3, 2), padding=(1, 2)),
     lambda torch, x, W: torch.nn.functional.conv2d(x, W, stride=(3, 2), padding=(1, 2)), [N(2, 3, 8, 5), N(2, 3, 3, 3)]),
    ("conv_transpose2d_4x4_s2_phased", lambda x, W, b: F.conv_transpose2d(x, W, b, stride=2, padding=1),
     lambda torch, x, W, b: torch.nn.functional.conv_transpose2d(x, W, b, stride=2, padding=1), [N(2, 4, 3, 4), N(4, 2, 4, 4), N(2)]),
    # the kernel paths where numba is installed: 2x2 max pooling (both layouts come from the
    # same arrays), the stride-1 3x3 transposed conv through Winograd
    ("max_pool2d_2x2", lambda x: F.max_pool2d(x, 2), lambda torch, x: torch.nn.functional.max_pool2d(x, 2), [N(2, 3, 5, 6)]),
    ("conv_transpose2d_s1_winograd", lambda x, W, b: F.conv_transpose2d(x, W, b, padding=1),
     lambda torch, x, W, b: torch.nn.functional.conv_transpose2d(x, W, b, padding=1), [N(2, 8, 4, 5), N(8, 3, 3, 3), N(3)]),
    ("conv2d_4x4_s2_winograd", lambda x, W, b: F.conv2d(x, W, b, stride=2, padding=1),
     lambda torch, x, W, b: torch.nn.functional.conv2d(x, W, b, stride=2, padding=1), [N(2, 16, 8, 6), N(5, 16, 4, 4), N(5)]),
    ("conv_transpose2d_4x4_s2_winograd", lambda x, W, b: F.conv_transpose2d(x, W, b, stride=2, padding=1),
     lambda torch, x, W, b: torch.nn.functional.conv_transpose2d(x, W, b, stride=2, padding=1),
     [N(2, 5, 3, 4), N(5, 16, 4, 4), N(16)]),
    ("transpose_swap", lambda x: x.transpose(1, 2), lambda torch, x: x.transpose(1, 2), [N(2, 3, 4)]),
    ("permute", lambda x: x.permute(2, 0, 1), lambda torch, x: x.permute(2, 0, 1), [N(2, 3, 4)]),
    ("sum_dim_keepdim", lambda x: x.sum(dim=1, keepdim=True), lambda torch, x: x.sum(dim=1, keepdim=True), [N(2, 3, 4)]),
    ("max_dim", lambda x: x.max(dim=1).values, lambda torch, x: x.max(dim=1).values, [D(3, 4)]),
    ("min_dim", lambda x: x.min(dim=0)[0], lambda torch, x: x.min(dim=0)[0], [D(3, 4)]),
    ("gather", lambda x: x.gather(1, np.array([[0, 0], [2, 1]])),
     lambda torch, x: x.gather(1, torch.tensor([[0, 0], [2, 1]])), [N(2, 4)]),
    ("abs", lambda x: x.abs(), lambda torch, x: x.abs(), [D(3, 4)]),
    ("flatten_unsqueeze", lambda x: x.flatten(1).unsqueeze(0), lambda torch, x: x.flatten(1).unsqueeze(0), [N(2, 3, 4)]),
    ("softmax_cross_entropy_ignore_index", lambda x: F.softmax_cross_entropy(x, IGNORED, ignore_index=-100),
     lambda torch, x: torch.nn.functional.cross_entropy(x, torch.tensor(IGNORED), ignore_index=-100), [N(4, 3)]),
    ("binary_cross_entropy", lambda p: F.binary_cross_entropy(p, SOFT),
     lambda torch, p: torch.nn.functional.binary_cross_entropy(p, torch.tensor(SOFT)), [P(3, 4, lo=0.05, hi=0.95)]),
    ("binary_cross_entropy_at_0_and_1", lambda p: F.binary_cross_entropy(p, np.array([1.0, 0.0, 1.0, 0.0])),
     lambda torch, p: torch.nn.functional.binary_cross_entropy(p, torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64)),
     [A([0.0, 1.0, 1.0, 0.0])]),
]


def _torch_ids(cases):
    return [c[0] for c in cases]


@pytest.mark.parametrize("name, f, tf, makers", TORCH_CASES, ids=_torch_ids(TORCH_CASES))
def test_matches_torch(name, f, tf, makers):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    arrays = [make(rng) for make in makers]
    xs = [zd.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    y, ty = f(*xs), tf(torch, *ts)
    ty = ty[0] if isinstance(ty, tuple) else ty
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    proj = _projection_for(y.shape)
    (y * proj).sum().backward() if y.ndim else y.backward()
    (ty * torch.tensor(proj)).sum().backward() if ty.ndim else ty.backward()
    for i, (x, t) in enumerate(zip(xs, ts)):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=f"{name}: input {i}")


def _projection_for(shape):
    return np.random.default_rng(3).standard_normal(shape)
