"""docs/writing-plugins.md shows the example plugin's files as they are, so the guide cannot drift.

Each ``<!-- include: PATH -->`` line in the guide is followed by a fenced code block that must hold
the text of PATH (relative to the repository root) exactly. After editing the example plugin, run
``python tests/test_docs_plugins.py --fix`` to copy the files into the guide.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "writing-plugins.md"
PLUGIN = "plugins/audioenh-example/src/audioenh_example/plugin.py"
COMPONENTS = "plugins/audioenh-example/src/audioenh_example/components.py"

# An include marker, then a fenced block: ```lang, the file's lines, ``` on its own line.
INCLUDE = re.compile(r"^<!-- include: (?P<path>\S+) -->\n```(?P<lang>\w*)\n(?P<body>.*?)^```$", re.M | re.S)


def includes(text: str) -> list[re.Match]:
    return list(INCLUDE.finditer(text))


def test_the_guide_includes_the_example_plugin_in_full():
    found = {m["path"]: m for m in includes(GUIDE.read_text())}
    for path in (COMPONENTS, PLUGIN):
        assert path in found, f"docs/writing-plugins.md needs '<!-- include: {path} -->' and a ```python block"
        assert found[path]["lang"] == "python"


def test_every_included_block_equals_its_file():
    text = GUIDE.read_text()
    assert text.count("<!-- include:") == len(includes(text)), "an include marker is not followed by a code block"
    for m in includes(text):
        path = ROOT / m["path"]
        assert path.is_file(), f"docs/writing-plugins.md includes {m['path']}, which does not exist"
        assert m["body"] == path.read_text(), (
            f"docs/writing-plugins.md's copy of {m['path']} differs from the file; "
            "run: python tests/test_docs_plugins.py --fix"
        )


def fix() -> None:
    """Rewrite every included block of the guide from its file."""

    def replace(m: re.Match) -> str:
        body = (ROOT / m["path"]).read_text()
        if not body.endswith("\n"):
            body += "\n"
        return f"<!-- include: {m['path']} -->\n```{m['lang']}\n{body}```"

    GUIDE.write_text(INCLUDE.sub(replace, GUIDE.read_text()))


if __name__ == "__main__":
    if sys.argv[1:] != ["--fix"]:
        sys.exit("usage: python tests/test_docs_plugins.py --fix")
    fix()
