"""Registries of named factories (degradations, architectures, metrics).

A registry maps a name to a factory (a class or function). ``create("cheby1:6")``
parses the spec, binds its arguments to the factory's signature and calls it;
an unknown name or a wrong argument raises one clear line that lists close
matches or the accepted parameters.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .errors import DuplicateNameError, SpecError, UnknownNameError
from .spec import Spec, format_spec, parse_chain, parse_spec

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered name: its factory and the plugin that provided it."""

    name: str
    factory: Callable[..., T]
    plugin: str

    @property
    def doc(self) -> str:
        """First paragraph of the factory's docstring, on one line (reStructuredText ``code`` as `code`)."""
        text = inspect.getdoc(self.factory) or ""
        return " ".join(text.split("\n\n")[0].split()).replace("``", "`")

    @property
    def parameters(self) -> list[inspect.Parameter]:
        sig = inspect.signature(self.factory)
        return [
            p
            for p in sig.parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and not p.name.startswith("_")
        ]

    @property
    def signature(self) -> str:
        """Accepted parameters as ``order, cutoff=11025.0, rp=0.05``."""
        out = []
        for p in self.parameters:
            if p.default is inspect.Parameter.empty:
                out.append(p.name)
            else:
                out.append(f"{p.name}={_show_default(p.default)}")
        return ", ".join(out)


def _show_default(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "auto"
    return str(value)


class Registry(Generic[T]):
    """Named factories of one kind (``kind`` is e.g. ``"degradation"``)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}
        self._sets: dict[str, tuple[str, ...]] = {}
        self._set_plugins: dict[str, str] = {}
        #: members other plugins added to a set: set name -> [(spec, plugin)]
        self._set_extensions: dict[str, list[tuple[str, str]]] = {}

    # -- filling -----------------------------------------------------------
    def register(self, name: str, factory: Callable[..., T], *, plugin: str = "audioenh") -> None:
        """Add ``name``; a name already taken raises :class:`DuplicateNameError`."""
        name = parse_spec(name).name
        if name in self._entries or name in self._sets:
            other = self._entries[name].plugin if name in self._entries else self._set_plugins[name]
            raise DuplicateNameError(
                f"{self.kind} {name!r} from plugin {plugin!r} clashes with the one from plugin {other!r}"
            )
        self._entries[name] = Entry(name, factory, plugin)

    def register_set(self, name: str, specs: Iterable[str], *, plugin: str = "audioenh") -> None:
        """Add a named set of specs, e.g. ``paper-multi``; each spec (or chain ``a+b``) is checked to parse now."""
        name = parse_spec(name).name
        if name in self._entries or name in self._sets:
            raise DuplicateNameError(f"{self.kind} set {name!r} from plugin {plugin!r} clashes with an existing name")
        specs = tuple(specs)
        for s in specs:
            parse_chain(s)
        self._sets[name] = specs
        self._set_plugins[name] = plugin

    def extend_set(self, name: str, specs: Iterable[str], *, plugin: str = "audioenh") -> None:
        """Add members to an existing set (a plugin's codecs to the generalization matrix's set, say);
        members already in it are skipped. An unknown set raises :class:`UnknownNameError`."""
        name = parse_spec(name).name
        if name not in self._sets:
            close = difflib.get_close_matches(name, list(self._sets), n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}?" if close else f"known sets: {', '.join(self._sets) or 'none'}"
            raise UnknownNameError(f"plugin {plugin!r} extends unknown {self.kind} set {name!r}; {hint}")
        specs = tuple(specs)
        for s in specs:
            parse_chain(s)
        extensions = self._set_extensions.setdefault(name, [])
        for s in specs:
            if s not in self.sets()[name]:
                extensions.append((s, plugin))

    def unregister_plugin(self, plugin: str) -> None:
        """Drop every name a plugin registered (used by tests)."""
        self._entries = {k: e for k, e in self._entries.items() if e.plugin != plugin}
        self._sets = {k: v for k, v in self._sets.items() if self._set_plugins[k] != plugin}
        self._set_extensions = {
            k: [(s, p) for s, p in v if p != plugin] for k, v in self._set_extensions.items() if k in self._sets
        }

    # -- reading -----------------------------------------------------------
    def names(self) -> list[str]:
        return sorted(self._entries)

    def sets(self) -> dict[str, tuple[str, ...]]:
        """Every set's members: those it was registered with, then those plugins added."""
        return {
            name: members + tuple(s for s, _ in self._set_extensions.get(name, ()))
            for name, members in sorted(self._sets.items())
        }

    def set_plugin(self, name: str) -> str:
        """The plugin that registered set ``name``."""
        return self._set_plugins[name]

    def set_extenders(self, name: str) -> list[str]:
        """The plugins that added members to set ``name``, in order."""
        return list(dict.fromkeys(p for _, p in self._set_extensions.get(name, ())))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(self._entries[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, name: str) -> Entry[T]:
        """The entry called ``name``; unknown names list close matches."""
        key = name.strip().lower()
        try:
            return self._entries[key]
        except KeyError:
            pass
        known = self.names() + list(self._sets)
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listing = f"known: {', '.join(known)}" if known else "none registered"
        if key in self._sets:
            hint = f"{key!r} is a set of {self.kind}s; use it where several are accepted"
        raise UnknownNameError(f"unknown {self.kind} {name!r}; " + (hint or listing))

    def expand(self, specs: Iterable[str | Spec]) -> list[str]:
        """Replace set names by their members (in order), checking every other name exists."""
        out: list[str] = []
        for item in specs:
            spec = parse_spec(item)
            if spec.name in self._sets and not spec.args and not spec.kwargs:
                out.extend(self.sets()[spec.name])
            else:
                self.get(spec.name)
                out.append(format_spec(spec))
        return out

    def bind(self, spec: str | Spec) -> tuple[Entry[T], inspect.BoundArguments]:
        """Bind the spec's arguments to the factory; wrong arguments give one clear line."""
        spec = parse_spec(spec)
        entry = self.get(spec.name)
        params = entry.parameters
        sig = inspect.Signature(params)
        try:
            bound = sig.bind(*spec.args, **spec.kwargs)
        except TypeError as exc:
            accepted = f"{spec.name}:{entry.signature}" if entry.signature else f"{spec.name} takes no parameters"
            raise SpecError(
                f"bad arguments in {self.kind} spec {format_spec(spec)!r}: {str(exc).rstrip('.')}; accepted: {accepted}"
            ) from None
        return entry, bound

    def create(self, spec: str | Spec, **extra: Any) -> T:
        """Build the object a spec describes; ``extra`` keyword arguments are passed through."""
        spec = parse_spec(spec)
        entry, bound = self.bind(spec)
        try:
            return entry.factory(*bound.args, **bound.kwargs, **extra)
        except SpecError:
            raise
        except (ValueError, TypeError) as exc:
            raise SpecError(f"{self.kind} spec {format_spec(spec)!r}: {exc}") from None

    def resolve(self, spec: str | Spec) -> str:
        """The spec with every constructor argument written out, automatic values included.

        Like :meth:`canonical`, and in addition a factory with a ``resolve_arguments(**arguments)``
        attribute (architectures with presets) replaces its automatic (``None``) values by the
        values they stand for, e.g. ``resnet`` -> ``resnet:preset=paper,width=512,blocks=15,kernel=7,...``.
        Rebuilding from the result gives the same object even if the presets change later.
        """
        entry, bound = self.bind(spec)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        resolver = getattr(entry.factory, "resolve_arguments", None)
        if resolver is not None:
            try:
                arguments = dict(resolver(**arguments))
            except (ValueError, TypeError) as exc:
                raise SpecError(f"{self.kind} spec {format_spec(parse_spec(spec))!r}: {exc}") from None
        return format_spec(Spec(entry.name, (), {k: v for k, v in arguments.items() if v is not None}))

    def canonical(self, spec: str | Spec) -> str:
        """The spec with every parameter written as a keyword, defaults included.

        ``canonical("cheby1:6") == "cheby1:order=6,cutoff=11025.0,rp=0.05"``.
        Parameters whose default is ``None`` and that were not given are left out.
        """
        entry, bound = self.bind(spec)
        bound.apply_defaults()
        kwargs = {k: v for k, v in bound.arguments.items() if v is not None}
        return format_spec(Spec(entry.name, (), kwargs))
