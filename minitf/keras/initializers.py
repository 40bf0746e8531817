"""``tf.keras.initializers``: the starting values of layer weights.

``init(shape, dtype)`` returns an eager tensor, even while a graph is being built. Unseeded
initializers draw from minitf's global generator, so ``tf.random.set_seed(s)`` makes a model's
weights reproducible; a ``seed`` gives the same values on every call, as in Keras 3.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import dtypes
from ..framework.tensor import EagerTensor
from ..ops import init_ops_v1, random_ops
from .object_registration import resolve as _custom_objects

_TRUNC_STDDEV = 0.87962566103423978  # stddev of a unit normal truncated to [-2, 2]


def _dtype(dtype: Any) -> dtypes.DType:
    d = dtypes.as_dtype(dtype if dtype is not None else "float32")
    if not d.is_floating:
        raise ValueError(f"Expected a floating point dtype for an initializer, got {d.name}")
    return d


def _shape(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int) else tuple(int(d) for d in shape)


def compute_fans(shape: Any) -> tuple[float, float]:
    """``(fan_in, fan_out)`` of a weight shape, as Keras computes them (the receptive field
    of a convolution kernel multiplies both)."""
    return init_ops_v1.fans(_shape(shape))


class Initializer:
    """Base class: ``__call__(shape, dtype=None)`` returns an eager tensor."""

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> EagerTensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _Random(Initializer):
    """Initializers that draw random numbers: the generator comes from the seed rule."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def _rng(self) -> np.random.Generator:
        if self.seed is None:
            return random_ops.get_global_generator()
        return np.random.default_rng(int(self.seed))

    def _out(self, values: np.ndarray, dtype: Any) -> EagerTensor:
        return EagerTensor(np.asarray(values, dtype=_dtype(dtype).np))

    def _uniform(self, shape: Any, limit: float, dtype: Any) -> EagerTensor:
        return self._out(self._rng().uniform(-limit, limit, _shape(shape)), dtype)

    def _normal(self, shape: Any, mean: float, stddev: float, dtype: Any) -> EagerTensor:
        return self._out(self._rng().standard_normal(_shape(shape)) * stddev + mean, dtype)

    def _truncated(self, shape: Any, mean: float, stddev: float, dtype: Any) -> EagerTensor:
        rng = self._rng()
        x = rng.standard_normal(_shape(shape))
        bad = np.abs(x) > 2
        while bad.any():  # redraw values beyond two standard deviations
            x[bad] = rng.standard_normal(int(bad.sum()))
            bad = np.abs(x) > 2
        return self._out(x * stddev + mean, dtype)

    def get_config(self) -> dict:
        return {"seed": self.seed}


class RandomNormal(_Random):
    """Samples from N(mean, stddev**2)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> EagerTensor:
        return self._normal(shape, self.mean, self.stddev, dtype)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal samples redrawn until within two standard deviations of the mean."""

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> EagerTensor:
        return self._truncated(shape, self.mean, self.stddev, dtype)


class RandomUniform(_Random):
    """Samples from U[minval, maxval)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05,
                 seed: int | None = None) -> None:
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> EagerTensor:
        return self._out(self._rng().uniform(self.minval, self.maxval, _shape(shape)), dtype)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(_Random):
    """Samples with variance ``scale / n``, ``n`` the fan in, fan out or their average."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None) -> None:
        if scale <= 0:
            raise ValueError(f"`scale` must be positive, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"`mode` must be fan_in, fan_out or fan_avg, got {mode!r}")
        distribution = distribution.lower()
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError("`distribution` must be truncated_normal, untruncated_normal or "
                             f"uniform, got {distribution!r}")
        super().__init__(seed)
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> EagerTensor:
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            return self._uniform(shape, math.sqrt(3.0 * variance), dtype)
        if self.distribution == "untruncated_normal":
            return self._normal(shape, 0.0, math.sqrt(variance), dtype)
        return self._truncated(shape, 0.0, math.sqrt(variance) / _TRUNC_STDDEV, dtype)

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


def _variance_scaling(name: str, scale: float, mode: str, distribution: str, doc: str) -> type:
    def __init__(self: VarianceScaling, seed: int | None = None) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self: VarianceScaling) -> dict:
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                          "__doc__": doc})


GlorotUniform = _variance_scaling(
    "GlorotUniform", 1.0, "fan_avg", "uniform",
    "U[-limit, limit] with limit = sqrt(6 / (fan_in + fan_out)) (Keras' default).")
GlorotNormal = _variance_scaling(
    "GlorotNormal", 1.0, "fan_avg", "truncated_normal",
    "Truncated normal with stddev sqrt(2 / (fan_in + fan_out)).")
HeNormal = _variance_scaling("HeNormal", 2.0, "fan_in", "truncated_normal",
                             "Truncated normal with stddev sqrt(2 / fan_in) (for ReLU).")
HeUniform = _variance_scaling("HeUniform", 2.0, "fan_in", "uniform",
                              "U[-limit, limit] with limit = sqrt(6 / fan_in).")
LecunNormal = _variance_scaling("LecunNormal", 1.0, "fan_in", "truncated_normal",
                                "Truncated normal with stddev sqrt(1 / fan_in).")
LecunUniform = _variance_scaling("LecunUniform", 1.0, "fan_in", "uniform",
                                 "U[-limit, limit] with limit = sqrt(3 / fan_in).")


class Orthogonal(_Random):
    """A (scaled) random orthogonal matrix, reshaped to ``shape``."""

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        super().__init__(seed)
        self.gain = float(gain)

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> EagerTensor:
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2, got {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self._out(self.gain * q.reshape(shape), dtype)

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed}


class Constant(Initializer):
    """Every element equal to ``value`` (a scalar, or an array broadcast to the shape)."""

    def __init__(self, value: Any = 0.0) -> None:
        self.value = value

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> EagerTensor:
        d = dtypes.as_dtype(dtype if dtype is not None else "float32")
        return EagerTensor(np.array(np.broadcast_to(np.asarray(self.value, d.np), _shape(shape))))

    def get_config(self) -> dict:
        v = self.value
        return {"value": v.tolist() if isinstance(v, np.ndarray) else v}


class Zeros(Constant):
    """All zeros."""

    def __init__(self) -> None:
        super().__init__(0.0)

    def get_config(self) -> dict:
        return {}


class Ones(Constant):
    """All ones."""

    def __init__(self) -> None:
        super().__init__(1.0)

    def get_config(self) -> dict:
        return {}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = float(gain)

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> EagerTensor:
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D shape, got {shape}")
        return EagerTensor(self.gain * np.eye(*shape, dtype=_dtype(dtype).np))

    def get_config(self) -> dict:
        return {"gain": self.gain}


# Keras' lower-case aliases
glorot_uniform = xavier_uniform = GlorotUniform
glorot_normal = xavier_normal = GlorotNormal
he_normal, he_uniform = HeNormal, HeUniform
lecun_normal, lecun_uniform = LecunNormal, LecunUniform
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
zeros, ones, constant, orthogonal, identity = Zeros, Ones, Constant, Orthogonal, Identity

_CLASSES = [GlorotUniform, GlorotNormal, HeNormal, HeUniform, LecunNormal, LecunUniform,
            RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling, Orthogonal, Zeros,
            Ones, Constant, Identity]
_BY_NAME: dict[str, type] = {c.__name__: c for c in _CLASSES}
_BY_NAME.update({
    "glorot_uniform": GlorotUniform, "xavier": GlorotUniform, "xavier_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "xavier_normal": GlorotNormal, "he_normal": HeNormal,
    "he_uniform": HeUniform, "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
    "random_normal": RandomNormal, "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "orthogonal": Orthogonal, "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones,
    "constant": Constant, "identity": Identity,
})


def serialize(initializer: Initializer) -> dict:
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Initializer:
    classes = {**_BY_NAME, **_custom_objects(custom_objects)}
    name = config["class_name"]
    if name not in classes:
        raise ValueError(f"Unknown initializer: {name!r}")
    return classes[name].from_config(config.get("config", {}))


def get(identifier: Any) -> Any:
    """An initializer from a name ('glorot_uniform', 'he_normal', 'zeros', ...), a config
    dict, an instance or any callable; ``None`` gives ``None``."""
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")
