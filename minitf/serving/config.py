"""TF Serving's configuration files: the text-proto subset they use.

``--model_config_file`` holds a ``model_config_list`` (name, base_path, model_platform,
model_version_policy ``latest``/``all``/``specific``); ``--batching_parameters_file`` holds
``max_batch_size { value: N }`` and friends. Unknown fields raise ``ValueError`` naming them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_TOKEN = re.compile(r"""\s+|\#[^\n]*|(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
                    r"""|(?P<sym>[{}:<>;,\[\]])|(?P<word>[A-Za-z0-9_.+\-/]+)""")

Message = list  # [(field name, str | Message), ...] in file order; fields may repeat


def _tokens(text: str, where: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            line = text.count("\n", 0, pos) + 1
            raise ValueError(f"{where}: line {line}: cannot parse {text[pos:pos + 20]!r}")
        if m.group("str"):
            out.append(("s", m.group("str")[1:-1].encode().decode("unicode_escape")))
        elif m.group("sym") or m.group("word"):
            out.append(("t", m.group(0)))
        pos = m.end()
    return out


def parse_text_proto(text: str, where: str = "text proto") -> Message:
    """A text-format protobuf message as nested ``[(name, value), ...]`` lists."""
    toks = _tokens(text, where)
    pos = 0

    def message(end: str | None) -> Message:
        nonlocal pos
        fields: Message = []
        while pos < len(toks):
            kind, tok = toks[pos]
            if kind == "t" and tok == end:
                pos += 1
                return fields
            if kind != "t" or not re.match(r"^[A-Za-z_]\w*$", tok):
                raise ValueError(f"{where}: expected a field name, found {tok!r}")
            pos += 1
            if pos < len(toks) and toks[pos] == ("t", ":"):
                pos += 1
            if pos >= len(toks):
                raise ValueError(f"{where}: field {tok!r} has no value")
            vkind, value = toks[pos]
            pos += 1
            if vkind == "t" and value in "{<":
                fields.append((tok, message("}" if value == "{" else ">")))
            else:
                fields.append((tok, value))
            if pos < len(toks) and toks[pos] in (("t", ";"), ("t", ",")):
                pos += 1
        if end is not None:
            raise ValueError(f"{where}: a '{{' is never closed")
        return fields

    return message(None)


def _only(msg: Message, allowed: set[str], where: str) -> None:
    for name, _ in msg:
        if name not in allowed:
            raise ValueError(f"{where}: unknown field {name!r} (known: {', '.join(sorted(allowed))})")


def _int(value: object, where: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise ValueError(f"{where}: expected an integer, found {value!r}") from None


@dataclass
class ModelConfig:
    """One served model: where its version directories are and which versions to serve."""

    name: str
    base_path: str
    policy: str = "latest"  # latest | all | specific
    num_versions: int = 1  # for latest
    versions: set[int] = field(default_factory=set)  # for specific
    model_platform: str = "tensorflow"


def _model_config(msg: Message, where: str) -> ModelConfig:
    _only(msg, {"name", "base_path", "model_platform", "model_version_policy"}, where)
    d = dict((k, v) for k, v in msg if k != "model_version_policy")
    if "name" not in d or "base_path" not in d:
        raise ValueError(f"{where}: every config needs 'name' and 'base_path'")
    cfg = ModelConfig(name=d["name"], base_path=d["base_path"],
                      model_platform=d.get("model_platform", "tensorflow"))
    for _, policy in (kv for kv in msg if kv[0] == "model_version_policy"):
        _only(policy, {"latest", "all", "specific"}, f"{where}: model_version_policy")
        for kind, body in policy:
            cfg.policy = kind
            if kind == "latest":
                _only(body, {"num_versions"}, f"{where}: latest")
                for _, n in body:
                    cfg.num_versions = _int(n, f"{where}: num_versions")
            elif kind == "specific":
                _only(body, {"versions"}, f"{where}: specific")
                cfg.versions = {_int(v, f"{where}: versions") for _, v in body}
    return cfg


def parse_model_config(text: str, where: str = "model config") -> list[ModelConfig]:
    """The models of a ``model_config_list { config { ... } ... }`` file."""
    msg = parse_text_proto(text, where)
    _only(msg, {"model_config_list"}, where)
    configs = []
    for _, lst in msg:
        _only(lst, {"config"}, f"{where}: model_config_list")
        configs += [_model_config(c, f"{where}: config") for _, c in lst]
    names = [c.name for c in configs]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: a model name appears twice: {names}")
    return configs


@dataclass
class BatchingParameters:
    """TF Serving's ``BatchingParameters`` (the fields minitf uses)."""

    max_batch_size: int = 32
    batch_timeout_micros: int = 1000
    num_batch_threads: int = 2
    max_enqueued_batches: int = 1000


def parse_batching_parameters(text: str, where: str = "batching parameters") -> BatchingParameters:
    """``max_batch_size { value: 32 } batch_timeout_micros { value: 1000 } ...``"""
    params = BatchingParameters()
    known = set(BatchingParameters.__dataclass_fields__) | {"pad_variable_length_inputs",
                                                           "allowed_batch_sizes"}
    msg = parse_text_proto(text, where)
    _only(msg, known, where)
    for name, body in msg:
        if name in BatchingParameters.__dataclass_fields__:
            values = [v for k, v in body if k == "value"] if isinstance(body, list) else [body]
            if len(values) != 1:
                raise ValueError(f"{where}: {name} needs '{{ value: N }}'")
            n = _int(values[0], f"{where}: {name}")
            if n < (0 if name == "batch_timeout_micros" else 1):
                raise ValueError(f"{where}: {name} must be positive, got {n}")
            setattr(params, name, n)
    return params


def read(path: str | Path) -> str:
    try:
        return Path(path).read_text()
    except OSError as e:
        raise ValueError(f"cannot read {path}: {e}") from e
