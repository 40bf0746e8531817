"""Chapter 06's logit explorer: one example's losses and their gradients at a chosen logit,
and how many gradient steps each loss needs to make the example confident."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np


def logit_explorer(z_grid: np.ndarray, curves: Mapping, loss_and_grad: Callable,
                   steps_to_confident: Callable):
    """A slider for the logit z of the true class over two panels: each loss of ``curves``
    (name -> (values, gradients) on ``z_grid``) with ``loss_and_grad(name, z)`` marked, and
    ``steps_to_confident(name, z)`` for each in the title."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    def show(z):
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.5, 3.7))
        counts = []
        for k, (name, (values, grads)) in enumerate(curves.items()):
            value, g = loss_and_grad(name, z)
            color = f"C{k}"
            ax1.plot(z_grid, values, color, label=f"{name}: {value:.4f}")
            ax1.plot([z], [value], "o", color=color, ms=8)
            ax2.plot(z_grid, grads, color, label=f"{name}: {g:+.4f}")
            ax2.plot([z], [g], "o", color=color, ms=8)
            counts.append(f"{name} {steps_to_confident(name, z)}")
        p = 1.0 / (1.0 + np.exp(-z))
        ax1.set_ylim(-0.2, 6)
        ax2.set_ylim(-1.1, 0.1)
        ax1.set_title(f"loss at z = {z:.1f}  (p of the true class = {p:.4f})")
        ax2.set_title("gradient dℓ/dz (the push on the logit)")
        for ax, corner in ((ax1, "upper right"), (ax2, "lower right")):  # where no curve runs
            ax.axvline(z, color="grey", ls=":", lw=1)
            ax.axhline(0, color="grey", lw=0.5)
            ax.set_xlabel("logit z of the true class")
            ax.legend(loc=corner, fontsize=9)
        fig.suptitle("gradient steps to reach p = 0.9:   " + "   |   ".join(counts), y=1.0)
        plt.tight_layout()
        plt.show()

    return widgets.interactive(
        show, z=widgets.FloatSlider(value=-4.0, min=-10.0, max=8.0, step=0.5,
                                    description="logit z", continuous_update=False))
