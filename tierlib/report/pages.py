"""Pages: an executed notebook as one offline HTML page, and the check that it fetches nothing.

Charts are interactive on the page (:mod:`tierlib.report.charts`): the page embeds Vega,
Vega-Lite and vega-embed once, and the pre-check trusts those two scripts of tierlib's own.
"""

from __future__ import annotations

import hashlib
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierlib.report.charts import BOOTSTRAP, embed_charts, own_scripts, vega_bundle
from tierlib.report.config import one_line
from tierlib.terms import LANGS, term
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
<style>main { max-width: 1100px; margin: 0 auto; } nav.tierlib { padding: 8px 20px; font: 14px sans-serif; }
figure.tierlib-chart { margin: 0; max-width: 100%; overflow-x: auto; }
figure.tierlib-chart.tierlib-live img.tierlib-static { display: none; }
figure.tierlib-chart img.tierlib-static { max-width: none; }</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
<nav class="tierlib"><a href="index.html">&larr; {{ resources.tierlib_index }}</a></nav>
{%- endblock body_header -%}
{#- no widget state: widgets need their manager script, which would come from a CDN -#}
{%- block footer -%}
</html>
{%- endblock footer -%}
"""


def page_lang(notebook: Any) -> str:
    """The language a notebook ran in: its papermill ``lang`` parameter, else ``en``.

    >>> from nbformat.v4 import new_notebook
    >>> page_lang(new_notebook(metadata={"papermill": {"parameters": {"lang": "zh"}}})), page_lang(new_notebook())
    ('zh', 'en')
    """
    papermill = (notebook.get("metadata") or {}).get("papermill") or {}
    lang = (papermill.get("parameters") or {}).get("lang", "en")
    return lang if lang in LANGS else "en"


def notebook_to_html(notebook: Any, *, name: str = "notebook", folder: str | Path = ".") -> str:
    """An executed notebook as one self-contained HTML page: no code, no prompts, no CDN.

    ``folder`` is where images referenced by the notebook's Markdown are looked up (they
    are embedded). A page with charts carries the Vega bundle once (:func:`vega_bundle`).

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
    lang = page_lang(notebook)
    exporter.language_code = lang
    notebook, charts = embed_charts(notebook)
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": name, "path": str(folder)},
                                                               "tierlib_index": term("page_report_index", lang)})
    if charts:
        end = body.rfind("</body>")
        scripts = f'<script id="tierlib-vega">{vega_bundle()}</script>\n<script>{BOOTSTRAP}</script>\n'
        body = body[:end] + scripts + body[end:]
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


# --------------------------------------------------------------------------- the offline pre-check
#
# Not regexes: the HTML is read by the standard library's HTML parser (which decodes character
# references, so ``ht&#9;tps:`` arrives as ``ht<TAB>tps:``), every URL is normalised as a
# browser's URL parser does, and CSS (stylesheets, style attributes, ``url()`` in SVG
# attributes) is read by the tinycss2 tokenizer, which decodes CSS escapes (``u\72l(``).

_C0_OR_SPACE = "".join(chr(i) for i in range(0x21))
_TAB_OR_NEWLINE = "\t\n\r"
_LOCAL_SCHEMES = {"data", "blob", "about"}  # what a page may load: itself
#: Attributes whose value is one URL a browser fetches (or follows without a click).
_URL_ATTRS = {"src", "href", "xlink:href", "data", "poster", "background", "action", "formaction", "codebase",
              "cite", "longdesc", "lowsrc", "dynsrc", "manifest", "icon", "profile", "classid"}
_DOCUMENT_TAGS = {"iframe", "frame", "object", "embed"}  # their data: URL is a document that may fetch more
_CSS_URL_FUNCTIONS = {"url", "src", "image-set", "-webkit-image-set", "image", "cross-fade", "-webkit-cross-fade"}


def _scheme(url: str) -> str | None:
    """The URL's scheme, lower case, or None for a relative URL (WHATWG scheme state)."""
    colon = url.find(":")
    if colon < 1 or not (url[0].isascii() and url[0].isalpha()):
        return None
    head = url[:colon]
    return head.lower() if all(c.isascii() and (c.isalnum() or c in "+-.") for c in head) else None


def _normalise(url: str) -> str:
    """As a browser reads an attribute URL: outer C0/space stripped, tabs and newlines removed."""
    url = url.strip(_C0_OR_SPACE)
    return "".join(c for c in url if c not in _TAB_OR_NEWLINE)


def _needs_network(url: str) -> bool:
    r"""Whether a page opened from a file would fetch ``url`` from outside itself.

    Any scheme but ``data:``, ``blob:`` and ``about:`` counts (``https:\\host`` included),
    and so does a scheme-relative URL (``//host``, or ``\\host``: a backslash is a slash for
    the page's own special scheme), and a relative path that climbs out of the page's folder
    or starts at the root. ``#fragment`` and sibling files (``chart.html``) do not.

    >>> [_needs_network(u) for u in ("ht\ttps://x", "https:\\x", "\\x/a", "data:,a", "#top", "a.csv", "../a.csv")]
    [True, True, True, False, False, False, True]
    """
    url = _normalise(url)
    if not url or url.startswith("#"):
        return False
    scheme = _scheme(url)
    if scheme is not None:
        return scheme not in _LOCAL_SCHEMES
    path = url.replace("\\", "/")
    if path.startswith("/"):
        return True  # //host, or the file system's root: not the report folder
    depth = 0
    for part in path.split("?")[0].split("#")[0].split("/"):
        depth += -1 if part == ".." else (0 if part in ("", ".") else 1)
        if depth < 0:
            return True
    return False


#: Schemes a chart spec's URL is fetched with (a text such as ``below: drops`` is no URL).
_FETCH_SCHEMES = {"http", "https", "ftp", "file", "ws", "wss"}


def _fetchable(text: str) -> bool:
    r"""Whether a string of a JSON data block is a URL a chart would fetch from outside the page.

    >>> [_fetchable(t) for t in ("https://x.cn/a.csv", "//x.cn/a", "below: drops", "a.csv", "HTTP:\\x")]
    [True, True, False, False, True]
    """
    url = _normalise(text)
    return _needs_network(url) and (_scheme(url) in _FETCH_SCHEMES or url.replace("\\", "/").startswith("//"))


def _srcset_urls(value: str) -> list[str]:
    """The URL of every candidate of a ``srcset`` / ``imagesrcset`` (HTML's parsing algorithm)."""
    urls, i, n, space = [], 0, len(value), " \t\n\r\f"
    while i < n:
        while i < n and (value[i] in space or value[i] == ","):
            i += 1
        start = i
        while i < n and value[i] not in space:
            i += 1
        url = value[start:i]
        if url.endswith(","):
            url = url.rstrip(",")
        else:  # descriptors, up to the next comma outside parentheses
            depth = 0
            while i < n and not (value[i] == "," and depth == 0):
                depth += (value[i] == "(") - (value[i] == ")")
                i += 1
        if url:
            urls.append(url)
    return urls


def _refresh_url(content: str) -> str | None:
    """The URL of ``<meta http-equiv=refresh content="5; url=...">`` (HTML's shared algorithm)."""
    rest = content.lstrip(" \t\n\r\f")
    rest = rest.lstrip("0123456789.").lstrip(" \t\n\r\f")
    if not rest or rest[0] not in ";,":
        return None
    rest = rest[1:].lstrip(" \t\n\r\f")
    if rest[:3].lower() == "url":
        after = rest[3:].lstrip(" \t\n\r\f")
        if after.startswith("="):
            rest = after[1:].lstrip(" \t\n\r\f")
    if rest[:1] in ("'", '"'):
        end = rest.find(rest[0], 1)
        rest = rest[1:end if end > 0 else None]
    return rest or None


def _css_urls(tokens: list[Any]) -> list[str]:
    """Every URL in CSS component values: url tokens, url()/image-set()/... strings, @import."""
    found: list[str] = []
    importing = False
    for t in tokens:
        kind = t.type
        if kind == "url":
            found.append(t.value)
        elif kind == "string" and importing:
            found.append(t.value)
        elif kind == "function":
            if t.lower_name in _CSS_URL_FUNCTIONS:
                found += [a.value for a in t.arguments if a.type == "string"]
            found += _css_urls(t.arguments)
        elif kind in ("() block", "[] block", "{} block"):
            found += _css_urls(t.content)
        if kind == "at-keyword":
            importing = t.lower_value == "import"
        elif kind not in ("whitespace", "comment"):
            importing = False
    return found


def _css(text: str) -> list[str]:
    import tinycss2

    return _css_urls(tinycss2.parse_component_value_list(text, skip_comments=True))


def _script_strings(code: str) -> list[str]:
    """The string literals of a script ('...', "...", `...`), comments skipped: what it may fetch."""
    strings, i, n = [], 0, len(code)
    while i < n:
        c = code[i]
        if code.startswith("//", i):
            i = code.find("\n", i) % (n + 1) if "\n" in code[i:] else n
        elif code.startswith("/*", i):
            end = code.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c in "'\"`":
            j, buf = i + 1, []
            while j < n and code[j] != c:
                if code[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(code[j])
                j += 1
            strings.append("".join(buf))
            i = j + 1
        else:
            i += 1
    return strings


def _data_document(url: str) -> str | None:
    """The text of a ``data:`` URL holding an HTML or SVG document, else None."""
    import base64
    from urllib.parse import unquote_to_bytes

    head, sep, payload = _normalise(url)[5:].partition(",")
    mime = head.split(";")[0].strip().lower()
    if not sep or mime not in ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml"):
        return None
    raw = unquote_to_bytes(payload)
    if head.lower().rstrip().endswith(";base64"):
        raw = base64.b64decode(raw + b"==", validate=False)
    return raw.decode("utf-8", errors="replace")


class _RemoteFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._raw: str | None = None  # inside <style> or <script>
        self._text: list[str] = []

    def _url(self, url: str) -> None:
        if _needs_network(url):
            self.found.append(url.strip(_C0_OR_SPACE))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {k: v or "" for k, v in attrs}
        for key, value in attrs:
            if not value:
                continue
            if key in ("href", "xlink:href", "ping") and tag in ("a", "area"):
                continue  # a link to follow (on a click) is fine; a resource is not
            if key in _URL_ATTRS:
                self._url(value)
                if tag in _DOCUMENT_TAGS and _scheme(_normalise(value)) == "data":
                    self._document(value)
            elif key in ("srcset", "imagesrcset"):
                for url in _srcset_urls(value):
                    self._url(url)
            elif key == "archive":
                for url in value.split():
                    self._url(url)
            elif key == "content" and tag == "meta" and named.get("http-equiv", "").strip().lower() == "refresh":
                url = _refresh_url(value)
                if url:
                    self._url(url)
            elif key == "srcdoc":
                self.found += find_remote_resources(value)
            elif key.startswith("on"):  # an event handler is a script
                self._script(value, f"<{tag} {key}=...>")
            elif key == "style" or "(" in value:  # style attribute, or url(...) in fill=, filter=, ...
                for url in _css(value):
                    self._url(url)
        if tag in ("style", "script"):
            self._raw, self._text = tag, []
            if tag == "script" and "src" not in named:
                data_block = named.get("type", "").strip().lower() == "application/json"
                self._raw = "data block" if data_block else "inline script"

    def _document(self, url: str) -> None:
        text = _data_document(url)
        if text is not None:
            self.found += find_remote_resources(text)

    def _script(self, code: str, what: str) -> None:
        remote = [s for s in _script_strings(code) if _needs_network(s) and _scheme(_normalise(s))
                  or _normalise(s).startswith("//")]
        self.found += remote or [what]  # a script may fetch anything: a page runs none

    def handle_data(self, data: str) -> None:
        if self._raw:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._raw == "style" and tag == "style":
            for url in _css("".join(self._text)):
                self._url(url)
        elif self._raw == "inline script" and tag == "script":
            code = "".join(self._text)
            if hashlib.sha256(code.encode("utf-8")).hexdigest() not in own_scripts():
                self._script(code, "<script> (inline)")
        elif self._raw == "data block" and tag == "script":  # never run; a chart spec in it may name a URL
            self.found += [s for s in _script_strings("".join(self._text)) if _fetchable(s)]
        if tag in ("style", "script"):
            self._raw = None


def find_remote_resources(page: str) -> list[str]:
    r"""URLs a browser would fetch from outside the page when it opens ``page``, in page order.

    Every URL-bearing attribute (``src``, ``href`` but not a link's, ``srcset`` and
    ``imagesrcset`` candidates, ``data``, ``poster``, ``action``, SVG ``href``/``xlink:href``,
    ``<meta http-equiv=refresh>``, ``srcdoc`` and ``data:`` documents in frames), every URL in
    CSS (``<style>``, ``style=``, ``url()`` in SVG attributes, ``image-set()``, ``@import``) and
    every script (a URL string in it, or the script itself: a page runs none but tierlib's own,
    the Vega bundle and the bootstrap that draws the charts, known by their SHA-256), and every
    URL in a JSON data block (a chart spec). Only ``data:``, ``blob:``, ``#fragments`` and files
    beside the page are its own.

    Examples
    --------
    >>> find_remote_resources('<script src="https://cdn.jsdelivr.net/npm/vega@6"></script>')
    ['https://cdn.jsdelivr.net/npm/vega@6']
    >>> find_remote_resources('<img src="ht&#9;tps://x.cn/a.png" srcset="data:image/png;base64,AA 1x, //x.cn/b.png 2x">')
    ['ht\ttps://x.cn/a.png', '//x.cn/b.png']
    >>> find_remote_resources('<a href="https://www.10010.com">Unicom</a><img src="data:image/png;base64,AA">')
    []
    >>> find_remote_resources('<script type="application/json">{"data": {"url": "https://x.cn/a.csv"}}</script>')
    ['https://x.cn/a.csv']
    """
    finder = _RemoteFinder()
    finder.feed(page)
    finder.close()
    if finder._raw:  # an unclosed <style> or <script> runs to the end of the page
        finder.handle_endtag(finder._raw if finder._raw == "style" else "script")
    return finder.found
