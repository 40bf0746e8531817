"""The chapters' widgets in course/widgets (the plumbing the chapters show in one line): each
builds, draws once with the chapter's functions passed in, and its controls do what they say.
Small stand-ins for the chapters' functions; no training, no kernel."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
pytest.importorskip("ipywidgets")


@pytest.fixture(autouse=True)
def _close_figures():
    """The widgets' plt.show() keeps figures open under Agg: close them after each test."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


SURFACE = {"f": lambda x, y: x**2 + y**2, "minimum": (0.0, 0.0)}


def _controls(ui) -> dict:
    return {w.description: w for w in ui.kwargs_widgets}


def _show(ui) -> None:
    """Call an interactive()'s function directly: interactive() logs its exceptions instead of
    raising them."""
    ui.f(**ui.kwargs)


def test_optimizer_playground_runs_the_chapter_function_and_greys_out_momentum():
    from course.widgets.optimizers import NO_MOMENTUM, OPTIMIZERS, optimizer_playground

    calls = []

    def run(optimizer, surface, steps, noise=None):
        calls.append((type(optimizer).__name__, surface, steps, noise is not None))
        return np.linspace([-1.0, 1.0], [0.0, 0.0], steps + 1)

    def draw_path(ax, path, **style):
        ax.plot(*path.T, label=style["label"])

    ui = optimizer_playground(run, {"quadratic": SURFACE, "Rosenbrock": SURFACE},
                              lambda ax, name: None, draw_path,
                              {"quadratic": {"GD": 0.01}, "Rosenbrock": {"GD": 0.002}})
    assert calls[:2] == [("Adam", "Rosenbrock", 300, False), ("SGD", "Rosenbrock", 300, False)]
    c = _controls(ui)
    assert {"GD", "SGD (noisy)", "Adagrad"} == set(NO_MOMENTUM) < set(OPTIMIZERS)
    for name in ("SGD (noisy)", "momentum", "Adam"):  # each redraws the figure: a few only
        c["optimizer"].value = name
        assert c["momentum"].disabled == (name in NO_MOMENTUM), name
    assert [noisy for _, _, _, noisy in calls].count(True) == 1  # "SGD (noisy)" only
    c["momentum"].value = 0.5  # Adam, selected last, runs again
    assert calls[-2] == ("Adam", "Rosenbrock", 300, False)
    _show(ui)


def test_make_optimizer_maps_the_slider_and_names_unknown_optimizers():
    from course.widgets.optimizers import make_optimizer

    assert float(make_optimizer("RMSprop", 0.1, 0.5).rho) == 0.5
    assert float(make_optimizer("Adam", 0.1, 0.7).beta_1) == pytest.approx(0.7)
    with pytest.raises(ValueError, match="'Lion'"):
        make_optimizer("Lion", 0.1, 0.9)


def test_filter_explorer_checks_the_chapter_formula():
    from course.widgets.convolution import filter_explorer

    sizes = []

    def output_size(n, k, stride=1, dilation=1, padding="VALID"):
        span = (k - 1) * dilation + 1
        size = -(-n // stride) if padding == "SAME" else (n - span) // stride + 1
        sizes.append(size)
        return size

    def padding_before_after(n, k, stride, dilation, padding):
        return (0, 0)

    images = np.random.default_rng(0).random((3, 12, 12, 1)).astype("float32")
    ui = filter_explorer(images, {"blur": np.ones((3, 3)) / 9}, output_size, padding_before_after)
    c = _controls(ui)
    c["stride"].value = 2
    c["dilation"].value = 4  # span 9 of 12 pixels: 2 windows
    assert sizes == [10, 5, 2]
    _show(ui)
    assert c["test image"].max == 2


def test_broadcast_explorer_reports_typed_and_picked_shapes():
    from course.widgets.broadcasting import PRESETS, broadcast_explorer, parse_shape

    assert parse_shape("(3, 1)") == (3, 1) and parse_shape("") == () and parse_shape("[4,]") == (4,)
    with pytest.raises(ValueError, match="negative"):
        parse_shape("-1, 2")
    seen, drawn = [], []

    def report(sa, sb):
        seen.append((sa, sb))
        return "has shape" if len(sa) <= 2 else "error"

    ui = broadcast_explorer(report, lambda sa, sb, ax: drawn.append((sa, sb)))
    example, box_b = ui.children[0], ui.children[1].children[1]
    example.value = "rank 3: (5, 1, 3) + (4, 3)"  # one report for both boxes, no picture
    box_b.value = "x"  # not a shape: a hint, no report
    assert seen == [((4, 3), (3,)), ((5, 1, 3), (4, 3))]
    assert drawn == [((4, 3), (3,))]
    assert len(PRESETS) == 8


def test_digit_sender_asks_for_the_picked_image():
    from course.widgets.serving import digit_sender

    images = np.stack([np.full((28, 28), k, np.float32) for k in range(3)])
    asked = []

    def ask(image):
        asked.append(float(image[0, 0]))
        return {"predictions": [[0.0] * 9 + [5.0]]}

    ui = digit_sender(ask, images, np.array([7, 2, 1]))
    ui.children[0].value = 2
    assert asked == [0.0, 2.0]
    assert ui.children[0].max == 2


def test_pass_toggles_describe_the_ticked_passes():
    from types import SimpleNamespace

    from course.widgets.compiler import pass_toggles

    chosen = []

    def describe(passes):
        chosen.append(list(passes))
        return 3, 1, 1e-6, SimpleNamespace(source="def run(): ...")

    ui = pass_toggles(["dead_code", "fuse_elementwise"], describe)
    ui.children[0].children[1].value = False
    assert chosen == [["dead_code", "fuse_elementwise"], ["dead_code"]]


def test_session_stepper_runs_steps_and_stops_an_exploding_run():
    from course.widgets.sessions import session_stepper

    state = {"w": 0.0, "inits": 0, "rates": []}

    def train_step(rate):
        state["rates"].append(rate)
        state["w"] += 1.0
        return 10.0 ** (3 * state["w"])  # explodes past 1e6 at the third step

    def initialize():
        state["w"], state["inits"] = 0.0, state["inits"] + 1

    x = np.linspace(-1, 1, 5)
    ui = session_stepper(train_step, initialize, lambda: (state["w"], 0.0), x, 2 * x)
    step, ten, init = ui.children[0].children
    status = ui.children[2]
    assert state["inits"] == 1 and "sess.run(init)" in status.value
    step.click()
    assert state["rates"] == [pytest.approx(0.1)] and "x 1" in status.value
    ten.click()  # steps 2 and 3, then the loss is over 1e6
    assert len(state["rates"]) == 3 and "exploded" in status.value
    init.click()
    assert state["inits"] == 2 and state["w"] == 0.0


def test_backward_stepper_draws_every_step_of_the_sweep():
    from types import SimpleNamespace as NS

    from course.widgets.backprop import backward_stepper

    def op(name, kind):
        node = NS(name=name, type=kind)
        return node, NS(op=node)

    (_, x), (_, y), (a_op, a), (b_op, b), (c_op, c), (f_op, _) = (
        op("x", "Placeholder"), op("y", "Placeholder"), op("a", "Mul"), op("b", "Sin"),
        op("c", "AddV2"), op("f", "Square"))
    trace = [(f_op, None, [(c, None)]), (c_op, None, [(a, None), (b, None)]),
             (b_op, None, [(x, None)]), (a_op, None, [(x, None), (y, None)])]
    steps = [(1.0, [2.0]), (2.0, [2.0, 2.0]), (2.0, [1.0]), (2.0, [4.0, 2.0])]
    forward = {"x": 1.0, "y": 2.0, "a": 2.0, "b": 0.84, "c": 2.84, "f": 8.07}
    ui = backward_stepper(trace, steps, forward)
    assert ui.kwargs_widgets[0].max == 4
    for step in range(5):
        ui.f(step)


def test_logit_explorer_marks_every_loss_at_the_chosen_logit():
    from course.widgets.losses import logit_explorer

    z = np.linspace(-10, 10, 21)
    curves = {"BCE": (np.log1p(np.exp(-z)), -1 / (1 + np.exp(z))), "MAE": (1 - z, -np.ones(21))}
    asked = []

    def loss_and_grad(name, value):
        asked.append((name, value))
        return 0.5, -0.5

    ui = logit_explorer(z, curves, loss_and_grad, lambda name, value: "3")
    _show(ui)
    assert asked[-2:] == [("BCE", -4.0), ("MAE", -4.0)]
