"""``tf.keras``: layers, models with compile/fit/evaluate/predict, losses, optimizers, ..."""

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
from .layers import Input  # noqa: F401
from .models import Model, Sequential  # noqa: F401
