"""The plugin system: built-ins and inline third-party plugins go through the same hooks."""

import warnings

import pytest

import audioenh
from audioenh import hookimpl, hookspecs, plugins
from audioenh.degradations import Degradation
from audioenh.errors import UnknownNameError
from audioenh.metrics import Metric


class Invert(Degradation):
    """Flip the polarity."""

    def apply(self, audio, sample_rate):
        return -audio


class PeakDifference(Metric):
    """Largest absolute sample difference."""

    higher_is_better = False

    def compute(self, reference, estimate, sample_rate):
        return float(abs(reference - estimate).max())


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


class MisspeltPlugin:
    """Implements one misspelt hook and one real one."""

    @hookimpl
    def register_degradation(self, register):  # not a hook: the spec is register_degradations
        register("invert", Invert)

    @hookimpl
    def register_metrics(self, register):
        register("peak-difference", PeakDifference)


def test_plugin_with_unknown_hook_warns_once_and_its_other_hooks_work():
    with pytest.warns(plugins.PluginWarning) as record:
        plugins.register_plugin(MisspeltPlugin(), name="misspelt")
    try:
        assert len(record) == 1, [str(w.message) for w in record]
        assert str(record[0].message) == (
            "audioenh plugin 'misspelt' implements unknown hook 'register_degradation'; "
            "did you mean 'register_degradations'? (ignored)"
        )
        assert record[0].filename == __file__  # points at the caller of register_plugin
        assert "peak-difference" in plugins.metrics()
        assert "invert" not in plugins.degradations()
    finally:
        plugins.unregister_plugin(name="misspelt")
    assert "peak-difference" not in plugins.metrics()


def test_several_unknown_hooks_make_one_line_blaming_only_their_plugin():
    class Fine:
        @hookimpl
        def register_architectures(self, register):
            pass

    class Typos:
        @hookimpl
        def register_architecture(self, register):
            pass

        @hookimpl
        def frobnicate(self):
            pass

    plugins.register_plugin(InlinePlugin(), name="inline")
    with pytest.warns(plugins.PluginWarning) as record:
        plugins.register_plugin(Typos(), name="typos")
    try:
        assert [str(w.message) for w in record] == [
            "audioenh plugin 'typos' implements unknown hooks 'frobnicate', "
            "'register_architecture' (did you mean 'register_architectures'?) (all ignored)"
        ]
        # Registering a correct plugin afterwards does not repeat the warning about 'typos'.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            plugins.register_plugin(Fine(), name="fine")
        assert "invert" in plugins.degradations()
    finally:
        plugins.unregister_plugin(name="typos")
        plugins.unregister_plugin(name="inline")
        plugins.unregister_plugin(name="fine")


def test_entry_point_plugin_with_unknown_hook_is_named_with_its_package(monkeypatch):
    class FakeDist:
        name, version = "audioenh-fake", "9.9"

    class FakeEP:
        name, dist = "fake", FakeDist()

        def load(self):
            return MisspeltPlugin()

    monkeypatch.setattr(plugins.importlib.metadata, "entry_points", lambda group: [FakeEP()])
    monkeypatch.setenv(plugins.DISABLE_ENV, "0")
    plugins.reset()
    with pytest.warns(plugins.PluginWarning) as record:
        registry = plugins.metrics()
    assert [str(w.message) for w in record] == [
        "audioenh plugin 'fake' (package audioenh-fake 9.9) implements unknown hook 'register_degradation'; "
        "did you mean 'register_degradations'? (ignored)"
    ]
    assert registry.get("peak-difference").plugin == "fake (audioenh-fake 9.9)"
    assert "snr" in registry and "butter" in plugins.degradations()


def test_builtins_implement_only_known_hooks():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pm = plugins.get_plugin_manager()
    pm.check_pending()


def test_unknown_registry_kind_is_one_clear_line():
    with pytest.raises(UnknownNameError) as info:
        plugins.get_registry("degradation")
    message = str(info.value)
    assert message == (
        "unknown registry kind 'degradation' (did you mean 'degradations'?); "
        "known kinds: degradations, architectures, metrics"
    )
    assert "\n" not in message
    with pytest.raises(UnknownNameError, match=r"^unknown registry kind 'losses'; known kinds: degradations, "):
        plugins.get_registry("losses")


def test_hookimpl_is_exported_from_the_package():
    assert audioenh.hookimpl is hookspecs.hookimpl
    assert "hookimpl" in audioenh.__all__


def test_registrar_satisfies_the_register_protocol():
    registrar = plugins.Registrar(plugins.Registry("degradation"), "inline")
    assert isinstance(registrar, hookspecs.Register)


def test_version():
    assert audioenh.__version__
