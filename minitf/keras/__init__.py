"""``tf.keras``: layers, models with compile/fit/evaluate/predict, losses, optimizers, ..."""

from ..framework.api_export import exports as _exports
from . import (  # noqa: F401
    activations,
    backend,
    callbacks,
    functional,  # registers the Functional class for model loading
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    utils,
)

globals().update(_exports("keras"))  # keras.Input, keras.Model, keras.Sequential (keras_export)
