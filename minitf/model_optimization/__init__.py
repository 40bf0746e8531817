"""``import minitf.model_optimization as tfmot``: TensorFlow Model Optimization Toolkit's API.

``tfmot.sparsity.keras``: magnitude pruning (``prune_low_magnitude``, ``PolynomialDecay``,
``ConstantSparsity``, ``UpdatePruningStep``, ``PruningSummaries``, ``strip_pruning``).
``tfmot.quantization.keras``: quantization-aware training (``quantize_model``,
``quantize_annotate_layer``, ``quantize_apply``). Both work on Sequential models of Dense and
Conv2D layers (other layers pass through unchanged); convert the result with ``tf.lite``.
"""

from __future__ import annotations

from . import quantization, sparsity

__all__ = ["quantization", "sparsity"]
