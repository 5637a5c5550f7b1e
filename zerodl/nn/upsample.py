"""``nn.Upsample``: resize images by a scale factor (a layer over ``F.interpolate``)."""
from .. import functions as F
from .module import Module

__all__ = ["Upsample"]


class Upsample(Module):
    """``Upsample(scale_factor=None, mode="nearest", size=None, align_corners=None)``.

    Shapes: input (N, C, H, W) (or (N, C, L) for ``nearest``) -> (N, C, floor(H * scale),
    floor(W * scale)), or (N, C, *size). ``mode``: ``"nearest"`` or ``"bilinear"`` (PyTorch's
    ``align_corners=False`` unless asked). No parameters. A typical generator block is
    ``Upsample(scale_factor=2)`` followed by ``Conv2d(..., padding=1)``, an alternative to
    ``ConvTranspose2d`` that avoids its checkerboard artefacts.
    """

    def __init__(self, scale_factor=None, mode="nearest", size=None, align_corners=None):
        super().__init__()
        if (scale_factor is None) == (size is None):
            raise ValueError("Upsample: give exactly one of scale_factor and size")
        if mode not in ("nearest", "bilinear"):
            raise ValueError(f"Upsample: mode must be 'nearest' or 'bilinear', got {mode!r}")
        self.scale_factor = tuple(scale_factor) if isinstance(scale_factor, (list, tuple)) else scale_factor
        self.size = tuple(size) if isinstance(size, (list, tuple)) else size
        self.mode = mode
        self.align_corners = align_corners

    def forward(self, x):
        return F.interpolate(x, self.scale_factor, mode=self.mode, size=self.size,
                             align_corners=self.align_corners)

    def extra_repr(self):
        what = f"scale_factor={self.scale_factor}" if self.size is None else f"size={self.size}"
        return f"{what}, mode={self.mode!r}"
