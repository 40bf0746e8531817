"""Which minitf layer is which Keras 3 layer: one ``LayerSpec`` per class, nothing else.

Saving and loading need, per layer class, only its Keras class name, the settings both frameworks
take under the same name, the Keras settings minitf supports at one value only, and where the
weights sit. Weights are stored in the order of ``layer.weights``, which must be Keras' order.
Adding a layer is one ``register`` call (the recurrent layers below show one whose weights
Keras keeps in a sub-object, its cell; the wrappers at the end show layers inside a layer).
List in ``keys`` only what the minitf class takes; a
Keras setting outside ``keys`` and ``fixed`` loads only when it is None, False or 0, otherwise
the load is refused by name.
Then add the layer to ``CASES`` in ``tests/test_keras_files.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LayerSpec:
    """How one layer class is written in Keras' files.

    keras_class: Keras' ``class_name``; minitf_class: the name in ``minitf.keras.layers``;
    keys: settings with the same name and meaning in both (besides name and trainable);
    fixed: Keras settings minitf supports at this value only (any other is refused on load);
    weights_path: the sub-path of the weights below the layer in a ``.keras`` file;
    h5_names: the weights' names in a legacy ``.h5`` file, when not the variables' own names;
    nested: settings that hold a whole layer config, each with the attribute (the same in
    Keras and minitf) that holds the built layer; its weights sit below ``<attribute>/`` in a
    ``.keras`` file, in this order (``Bidirectional``: ``forward_layer/``, ``backward_layer/``).
    """

    keras_class: str
    minitf_class: str
    keys: tuple[str, ...] = ()
    fixed: Mapping[str, Any] = field(default_factory=dict)
    weights_path: str = ""
    h5_names: tuple[str, ...] = ()
    nested: Mapping[str, str] = field(default_factory=dict)


_SPECS: dict[str, LayerSpec] = {}


def register(spec: LayerSpec) -> LayerSpec:
    """Add (or replace) the spec of a layer class."""
    _SPECS[spec.keras_class] = spec
    return spec


def by_keras_class(name: str) -> LayerSpec | None:
    return _SPECS.get(name)


def by_minitf_class(cls: type) -> LayerSpec | None:
    for spec in _SPECS.values():
        if spec.minitf_class == cls.__name__ and cls.__module__.startswith("minitf."):
            return spec
    return None


def snake_case(name: str) -> str:
    """Keras' ``to_snake_case``: ``MaxPooling2D`` -> ``max_pooling2d``, ``SimpleRNN`` ->
    ``simple_rnn`` (it names the groups of ``model.weights.h5``)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


_KERNEL = ("activation", "use_bias", "kernel_initializer", "bias_initializer",
           "kernel_regularizer", "bias_regularizer")
_CHANNELS_LAST = {"data_format": "channels_last"}
_POOL = ("pool_size", "strides", "padding")

register(LayerSpec("Dense", "Dense", ("units", *_KERNEL)))
register(LayerSpec("Conv2D", "Conv2D", ("filters", "kernel_size", "strides", "padding",
                                        "dilation_rate", *_KERNEL),
                   fixed={**_CHANNELS_LAST, "groups": 1}))
register(LayerSpec("MaxPooling2D", "MaxPooling2D", _POOL, fixed=_CHANNELS_LAST))
register(LayerSpec("AveragePooling2D", "AveragePooling2D", _POOL, fixed=_CHANNELS_LAST))
register(LayerSpec("GlobalAveragePooling2D", "GlobalAveragePooling2D", ("keepdims",),
                   fixed=_CHANNELS_LAST))
register(LayerSpec("Flatten", "Flatten", fixed=_CHANNELS_LAST))
register(LayerSpec("Dropout", "Dropout", ("rate", "seed", "noise_shape")))
register(LayerSpec("Activation", "Activation", ("activation",)))
register(LayerSpec("BatchNormalization", "BatchNormalization", (
    "axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
    "moving_mean_initializer", "moving_variance_initializer", "beta_regularizer",
    "gamma_regularizer"), fixed={"renorm_momentum": 0.99}))

# Keras keeps the recurrent layers' weights in their cell (layers/lstm/cell/vars/0..2)
_CELL = ("units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
         "bias_initializer")
_FLAGS = ("return_sequences", "return_state", "go_backwards", "zero_output_for_mask")
_LSTM, _GRU = ("recurrent_activation", "unit_forget_bias"), ("recurrent_activation",)
register(LayerSpec("SimpleRNN", "SimpleRNN", (*_CELL, *_FLAGS), fixed={"unroll": False},
                   weights_path="cell"))
register(LayerSpec("LSTM", "LSTM", (*_CELL, *_FLAGS, *_LSTM), fixed={"unroll": False},
                   weights_path="cell"))
register(LayerSpec("GRU", "GRU", (*_CELL, *_FLAGS, *_GRU),
                   fixed={"unroll": False, "reset_after": True}, weights_path="cell"))
register(LayerSpec("SimpleRNNCell", "SimpleRNNCell", _CELL))
register(LayerSpec("LSTMCell", "LSTMCell", (*_CELL, *_LSTM)))
register(LayerSpec("GRUCell", "GRUCell", (*_CELL, *_GRU, "reset_after")))

# wrappers: a layer config inside the config, its weights below the attribute holding it
register(LayerSpec("RNN", "RNN", _FLAGS, fixed={"unroll": False}, nested={"cell": "cell"}))
register(LayerSpec("TimeDistributed", "TimeDistributed", nested={"layer": "layer"}))
register(LayerSpec("Bidirectional", "Bidirectional", ("merge_mode",), nested={
    "layer": "forward_layer", "backward_layer": "backward_layer"}))
register(LayerSpec("Embedding", "Embedding", ("input_dim", "output_dim", "embeddings_initializer",
                                              "embeddings_regularizer", "mask_zero")))

# merge layers: no weights; Keras writes only name, trainable and dtype (and these settings)
for _name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
    register(LayerSpec(_name, _name))
register(LayerSpec("Concatenate", "Concatenate", ("axis",)))
register(LayerSpec("Dot", "Dot", ("axes", "normalize")))


def keras_class_name(layer: Any) -> str:
    """The ``class_name`` Keras writes for ``layer`` (a model: ``Functional``/``Sequential``;
    a custom layer: its own class name)."""
    spec = by_minitf_class(type(layer))
    return spec.keras_class if spec else type(layer).__name__


def model_children(layer: Any) -> list | None:
    """The layers of ``layer`` when it is a model used as a layer (their weights sit below
    ``<its path>/layers/`` in Keras 3's files), else None."""
    return list(layer.layers) if type(layer).__name__ in _MODELS and \
        type(layer).__module__.startswith("minitf.") else None


_MODELS: dict[str, type] = {}


def register_model(cls: type) -> type:
    """Make a model class loadable by its name (``minitf.keras.models`` registers Sequential;
    so the saving code never imports the models module)."""
    _MODELS[cls.__name__] = cls
    return cls


def model_class(name: str) -> type:
    return _MODELS[name]
