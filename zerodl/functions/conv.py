"""Convolution and pooling on NCHW images: im2col/col2im, conv2d, conv_transpose2d, max/avg pool.

The book's picture, made fast:

- **im2col** lays out every kernel window of the (padded) image as one column of a matrix, so
  a convolution becomes one matrix product with the weights. The windows are a strided *view*
  of the image (``as_strided``: no copy); the only copy is the one that packs them.
- **col2im** is its adjoint: it adds every window back where it came from, one strided slab per
  kernel offset (KH*KW additions of whole arrays), never a loop over pixels.
- Inside ``conv2d`` the columns are laid out as (N, C*KH*KW, OH*OW), so ``W @ col`` (a batched
  GEMM over the samples) gives the output directly in NCHW: no transpose copy. The batch is
  processed in chunks whose column buffer (a few MiB) stays in cache and is reused; backward
  rebuilds the columns instead of keeping a copy of every window alive between passes.
- **Wide rows** (stride 1): a window row that starts at padded column ``ow`` reads columns
  ``ow .. ow+KW-1``; if the output row is given the full padded width Wp instead of OW, then
  the (OH, Wp) block of window starts is one contiguous run of the padded image, so im2col and
  col2im move long runs rather than OW-long pieces (NumPy pays per piece). The Wp - OW extra
  columns wrap into the next image row: forward computes and drops them, backward gives them a
  zero gradient. The padded buffer gets one spare zero row so the last window may run over.
- Pooling loops over the KH*KW kernel offsets too: one strided slab per offset, a running max
  (and the offset of the first maximum, as PyTorch) or a running sum.

Everything goes through ``xp`` (NumPy or CuPy) and keeps the input's dtype.
"""
from ..core import Function, get_array_module

__all__ = ["im2col", "col2im", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d"]

# Column buffers of about this size are packed and multiplied one chunk of samples at a time
# (CPU only; a GPU takes the whole batch at once).
_CHUNK_BYTES = 4 << 20


# ----------------------------------------------------------------------------- helpers
def _pair(v, name, op, minimum):
    """``v`` (an int or an (h, w) pair) as a pair of ints ``>= minimum``."""
    pair = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(pair) != 2 or not all(isinstance(p, int) and p >= minimum for p in pair):
        raise ValueError(f"{op}: {name} must be an int >= {minimum} or a pair of them, got {v!r}")
    return pair


def _check_image(op, x, what="input"):
    if x.ndim != 4:
        raise ValueError(f"{op}: expected {what} of shape (N, C, H, W), got {tuple(x.shape)}")


class _Windows:
    """Where the KH x KW windows of a strided, padded sweep over (N, C, H, W) images fall.

    ``pad`` makes the padded buffer, ``view`` the strided view (N, C, KH, KW, OH, Q) of every
    window in it (Q = OW, or Wp for wide rows: see the module docstring), ``crop`` undoes ``pad``.
    """

    def __init__(self, op, x_shape, kernel, stride, padding, wide_ok=True):
        self.N, self.C, self.H, self.W = x_shape
        (self.KH, self.KW), (self.SH, self.SW), (self.PH, self.PW) = kernel, stride, padding
        self.Hp, self.Wp = self.H + 2 * self.PH, self.W + 2 * self.PW
        if self.KH > self.Hp or self.KW > self.Wp:
            raise ValueError(
                f"{op}: kernel {kernel} is larger than the padded input ({self.Hp}, {self.Wp}) "
                f"(input {tuple(x_shape)}, padding {padding})"
            )
        self.OH = (self.Hp - self.KH) // self.SH + 1
        self.OW = (self.Wp - self.KW) // self.SW + 1
        self.wide = wide_ok and self.SH == self.SW == 1
        self.Q = self.Wp if self.wide else self.OW
        self.L = self.OH * self.Q  # columns per sample
        self.CKK = self.C * self.KH * self.KW

    def pad(self, x, value=0):
        """The padded buffer (``x`` itself when nothing needs adding)."""
        if not self.wide and self.PH == self.PW == 0:
            return x
        xp = get_array_module(x)
        buf = xp.full((self.N, self.C, self.Hp + self.wide, self.Wp), value, dtype=x.dtype)
        buf[:, :, self.PH : self.PH + self.H, self.PW : self.PW + self.W] = x
        return buf

    def crop(self, buf):
        """The image inside a padded buffer, contiguous."""
        if buf.shape == (self.N, self.C, self.H, self.W):
            return buf
        xp = get_array_module(buf)
        return xp.ascontiguousarray(buf[:, :, self.PH : self.PH + self.H, self.PW : self.PW + self.W])

    def view(self, buf):
        """Strided view (n, C, KH, KW, OH, Q) of the windows of a padded buffer: no copy."""
        xp = get_array_module(buf)
        sN, sC, sH, sW = buf.strides
        shape = (buf.shape[0], self.C, self.KH, self.KW, self.OH, self.Q)
        strides = (sN, sC, sH, sW, self.SH * sH, self.SW * sW)
        return xp.lib.stride_tricks.as_strided(buf, shape, strides)

    def chunks(self, xp, itemsize):
        """(start, stop) sample ranges whose column buffers are about ``_CHUNK_BYTES``."""
        step = self.N
        if xp.__name__ == "numpy":
            step = max(1, min(self.N, _CHUNK_BYTES // (self.CKK * self.L * itemsize)))
        return [(n, min(n + step, self.N)) for n in range(0, self.N, step)]

    # --- conv building blocks on raw arrays: ``cols`` are (N, C_out, OH*Q) arrays -------
    def widen(self, y):
        """(N, C, OH, OW) -> (N, C, OH*Q), the extra wide-row columns set to zero."""
        N, C = y.shape[:2]
        if not self.wide or self.Q == self.OW:
            return y.reshape(N, C, self.L)
        xp = get_array_module(y)
        out = xp.empty((N, C, self.OH, self.Q), dtype=y.dtype)
        out[..., self.OW :] = 0
        out[..., : self.OW] = y
        return out.reshape(N, C, self.L)

    def narrow(self, cols, C):
        """(N, C, OH*Q) -> the (N, C, OH, OW) image (a view: drop the wide-row columns)."""
        return cols.reshape(-1, C, self.OH, self.Q)[..., : self.OW]

    def correlate(self, buf, W2):
        """``W2 @ im2col(buf)`` for every sample: (N, C_out, OH*Q). W2 is (C_out, C*KH*KW)."""
        xp = get_array_module(buf)
        out = xp.empty((self.N, W2.shape[0], self.L), dtype=buf.dtype)
        col = None
        for n0, n1 in self.chunks(xp, buf.dtype.itemsize):
            col = self._im2col(buf[n0:n1], col)
            xp.matmul(W2, col, out=out[n0:n1])
        return out

    def weight_grad(self, buf, gcols):
        """``sum_n gcols[n] @ im2col(buf)[n].T``: (C_out, C*KH*KW)."""
        xp = get_array_module(buf)
        gW = xp.zeros((gcols.shape[1], self.CKK), dtype=gcols.dtype)
        col = None
        for n0, n1 in self.chunks(xp, buf.dtype.itemsize):
            col = self._im2col(buf[n0:n1], col)
            gW += (gcols[n0:n1] @ col.transpose(0, 2, 1)).sum(axis=0)
        return gW

    def fold(self, gcols, W2):
        """``col2im(W2.T @ gcols)`` into a fresh padded buffer (the input-side gradient)."""
        xp = get_array_module(gcols)
        buf = xp.zeros((self.N, self.C, self.Hp + self.wide, self.Wp), dtype=gcols.dtype)
        for n0, n1 in self.chunks(xp, gcols.dtype.itemsize):
            gcol = (W2.T @ gcols[n0:n1]).reshape(n1 - n0, self.C, self.KH, self.KW, self.OH, self.Q)
            self._col2im(gcol, buf[n0:n1])
        return buf

    def _im2col(self, buf, col=None):
        """Pack the windows of ``buf`` (n samples) into ``col`` (n, C*KH*KW, OH*Q): one copy."""
        xp = get_array_module(buf)
        n = buf.shape[0]
        if col is None:
            col = xp.empty((n, self.CKK, self.L), dtype=buf.dtype)
        col = col[:n]
        col.reshape(n, self.C, self.KH, self.KW, self.OH, self.Q)[...] = self.view(buf)
        return col

    def _col2im(self, gcol, buf):
        """Add gcol (n, C, KH, KW, OH, Q) into the windows of ``buf``: one slab per offset."""
        win = self.view(buf)
        for i in range(self.KH):
            for j in range(self.KW):
                win[:, :, i, j] += gcol[:, :, i, j]


# ----------------------------------------------------------------------------- im2col / col2im
def _im2col_book(w, x):
    """The book's layout: (N*OH*OW, C*KH*KW), a row per output position."""
    view = w.view(w.pad(x)).transpose(0, 4, 5, 1, 2, 3)
    return view.reshape(w.N * w.OH * w.OW, w.CKK)


def _col2im_book(w, col):
    xp = get_array_module(col)
    buf = xp.zeros((w.N, w.C, w.Hp, w.Wp), dtype=col.dtype)
    w._col2im(col.reshape(w.N, w.OH, w.OW, w.C, w.KH, w.KW).transpose(0, 3, 4, 5, 1, 2), buf)
    return w.crop(buf)


class Im2col(Function):
    """(N, C, H, W) -> (N*OH*OW, C*KH*KW); backward is col2im."""

    def __init__(self, kernel, stride, padding):
        self.args = kernel, stride, padding

    def forward(self, x):
        _check_image("im2col", x)
        self.w = _Windows("im2col", x.shape, *self.args, wide_ok=False)
        return _im2col_book(self.w, x)

    def backward(self, gcol):
        return _col2im_book(self.w, gcol)


class Col2im(Function):
    """(N*OH*OW, C*KH*KW) -> (N, C, H, W), adding overlapping windows; backward is im2col."""

    def __init__(self, x_shape, kernel, stride, padding):
        self.w = _Windows("col2im", x_shape, kernel, stride, padding, wide_ok=False)

    def forward(self, col):
        w = self.w
        if col.shape != (w.N * w.OH * w.OW, w.CKK):
            raise ValueError(
                f"col2im: expected columns of shape {(w.N * w.OH * w.OW, w.CKK)} for an image of "
                f"shape {(w.N, w.C, w.H, w.W)}, got {tuple(col.shape)}"
            )
        return _col2im_book(w, col)

    def backward(self, gy):
        return _im2col_book(self.w, gy)


def im2col(x, KH, KW, stride=1, padding=0):
    """Every KH x KW window of x (N, C, H, W) as a row: (N*OH*OW, C*KH*KW), columns ordered (C, KH, KW)."""
    kernel = _pair((KH, KW), "kernel size", "im2col", 1)
    return Im2col(kernel, _pair(stride, "stride", "im2col", 1), _pair(padding, "padding", "im2col", 0))(x)


def col2im(col, x_shape, KH, KW, stride=1, padding=0):
    """The adjoint of ``im2col``: add each row's window back into an image of ``x_shape``."""
    if len(x_shape) != 4:
        raise ValueError(f"col2im: x_shape must be (N, C, H, W), got {tuple(x_shape)}")
    kernel = _pair((KH, KW), "kernel size", "col2im", 1)
    stride, padding = _pair(stride, "stride", "col2im", 1), _pair(padding, "padding", "col2im", 0)
    return Col2im(tuple(x_shape), kernel, stride, padding)(col)


# ----------------------------------------------------------------------------- conv2d
def _check_bias(op, b, channels):
    if b is not None and b.shape != (channels,):
        raise ValueError(f"{op}: bias of shape {tuple(b.shape)} does not match {channels} output channels")


class Conv2d(Function):
    """y = W * x + b (cross-correlation, as PyTorch): x (N, C, H, W), W (C_out, C, KH, KW).

    Forward: im2col + one GEMM per sample chunk (``W2 @ col``, NCHW out) + bias.
    Backward: gW = sum gy @ col.T (columns rebuilt), gb = sum of gy, gx = col2im(W2.T @ gy);
    gx is skipped when x needs no gradient (a first layer).
    """

    def __init__(self, stride, padding):
        self.stride, self.padding = stride, padding

    def forward(self, x, W, b=None):
        _check_image("conv2d", x)
        _check_image("conv2d", W, "weight")
        if x.shape[1] != W.shape[1]:
            raise ValueError(
                f"conv2d: input has {x.shape[1]} channels but weight {tuple(W.shape)} expects {W.shape[1]}"
            )
        _check_bias("conv2d", b, W.shape[0])
        w = _Windows("conv2d", x.shape, W.shape[2:], self.stride, self.padding)
        self.w, self.W2 = w, W.reshape(W.shape[0], -1)
        self.buf = w.pad(x)
        cols = w.correlate(self.buf, self.W2)
        if b is not None:
            return w.narrow(cols, W.shape[0]) + b.reshape(-1, 1, 1)  # the crop and the bias: one pass
        y = w.narrow(cols, W.shape[0])
        return y if y.flags.c_contiguous else get_array_module(x).ascontiguousarray(y)

    def backward(self, gy):
        w, W2 = self.w, self.W2
        gcols = w.widen(gy)
        gW = w.weight_grad(self.buf, gcols).reshape(self.inputs[1].shape) if self.needs_grad(1) else None
        gb = gy.sum(axis=(0, 2, 3)) if len(self.inputs) > 2 and self.needs_grad(2) else None
        gx = w.crop(w.fold(gcols, W2)) if self.needs_grad(0) else None
        return gx, gW, gb


class ConvTranspose2d(Function):
    """The adjoint of conv2d (PyTorch's conv_transpose2d): x (N, C_in, H, W), W (C_in, C_out, KH, KW).

    Output (N, C_out, (H-1)*stride - 2*padding + KH, ...). Forward is conv2d's input gradient
    (col2im of W2.T @ x); backward is conv2d's forward (gx) and weight gradient (gW).
    """

    def __init__(self, stride, padding):
        self.stride, self.padding = stride, padding

    def forward(self, x, W, b=None):
        _check_image("conv_transpose2d", x)
        _check_image("conv_transpose2d", W, "weight")
        if x.shape[1] != W.shape[0]:
            raise ValueError(
                f"conv_transpose2d: input has {x.shape[1]} channels but weight {tuple(W.shape)} "
                f"expects {W.shape[0]}"
            )
        _check_bias("conv_transpose2d", b, W.shape[1])
        (KH, KW), (SH, SW), (PH, PW) = W.shape[2:], self.stride, self.padding
        N, _, H, W_ = x.shape
        out_shape = (N, W.shape[1], (H - 1) * SH - 2 * PH + KH, (W_ - 1) * SW - 2 * PW + KW)
        if out_shape[2] < 1 or out_shape[3] < 1:
            raise ValueError(
                f"conv_transpose2d: input {tuple(x.shape)} with weight {tuple(W.shape)}, stride "
                f"{self.stride} and padding {self.padding} gives an empty output {out_shape}"
            )
        # The conv2d that maps the output image back onto x, run backwards.
        w = _Windows("conv_transpose2d", out_shape, (KH, KW), self.stride, self.padding)
        self.w, self.W2 = w, W.reshape(W.shape[0], -1)
        self.xcols = w.widen(x)
        y = w.crop(w.fold(self.xcols, self.W2))
        if b is not None:
            y += b.reshape(-1, 1, 1)
        return y

    def backward(self, gy):
        w, W2 = self.w, self.W2
        buf = w.pad(gy)
        gx = gW = gb = None
        if self.needs_grad(0):
            gx = w.narrow(w.correlate(buf, W2), W2.shape[0])
            gx = gx if gx.flags.c_contiguous else get_array_module(gx).ascontiguousarray(gx)
        if self.needs_grad(1):
            gW = w.weight_grad(buf, self.xcols).reshape(self.inputs[1].shape)
        if len(self.inputs) > 2 and self.needs_grad(2):
            gb = gy.sum(axis=(0, 2, 3))
        return gx, gW, gb


def conv2d(x, W, b=None, stride=1, padding=0):
    """2-D convolution: x (N, C_in, H, W), W (C_out, C_in, KH, KW), b (C_out,) -> (N, C_out, OH, OW)."""
    f = Conv2d(_pair(stride, "stride", "conv2d", 1), _pair(padding, "padding", "conv2d", 0))
    return f(x, W) if b is None else f(x, W, b)


def conv_transpose2d(x, W, b=None, stride=1, padding=0):
    """Transposed convolution: x (N, C_in, H, W), W (C_in, C_out, KH, KW) -> (N, C_out, OH, OW),
    OH = (H - 1) * stride - 2 * padding + KH."""
    f = ConvTranspose2d(_pair(stride, "stride", "conv_transpose2d", 1), _pair(padding, "padding", "conv_transpose2d", 0))
    return f(x, W) if b is None else f(x, W, b)


# ----------------------------------------------------------------------------- pooling
def _pool_windows(op, x, kernel, stride, padding):
    _check_image(op, x)
    if padding[0] * 2 > kernel[0] or padding[1] * 2 > kernel[1]:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    return _Windows(op, x.shape, kernel, stride, padding, wide_ok=False)


def _slabs(w, buf):
    """(k, slab) for every kernel offset: slab = the (N, C, OH, OW) values at that offset."""
    k = 0
    for i in range(w.KH):
        for j in range(w.KW):
            yield k, buf[:, :, i : i + w.SH * (w.OH - 1) + 1 : w.SH, j : j + w.SW * (w.OW - 1) + 1 : w.SW]
            k += 1


class MaxPool2d(Function):
    """Max over each window; backward routes gy to the first maximum (as PyTorch).

    Forward keeps a running max and, per window, the kernel offset of its first maximum
    (uint8 when KH*KW <= 255): a later offset wins only if strictly greater.
    """

    def __init__(self, kernel, stride, padding):
        self.args = kernel, stride, padding

    def forward(self, x):
        w = self.w = _pool_windows("max_pool2d", x, *self.args)
        xp = get_array_module(x)
        y = arg = None
        for k, v in _slabs(w, w.pad(x, value=-xp.inf)):
            if y is None:
                y = v.copy()
                arg = xp.zeros(y.shape, dtype=xp.uint8 if w.KH * w.KW <= 255 else xp.int32)
                continue
            # arithmetic, not masked assignment: branch-free and several times faster
            arg = xp.maximum(arg, (v > y).astype(arg.dtype) * arg.dtype.type(k))
            xp.maximum(y, v, out=y)
        self.arg = arg
        return y

    def backward(self, gy):
        w, arg = self.w, self.arg
        xp = get_array_module(gy)
        buf = xp.zeros((w.N, w.C, w.Hp, w.Wp), dtype=gy.dtype)
        overlap = w.SH < w.KH or w.SW < w.KW
        for k, slab in _slabs(w, buf):
            g = gy * (arg == k)
            if overlap:
                slab += g
            else:
                slab[...] = g
        return w.crop(buf)


class AvgPool2d(Function):
    """Mean over each window, padding counted as zeros (PyTorch's count_include_pad=True)."""

    def __init__(self, kernel, stride, padding):
        self.args = kernel, stride, padding

    def forward(self, x):
        w = self.w = _pool_windows("avg_pool2d", x, *self.args)
        y = None
        for _, v in _slabs(w, w.pad(x)):
            if y is None:
                y = v.copy()
            else:
                y += v
        y *= y.dtype.type(1.0 / (w.KH * w.KW))
        return y

    def backward(self, gy):
        w = self.w
        xp = get_array_module(gy)
        g = gy * gy.dtype.type(1.0 / (w.KH * w.KW))
        buf = xp.zeros((w.N, w.C, w.Hp, w.Wp), dtype=gy.dtype)
        overlap = w.SH < w.KH or w.SW < w.KW
        for _, slab in _slabs(w, buf):
            if overlap:
                slab += g
            else:
                slab[...] = g
        return w.crop(buf)


def _pool_args(op, kernel_size, stride, padding):
    kernel = _pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else _pair(stride, "stride", op, 1)
    return kernel, stride, _pair(padding, "padding", op, 0)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max over KH x KW windows (stride defaults to the kernel size; padding pads with -inf)."""
    return MaxPool2d(*_pool_args("max_pool2d", kernel_size, stride, padding))(x)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over KH x KW windows (stride defaults to the kernel size; padding counts as zeros)."""
    return AvgPool2d(*_pool_args("avg_pool2d", kernel_size, stride, padding))(x)
