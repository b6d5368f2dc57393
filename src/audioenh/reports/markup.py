"""Tables as Markdown and HTML, shared by the report pages and the matrix pages."""

from __future__ import annotations

import html
import re


def md_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def inline(text: str) -> str:
    """Markdown-ish cell text as HTML: escaped, with `code` spans and **bold**."""
    text = re.sub(r"`(.+?)`", r"<code>\1</code>", html.escape(text))
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)


def html_table(header: list[str], rows: list[list[str]]) -> str:
    """A table in a box that scrolls sideways on its own when the page is narrower than the table."""
    head = "".join(f"<th>{inline(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
