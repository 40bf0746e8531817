"""``Model`` and ``Sequential`` with Keras' compile / fit / evaluate / predict.

Speed: ``fit`` does not run the training step op by op in Python. It traces the step
(forward, loss, ``GradientTape`` gradients, optimizer update, metric updates) into a graph once
per input signature with ``tf.function`` and then replays the cached plan, so each batch costs
the kernels and one plan walk. ``compile(run_eagerly=True)`` runs it eagerly instead (slower,
easier to debug with print).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..framework import nest
from ..framework.api_export import keras_export
from ..framework.backprop import GradientTape
from ..framework.execute import convert_to_tensor
from ..framework.function import function
from ..framework.graph import Graph
from ..framework.tensor_shape import TensorShape
from ..framework.variables import Variable
from ..ops import array_ops, math_ops
from . import callbacks as callbacks_module
from . import fusion, saving
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from .data_adapter import _DataAdapter, _first, _num, _to_array, _unpack_xy
from .keras_tensor import KerasTensor, is_symbolic, symbolic_call
from .layers.base import Layer
from .layers.core import InputLayer


@keras_export("keras.Model")
class Model(Layer):
    """A layer with training: subclass it and define ``call``, or use ``Sequential``."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        if cls is Model and (len(args) >= 2 or "inputs" in kwargs or "outputs" in kwargs):
            # Model(inputs, outputs) is a Functional (minitf.keras.functional registers it)
            return super().__new__(saving.registry.model_class("Functional"))
        return super().__new__(cls)

    def __init__(self, *args: Any, name: str | None = None, **kwargs: Any) -> None:
        object.__setattr__(self, "_layers", [])
        super().__init__(name=name, **kwargs)
        self.optimizer: Any = None
        self.compiled_loss: Any = None
        self.compiled_metrics: list[Any] = []
        self.stop_training = False
        self.history: callbacks_module.History | None = None
        self._run_eagerly = False
        self._fns: dict[str, Any] = {}
        self._loss_tracker: Any = None
        self._metric_specs: list[Any] = []

    # -- tracking layers and weights ------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Layer) and value is not self and value not in self._layers:
            self._layers.append(value)
        object.__setattr__(self, name, value)

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    @property
    def input_shape(self) -> Any:
        """The input's shape, batch axis ``None`` (a functional model: one per input)."""
        return None if self.input_shape_ is None else tuple(self.input_shape_.as_list())

    @property
    def output_shape(self) -> Any:
        """The output's shape, batch axis ``None`` (a functional model: one per output)."""
        return None if self.output_shape_ is None else tuple(self.output_shape_.as_list())

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or at position ``index`` of ``model.layers``."""
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index, not both")
        if index is not None:
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only "
                                 f"has {len(self._layers)} layers.")
            return self._layers[index]
        if name is None:
            raise ValueError("Provide either a layer name or layer index at `get_layer`.")
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in self._layers]}.")

    @property
    def weights(self) -> list[Variable]:
        seen, out = set(), []
        for w in self._weights + [w for layer in self._layers for w in layer.weights]:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return []
        out = [w for w in self._weights if w.trainable]
        for layer in self._layers:
            out += [w for w in layer.trainable_weights if all(w is not o for o in out)]
        return out

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self) -> list[Variable]:
        train = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in train]

    variables = weights

    @property
    def losses(self) -> list[Any]:
        return [fn() for fn in self._losses_fns] + [x for layer in self._layers
                                                     for x in layer.losses]

    def get_weights(self) -> list[np.ndarray]:
        return [np.array(w.numpy()) for w in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        ws = self.weights
        if len(weights) != len(ws):
            raise ValueError(f"Model '{self.name}' has {len(ws)} weight arrays, got {len(weights)}")
        arrays = [np.asarray(w) for w in weights]
        for v, w in zip(ws, arrays):  # check all before assigning any: all or nothing
            if tuple(v.shape) != w.shape:
                raise ValueError(f"weight '{v.name}' has shape {v.shape}, got {w.shape}")
        for v, w in zip(ws, arrays):
            v.assign(w.astype(v.dtype.np))

    def build(self, input_shape: Any) -> None:
        """Create every weight by running the model once on a placeholder in a scratch graph."""
        from ..ops.array_ops import placeholder

        input_shape = TensorShape(input_shape)
        with Graph().as_default():
            self(placeholder("float32", input_shape))
        self.built = True

    def __call__(self, inputs: Any, training: bool | None = None, **kwargs: Any) -> Any:
        if is_symbolic(inputs):  # a model used as a layer of a functional model
            kwargs.pop("mask", None)
            return symbolic_call(self, lambda x, **kw: self.__call__(x, training, **kw),
                                 inputs, kwargs)
        inputs = convert_to_tensor(inputs)
        if self.input_shape_ is None:
            self.input_shape_ = TensorShape((None, *inputs.shape[1:]))
        self.built = True
        out = self.call(inputs, training=training, **kwargs)
        if self.output_shape_ is None and hasattr(out, "shape"):
            self.output_shape_ = TensorShape((None, *out.shape[1:]))
        return out

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        raise NotImplementedError("Subclasses of Model define call(inputs, training=None)")

    # -- compile ------------------------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None,
                loss_weights: Any = None, run_eagerly: bool = False, jit_compile: Any = "auto",
                **kwargs: Any) -> None:
        """Choose the optimizer, the loss and the metrics (objects or their string names).

        ``jit_compile=True`` compiles each step (train: forward, gradients, optimizer update
        and metric updates; test; predict) with ``minitf.compiler`` into one generated
        function; an op without a lowering rule runs op by op inside it (a stateful one: the
        whole step runs op by op, as without jit), one printed line naming it. ``"auto"``
        (Keras 3's default) means off in minitf."""
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"jit_compile must be True, False or 'auto', got {jit_compile!r}")
        self._jit_compile = jit_compile is True
        self.optimizer = optimizers_module.get(optimizer)
        names = getattr(self, "output_names", None) or []
        self._output_losses = None
        if len(names) > 1:  # one loss, weight and metric list per output
            from .output_losses import OutputLosses

            self._output_losses = OutputLosses(names, loss, loss_weights, metrics)
            loss = next(fn for fn in self._output_losses.losses if fn is not None)
            metrics = []  # per output, in OutputLosses
        elif isinstance(loss, list | tuple | dict) and len(loss) == 1:
            loss = next(iter(loss.values())) if isinstance(loss, dict) else loss[0]
        self.compiled_loss = losses_module.get(loss) if loss is not None else None
        self._metric_specs = list(metrics or [])
        self.compiled_metrics = []
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._run_eagerly = bool(run_eagerly)
        self._fns = {}

    def _resolve_metrics(self, y: np.ndarray, out_shape: TensorShape) -> None:
        if self.compiled_metrics or not self._metric_specs:
            return
        out = []
        for m in self._metric_specs:
            if isinstance(m, str) and m in ("accuracy", "acc"):
                out.append(metrics_module.resolve_accuracy(self.compiled_loss, y.shape,
                                                           tuple(out_shape), name=m))
            else:
                out.append(metrics_module.get(m))
        self.compiled_metrics = out

    @property
    def metrics(self) -> list[Any]:
        out = getattr(self, "_output_losses", None)
        per_output = out.trackers + [m for _, m in out.metrics] if out is not None else []
        return ([self._loss_tracker] if self._loss_tracker is not None else []) + \
            per_output + self.compiled_metrics

    def _compute_loss(self, y: Any, y_pred: Any) -> tuple[Any, Any]:
        """The total loss (data loss, per-output weights, regularization) and what the
        metrics update needs."""
        out = getattr(self, "_output_losses", None)
        loss, per = out.total(y, y_pred) if out is not None else \
            (self.compiled_loss(y, y_pred), None)
        reg = self.losses
        return (math_ops.add_n([loss, *reg]) if reg else loss), per

    def _update_metrics(self, y: Any, y_pred: Any, total: Any, per: Any) -> None:
        # Keras logs the total loss (data plus regularization), weighted by batch size so a
        # short last batch counts for what it holds
        self._loss_tracker.update_state(total, sample_weight=_batch_size(y_pred))
        if per is not None:
            self._output_losses.update(y, y_pred, per)
        for m in self.compiled_metrics:
            m.update_state(y, y_pred)

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    # -- the steps (traced by tf.function unless run_eagerly) -----------------------------------
    def train_step(self, x: Any, y: Any) -> Any:
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            total, per = self._compute_loss(y, y_pred)
        variables = self.trainable_variables
        grads = tape.gradient(total, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        self._update_metrics(y, y_pred, total, per)
        return total

    def test_step(self, x: Any, y: Any) -> Any:
        y_pred = self(x, training=False)
        total, per = self._compute_loss(y, y_pred)
        self._update_metrics(y, y_pred, total, per)
        return total

    def predict_step(self, x: Any) -> Any:
        return self(x, training=False)

    def _fn(self, kind: str) -> Any:
        fn = self._fns.get(kind)
        if fn is None:
            step = getattr(self, f"{kind}_step")
            fn = self._fns[kind] = (step if self._run_eagerly else _JitOrOpByOp(step, kind)
                                    if getattr(self, "_jit_compile", False) else function(step))
        return fn

    def _nested(self) -> tuple[bool, bool]:
        """Whether ``x`` and ``y`` are lists of arrays (several inputs, several outputs)
        rather than one array given as a list."""
        return (len(getattr(self, "inputs", None) or ()) > 1,
                len(getattr(self, "outputs", None) or ()) > 1)

    def _require_compiled(self) -> None:
        if self.optimizer is None or self.compiled_loss is None:
            raise RuntimeError("You must compile your model before training/testing: "
                               "model.compile(optimizer='adam', loss='...')")

    def _prepare(self, x: Any, y: Any) -> None:
        if not self.built or (self.output_shape_ is None and
                              getattr(self, "_output_losses", None) is None):
            self.build((None, *_first(x).shape[1:]))
        out = getattr(self, "_output_losses", None)
        if out is not None:
            out.resolve_metrics(out.targets(y), [t.shape for t in self.outputs])
        else:
            self._resolve_metrics(y, self.output_shape_)

    # -- fit / evaluate / predict ------------------------------------------------------------------
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: list | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1, class_weight: Any = None, sample_weight: Any = None,
            ) -> callbacks_module.History:
        """Train for ``epochs`` epochs; returns a History whose ``.history`` maps metric names to
        per-epoch values (``val_*`` for validation data)."""
        self._require_compiled()
        if class_weight is not None or sample_weight is not None:
            raise NotImplementedError("minitf's fit does not support class_weight/sample_weight")
        data = _DataAdapter(x, y, batch_size, shuffle, steps_per_epoch, "steps_per_epoch",
                            nested=self._nested())
        if validation_split < 0:
            raise ValueError(f"`validation_split` must be in [0, 1), got {validation_split}: "
                             "it is the fraction of the samples held out for validation")
        if validation_split and validation_data is None:
            if data.dataset is not None:
                raise ValueError("validation_split is not supported with a Dataset; "
                                 "pass validation_data")
            data, validation_data = data.split(validation_split)
        val = None
        if validation_data is not None:
            val = _DataAdapter(*_unpack_xy(validation_data),
                               validation_batch_size or batch_size, False, None,
                               nested=self._nested())
        verbose = 1 if verbose == "auto" else int(verbose)
        if (dist := _distributor(self)) is not None:  # this worker's share; rank 0 prints
            data, verbose = dist._distribute_fit_data(self, data), verbose if dist._is_chief else 0
            callbacks = dist._worker_callbacks(callbacks)
        self.history = callbacks_module.History()
        cbs = callbacks_module.CallbackList(
            list(callbacks or []), model=self, add_history=self.history, verbose=verbose,
            epochs=epochs, steps=data.steps)
        self.stop_training = False
        train = self._fn("train")
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            for m in self.metrics:
                m.reset_state()
            cbs.on_epoch_begin(epoch)
            step = -1
            for step, (xb, yb) in enumerate(data.batches()):
                if step == 0 and epoch == initial_epoch:
                    self._prepare(xb, yb)
                    for m in self.metrics:
                        m.reset_state()
                cbs.on_train_batch_begin(step)
                loss = train(xb, yb)
                cbs.on_train_batch_end(step, _BatchLogs(self, loss))
                if self.stop_training:
                    break
            if step < 0:
                if epoch == initial_epoch:
                    raise ValueError(_EMPTY.format(fn="train_function"))
                warnings.warn("Your input ran out of data; interrupting training. Make sure that "
                              "your dataset or generator can generate at least "
                              "`steps_per_epoch * epochs` batches.", stacklevel=2)
                break
            logs = self._logs()
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate(val)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end()
        return self.history

    def _logs(self) -> dict[str, float]:
        return {m.name: float(np.asarray(m.result())) for m in self.metrics}

    def _evaluate(self, data: _DataAdapter, bar: Any = None) -> dict[str, float]:
        for m in self.metrics:
            m.reset_state()
        test = self._fn("test")
        i = -1
        for i, (xb, yb) in enumerate(data.batches()):
            if i == 0:
                self._prepare(xb, yb)
            test(xb, yb)
            if bar is not None:
                bar.on_test_batch_end(i, _BatchLogs(self, None))
        if i < 0:
            raise ValueError(_EMPTY.format(fn="test_function"))
        return self._logs()

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", return_dict: bool = False, **kwargs: Any) -> Any:
        """Loss (and metrics) over the data: a scalar, a list ``[loss, *metrics]`` or a dict."""
        self._require_compiled()
        data = _DataAdapter(x, y, batch_size, False, kwargs.get("steps"), "steps",
                            nested=self._nested())
        dist = _distributor(self)
        if hasattr(dist, "_distribute_eval_data"):  # this worker's share; metrics summed
            data = dist._distribute_eval_data(self, data)
            verbose = verbose if dist._is_chief else 0
        bar = _progbar(verbose, data.steps)
        if bar is not None:
            bar.on_test_begin()
        logs = self._evaluate(data, bar)
        if bar is not None:
            bar.on_test_end(logs)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = 0,
                steps: int | None = None, **kwargs: Any) -> np.ndarray:
        """Model outputs for ``x`` as a NumPy array, computed batch by batch.

        minitf differs: ``verbose`` defaults to 0 (Keras: "auto", a progress bar).
        """
        data = _DataAdapter(x, None, batch_size, False, steps, "steps", predicting=True,
                            nested=self._nested())
        dist = _distributor(self)
        if not hasattr(dist, "_predict_batch"):
            dist = None
        elif not dist._is_chief:
            verbose = 0
        fn = self._fn("predict")
        bar = _progbar(verbose, data.steps)
        if bar is not None:
            bar.on_predict_begin()
        outs = []
        for i, (xb, _) in enumerate(data.batches()):
            if not self.built:
                self.build((None, *_first(xb).shape[1:]))
            # under a strategy each worker predicts its share and the shares are gathered
            outs.append(nest.map_structure(np.asarray, fn(xb)) if dist is None
                        else dist._predict_batch(fn, xb))
            if bar is not None:
                bar.on_predict_batch_end(i)
        if not outs:
            raise ValueError(_EMPTY_PREDICT)
        if bar is not None:
            bar.on_predict_end()
        return nest.map_structure(lambda *parts: np.concatenate(parts), *outs)

    def train_on_batch(self, x: Any, y: Any = None, return_dict: bool = False) -> Any:
        self._require_compiled()
        nx, ny = self._nested()
        x, y = _to_array(x, nx), _to_array(y, ny)
        self._prepare(x, y)
        for m in self.metrics:
            m.reset_state()
        self._fn("train")(x, y)
        logs = self._logs()
        return logs if return_dict else (list(logs.values()) if len(logs) > 1 else
                                         next(iter(logs.values())))

    def test_on_batch(self, x: Any, y: Any = None, return_dict: bool = False) -> Any:
        self._require_compiled()
        data = _DataAdapter(x, y, _num(_to_array(x, self._nested()[0])), False, None,
                            nested=self._nested())
        logs = self._evaluate(data)
        return logs if return_dict else (list(logs.values()) if len(logs) > 1 else
                                         next(iter(logs.values())))

    def predict_on_batch(self, x: Any) -> np.ndarray:
        return nest.map_structure(np.asarray,
                                  self._fn("predict")(_to_array(x, self._nested()[0])))

    # -- description ------------------------------------------------------------------------------
    def summary(self, print_fn: Any = print) -> None:
        """Print the layers, their output shapes and parameter counts, as Keras does."""
        if not self.built:
            raise ValueError("This model has not yet been built. Build it by calling it on data, "
                             "by calling model.build(input_shape), or give the first layer an "
                             "input_shape.")
        rows = self._summary_rows()
        name_w = max([28] + [len(r[0]) + 2 for r in rows])  # long names widen the column
        connected = rows and rows[0][3] is not None  # a functional model: "Connected to"
        width = name_w + 37 + (max(len(c) for r in rows for c in r[3]) + 2 if connected else 0)
        lines = [f'Model: "{self.name}"', "_" * width,
                 f" {'Layer (type)':<{name_w}}{'Output Shape':<26}{'Param #':<10}"
                 + ("Connected to" if connected else ""), "=" * width]
        for i, (name, shape, params, sources) in enumerate(rows):
            if connected:  # Keras lists the sources one a line, separated by commas
                sources = [src + "," for src in sources[:-1]] + sources[-1:]
            line = f" {name:<{name_w}}{_fmt_shape(shape):<26}{params:<10}"
            lines.append((line + (sources[0] if connected else "")).rstrip())
            lines += [" " * (name_w + 37) + src for src in (sources[1:] if connected else [])]
            lines.append("=" * width if i == len(rows) - 1 else "")
        total = sum(int(np.prod(w.shape)) for w in self.weights)
        trainable = sum(int(np.prod(w.shape)) for w in self.trainable_weights)
        lines += [f"Total params: {total:,} ({_fmt_bytes(total * 4)})",
                  f"Trainable params: {trainable:,} ({_fmt_bytes(trainable * 4)})",
                  f"Non-trainable params: {total - trainable:,} "
                  f"({_fmt_bytes((total - trainable) * 4)})", "_" * width]
        for line in lines:
            print_fn(line)

    def _summary_rows(self) -> list[tuple[str, Any, int, Any]]:
        """``(name (class), output shape, params, connected-to or None)`` per layer."""
        return [(f"{layer.name} ({type(layer).__name__})", layer.output_shape_,
                 layer.count_params(), None) for layer in self.layers]

    def count_params(self) -> int:
        return int(sum(np.prod(w.shape) for w in self.weights))

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Layer:
        """A model from ``get_config``'s output (a functional config gives a Functional)."""
        if cls is Model and isinstance(config, dict) and "input_layers" in config:
            functional = saving.registry.model_class("Functional")
            return functional.from_config(config, custom_objects)
        return super().from_config(config)

    # -- saving (minitf/keras/saving/: Keras 3's .keras and HDF5 formats, never pickle) -------
    def save(self, filepath: Any, overwrite: bool = True, include_optimizer: bool = True) -> None:
        """Architecture, weights, compile config and optimizer state to a Keras 3 '.keras'
        file (or Keras' legacy HDF5 for '.h5' names); Keras 3 loads both."""
        saving.save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def export(self, filepath: Any, format: str = "tf_saved_model", verbose: bool = True) -> None:
        """Keras 3's ``export``: a SavedModel for serving (``tf.saved_model.save``)."""
        from .. import saved_model

        if format != "tf_saved_model":
            raise ValueError(f"export format {format!r} is not supported; use 'tf_saved_model'")
        saved_model.save(self, filepath)
        if verbose:
            print(f"Saved artifact at '{filepath}'.")

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Weights (and optimizer state) to Keras 3's '.weights.h5' file."""
        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any, skip_mismatch: bool = False) -> None:
        """Weights from a '.weights.h5' or legacy '.h5' file; all or nothing."""
        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch)


def _batch_size(y_pred: Any) -> Any:
    """The number of samples in ``y_pred`` (a run-time value: the last batch may be short)."""
    return array_ops.shape(nest.flatten(y_pred)[0])[0]


@keras_export("keras.Sequential")
@saving.register_model
class Sequential(Model):
    """A plain stack of layers, each feeding the next."""

    def __init__(self, layers: list[Layer] | None = None, name: str | None = None) -> None:
        super().__init__(name=name)
        self._input_declared: tuple | None = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Layer) -> None:
        if isinstance(layer, KerasTensor) and isinstance(
                (layer._keras_history or (None,))[0], InputLayer):
            layer = layer._keras_history[0]  # Sequential([tf.keras.Input((784,)), ...])
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add takes a layer, got {layer!r}")
        if isinstance(layer, InputLayer):
            self._input_declared = layer._input_shape_arg
            return
        if not self._layers and layer._input_shape_arg is not None:
            self._input_declared = layer._input_shape_arg
        self._layers.append(layer)
        if self._input_declared is not None:
            self.built = False
            self.build((None, *self._input_declared))

    def pop(self) -> Layer:
        layer = self._layers.pop()
        return layer

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        x, layers, i = inputs, self._layers, 0
        while i < len(layers):
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            if fusion.conv_pool(layers[i], nxt):  # one op for Conv2D + MaxPooling2D
                x = fusion.call_conv_pool(layers[i], nxt, x)
                i += 2
                continue
            x = layers[i](x, training=training)
            i += 1
        return x

    def get_config(self) -> dict:
        return {"name": self.name, "layers": [
            {"class_name": type(layer).__name__, "config": layer.get_config()}
            for layer in self._layers]}


# -- data handling (the adapter is in data_adapter.py) -------------------------------


def _distributor(model: Model) -> Any:
    """The tf.distribute strategy (or hvd reducer) the model's optimizer reduces with, or None."""
    return getattr(model.optimizer, "_distribute_strategy", None)


_EMPTY = ("Unexpected result of `{fn}` (Empty logs). This could be due to issues in input "
          "pipeline that resulted in an empty dataset. Otherwise, please use "
          "`Model.compile(..., run_eagerly=True)` for more information of where went wrong.")
_EMPTY_PREDICT = ("Unexpected result of `predict_function` (Empty batch_outputs): the input "
                  "produced no batches (an empty dataset or generator?).")
def _progbar(verbose: Any, steps: int | None) -> Any:
    """evaluate/predict's progress bar (``verbose="auto"`` or 1; 2 prints the last line only)."""
    v = 1 if verbose == "auto" else int(verbose)
    if not v:
        return None
    bar = callbacks_module.ProgbarLogger(v)
    bar.set_params({"steps": steps, "verbose": v})
    return bar


class _BatchLogs(dict):
    """Per-batch logs, computed only if a callback reads them (reading costs a sync)."""

    def __init__(self, model: Model, loss: Any) -> None:
        super().__init__()
        self._model, self._loss, self._filled = model, loss, False

    def _fill(self) -> None:
        if not self._filled:
            self._filled = True
            super().update(self._model._logs())
            if self._loss is not None:
                self["batch_loss"] = float(np.asarray(self._loss))

    def __getitem__(self, k: str) -> Any:
        self._fill()
        return super().__getitem__(k)

    def get(self, k: str, default: Any = None) -> Any:
        self._fill()
        return super().get(k, default)

    def items(self):  # type: ignore[override]
        self._fill()
        return super().items()

    def keys(self):  # type: ignore[override]
        self._fill()
        return super().keys()

    def __iter__(self):
        self._fill()
        return super().__iter__()

    def __len__(self) -> int:
        self._fill()
        return super().__len__()


def _fmt_shape(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, dict):
        shape = list(shape.values())
    if isinstance(shape, list) and shape and isinstance(shape[0], tuple | list):
        return ", ".join(_fmt_shape(s) for s in shape)  # a model with several outputs
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _fmt_bytes(n: float) -> str:
    """Keras 3's memory size: two decimals in B, KB, MB, ... ('0.00 B', '397.54 KB')."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GB"


load_model = saving.load_model
save_model = saving.save_model


class _JitOrOpByOp:
    """A step for ``compile(jit_compile=True)``: compiled by minitf.compiler, or, from the
    first call the compiler refuses, the traced op-by-op step (one printed line says why)."""

    def __init__(self, step: Any, kind: str) -> None:
        self._kind, self._jit, self._plain = kind, function(step, jit_compile=True), None
        self._jit._jit_strict = False  # an op without a lowering rule: op by op, inside

    def __call__(self, *args: Any) -> Any:
        if self._plain is None:
            from ..framework.errors import UnimplementedError

            try:
                return self._jit(*args)
            except UnimplementedError as e:
                print(f"jit_compile: {self._kind}_step runs op by op: {str(e).splitlines()[0]}")
                self._plain = function(self._jit.python_function)
        return self._plain(*args)
