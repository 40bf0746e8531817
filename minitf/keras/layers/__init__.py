"""``tf.keras.layers``: the names the layer modules declare (``keras_export``, see
``minitf/framework/api_export.py``), not a list kept here."""

from typing import Any as _Any

from ...framework.api_export import exports as _exports
from ...framework.api_export import lookup as _lookup
from . import (  # noqa: F401 - importing them declares their layers
    base,
    conv,
    core,
    merging,
    normalization,
    pooling,
    recurrent,
    serialization,
)

globals().update(_exports("keras.layers"))


def __getattr__(name: str) -> _Any:  # layers declared later (a module imported after this one)
    return _lookup("keras.layers", name)
