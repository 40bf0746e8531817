"""Chapter 12's filter explorer: a classic filter slid over a digit with a chosen stride,
dilation and padding, the first windows' taps drawn on the input."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np


def filter_explorer(images: np.ndarray, filters: Mapping, output_size: Callable,
                    padding_before_after: Callable):
    """Controls for filter, stride, dilation, padding and image over a figure of input, kernel
    and feature map (``tf.nn.conv2d``). ``images`` is ``[N, H, W, 1]``; ``output_size`` and
    ``padding_before_after`` are the chapter's formulas, which the figure checks."""
    import ipywidgets as widgets
    import matplotlib.patches as patches
    import matplotlib.pyplot as plt

    import minitf as tf

    def show(filter_name, stride, dilation, padding, index):
        image = images[index, :, :, 0]
        n = image.shape[0]
        kernel = np.array(filters[filter_name], dtype="float32")
        k = kernel.shape[0]
        n_out = output_size(n, k, stride, dilation, padding)
        if n_out <= 0:
            print(f"no window fits: the kernel spans {(k - 1) * dilation + 1} pixels")
            return
        fmap = tf.nn.conv2d(image[None, :, :, None], kernel[:, :, None, None], strides=stride,
                            padding=padding, dilations=dilation).numpy()[0, :, :, 0]
        span = (k - 1) * dilation + 1
        fig, axes = plt.subplots(1, 3, figsize=(9.5, 3.4),
                                 gridspec_kw={"width_ratios": [1, 0.6, 1]})
        axes[0].imshow(image, cmap="gray_r")
        top, _ = padding_before_after(n, k, stride, dilation, padding)
        for t in range(min(3, n_out)):  # the first windows along the top row
            for u in range(k):
                for v in range(k):
                    axes[0].add_patch(patches.Rectangle(
                        (t * stride - top + v * dilation - 0.5, -top + u * dilation - 0.5), 1, 1,
                        fill=False, ec=f"C{t + 1}", lw=1.5))
        axes[0].set_xlim(-4, n + 3)
        axes[0].set_ylim(n + 3, -4)
        axes[0].set_title(f"input {n}x{n}, taps of 3 windows")
        lim = np.abs(kernel).max()
        axes[1].imshow(kernel, cmap="RdBu_r", vmin=-lim, vmax=lim)
        axes[1].set_title(f"kernel {k}x{k}\nspan {span}")
        lim = np.abs(fmap).max() or 1.0
        axes[2].imshow(fmap, cmap="RdBu_r", vmin=-lim, vmax=lim)
        axes[2].set_title(f"feature map {fmap.shape[0]}x{fmap.shape[1]} \n"
                          f"(formula: {n_out}x{n_out})")
        for ax in axes[1:]:
            ax.set_xticks([])
            ax.set_yticks([])
        plt.tight_layout()
        plt.show()

    return widgets.interactive(
        show,
        filter_name=widgets.Dropdown(options=list(filters), description="filter"),
        stride=widgets.IntSlider(value=1, min=1, max=4, description="stride"),
        dilation=widgets.IntSlider(value=1, min=1, max=4, description="dilation"),
        padding=widgets.ToggleButtons(options=["VALID", "SAME"], description="padding"),
        index=widgets.IntSlider(value=0, min=0, max=len(images) - 1, description="test image"))
