"""The plugin system: built-ins and inline third-party plugins go through the same hooks."""

import warnings

import pytest

import audioenh
from audioenh import plugins
from audioenh.degradations import Degradation
from audioenh.hookspecs import hookimpl


class Invert(Degradation):
    """Flip the polarity."""

    def apply(self, audio, sample_rate):
        return -audio


class InlinePlugin:
    __name__ = "inline"

    @hookimpl
    def register_degradations(self, register):
        register("invert", Invert)


def test_builtins_are_registered_through_hooks():
    pm = plugins.get_plugin_manager()
    names = {name for name, _ in pm.list_name_plugin()}
    assert set(plugins.BUILTIN_PLUGINS) <= names
    assert {"butter", "cheby1", "cheby2", "bessel", "ellip"} <= set(plugins.degradations().names())
    assert {"unet", "resnet"} <= set(plugins.architectures().names())
    assert {"snr", "lsd", "lsd-hf"} <= set(plugins.metrics().names())
    assert all(e.plugin == "audioenh" for e in plugins.degradations())


def test_inline_plugin_registers_and_unregisters():
    plugins.register_plugin(InlinePlugin(), name="inline")
    try:
        entry = plugins.degradations().get("invert")
        assert entry.plugin == "inline"
        assert entry.doc == "Flip the polarity."
    finally:
        plugins.unregister_plugin(name="inline")
    assert "invert" not in plugins.degradations()


def test_clashing_plugin_warns_and_the_rest_works():
    class Clash:
        @hookimpl
        def register_degradations(self, register):
            register("butter", Invert)

    plugins.register_plugin(Clash(), name="clash")
    with pytest.warns(plugins.PluginWarning, match="'clash'.*'butter'"):
        registry = plugins.degradations()
    assert registry.get("butter").plugin == "audioenh"
    assert "cheby1" in registry


def test_broken_plugin_warns_and_the_rest_works():
    class Broken:
        @hookimpl
        def register_metrics(self, register):
            raise RuntimeError("boom")

    plugins.register_plugin(Broken(), name="broken")
    with pytest.warns(plugins.PluginWarning, match="'broken' failed to register metrics: RuntimeError: boom"):
        registry = plugins.metrics()
    assert "snr" in registry


def test_entry_points_load_unless_disabled(monkeypatch):
    class FakeDist:
        name, version = "audioenh-fake", "9.9"

    class FakeEP:
        name, dist = "fake", FakeDist()

        def load(self):
            return InlinePlugin()

    class BadEP(FakeEP):
        name = "bad"

        def load(self):
            raise ImportError("no module named nowhere")

    monkeypatch.setattr(plugins.importlib.metadata, "entry_points", lambda group: [FakeEP(), BadEP()])
    monkeypatch.setenv(plugins.DISABLE_ENV, "1")
    plugins.reset()
    assert "invert" not in plugins.degradations()

    monkeypatch.setenv(plugins.DISABLE_ENV, "0")
    plugins.reset()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        registry = plugins.degradations()
    assert registry.get("invert").plugin == "fake (audioenh-fake 9.9)"
    assert any("'bad' (package audioenh-fake 9.9) failed to load" in str(w.message) for w in caught)


def test_version():
    assert audioenh.__version__
