"""``tf.function``'s keyword arguments: the ones minitf honours, and clear errors for the rest;
``input_signature``: checking a call's arguments against it.

TensorFlow accepts many options; minitf honours ``input_signature``, ``autograph=False`` (it
has no AutoGraph: Python control flow runs once, while tracing) and the default values of the
others. Any other value raises, instead of being silently ignored.
"""

from __future__ import annotations

from typing import Any

from . import nest
from .execute import convert_to_tensor
from .tensor import EagerTensor

# option -> the values minitf honours (TF's defaults, or what minitf does anyway)
SUPPORTED: dict[str, tuple] = {
    "autograph": (False,),
    "jit_compile": (None, False, True),
    "reduce_retracing": (False,),
    "experimental_implements": (None,),
    "experimental_autograph_options": (None,),
    "experimental_attributes": (None,),
    "experimental_relax_shapes": (None, False),
    "experimental_compile": (None, False),
    "experimental_follow_type_hints": (None, False),
}

_WHY = {
    "autograph": "minitf has no AutoGraph: Python control flow runs once, while tracing; "
                 "pass autograph=False",
}


_COMPILER: list = []  # the compiler, handed over by minitf/__init__.py (never imported here)


def set_compiler(compile_fn: Any) -> None:
    """Install ``compile_fn(concrete_function, strict) -> callable(arrays) -> outputs``."""
    _COMPILER[:] = [compile_fn]


def compiler() -> Any:
    if not _COMPILER:
        raise ValueError("tf.function(jit_compile=True): no compiler is installed "
                         "(minitf/__init__.py installs minitf.compiler)")
    return _COMPILER[0]


def check_options(options: dict[str, Any]) -> None:
    """Raise for an unknown option (TypeError) or a value minitf does not honour (ValueError)."""
    for name, value in options.items():
        if name not in SUPPORTED:
            raise TypeError(f"tf.function() got an unexpected keyword argument {name!r}")
        if not any(value is v or (v is not None and value == v) for v in SUPPORTED[name]):
            why = _WHY.get(name, f"supported values: {', '.join(map(repr, SUPPORTED[name]))}")
            raise ValueError(f"tf.function({name}={value!r}): minitf does not support this "
                             f"option ({why})")


def is_spec(x: Any) -> bool:
    """A ``tf.TensorSpec`` (it lives in ``minitf.data``, above the framework)."""
    return type(x).__name__ == "TensorSpec" and hasattr(x, "shape") and hasattr(x, "dtype")


def check_signature(signature: Any) -> list:
    """``input_signature`` as a list of specs per positional argument (nests allowed)."""
    if not isinstance(signature, list | tuple):
        raise TypeError(f"input_signature must be a list or tuple of tf.TensorSpec, got "
                        f"{signature!r}")
    for s in nest.flatten(list(signature)):
        if not is_spec(s):
            raise TypeError(f"input_signature may only contain tf.TensorSpec, got {s!r}")
    return list(signature)


def bind(signature: list, params: list[str], args: tuple, kwargs: dict) -> list:
    """The call's arguments as tensors matching ``signature`` (positional; keywords are
    matched to the parameter names ``params``), or a TypeError/ValueError saying what
    differs, as TF reports it."""
    args = list(args)
    for name, value in kwargs.items():
        k = params.index(name) if name in params else -1
        if k < len(args) or k >= len(signature):
            raise TypeError(f"tf.function with an input_signature got an unexpected keyword "
                            f"argument {name!r}")
        args += [None] * (k + 1 - len(args))
        args[k] = value
    if len(args) != len(signature) or any(a is None for a in args):
        raise TypeError(f"tf.function with an input_signature of {len(signature)} argument(s) "
                        f"was called with {len(args)}")
    leaves: list[Any] = []
    _leaves_up_to(signature, args, leaves)
    tensors = []
    for spec, a in zip(nest.flatten(signature), leaves):
        t = a if isinstance(a, EagerTensor) else convert_to_tensor(a, dtype_hint=spec.dtype)
        if t.dtype != spec.dtype or not spec.shape.is_compatible_with(t.shape):
            raise ValueError(f"argument {t.dtype.name} {list(t.shape)} is not compatible with "
                             f"the input_signature's {spec}")
        tensors.append(t)
    return nest.pack_sequence_as(signature, tensors)


def _leaves_up_to(spec: Any, arg: Any, out: list) -> None:
    """The arguments at the signature's specs (a nested list under a spec is one value)."""
    if is_spec(spec):
        out.append(arg)
        return
    if isinstance(spec, dict) and isinstance(arg, dict) and set(spec) == set(arg):
        pairs = [(spec[k], arg[k]) for k in sorted(spec)]  # tf.nest's order
    elif isinstance(spec, list | tuple) and isinstance(arg, list | tuple) and len(spec) == len(arg):
        pairs = list(zip(spec, arg))
    else:
        raise ValueError(f"the arguments do not match the input_signature: {arg!r} where it "
                         f"has {spec!r}")
    for s, a in pairs:
        _leaves_up_to(s, a, out)
