"""``tf.saved_model``: save a model to a directory and load it back, callable for inference.

minitf's SavedModel is a directory holding ``model.keras`` (see ``minitf/keras/saving/``) and
``saved_model.json``; it is not TensorFlow's protobuf format. ``saved_model.json`` is written
last (atomically), so a directory without it is incomplete. It reads::

    {"format": "minitf-saved-model", "version": 1,
     "signatures": {"serving_default": {
         "method_name": "tensorflow/serving/predict",
         "inputs":  {"flatten_input": {"dtype": "float32", "shape": [null, 28, 28]}},
         "outputs": {"dense_1": {"dtype": "float32", "shape": [null, 10]}}}}}

Names follow TF 2 Keras exports (see ``_signature``): a Sequential model's input is
``<first layer>_input`` and its output the last layer's name; a functional model's inputs are
its ``Input`` names and its outputs its output layers' names (several of each when it has
them). ``null`` is an unknown dimension (the batch). Inspect one like
``saved_model_cli``: ``python -m minitf.saved_model show --dir DIR --all``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

MARKER = "saved_model.json"
FORMAT = "minitf-saved-model"
SERVING_DEFAULT = "serving_default"
PREDICT_METHOD = "tensorflow/serving/predict"
# NumPy dtype names -> TensorFlow's DataType enum names (what signature_def and the REST API show)
DT_NAMES = {"float32": "DT_FLOAT", "float64": "DT_DOUBLE", "float16": "DT_HALF",
            "int8": "DT_INT8", "int16": "DT_INT16", "int32": "DT_INT32", "int64": "DT_INT64",
            "uint8": "DT_UINT8", "uint16": "DT_UINT16", "bool": "DT_BOOL", "string": "DT_STRING"}


def _unique(names: list[str]) -> list[str]:
    """``names`` with repeats (one layer's several outputs) made unique as ``name_1``,
    ``name_2``, ... skipping names already taken."""
    taken, out = set(names), []
    for n in names:
        if n in out:
            k = 1
            while f"{n}_{k}" in taken:
                k += 1
            n = f"{n}_{k}"
            taken.add(n)
        out.append(n)
    return out


def _is_functional(model: Any) -> bool:
    """Whether ``model`` is a Keras functional model. Matched by class, not imported: keras
    imports this module (``Model.export``), so importing keras here would close a cycle."""
    return any(c.__name__ == "Functional" and c.__module__ == "minitf.keras.functional"
               for c in type(model).__mro__)


def _functional_specs(model: Any) -> tuple[dict, list[str]]:
    """Input specs and output keys of a functional model, in ``nest.flatten`` order."""
    inputs = {t._keras_history[0].name: {"dtype": str(t.dtype),
                                          "shape": [None, *(None if d is None else int(d)
                                                            for d in tuple(t.shape)[1:])]}
              for t in model.inputs}
    struct = getattr(model, "output", None)
    outs = sorted(struct) if isinstance(struct, dict) else list(model.output_names)
    return inputs, _unique([str(k) for k in outs])


def _signature(model: Any) -> dict:
    """The ``serving_default`` signature of a Keras model: names, dtypes and shapes.

    Names follow TF 2's Keras SavedModel (``tf.saved_model.save(model)``), which TF Serving
    users see in ``saved_model_cli``: a functional model's inputs are keyed by its ``Input``
    layers' names and its outputs by its output layers' names (``model.output_names``; the
    keys for a dict of outputs; a layer giving several outputs: ``name``, ``name_1``, ...); a
    Sequential model's input is ``<first layer>_input`` and its output the last layer's name.
    minitf differs from Keras 3's ``model.export``, which keys list outputs by position
    (``output_0``, ``output_1``): layer names say what each output is, and the same names
    serve ``tf.saved_model.save`` and ``model.export``.
    """
    from ..framework import nest

    if _is_functional(model):
        inputs, out_names = _functional_specs(model)
    else:
        in_shape = getattr(model, "input_shape_", None)
        n_in, n_out = (len(getattr(model, a, None) or [None]) for a in ("inputs", "outputs"))
        if n_in > 1 or n_out > 1:
            raise ValueError(f"model '{model.name}' has {n_in} inputs and {n_out} outputs "
                             "but is not a functional model: build it with tf.keras.Model("
                             "inputs, outputs) to export its signature")
        if in_shape is None:
            raise ValueError("the model has no known input shape: build it or call it once "
                             "before saving (e.g. give the first layer input_shape=...)")
        layers = list(getattr(model, "layers", []))
        in_name = f"{layers[0].name}_input" if layers else "input_1"
        inputs = {in_name: {"dtype": "float32", "shape": [
            None, *(None if d is None else int(d) for d in tuple(in_shape)[1:])]}}
        out_names = [layers[-1].name if layers else "output_0"]
    probe = [np.zeros([1] + [d or 1 for d in s["shape"][1:]], s["dtype"])
             for s in inputs.values()]
    outs = nest.flatten(model.predict(probe if len(probe) > 1 else probe[0], verbose=0))
    if len(outs) != len(out_names):
        raise ValueError(f"model '{model.name}' gave {len(outs)} outputs for "
                         f"{len(out_names)} output names {out_names}")
    return {"method_name": PREDICT_METHOD, "inputs": inputs,
            "outputs": {k: {"dtype": str(np.asarray(o).dtype),
                            "shape": [None, *np.asarray(o).shape[1:]]}
                        for k, o in zip(out_names, outs)}}


def save(obj: Any, export_dir: str | Path, signatures: Any = None, options: Any = None) -> None:
    """Write ``obj`` (a Keras model) and its ``serving_default`` signature to ``export_dir``.

    ``signatures`` is accepted for TensorFlow's signature but ignored: minitf records the
    model's own call as ``serving_default``.
    """
    from ..keras import saving

    export_dir = Path(export_dir)
    export_dir.mkdir(parents=True, exist_ok=True)
    signature = _signature(obj)
    saving.save_model(obj, export_dir / "model.keras")
    meta = {"format": FORMAT, "version": 1, "signatures": {SERVING_DEFAULT: signature}}
    tmp = export_dir / f".{MARKER}.tmp"
    tmp.write_text(json.dumps(meta, indent=1))
    os.replace(tmp, export_dir / MARKER)  # the marker appears whole, after the model file


def read_meta(export_dir: str | Path) -> dict:
    """``saved_model.json`` of ``export_dir``, checked; ``ValueError`` names what is wrong."""
    path = Path(export_dir) / MARKER
    if not path.exists():
        raise ValueError(f"{export_dir} is not a minitf SavedModel directory (no {MARKER})")
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is corrupt: {e}") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path}: 'format' is not {FORMAT!r}")
    sigs = meta.get("signatures", {})
    if not isinstance(sigs, dict):
        raise ValueError(f"{path}: 'signatures' must be an object")
    for name, sig in sigs.items():
        for part in ("inputs", "outputs"):
            specs = sig.get(part) if isinstance(sig, dict) else None
            if not isinstance(specs, dict) or not specs or not all(
                    isinstance(s, dict) and isinstance(s.get("shape"), list)
                    and isinstance(s.get("dtype"), str) for s in specs.values()):
                raise ValueError(f"{path}: signature {name!r} has no valid {part!r}")
    return meta


class _Signature:
    """A loaded signature. ``fn(name=array, ...)`` returns ``{output name: tensor}`` as in
    TensorFlow; minitf also takes the model's input(s) positionally, returning what the model
    returns."""

    def __init__(self, model: Any, spec: dict) -> None:
        self.model = model
        self.inputs = spec["inputs"]
        self.outputs = spec["outputs"]
        self.method_name = spec.get("method_name", PREDICT_METHOD)

    def model_inputs(self, named: dict) -> Any:
        """``{input name: value}`` as the model takes it (one value, or a list in order);
        ``ValueError`` naming the missing and unexpected names."""
        if set(named) != set(self.inputs):
            missing = [k for k in self.inputs if k not in named]
            extra = sorted(set(named) - set(self.inputs))
            raise ValueError(f"this signature takes the inputs {list(self.inputs)}; missing "
                             f"{missing}, unexpected {extra}")
        values = [named[k] for k in self.inputs]
        return values if len(values) > 1 else values[0]

    def named_outputs(self, out: Any) -> dict:
        """The model's output structure as ``{output name: value}``."""
        from ..framework import nest

        return dict(zip(self.outputs, nest.flatten(out), strict=True))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args:
            return self.model(args[0] if len(args) == 1 else list(args), training=False)
        return self.named_outputs(self.model(self.model_inputs(kwargs), training=False))


class _Loaded:
    """What ``load`` returns: call it like the model; ``signatures['serving_default']`` too."""

    def __init__(self, model: Any, meta: dict) -> None:
        self.model = model
        specs = meta.get("signatures") or {SERVING_DEFAULT: _signature(model)}
        self.signatures = {k: _Signature(model, v) for k, v in specs.items()}
        self.trainable_variables = model.trainable_variables
        self.variables = model.weights

    def __call__(self, inputs: Any, training: bool = False) -> Any:
        return self.model(inputs, training=training)

    def predict(self, x: Any, **kwargs: Any) -> Any:
        return self.model.predict(x, **kwargs)


def load(export_dir: str | Path, tags: Any = None, options: Any = None) -> _Loaded:
    """The model saved in ``export_dir``, with its signatures."""
    from ..keras import saving

    meta = read_meta(export_dir)
    return _Loaded(saving.load_model(Path(export_dir) / "model.keras"), meta)


def _fmt_shape(shape: list) -> str:
    return "(" + ", ".join("-1" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def show(export_dir: str | Path, signature_def: str | None = None) -> str:
    """``saved_model_cli show --all``'s report for a minitf SavedModel (one signature's, with
    ``signature_def``)."""
    meta = read_meta(export_dir)
    sigs = meta.get("signatures", {})
    if signature_def is not None:
        if signature_def not in sigs:
            raise ValueError(f"{export_dir} has no signature {signature_def!r} "
                             f"(it has {sorted(sigs)})")
        sigs = {signature_def: sigs[signature_def]}
    lines = ["MetaGraphDef with tag-set: 'serve' contains the following SignatureDefs:", ""]
    for name, sig in sigs.items():
        lines.append(f"signature_def['{name}']:")
        for part, title in (("inputs", "inputs"), ("outputs", "outputs")):
            lines.append(f"  The given SavedModel SignatureDef contains the following {title}:")
            for key, spec in sig[part].items():
                lines += [f"    {part}['{key}'] tensor_info:",
                          f"        dtype: {DT_NAMES.get(spec['dtype'], spec['dtype'])}",
                          f"        shape: {_fmt_shape(spec['shape'])}",
                          f"        name: {name}_{key}:0"]
        lines.append(f"  Method name is: {sig.get('method_name', PREDICT_METHOD)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m minitf.saved_model",
                                description="Inspect a minitf SavedModel (like saved_model_cli).")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("show", help="show the signatures of a SavedModel")
    s.add_argument("--dir", required=True)
    s.add_argument("--all", action="store_true", help="every signature with inputs and outputs")
    s.add_argument("--tag_set", default="serve")
    s.add_argument("--signature_def", default=None)
    args = p.parse_args(argv)
    try:
        if args.all or args.signature_def:
            print(show(args.dir, args.signature_def))
        else:
            read_meta(args.dir)
            print("The given SavedModel contains the following tag-sets:\n'serve'")
    except ValueError as e:
        print(f"error: {e}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
