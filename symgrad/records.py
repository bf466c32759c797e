"""Immutable records: ``@record`` is a frozen ``@dataclass`` without the start-up cost.

Stage: shared by every stage (steps, documents, results are records). ``dataclasses`` writes and
``exec``s five or six methods per class, about half a millisecond each; the step engine and the
renderers define some fifty classes, which alone would cost ~25 ms of every ``symgrad`` run (the
whole start-up budget over bare SymPy is ~45 ms). ``record`` builds the same behaviour from shared
closures instead: keyword or positional construction with defaults, ``field(default_factory=…)``,
``kw_only``, immutability, equality and hashing by fields, a readable ``repr``.

To use it: exactly like a frozen dataclass.

>>> @record
... class Point:
...     x: int
...     y: int = 0
>>> p = Point(1, y=2)
>>> p, p == Point(1, 2), hash(p) == hash(Point(1, 2))
(Point(x=1, y=2), True, True)
>>> p.x = 5
Traceback (most recent call last):
...
symgrad.records.FrozenInstanceError: cannot assign to field 'x'
"""

from __future__ import annotations

import contextlib
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

T = TypeVar("T")

if TYPE_CHECKING:  # the marker is for type checkers only (typing has it from Python 3.11)
    from typing_extensions import dataclass_transform
else:
    dataclass_transform = getattr(typing, "dataclass_transform", lambda **_: lambda decorated: decorated)

_MISSING = object()


class FrozenInstanceError(AttributeError):
    """Raised on an attempt to change a record."""


class _Field:
    __slots__ = ("default", "default_factory")

    def __init__(self, default: Any, default_factory: Callable[[], Any] | None) -> None:
        self.default = default
        self.default_factory = default_factory


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None) -> Any:
    """A field's default, as ``dataclasses.field`` (only ``default`` and ``default_factory``)."""
    return _Field(default, default_factory)


def _own_fields(cls: type) -> list[tuple[str, Any]]:
    """(name, default) for the annotations declared on ``cls`` itself, ClassVars left out."""
    out = []
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        text = annotation if isinstance(annotation, str) else repr(annotation)
        if "ClassVar" in text:
            continue
        out.append((name, cls.__dict__.get(name, _MISSING)))
    return out


@overload
def record(cls: type[T], /) -> type[T]: ...


@overload
def record(*, kw_only: bool = False, frozen: bool = True) -> Callable[[type[T]], type[T]]: ...


# PEP 681: type checkers read a record's fields and constructor as they read a dataclass's
@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[T] | None = None, /, *, kw_only: bool = False, frozen: bool = True) -> Any:
    """Make ``cls`` an immutable record (see the module docstring)."""

    def wrap(cls: type[T]) -> type[T]:
        fields, kw_names = _collect(cls, kw_only)
        names = tuple(fields)
        positional = tuple(n for n in names if n not in kw_names)
        methods = {"__init__": _make_init(cls, fields, positional), **_value_methods(names)}
        if frozen:
            methods.update(__setattr__=_refuse_setattr, __delattr__=_refuse_delattr)
        attributes = {"__record_fields__": fields, "__record_kw_only__": kw_names, "__match_args__": positional}
        for name, value in {**methods, **attributes}.items():
            setattr(cls, name, value)
        return cls

    return wrap if cls is None else wrap(cls)


def _collect(cls: type, kw_only: bool) -> tuple[dict[str, Any], set[str]]:
    """The fields of ``cls`` (inherited ones first) with their defaults, and the keyword-only names."""
    fields: dict[str, Any] = dict(getattr(cls, "__record_fields__", {}))
    kw_names: set[str] = set(getattr(cls, "__record_kw_only__", set()))
    for name, default in _own_fields(cls):
        fields[name] = default
        if kw_only:
            kw_names.add(name)
        if isinstance(default, _Field) or default is not _MISSING:
            with contextlib.suppress(AttributeError):
                delattr(cls, name)  # defaults live in __record_fields__, not on the class
    return fields, kw_names


def _make_init(cls: type, fields: dict[str, Any], positional: tuple[str, ...]) -> Callable[..., None]:
    names = tuple(fields)
    post_init = getattr(cls, "__post_init__", None)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(positional):
            raise TypeError(f"{cls.__name__}() takes {len(positional)} positional arguments, got {len(args)}")
        values = dict(zip(positional, args))
        for key, value in kwargs.items():
            if key not in fields or key in values:
                raise TypeError(f"{cls.__name__}() got an unexpected or repeated argument {key!r}")
            values[key] = value
        for name in names:
            object.__setattr__(self, name, values[name] if name in values else _default(cls, name, fields[name]))
        if post_init is not None:
            post_init(self)

    return __init__


def _default(cls: type, name: str, default: Any) -> Any:
    if default is _MISSING:
        raise TypeError(f"{cls.__name__}() missing argument {name!r}")
    if isinstance(default, _Field):
        return default.default_factory() if default.default_factory is not None else default.default
    return default


def _value_methods(names: tuple[str, ...]) -> dict[str, Callable[..., Any]]:
    """``__repr__``, ``__eq__`` and ``__hash__`` by the fields ``names``."""

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{type(self).__qualname__}({inner})"

    def __eq__(self: Any, other: Any) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in names)

    def __hash__(self: Any) -> int:
        return hash((type(self).__name__, *(getattr(self, n) for n in names)))

    return {"__repr__": __repr__, "__eq__": __eq__, "__hash__": __hash__}


def _refuse_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _refuse_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def replace(obj: T, **changes: Any) -> T:
    """A copy of the record ``obj`` with some fields changed (as ``dataclasses.replace``)."""
    names = type(obj).__record_fields__  # type: ignore[attr-defined]
    values = {n: getattr(obj, n) for n in names}
    values.update(changes)
    return type(obj)(**values)
