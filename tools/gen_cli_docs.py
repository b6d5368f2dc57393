"""Regenerate docs/cli.md from the commands' help text (the help text is the source).

python tools/gen_cli_docs.py          # rewrite docs/cli.md
python tools/gen_cli_docs.py --check  # exit 1 if docs/cli.md is stale
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("AUDIOENH_NO_PLUGINS", "1")

import click  # noqa: E402

from audioenh.cli import cli  # noqa: E402

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"

HEADER = """# CLI reference

Generated from the commands' `--help` by `python tools/gen_cli_docs.py`; a test fails when
this page and the help text differ. Spec strings (`cheby1:6`, `butter:order=6,cutoff=11025`,
`resnet:preset=tiny`) are described in [specs.md](specs.md).

Errors in what you pass (a missing or unreadable file, an unknown name, a malformed spec)
are printed as one line starting with `Error:` and exit with status 1.

Options that several commands take have one name and one meaning everywhere: `--device`,
`-q/--quiet`, `-o/--output`, `--block` and `--context` (block-wise inference), `--seed`,
`--data`, `--json`.

Renamed in 0.2 (the old spelling still works and prints a note on stderr):

| command | old | new |
| --- | --- | --- |
| `train`, `generalization-report`, `data builtin` | `--out` | `-o/--output` |
| `test` | `--out FILE.csv` | `--csv FILE.csv` |
| `test`, `enhance` | `--chunk` (samples per inference block) | `--block` |

`train --chunk` keeps its meaning (samples per training example); `train --block` sets the
inference block of validation.
"""


def _help(command: click.Command, path: list[str]) -> str:
    ctx = click.Context(command, info_name=" ".join(path), terminal_width=100, max_content_width=100)
    return command.get_help(ctx)


def render() -> str:
    parts = [HEADER, "## audioenh\n", "```text\n" + _help(cli, ["audioenh"]) + "\n```\n"]
    ctx = click.Context(cli, info_name="audioenh")
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        parts.append(f"## audioenh {name}\n")
        parts.append("```text\n" + _help(command, ["audioenh", name]) + "\n```\n")
        if isinstance(command, click.Group):
            sub_ctx = click.Context(command, info_name=name, parent=ctx)
            for sub in command.list_commands(sub_ctx):
                parts.append(f"### audioenh {name} {sub}\n")
                parts.append(
                    "```text\n" + _help(command.get_command(sub_ctx, sub), ["audioenh", name, sub]) + "\n```\n"
                )
    return "\n".join(parts)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if not DOC.exists() or DOC.read_text() != text:
            print(f"{DOC} is stale: run python tools/gen_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text)
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
