"""The plugin manager and the registries it fills.

Built-in plugins (listed in :data:`BUILTIN_PLUGINS`) and third-party packages
exposing the entry-point group ``audioenh`` are loaded once, lazily, on first use.
Set ``AUDIOENH_NO_PLUGINS=1`` to skip third-party autoloading (tests do).
A plugin that fails to import, registers a clashing name or implements a hook that
does not exist (a misspelt name) is reported with one warning naming it; the rest
keep working.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
import warnings
from typing import Any

import pluggy

from . import hookspecs
from .errors import DuplicateNameError, UnknownNameError
from .registry import Registry

ENTRY_POINT_GROUP = "audioenh"
DISABLE_ENV = "AUDIOENH_NO_PLUGINS"

BUILTIN_PLUGINS = (
    "audioenh.degradations.plugin",
    "audioenh.architectures.plugin",
    "audioenh.metrics.plugin",
    "audioenh.commands.plugin",
)

KINDS = {
    "degradations": "degradation",
    "architectures": "architecture",
    "metrics": "metric",
}

_pm: pluggy.PluginManager | None = None
_registries: dict[str, Registry[Any]] = {}


class PluginWarning(UserWarning):
    """A plugin could not be loaded, registered a clashing name or implements an unknown hook."""


def _autoload_disabled() -> bool:
    return os.environ.get(DISABLE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:  # a broken plugin must not break the tool
            dist = getattr(ep, "dist", None)
            where = f" (package {dist.name} {dist.version})" if dist else ""
            warnings.warn(
                f"audioenh plugin {ep.name!r}{where} failed to load: {type(exc).__name__}: {exc}",
                PluginWarning,
                stacklevel=2,
            )
            continue
        if dist := getattr(ep, "dist", None):
            _DISTS[ep.name] = f"{dist.name} {dist.version}"


_DISTS: dict[str, str] = {}


def _unknown_hooks(pm: pluggy.PluginManager) -> dict[str, list[str]]:
    """Hook names without a spec, by the name of the plugin implementing them."""
    found: dict[str, list[str]] = {}
    for hook_name, caller in vars(pm.hook).items():
        if hook_name.startswith("_") or not isinstance(caller, pluggy.HookCaller) or caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if not impl.optionalhook:
                found.setdefault(impl.plugin_name, []).append(hook_name)
    return found


def _check_hooks(pm: pluggy.PluginManager, plugin_names: set[str] | None = None, stacklevel: int = 2) -> None:
    """Run ``pm.check_pending()``; warn once per plugin (of ``plugin_names``, default all) with unknown hooks.

    The unknown hooks are never called, so the plugin's other hooks keep working. A built-in
    plugin with an unknown hook is a bug in audioenh and raises.
    """
    try:
        pm.check_pending()
    except pluggy.PluginValidationError:
        pass
    else:
        return
    known = sorted(
        name for name, caller in vars(pm.hook).items() if isinstance(caller, pluggy.HookCaller) and caller.has_spec()
    )
    for plugin_name, hook_names in _unknown_hooks(pm).items():
        if plugin_names is not None and plugin_name not in plugin_names:
            continue
        if plugin_name in BUILTIN_PLUGINS:
            raise pluggy.PluginValidationError(
                pm.get_plugin(plugin_name), f"built-in plugin {plugin_name!r} implements unknown hooks {hook_names}"
            )
        parts = []
        for hook_name in sorted(hook_names):
            close = difflib.get_close_matches(hook_name, known, n=1, cutoff=0.6)
            parts.append((hook_name, close[0] if close else None))
        dist = _DISTS.get(plugin_name)
        where = f" (package {dist})" if dist else ""
        if len(parts) == 1:
            hook_name, close = parts[0]
            hint = f"; did you mean {close!r}?" if close else ""
            what = f"unknown hook {hook_name!r}{hint} (ignored)"
        else:
            what = "unknown hooks " + ", ".join(
                f"{hook_name!r}" + (f" (did you mean {close!r}?)" if close else "") for hook_name, close in parts
            )
            what += " (all ignored)"
        warnings.warn(
            f"audioenh plugin {plugin_name!r}{where} implements {what}", PluginWarning, stacklevel=stacklevel + 1
        )


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, built on first call."""
    global _pm
    if _pm is None:
        pm = pluggy.PluginManager("audioenh")
        pm.add_hookspecs(hookspecs)
        for module_name in BUILTIN_PLUGINS:
            pm.register(importlib.import_module(module_name), name=module_name)
        if not _autoload_disabled():
            _load_entry_points(pm)
        _check_hooks(pm, stacklevel=2)
        _pm = pm
    return _pm


def plugin_origin(plugin_name: str) -> str:
    """``"audioenh"`` for built-ins, else the plugin's name and package version where known."""
    if plugin_name.startswith("audioenh."):
        return "audioenh"
    dist = _DISTS.get(plugin_name)
    return f"{plugin_name} ({dist})" if dist else plugin_name


class Registrar:
    """The ``register`` callback handed to one plugin's hook implementation."""

    def __init__(self, registry: Registry[Any], plugin: str):
        self._registry = registry
        self._plugin = plugin

    def __call__(self, name: str, factory) -> None:
        try:
            self._registry.register(name, factory, plugin=self._plugin)
        except DuplicateNameError as exc:
            warnings.warn(f"audioenh plugin {self._plugin!r}: {exc}; keeping the first", PluginWarning, stacklevel=2)

    def set(self, name: str, specs) -> None:
        try:
            self._registry.register_set(name, specs, plugin=self._plugin)
        except DuplicateNameError as exc:
            warnings.warn(f"audioenh plugin {self._plugin!r}: {exc}; keeping the first", PluginWarning, stacklevel=2)

    def extend(self, name: str, specs) -> None:
        try:
            self._registry.extend_set(name, specs, plugin=self._plugin)
        except UnknownNameError as exc:
            warnings.warn(f"audioenh plugin {self._plugin!r}: {exc}; ignored", PluginWarning, stacklevel=2)


def _fill(kind: str) -> Registry[Any]:
    pm = get_plugin_manager()
    registry: Registry[Any] = Registry(KINDS[kind])
    hook = getattr(pm.hook, f"register_{kind}")
    # get_hookimpls() lists plugins in registration order: built-ins first, so they win clashes.
    for impl in hook.get_hookimpls():
        origin = plugin_origin(impl.plugin_name)
        try:
            impl.function(register=Registrar(registry, origin))
        except Exception as exc:
            if origin == "audioenh":
                raise
            warnings.warn(
                f"audioenh plugin {impl.plugin_name!r} failed to register {kind}: {type(exc).__name__}: {exc}",
                PluginWarning,
                stacklevel=3,
            )
    return registry


def get_registry(kind: str) -> Registry[Any]:
    """The registry of ``kind`` (``degradations``, ``architectures`` or ``metrics``)."""
    if kind not in KINDS:
        close = difflib.get_close_matches(str(kind), KINDS, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UnknownNameError(f"unknown registry kind {kind!r}{hint}; known kinds: {', '.join(KINDS)}")
    if kind not in _registries:
        _registries[kind] = _fill(kind)
    return _registries[kind]


def degradations() -> Registry[Any]:
    return get_registry("degradations")


def architectures() -> Registry[Any]:
    return get_registry("architectures")


def metrics() -> Registry[Any]:
    return get_registry("metrics")


def register_plugin(plugin: object, name: str | None = None) -> str:
    """Register a plugin object at run time (tests, notebooks); registries are rebuilt.

    Returns the plugin's name. Unknown hooks it implements are reported as for installed plugins.
    """
    pm = get_plugin_manager()
    registered = pm.register(plugin, name=name)
    _registries.clear()
    _check_hooks(pm, {registered}, stacklevel=2)
    return registered


def unregister_plugin(plugin: object | None = None, name: str | None = None) -> None:
    """Undo :func:`register_plugin`."""
    pm = get_plugin_manager()
    pm.unregister(plugin=plugin, name=name)
    _registries.clear()


def reset() -> None:
    """Forget the plugin manager and registries; the next use loads everything again."""
    global _pm
    _pm = None
    _registries.clear()
    _DISTS.clear()
