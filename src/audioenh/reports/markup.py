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


#: the pages' shared style: system font, tables that scroll inside their own box, images that shrink
PAGE_CSS = (
    "*{box-sizing:border-box}body{font-family:system-ui,sans-serif;max-width:%dpx;margin:2em auto;"
    "padding:0 1em;color:#222;overflow-wrap:anywhere}"
    ".scroll{overflow-x:auto;max-width:100%%;margin:.5em 0 1.5em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right;overflow-wrap:normal}th{background:#f2f2f2}"
    "td:first-child,th:first-child{text-align:left}img{max-width:100%%;height:auto;border:1px solid #ddd}"
)


def html_page(title: str, body: list[str], *, max_width: int, css: str = "") -> str:
    """A whole self-contained HTML page: ``title`` (plain text), ``body`` (HTML parts, one per line),
    the shared style for a body at most ``max_width`` px wide, plus ``css``."""
    head = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{html.escape(title)}</title>",
        f"<style>{PAGE_CSS % max_width}{css}</style></head><body>",
    ]
    return "\n".join([*head, *body, "</body></html>"])


def html_table(header: list[str], rows: list[list[str]]) -> str:
    """A table in a box that scrolls sideways on its own when the page is narrower than the table."""
    head = "".join(f"<th>{inline(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
