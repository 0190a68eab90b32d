"""Request handlers registered by plugins.

``EMPO_WORKER_PLUGINS`` names Python modules (comma-separated); each exposes ``HANDLERS: dict[str, Handler]``
with the built-ins' signature ``(payload, emit, cancel)``. The modules are imported on the first request that no
built-in serves, so ``ready`` and ``versions`` do not pay for a plugin's imports (torch, a neural model).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from empo_worker.protocol import Handler

ENV_VAR = "EMPO_WORKER_PLUGINS"


class PluginModuleMissing(Exception):
    """A module named in EMPO_WORKER_PLUGINS cannot be imported (reported with kind ``missing``)."""


class PluginInvalid(Exception):
    """A plugin module has no usable ``HANDLERS``, or two sources register the same method name."""


@dataclass(frozen=True)
class PluginModule:
    name: str
    methods: tuple[str, ...]


def module_names(value: str | None) -> list[str]:
    """The module names of an EMPO_WORKER_PLUGINS value, in order, without blanks or repeats."""
    names: list[str] = []
    for part in (value or "").split(","):
        name = part.strip()
        if name and name not in names:
            names.append(name)
    return names


def _handlers_of(name: str) -> dict[str, Handler]:
    try:
        module = importlib.import_module(name)
    except ImportError as error:
        raise PluginModuleMissing(f"plugin module {name!r} (named in {ENV_VAR}) cannot be imported: {error}") from error
    handlers = getattr(module, "HANDLERS", None)
    if not isinstance(handlers, Mapping):
        raise PluginInvalid(f"plugin module {name!r} (named in {ENV_VAR}) has no HANDLERS dict")
    for method, handler in handlers.items():
        if not isinstance(method, str) or not callable(handler):
            raise PluginInvalid(f"plugin module {name!r}: HANDLERS must map method names to callables, got {method!r}")
    return dict(handlers)


class PluginRegistry:
    """The plugin modules' methods, loaded once (a failure to load is kept and re-raised on every use)."""

    def __init__(self, names: list[str], builtins: Collection[str]) -> None:
        self.names = names
        self.builtins = frozenset(builtins)
        self._lock = threading.Lock()
        self._loaded: tuple[dict[str, Handler], list[PluginModule]] | None = None
        self._failure: Exception | None = None

    def _load(self) -> tuple[dict[str, Handler], list[PluginModule]]:
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._loaded is None:
                try:
                    self._loaded = self._import_all()
                except (PluginModuleMissing, PluginInvalid) as error:
                    self._failure = error
                    raise
            return self._loaded

    def _import_all(self) -> tuple[dict[str, Handler], list[PluginModule]]:
        handlers: dict[str, Handler] = {}
        owner: dict[str, str] = {}
        modules: list[PluginModule] = []
        for name in self.names:
            own = _handlers_of(name)
            for method in own:
                if method in self.builtins:
                    raise PluginInvalid(f"method {method!r} of plugin module {name!r} clashes with the built-in {method!r} (module empo_worker)")
                if method in owner:
                    raise PluginInvalid(f"method {method!r} is registered by two plugin modules: {owner[method]!r} and {name!r}")
                owner[method] = name
            handlers.update(own)
            modules.append(PluginModule(name, tuple(sorted(own))))
        return handlers, modules

    def handler(self, method: str) -> Handler | None:
        """The plugin handler of `method`, importing the plugin modules on first use; None when no plugin has it."""
        if not self.names:
            return None
        handlers, _ = self._load()
        return handlers.get(method)

    def methods(self) -> list[str]:
        """Every plugin method, for "unknown request" messages (empty when the plugins cannot be loaded)."""
        if not self.names:
            return []
        try:
            return sorted(self._load()[0])
        except (PluginModuleMissing, PluginInvalid):
            return []

    def describe(self) -> list[dict[str, Any]]:
        """What ``versions`` reports: each module and its methods, or why the plugins could not be loaded."""
        if not self.names:
            return []
        try:
            _, modules = self._load()
        except (PluginModuleMissing, PluginInvalid) as error:
            return [{"module": name, "methods": [], "error": str(error)} for name in self.names]
        return [{"module": module.name, "methods": list(module.methods)} for module in modules]
