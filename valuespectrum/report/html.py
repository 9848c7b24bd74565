"""The report as one self-contained HTML page: figures embedded as data URIs, no external
reference (it opens from disk, offline, and in MLflow's artifact view), a table of contents,
each section's flags on top of it, and the selected runs with their factors first."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 1.5rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { border-bottom: 2px solid #ddd;
     padding-bottom: .2rem; margin-top: 2.2rem; } .meta { color: #555; font-size: .9rem; }
nav ol { columns: 2; font-size: .95rem; } a { color: #1f5fa8; }
.flags { background: #fff4e5; border-left: 4px solid #e67e22; padding: .5rem 1rem;
         margin: .8rem 0; } .flags li { margin: .2rem 0; }
.error { background: #fdecea; border-left: 4px solid #c0392b; padding: .5rem 1rem; }
.error pre { white-space: pre-wrap; font-size: .8rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .9rem; } .files { font-size: .8rem; color: #777; }
.scroll { overflow-x: auto; max-height: 32rem; overflow-y: auto; margin: .6rem 0 1.2rem; }
table { border-collapse: collapse; font-size: .82rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: .2rem .45rem; text-align: left; white-space: nowrap; }
th { background: #f4f4f4; position: sticky; top: 0; } tr:nth-child(even) td { background: #fafafa; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: .3rem 0; }
"""


@dataclass
class ShownFigure:
    name: str
    caption: str
    png: Path
    files: list[str] = field(default_factory=list)  # every written format, relative names


@dataclass
class ShownTable:
    name: str
    frame: pd.DataFrame
    csv: str  # relative name of the CSV


@dataclass
class Block:
    """One section as the page shows it (or the error its builder raised)."""

    key: str
    title: str
    text: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    figures: list[ShownFigure] = field(default_factory=list)
    tables: list[ShownTable] = field(default_factory=list)
    error: str | None = None


def page(title: str, meta: Sequence[str], blocks: Sequence[Block]) -> str:
    """The whole HTML document."""
    toc = "".join(f'<li><a href="#{_id(b.key)}">{_e(b.title)}</a>'
                  + (" (failed)" if b.error else "") + "</li>" for b in blocks)  # fmt: skip
    body = "".join(_block(b) for b in blocks)
    lines = "".join(f"<div>{_e(m)}</div>" for m in meta)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1><div class=\"meta\">{lines}</div>"
        f"<nav><h2>Contents</h2><ol>{toc}</ol></nav>{body}</body></html>\n"
    )


def _block(b: Block) -> str:
    parts = [f'<section id="{_id(b.key)}"><h2>{_e(b.title)}</h2>']
    if b.flags:
        parts.append('<div class="flags"><strong>Flags</strong><ul>'
                     + "".join(f"<li>{_e(f)}</li>" for f in b.flags) + "</ul></div>")
    if b.error:
        parts.append(f'<div class="error"><strong>This section failed; the others are '
                     f'complete.</strong><pre>{_e(b.error)}</pre></div>')
    parts += [f"<p>{_e(t)}</p>" for t in b.text]
    for f in b.figures:
        uri = "data:image/png;base64," + base64.b64encode(f.png.read_bytes()).decode("ascii")
        files = ", ".join(f.files)
        parts.append(
            f'<figure id="{_id(b.key, f.name)}"><img alt="{_e(f.caption)}" src="{uri}">'
            f"<figcaption>{_e(f.caption)} <span class=\"files\">({_e(files)})</span>"
            "</figcaption></figure>"
        )
    for t in b.tables:
        table = t.frame.to_html(index=False, na_rep="", border=0, table_id=_id(b.key, t.name),
                                float_format=_number)  # fmt: skip
        table = table.replace(">\n  <thead>", f"><caption>{_e(t.name)} "
                              f"<span class=\"files\">({_e(t.csv)})</span></caption>\n  <thead>",
                              1)  # fmt: skip
        parts.append(f'<div class="scroll">{table}</div>')
    parts.append("</section>")
    return "".join(parts)


def _number(x: float) -> str:
    return f"{x:.4g}" if abs(x) < 1e4 else f"{x:.0f}"


def _id(*parts: str) -> str:
    return "-".join("".join(c if c.isalnum() else "_" for c in p) for p in parts)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
