"""``tf.lite``: convert Keras models to small files and run them with integer kernels.

``TFLiteConverter`` (float32, float16, dynamic-range and full-int8 models, TFLite's
quantization spec) and ``Interpreter`` (TFLite's Python API). The file format is minitf's own
(see ``format.py``): TensorFlow's ``.tflite`` FlatBuffers are neither written nor read.
"""

from __future__ import annotations

from .converter import OpsSet, Optimize, RepresentativeDataset, TargetSpec, TFLiteConverter
from .format import InvalidModelError
from .interpreter import Interpreter

__all__ = ["Interpreter", "InvalidModelError", "OpsSet", "Optimize", "RepresentativeDataset",
           "TFLiteConverter", "TargetSpec"]
