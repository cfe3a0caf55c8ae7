"""Pages: an executed notebook as one offline HTML page, and the check that it fetches nothing."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierlib.report.config import one_line
from tierlib.report.parameters import _read_notebook

if TYPE_CHECKING:
    from tierlib.report.parameters import NotebookJob

_PAGE_TEMPLATE = """\
{%- extends 'index.html.j2' -%}
{#- nbconvert's lab page without anything fetched from a CDN -#}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style>main { max-width: 1100px; margin: 0 auto; } nav.tierlib { padding: 8px 20px; font: 14px sans-serif; }</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
<nav class="tierlib"><a href="index.html">&larr; report index</a></nav>
{%- endblock body_header -%}
{#- no widget state: widgets need their manager script, which would come from a CDN -#}
{%- block footer -%}
</html>
{%- endblock footer -%}
"""


def notebook_to_html(notebook: Any, *, name: str = "notebook", folder: str | Path = ".") -> str:
    """An executed notebook as one self-contained HTML page: no code, no prompts, no CDN.

    ``folder`` is where images referenced by the notebook's Markdown are looked up (they
    are embedded).

    Examples
    --------
    >>> from nbformat.v4 import new_markdown_cell, new_notebook
    >>> page = notebook_to_html(new_notebook(cells=[new_markdown_cell("# Tiers")]))
    >>> "<h1" in page, find_remote_resources(page)
    (True, [])
    """
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab", template_file="tierlib_page.html.j2",
        extra_loaders=[DictLoader({"tierlib_page.html.j2": _PAGE_TEMPLATE})],
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True,
    )
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": name, "path": str(folder)}})
    return body


_FIX = "call tierlib.notebook.setup_notebook() in the notebook's first cell"
_SHOWN = {"text/html", "image/svg+xml", "image/png", "image/jpeg", "text/markdown", "text/latex"}


def publish(job: NotebookJob, out: Path) -> str | None:
    """Write the page; return one line if it would need the network or lost a chart."""
    nb = _read_notebook(out / f"{job.name}.ipynb")
    try:
        page = notebook_to_html(nb, name=job.name, folder=job.path.parent)
    except Exception as exc:
        return f"{job.name}.html could not be written: {type(exc).__name__}: {one_line(str(exc))}"
    (out / f"{job.name}.html").write_text(page, encoding="utf-8")
    remote = find_remote_resources(page)
    if remote:
        more = f" (and {len(remote) - 1} more)" if len(remote) > 1 else ""
        return f"{job.name}.html would load {remote[0]} from the network{more}: {_FIX}"
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            kinds = set(output.get("data", {}))
            lost = sorted(k for k in kinds if k.startswith("application/vnd."))
            if lost and not kinds & _SHOWN:  # e.g. Altair's default renderer: a spec, no picture
                first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
                return f"{job.name}.html shows the {lost[0]} output of `{first}` as plain text: {_FIX}"
    return None


_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"""(?:url\(\s*|@import\s+)["']?((?:https?:)?//[^"')\s]+)""", re.IGNORECASE)
_SCRIPT_URL = re.compile(r"""["'`]((?:https?:)?//[^"'`\s]+)""", re.IGNORECASE)
_FETCHED = ("src", "href", "xlink:href", "srcset", "data", "poster", "background")


class _RemoteFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if not value:
                continue
            if key in _FETCHED and tag not in ("a", "area") and _REMOTE.match(value):
                self.found.append(value.strip())  # a link to follow is fine; a resource is not
            elif key == "style":
                self.found += _CSS_URL.findall(value)
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.found += _CSS_URL.findall(data)
        elif self._in == "script":
            self.found += _SCRIPT_URL.findall(data)


def find_remote_resources(page: str) -> list[str]:
    """URLs a browser would fetch from the network when it opens ``page``.

    Counts ``src``/``href`` of scripts, stylesheets, images, frames (not ``<a>`` links),
    ``url(...)``/``@import`` in CSS, and any URL string inside an inline script (a script
    that names a CDN loads from it, e.g. Altair's default renderer).

    Examples
    --------
    >>> find_remote_resources('<script src="https://cdn.jsdelivr.net/npm/vega@6"></script>')
    ['https://cdn.jsdelivr.net/npm/vega@6']
    >>> find_remote_resources('<a href="https://www.10010.com">Unicom</a><img src="data:image/png;base64,AA">')
    []
    """
    finder = _RemoteFinder()
    finder.feed(page)
    finder.close()
    return finder.found
