"""Chapter 03's session stepper: buttons that run one training step (or ten, or the
initializer) in the chapter's open session, with the line and the loss drawn after each."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def session_stepper(train_step: Callable, initialize: Callable, weights: Callable,
                    x_data: np.ndarray, y_data: np.ndarray):
    """``train_step(learning_rate)`` runs one ``sess.run([train_op, loss], feed_dict=...)`` and
    returns the loss; ``initialize()`` runs the initializer; ``weights()`` returns ``(W, b)``.
    A step whose loss is not finite or above 1e6 stops a ×10 run and says so."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    losses: list[float] = []
    previous: list[tuple[float, float]] = []  # (W, b) before the last step, if any
    xs = np.linspace(float(np.min(x_data)), float(np.max(x_data)), 2)
    lo, hi = float(np.min(y_data)), float(np.max(y_data))
    ylim = (lo - 0.5 * (hi - lo), hi + 0.5 * (hi - lo))  # room for lines that overshoot

    rate = widgets.FloatLogSlider(value=0.1, base=10, min=-2, max=0.3, step=0.05,
                                  description="learning rate", readout_format=".3f",
                                  layout=widgets.Layout(width="420px"))
    step_button = widgets.Button(description="sess.run(train_op)", button_style="primary")
    ten_button = widgets.Button(description="× 10")
    init_button = widgets.Button(description="sess.run(init)")
    status = widgets.HTML()
    out = widgets.Output()

    def draw():
        w_now, b_now = weights()
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.5, 3.4))
        ax1.scatter(x_data, y_data, s=12, color="#555555")
        if previous:
            w_old, b_old = previous[-1]
            ax1.plot(xs, w_old * xs + b_old, "--", color="C0", lw=1, label="before the step")
        ax1.plot(xs, w_now * xs + b_now, color="C3", lw=2, label="now")
        ax1.set_ylim(*ylim)
        ax1.set_title(f"step {len(losses)}:  W = {w_now:.3f},  b = {b_now:.3f}")
        ax1.legend(frameon=False, loc="upper left")
        if losses:
            ax2.semilogy(np.arange(1, len(losses) + 1), losses, "o-", ms=3, color="C3")
        ax2.set_xlabel("sess.run calls")
        ax2.set_ylabel("loss (log scale)")
        ax2.set_title("loss fetched with each step")
        ax2.grid(alpha=0.3)
        fig.tight_layout()
        plt.show()

    def run_steps(n):
        for _ in range(n):
            previous[:] = [weights()]
            loss = train_step(rate.value)
            losses.append(loss)
            if not np.isfinite(loss) or loss > 1e6:
                return "the loss exploded: press sess.run(init) and lower the learning rate"
        return (f"ran sess.run([train_op, loss], feed_dict={{..., learning_rate: "
                f"{rate.value:.3g}}}) x {n}")

    def reinitialize():
        initialize()
        losses.clear()
        previous.clear()
        return "ran sess.run(init): W and b are 0 again"

    def refresh(message):
        status.value = f"<code>{message}</code>"
        with out:
            out.clear_output(wait=True)
            draw()

    step_button.on_click(lambda _: refresh(run_steps(1)))
    ten_button.on_click(lambda _: refresh(run_steps(10)))
    init_button.on_click(lambda _: refresh(reinitialize()))
    refresh(reinitialize())
    return widgets.VBox([widgets.HBox([step_button, ten_button, init_button]), rate, status, out])
