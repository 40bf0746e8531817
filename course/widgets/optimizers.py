"""Chapter 07's optimizer playground: an optimizer's trajectory on a 2-D loss surface."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

OPTIMIZERS = ["GD", "SGD (noisy)", "momentum", "Nesterov", "Adagrad", "RMSprop", "Adam"]
NO_MOMENTUM = ("GD", "SGD (noisy)", "Adagrad")  # no setting for the momentum slider to change


def make_optimizer(name: str, lr: float, momentum: float):
    """The Keras optimizer ``name``; ``momentum`` is ``momentum`` for momentum and Nesterov,
    ``rho`` for RMSprop and ``beta_1`` for Adam, and unused by the others."""
    import minitf as tf

    opt = tf.keras.optimizers
    if name in ("GD", "SGD (noisy)"):
        return opt.SGD(lr)
    if name in ("momentum", "Nesterov"):
        return opt.SGD(lr, momentum=momentum, nesterov=(name == "Nesterov"))
    if name == "Adagrad":
        return opt.Adagrad(lr)
    if name == "RMSprop":
        return opt.RMSprop(lr, rho=momentum)
    if name == "Adam":
        return opt.Adam(lr, beta_1=momentum)
    raise ValueError(f"unknown optimizer {name!r}: one of {OPTIMIZERS}")


def optimizer_playground(run: Callable, surfaces: Mapping, draw_surface: Callable,
                         draw_path: Callable, tuned_rates: Mapping):
    """Sliders for surface, optimizer, learning rate, momentum and steps over a figure of the
    path ``run(optimizer, surface, steps, noise=...)`` draws on ``draw_surface``, next to GD at
    ``tuned_rates[surface]["GD"]`` in grey. The momentum slider is greyed out where unused."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    import minitf as tf

    # SGD's gradient noise: fixed, so a path depends on the sliders only
    noise_by_surface = {"quadratic": np.random.default_rng(2).normal(0.0, 2.0, size=(1000, 2)),
                        "Rosenbrock": np.random.default_rng(2).normal(0.0, 10.0, size=(1000, 2))}

    def show(surface, optimizer, learning_rate, momentum, steps):
        noise = noise_by_surface.get(surface) if optimizer == "SGD (noisy)" else None
        path = run(make_optimizer(optimizer, learning_rate, momentum), surface, steps, noise=noise)
        gd_lr = tuned_rates[surface]["GD"]
        reference = run(tf.keras.optimizers.SGD(gd_lr), surface, steps)
        s = surfaces[surface]
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.5, 3.8),
                                       gridspec_kw={"width_ratios": [1.5, 1]})
        draw_surface(ax1, surface)
        draw_path(ax1, reference, color="grey", alpha=0.5, ms=1.5, label=f"GD, lr {gd_lr}")
        draw_path(ax1, path, color="C3", label=optimizer)
        ax1.legend(loc="lower right")
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged path may hold inf
            losses = s["f"](path[:, 0], path[:, 1])
            reference_losses = s["f"](reference[:, 0], reference[:, 1])
        ax2.semilogy(reference_losses, color="grey", label=f"GD, lr {gd_lr}")
        ax2.semilogy(losses, color="C3", label=optimizer)
        ax2.set_ylim(top=100 * losses[0])  # keep a divergence from squashing the plot
        ax2.set_xlabel("step")
        ax2.set_ylabel("loss (log scale)")
        ax2.legend()
        if len(path) < steps + 1 or not np.isfinite(losses[-1]):
            status = f"DIVERGED after {len(path) - 1} steps"
        else:
            distance = np.linalg.norm(path[-1] - np.array(s["minimum"]))
            status = f"final loss {losses[-1]:.2e}, distance to the minimum {distance:.3f}"
        fig.suptitle(f"{optimizer}, lr = {learning_rate:.4g}: {status}")
        ax2.set_title("loss per step")
        plt.tight_layout()
        plt.show()

    menu = widgets.Dropdown(options=OPTIMIZERS, value="Adam", description="optimizer")
    momentum = widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01,
                                   description="momentum", continuous_update=False)
    menu.observe(lambda change: setattr(momentum, "disabled", change["new"] in NO_MOMENTUM),
                 names="value")
    return widgets.interactive(
        show,
        surface=widgets.Dropdown(options=list(surfaces), value="Rosenbrock",
                                 description="surface"),
        optimizer=menu,
        learning_rate=widgets.FloatLogSlider(value=0.1, base=10, min=-4, max=0, step=0.1,
                                             description="lr", continuous_update=False),
        momentum=momentum,
        steps=widgets.IntSlider(value=300, min=10, max=1000, step=10, description="steps",
                                continuous_update=False),
    )
