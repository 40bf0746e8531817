"""Output sizes and padding of convolution and pooling windows, TensorFlow's rules.

Shared by the ops' shape rules (``minitf/ops/conv_ops.py``) and every backend's kernels, so
the static shape and the run-time shape can never disagree.
"""

from __future__ import annotations


def window_1d(size: int | None, k: int, stride: int, dilation: int, padding: str
              ) -> tuple[int | None, int, int]:
    """``(out, pad_before, pad_after)`` for one spatial axis of ``size`` inputs.

    The window covers ``(k - 1) * dilation + 1`` inputs. ``VALID`` keeps only windows that fit
    (``out = (size - span) // stride + 1``); ``SAME`` gives ``out = ceil(size / stride)`` and
    pads with the extra input on the far side, as TensorFlow does. ``size=None`` gives
    ``(None, 0, 0)``; an output with no window raises ValueError.
    """
    span = (k - 1) * dilation + 1
    if size is None:
        return None, 0, 0
    if padding == "VALID":
        out = (size - span) // stride + 1 if size >= span else 0
        before = after = 0
    else:
        out = -(-size // stride)
        total = max((out - 1) * stride + span - size, 0)
        before, after = total // 2, total - total // 2
    if out <= 0:
        raise ValueError(f"a window of {span} (kernel {k}, dilation {dilation}) does not fit in "
                         f"{size} inputs with padding {padding}")
    return out, before, after


def window_2d(h: int | None, w: int | None, ksize: tuple[int, int], strides: tuple[int, int],
              dilations: tuple[int, int], padding: str
              ) -> tuple[int | None, int | None, tuple[int, int, int, int]]:
    """``(out_h, out_w, (top, bottom, left, right))`` for an NHWC input of height/width h, w."""
    oh, top, bottom = window_1d(h, ksize[0], strides[0], dilations[0], padding)
    ow, left, right = window_1d(w, ksize[1], strides[1], dilations[1], padding)
    return oh, ow, (top, bottom, left, right)
