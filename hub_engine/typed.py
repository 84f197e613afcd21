"""Build frozen dataclasses from plain data (YAML, JSON), with errors that name the key path.

One mechanism serves the configuration, the EMS snapshot and the device templates, so that
every input the hub accepts is checked the same way: unknown keys are refused (a typo must
not silently become a default), numbers are not booleans, and a dataclass may refine its
own checks in ``__post_init__`` by raising :class:`FieldError`.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from hub_engine.errors import ConfigError
from hub_engine.i18n import Text

__all__ = ["ConfigErrors", "FieldError", "build", "join_path"]

T = TypeVar("T")


class FieldError(ValueError):
    """Raised from a dataclass's ``__post_init__``; ``field`` is relative to that object."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class ConfigErrors(ConfigError):
    """Several invalid values at once (siblings are all checked): ``errors`` lists each
    with its path; the exception itself reads as the first, so a caller that shows one
    error still shows a true one."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__(errors[0].path, errors[0].message)
        self.args = ("\n".join(str(e) for e in errors),)

    def __str__(self) -> str:
        return str(self.args[0])


def _raise_all(errors: list[ConfigError]) -> None:
    flat = [x for e in errors for x in (e.errors if isinstance(e, ConfigErrors) else [e])]
    if len(flat) == 1:
        raise flat[0]
    if flat:
        raise ConfigErrors(flat)


def join_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if tp is type(None):
        return "null"
    if origin is typing.Literal:
        return _either([repr(a) for a in get_args(tp)])
    if origin in (Union, types.UnionType):
        return _either([_type_name(a) for a in get_args(tp)])
    if origin in (tuple, list):
        return Text("a list of {item}", item=_type_name(get_args(tp)[0]))
    if origin in (dict, Mapping):
        return Text("a mapping of {item}", item=_type_name(get_args(tp)[1]))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _either([repr(m.value) for m in tp])
    if dataclasses.is_dataclass(tp):
        return Text("a mapping")
    names = {int: Text("an integer"), float: Text("a number"), str: Text("a string"),
             bool: Text("true or false")}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _either(names: list[str]) -> str:
    out = names[0]
    for name in names[1:]:
        out = Text("{first} or {second}", first=out, second=name)
    return out


def _fail(path: str, value: Any, tp: Any) -> ConfigError:
    return ConfigError(path, Text("got {value}, expected {expected}", value=_describe(value),
                                   expected=_type_name(tp)))


def build(tp: type[T] | Any, data: Any, path: str = "") -> T:
    """Convert ``data`` to ``tp`` or raise :class:`ConfigError` naming ``path``."""
    return typing.cast(T, _build(tp, data, path))


def _build(tp: Any, data: Any, path: str) -> Any:
    origin = get_origin(tp)
    if tp is Any:
        return data
    if origin in (Union, types.UnionType):
        return _build_union(tp, data, path)
    if origin is typing.Literal:
        if any(a == data and type(a) is type(data) for a in get_args(tp)):
            return data
        # YAML 1.1 reads an unquoted off/on as a boolean: take it back where meant.
        word = {False: "off", True: "on"}.get(data) if isinstance(data, bool) else None
        if word is not None and word in get_args(tp):
            return word
        raise _fail(path, data, tp)
    if origin in (tuple, list):
        return _build_sequence(tp, origin, data, path)
    if origin in (dict, Mapping):
        if not isinstance(data, Mapping):
            raise _fail(path, data, tp)
        key_tp, val_tp = get_args(tp) or (Any, Any)  # a bare Dict takes anything
        return {
            _build(key_tp, k, path): _build(val_tp, v, join_path(path, str(k)))
            for k, v in data.items()
        }
    if dataclasses.is_dataclass(tp):
        return _build_dataclass(tp, data, path)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(data)
        except ValueError:
            raise _fail(path, data, tp) from None
    return _build_scalar(tp, data, path)


def _build_union(tp: Any, data: Any, path: str) -> Any:
    args = get_args(tp)
    if data is None:
        if type(None) in args:
            return None
        raise _fail(path, data, tp)
    candidates = [a for a in args if a is not type(None)]
    last: ConfigError | None = None
    for arg in candidates:
        try:
            return _build(arg, data, path)
        except ConfigError as exc:
            last = exc
    if len(candidates) == 1 and last is not None:
        raise last
    raise _fail(path, data, tp)


def _build_sequence(tp: Any, origin: Any, data: Any, path: str) -> Any:
    if not isinstance(data, (list, tuple)):
        raise _fail(path, data, tp)
    args = get_args(tp) or (Any, ...)  # a bare List takes anything
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        if len(data) != len(args):
            raise ConfigError(path, Text("got {count} items, expected {expected}",
                                          count=len(data), expected=len(args)))
        pairs = enumerate(zip(args, data, strict=True))
        return tuple(_build(a, v, join_path(path, i)) for i, (a, v) in pairs)
    items, errors = [], []
    for i, v in enumerate(data):
        try:
            items.append(_build(args[0], v, join_path(path, i)))
        except ConfigError as exc:
            errors.append(exc)
    _raise_all(errors)
    return tuple(items) if origin is tuple else items


def _build_scalar(tp: Any, data: Any, path: str) -> Any:
    if tp is bool:
        if isinstance(data, bool):
            return data
    elif tp is int:
        if isinstance(data, int) and not isinstance(data, bool):
            return data
        if isinstance(data, float) and data.is_integer():
            return int(data)
    elif tp is float:
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            value = float(data)
            if value != value or value in (float("inf"), float("-inf")):
                raise ConfigError(path, Text("got {value}, expected a finite number",
                                              value=_describe(data)))
            return value
    elif tp is str:
        if isinstance(data, str):
            return data
    else:
        raise TypeError(f"unsupported field type {tp!r} at {path}")
    raise _fail(path, data, tp)


def _build_dataclass(tp: Any, data: Any, path: str) -> Any:
    if isinstance(data, tp):
        return data
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise _fail(path, data, tp)
    fields = {f.name: f for f in dataclasses.fields(tp) if f.init}
    # Every wrong key of the mapping is reported, not only the first one met.
    errors = [ConfigError(join_path(path, str(k)),
                          Text("unknown key; expected one of: {keys}",
                               keys=", ".join(sorted(fields))))
              for k in data if k not in fields]
    hints = get_type_hints(tp)
    kwargs: dict[str, Any] = {}
    for name, field in fields.items():
        field_path = join_path(path, name)
        if name in data:
            try:
                kwargs[name] = _build(hints[name], data[name], field_path)
            except ConfigError as exc:
                errors.append(exc)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            errors.append(ConfigError(field_path,
                                      Text("missing; expected {expected}",
                                           expected=_type_name(hints[name]))))
    _raise_all(errors)
    try:
        return tp(**kwargs)
    except FieldError as exc:
        raise ConfigError(join_path(path, exc.field) if exc.field else path, exc.message) from None
