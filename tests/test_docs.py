"""Docs stay true: every hook documented, the CLI page matches the help text, every built-in listed."""

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from audioenh import hookspecs, plugins

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def hook_names():
    names = sorted(name for name, obj in vars(hookspecs).items() if hasattr(obj, "audioenh_spec"))
    assert names, "no @hookspec functions found in audioenh.hookspecs"
    return names


def rendered_signature(func, name=None) -> str:
    """A signature as docs/hooks.md writes it: ``register_degradations(register: Register) -> None``.

    The name, then each parameter as ``name: annotation`` joined by ", " (``self`` left out), then
    `` -> `` and the return annotation. Annotations are the source text exactly as written in
    hookspecs.py (``from __future__ import annotations`` keeps them as strings, so ``click.Group``
    stays ``click.Group``); a missing annotation fails the test instead of being rendered.
    """
    sig = inspect.signature(func)
    params = [p for p in sig.parameters.values() if p.name != "self"]
    for ann in [*(p.annotation for p in params), sig.return_annotation]:
        assert isinstance(ann, str), f"{func.__qualname__} needs every annotation written (got {ann!r})"
    rendered = ", ".join(f"{p.name}: {p.annotation}" for p in params)
    return f"{name or func.__name__}({rendered}) -> {sig.return_annotation}"


def hooks_section(hook: str) -> str:
    """The text of docs/hooks.md's ``## hook`` section, up to the next ``## `` heading."""
    text = (DOCS / "hooks.md").read_text()
    m = re.search(rf"^## {re.escape(hook)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert m, f"docs/hooks.md needs a '## {hook}' section"
    return m.group(1)


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_is_documented(hook):
    text = (DOCS / "hooks.md").read_text()
    assert re.search(rf"^## {hook}$", text, re.M), f"docs/hooks.md needs a '## {hook}' section"


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_signature_and_parameter_is_documented(hook):
    func = getattr(hookspecs, hook)
    signature = rendered_signature(func)
    section = hooks_section(hook)
    assert f"`{signature}`" in section, f"docs/hooks.md's '## {hook}' section needs the signature `{signature}`"
    for param in inspect.signature(func).parameters:
        assert re.search(rf"^- `{param}`: ", section, re.M), (
            f"docs/hooks.md's '## {hook}' section needs a line '- `{param}`: ...' describing it"
        )


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_spec_is_typed_and_documents_its_parameters(hook):
    func = getattr(hookspecs, hook)
    rendered_signature(func)  # every parameter and the return annotated
    assert inspect.signature(func).return_annotation == "None"
    doc = inspect.getdoc(func) or ""
    for param in inspect.signature(func).parameters:
        assert f":param {param}:" in doc, f"hookspecs.{hook}'s docstring needs a ':param {param}:' line"


def test_the_register_callback_is_documented():
    section = hooks_section("The register callback")
    for method, name in [
        (hookspecs.Register.__call__, "register"),
        (hookspecs.Register.set, "register.set"),
        (hookspecs.Register.extend, "register.extend"),
    ]:
        signature = rendered_signature(method, name)
        assert f"`{signature}`" in section, f"docs/hooks.md's register callback section needs `{signature}`"


def test_cli_reference_matches_help():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_cli_docs.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "kind, page",
    [("degradations", "degradations.md"), ("architectures", "architectures.md"), ("metrics", "metrics.md")],
)
def test_every_builtin_is_documented(kind, page):
    text = (DOCS / page).read_text()
    for entry in plugins.get_registry(kind):
        if entry.plugin == "audioenh":
            assert f"`{entry.name}`" in text, f"docs/{page} does not mention `{entry.name}`"


def test_readme_commands_exist():
    readme = (ROOT / "README.md").read_text()
    assert "./quickstart.sh report" in readme and "./quickstart.sh test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./quickstart.sh test" in ci
