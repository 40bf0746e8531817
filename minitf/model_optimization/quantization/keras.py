"""``tfmot.quantization.keras``: the names TF-MOT users type."""

from __future__ import annotations

from .qat import (
    QuantizeAnnotate,
    QuantizeLayer,
    QuantizeWrapper,
    quantize_annotate_layer,
    quantize_annotate_model,
    quantize_apply,
    quantize_model,
)

__all__ = ["QuantizeAnnotate", "QuantizeLayer", "QuantizeWrapper", "quantize_annotate_layer",
           "quantize_annotate_model", "quantize_apply", "quantize_model"]
