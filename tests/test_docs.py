"""Docs stay true: every hook documented, the CLI page matches the help text, every built-in listed."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from audioenh import hookspecs, plugins

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def hook_names():
    return [name for name in dir(hookspecs) if name.startswith("register_")]


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_is_documented(hook):
    text = (DOCS / "hooks.md").read_text()
    assert re.search(rf"^## {hook}$", text, re.M), f"docs/hooks.md needs a '## {hook}' section"


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
