"""``tf.keras.layers.serialize`` / ``deserialize``: a layer as ``{"class_name", "config"}``
(minitf's ``get_config``), and back through minitf's classes or the custom-object table.
For Keras 3's file schema use ``tf.keras.saving.serialize_keras_object``."""

from __future__ import annotations

from ...framework.api_export import keras_export
from ..object_registration import custom_object_scope, resolve
from .base import Layer, builtin_layer_class


@keras_export("keras.layers.serialize")
def serialize(layer: Layer) -> dict:
    """``{"class_name", "config"}`` of ``layer`` (a registered class under its
    ``'package>Name'``)."""
    name = getattr(type(layer), "_registered_name", type(layer).__name__)
    return {"class_name": name, "config": layer.get_config()}


@keras_export("keras.layers.deserialize")
def deserialize(config: dict, custom_objects: dict | None = None) -> Layer:
    """A layer from ``serialize``'s output. The class comes from ``custom_objects``, the
    registered classes (``register_keras_serializable``, ``custom_object_scope``) or
    minitf's own layers; layers nested in its config are looked up the same way."""
    if not isinstance(config, dict) or not isinstance(config.get("config", {}), dict):
        raise ValueError(f"a layer config is a {{'class_name', 'config'}} dict, got {config!r}")
    name = config.get("class_name")
    custom = resolve(custom_objects)
    cls = custom.get(name) or custom.get(config.get("registered_name")) or \
        builtin_layer_class(name if isinstance(name, str) else "")
    if cls is None:
        raise ValueError(f"Unknown layer class {name!r}: pass it in custom_objects or "
                         "register it with tf.keras.saving.register_keras_serializable")
    with custom_object_scope(custom_objects):  # nested configs see the same objects
        return cls.from_config(dict(config.get("config", {})))
