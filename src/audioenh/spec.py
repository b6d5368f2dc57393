"""Spec strings: a registry name plus arguments, e.g. ``cheby1:6`` or
``butter:order=6,cutoff=11025`` or ``ellip:6,rp=0.05,rs=20``.

Grammar::

    spec   := name [":" args]
    args   := arg ("," arg)*          positional arguments first, then keyword ones
    arg    := value | key "=" value
    name   := [a-z0-9][a-z0-9_.-]*   (case-insensitive, stored lower-case)
    key    := identifier

Values are parsed as ``int`` where they are integers, ``float`` where they are
numbers, ``bool`` for ``true``/``false`` and kept as strings otherwise.
:func:`format_spec` writes the canonical form, and ``parse_spec(format_spec(s)) == s``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .errors import SpecError

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_VALUE_RE = re.compile(r"^[^,:=\s]+$")
_RANGE_RE = re.compile(r"^([^.]+|[^.]*\.[^.]+)\.\.(.+)$")
_CHAIN_SPLIT_RE = re.compile(r"\+(?=\s*[A-Za-z])")


@dataclass(frozen=True)
class Range:
    """A parameter drawn uniformly from [low, high] for each training example (ints: integers, inclusive)."""

    low: int | float
    high: int | float

    def __post_init__(self):
        if self.high < self.low:
            raise SpecError(f"range {self.low}..{self.high} is empty: the low end must not exceed the high end")

    @property
    def integer(self) -> bool:
        return isinstance(self.low, int) and isinstance(self.high, int)

    def draw(self, rng) -> int | float:
        """One value: an integer in [low, high] for integer ranges, else a float in [low, high)."""
        if self.integer:
            return int(rng.integers(self.low, self.high + 1))
        return float(rng.uniform(self.low, self.high))

    def __str__(self) -> str:
        return f"{format_value(self.low)}..{format_value(self.high)}"


Value = int | float | bool | str | Range


@dataclass(frozen=True)
class Spec:
    """A parsed spec: ``name`` plus positional ``args`` and keyword ``kwargs``."""

    name: str
    args: tuple[Value, ...] = ()
    kwargs: dict[str, Value] = field(default_factory=dict)

    def __str__(self) -> str:
        return format_spec(self)

    def __hash__(self) -> int:
        return hash((self.name, self.args, tuple(sorted(self.kwargs.items()))))


def parse_value(text: str) -> Value:
    """Parse one argument value: int, float, bool or string."""
    match = _RANGE_RE.match(text)
    if match:
        low_text, high_text = match.groups()
        low_value, high_value = parse_value(low_text), parse_value(high_text)
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low_value, high_value))
        if not numbers:
            raise SpecError(f"bad range {text!r}: write LOW..HIGH with numbers, e.g. 4..12 or 9000..13000")
        return Range(low_value, high_value)
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if _INT_RE.match(text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isnan(number):
        return text
    return number


def format_value(value: Value) -> str:
    """Write a value so that :func:`parse_value` gives it back."""
    if isinstance(value, Range):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return f"{value:.1f}"
        return repr(value)
    text = str(value)
    if not _VALUE_RE.match(text) or parse_value(text) != text:
        raise SpecError(f"value {text!r} cannot be written in a spec")
    return text


def parse_spec(text: str | Spec) -> Spec:
    """Parse ``text`` into a :class:`Spec`; raise :class:`SpecError` with one clear line."""
    if isinstance(text, Spec):
        return text
    if not isinstance(text, str) or not text.strip():
        raise SpecError("empty spec: expected NAME or NAME:ARGS, e.g. 'cheby1:6'")
    raw = text.strip()
    name, sep, rest = raw.partition(":")
    name = name.strip().lower()
    if not _NAME_RE.match(name):
        raise SpecError(
            f"malformed spec {raw!r}: name {name!r} must start with a letter or digit "
            "and hold only letters, digits, '-', '_' and '.'"
        )
    if not sep:
        return Spec(name)
    if not rest.strip():
        raise SpecError(f"malformed spec {raw!r}: nothing after ':' (write {name!r} alone or give arguments)")
    args: list[Value] = []
    kwargs: dict[str, Value] = {}
    for part in rest.split(","):
        part = part.strip()
        if not part:
            raise SpecError(f"malformed spec {raw!r}: empty argument (two commas or a trailing comma)")
        if "=" in part:
            key, _, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not _KEY_RE.match(key):
                raise SpecError(f"malformed spec {raw!r}: {key!r} is not a valid parameter name")
            if not value:
                raise SpecError(f"malformed spec {raw!r}: parameter {key!r} has no value")
            if key in kwargs:
                raise SpecError(f"malformed spec {raw!r}: parameter {key!r} given twice")
            if not _VALUE_RE.match(value):
                raise SpecError(f"malformed spec {raw!r}: bad value {value!r} for {key!r}")
            kwargs[key] = parse_value(value)
        else:
            if kwargs:
                raise SpecError(f"malformed spec {raw!r}: positional argument {part!r} after keyword arguments")
            if not _VALUE_RE.match(part):
                raise SpecError(f"malformed spec {raw!r}: bad value {part!r}")
            args.append(parse_value(part))
    return Spec(name, tuple(args), kwargs)


def format_spec(spec: Spec) -> str:
    """Canonical text of ``spec``: name, then positional, then keyword arguments in given order."""
    parts = [format_value(v) for v in spec.args]
    parts += [f"{k}={format_value(v)}" for k, v in spec.kwargs.items()]
    return spec.name + (":" + ",".join(parts) if parts else "")


def has_ranges(spec: Spec) -> bool:
    """True when some argument of ``spec`` is a :class:`Range`."""
    return any(isinstance(v, Range) for v in (*spec.args, *spec.kwargs.values()))


def draw_spec(spec: Spec, rng) -> Spec:
    """``spec`` with every :class:`Range` replaced by a value drawn from ``rng`` (in argument order)."""
    args = tuple(v.draw(rng) if isinstance(v, Range) else v for v in spec.args)
    kwargs = {k: (v.draw(rng) if isinstance(v, Range) else v) for k, v in spec.kwargs.items()}
    return Spec(spec.name, args, kwargs)


def parse_chain(text: str) -> list[Spec]:
    """``"cheby1:6+mp3:128"`` -> the member specs, applied in order."""
    if not isinstance(text, str) or not text.strip():
        raise SpecError("empty spec: expected NAME or NAME:ARGS, e.g. 'cheby1:6'")
    parts = _CHAIN_SPLIT_RE.split(text.strip())
    if any(not p.strip() for p in parts) or text.strip().endswith("+"):
        raise SpecError(f"malformed chain {text.strip()!r}: empty member (write A+B, e.g. 'cheby1:6+mp3:128')")
    return [parse_spec(p) for p in parts]


def format_chain(specs: list[Spec]) -> str:
    """Canonical text of a chain."""
    return "+".join(format_spec(s) for s in specs)
