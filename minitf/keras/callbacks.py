"""Callbacks: hooks ``fit`` calls around epochs and batches, and the progress bar."""

from __future__ import annotations

import math
import sys
import time
from typing import Any

import numpy as np


class Callback:
    """Override any of the ``on_*`` methods; ``self.model`` is the model being trained."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...
    def on_predict_begin(self, logs: dict | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_end(self, logs: dict | None = None) -> None: ...


class History(Callback):
    """Records every epoch's logs: ``history.history['loss']`` is a list, one value per epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


class ProgbarLogger(Callback):
    """Keras-style progress: a bar redrawn in place (at most ~10 times a second) in a terminal
    or notebook; one line per epoch when the output is a file or a CI log."""

    def __init__(self, verbose: int = 1, stream: Any = None) -> None:
        super().__init__()
        self.verbose = verbose
        self.stream = stream or sys.stdout
        self._interactive = _interactive(self.stream)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = self._last = time.perf_counter()
        self._epoch = epoch
        if self.verbose == 1 and self._interactive:
            self._write(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}\n")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.verbose != 1 or not self._interactive:
            return
        now = time.perf_counter()
        if now - self._last < 0.1:
            return
        self._last = now
        self._write("\r" + self._line(batch + 1, now, logs, final=False))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not self.verbose:
            return
        now = time.perf_counter()
        steps = self.params.get("steps") or 0
        line = self._line(steps, now, logs, final=True)
        if self._interactive and self.verbose == 1:
            self._write("\r" + line + "\n")
        else:
            self._write(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')} - {line}\n")

    # evaluate / predict: one bar, no "Epoch" header, as Keras draws them
    def on_test_begin(self, logs: dict | None = None) -> None:
        self._start = self._last = time.perf_counter()

    on_predict_begin = on_test_begin

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.on_train_batch_end(batch, logs)

    on_predict_batch_end = on_test_batch_end

    def on_test_end(self, logs: dict | None = None) -> None:
        if not self.verbose:
            return
        line = self._line(self.params.get("steps") or 0, time.perf_counter(), logs, final=True)
        self._write(("\r" if self._interactive and self.verbose == 1 else "") + line + "\n")

    on_predict_end = on_test_end

    def _line(self, step: int, now: float, logs: dict | None, final: bool) -> str:
        total = self.params.get("steps")
        elapsed = now - self._start
        per_step = elapsed / max(step, 1)
        if total:
            filled = int(20 * step / total)
            bar = "━" * filled + ("╸" if filled < 20 else "") + " " * max(0, 19 - filled)
            head = f"{step}/{total} {bar} "
        else:
            head = f"{step} "
        if final or not total:
            timing = f"{_fmt_time(elapsed)} {_fmt_time(per_step)}/step"
        else:
            timing = f"ETA: {_fmt_time(per_step * (total - step))}"
        items = [f"{k}: {v:.4f}" for k, v in (logs or {}).items() if k != "batch_loss"]
        return head + timing + ("" if not items else " - " + " - ".join(items))

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def _interactive(stream: Any) -> bool:
    if "ipykernel" in type(stream).__module__:  # a Jupyter notebook renders \r in place
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms"
    return f"{seconds * 1e6:.0f}us"


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has stopped improving for ``patience`` epochs."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0) -> None:
        super().__init__()
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.verbose, self.baseline = verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        if mode == "auto":
            mode = "max" if "acc" in monitor or monitor.endswith("auc") else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.mode = mode
        self.stopped_epoch = 0

    def _better(self, value: float, ref: float) -> bool:
        if self.mode == "min":
            return value < ref - self.min_delta
        return value > ref + self.min_delta

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self.baseline if self.baseline is not None else (
            math.inf if self.mode == "min" else -math.inf)
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise KeyError(f"EarlyStopping monitors '{self.monitor}', which is not in the logs "
                           f"{sorted(logs or {})}")
        if epoch < self.start_from_epoch:
            return
        if self._better(value, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        # as Keras 3: the best weights come back at the end of training, stopped early or not
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping (best {self.monitor} "
                  f"{self.best:.4f} at epoch {self.best_epoch + 1})")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (or only its weights) after each epoch, or only when it improved.

    ``filepath`` may contain ``{epoch}`` and log names, e.g. ``'ckpt-{epoch:02d}.weights.h5'``.
    """

    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq: str = "epoch") -> None:
        super().__init__()
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.mode = mode
        self.best = math.inf if mode == "min" else -math.inf
        if save_freq != "epoch":
            raise NotImplementedError("minitf's ModelCheckpoint saves once per epoch")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                raise KeyError(f"ModelCheckpoint monitors '{self.monitor}', not in the logs")
            better = value < self.best if self.mode == "min" else value > self.best
            if not better:
                return
            self.best = value
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved to {path}")


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate each epoch to ``schedule(epoch, lr)``."""

    def __init__(self, schedule: Any, verbose: int = 0) -> None:
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        opt = self.model.optimizer
        lr = float(np.asarray(opt.learning_rate))
        new = float(self.schedule(epoch, lr))
        opt.learning_rate = new
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(np.asarray(self.model.optimizer.learning_rate))


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite."""

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("batch_loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LivePlot(Callback):
    """Redraw the training curves (one panel per metric, train and val) after every epoch in a
    notebook; in a script it draws once at the end, into ``self.figure`` (save it with
    ``live.figure.savefig(...)``)."""

    def __init__(self, metrics: list[str] | None = None, figsize: tuple = (9.5, 3.2)) -> None:
        super().__init__()
        self.metrics, self.figsize = metrics, figsize
        self.logs: dict[str, list[float]] = {}
        self.figure: Any = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.logs = {}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for k, v in (logs or {}).items():
            self.logs.setdefault(k, []).append(v)
        self._draw(final=False)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._draw(final=True)

    def _draw(self, final: bool) -> None:
        import matplotlib.pyplot as plt

        notebook = _in_notebook()
        if not notebook and not final:
            return
        names = self.metrics or [k for k in self.logs if not k.startswith("val_")
                                 and k != "learning_rate"]
        names = [n for n in names if self.logs.get(n)]
        if not names:  # no epoch ran (e.g. initial_epoch == epochs): nothing to draw
            return
        fig, axes = plt.subplots(1, len(names), figsize=self.figsize, squeeze=False)
        for ax, name in zip(axes[0], names):
            ax.plot(range(1, len(self.logs[name]) + 1), self.logs[name], "o-", label="train")
            if f"val_{name}" in self.logs:
                ax.plot(range(1, len(self.logs[f"val_{name}"]) + 1), self.logs[f"val_{name}"],
                        "s--", label="validation")
            ax.set_xlabel("epoch")
            ax.set_title(name)
            ax.legend()
        fig.tight_layout()
        self.figure = fig
        if notebook:
            from IPython.display import clear_output, display

            clear_output(wait=True)
            display(fig)
        plt.close(fig)


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where ``display`` draws a figure), not in a script."""
    shell = sys.modules.get("IPython")
    get_ipython = getattr(shell, "get_ipython", None)
    ip = get_ipython() if get_ipython else None
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


class CallbackList:
    """Calls every callback in turn; adds History and the progress bar as Keras does."""

    def __init__(self, callbacks: list[Callback], model: Any, add_history: History,
                 verbose: int, epochs: int, steps: int | None) -> None:
        self.callbacks = list(callbacks)
        if verbose and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger(verbose))
        self.callbacks.insert(0, add_history)
        params = {"epochs": epochs, "steps": steps, "verbose": verbose}
        for c in self.callbacks:
            c.set_model(model)
            c.set_params(params)
        # per-batch hooks cost a metric read, so only call the callbacks that define them
        self._batch_end = [c for c in self.callbacks
                           if type(c).on_train_batch_end is not Callback.on_train_batch_end]
        self._batch_begin = [c for c in self.callbacks
                             if type(c).on_train_batch_begin is not Callback.on_train_batch_begin]

    def on_train_begin(self) -> None:
        for c in self.callbacks:
            c.on_train_begin({})

    def on_train_end(self) -> None:
        for c in self.callbacks:
            c.on_train_end({})

    def on_epoch_begin(self, epoch: int) -> None:
        for c in self.callbacks:
            c.on_epoch_begin(epoch, {})

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        for c in self.callbacks[1:]:  # History last, so it sees what others added
            c.on_epoch_end(epoch, logs)
        self.callbacks[0].on_epoch_end(epoch, logs)

    def on_train_batch_begin(self, batch: int) -> None:
        for c in self._batch_begin:
            c.on_train_batch_begin(batch, {})

    def on_train_batch_end(self, batch: int, logs: dict) -> None:
        for c in self._batch_end:
            c.on_train_batch_end(batch, logs)
