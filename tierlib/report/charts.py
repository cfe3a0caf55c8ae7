"""Charts on a report page: interactive (vega-embed, bundled), with a static PNG beside each.

Each chart output of a notebook (the spec and the PNG of :func:`tierlib.rendering.mimebundle`)
becomes a ``<figure>`` holding the spec as a JSON data block and the PNG (with the chart's
alt text), and the page embeds Vega, Vega-Lite and vega-embed once, from the bundle
vl-convert ships (no CDN). When the script runs, each chart is drawn by vega-embed with the
reader's fonts (tooltips, selections, sliders) and its PNG is hidden; without JavaScript the
PNG stays.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
from functools import lru_cache
from typing import Any

__all__ = ["BOOTSTRAP", "vega_bundle", "own_scripts", "embed_charts"]

#: Runs once per page, after the bundle: draws every chart, then hides its static picture.
BOOTSTRAP = """\
document.querySelectorAll("figure.tierlib-chart").forEach(function (fig) {
  var spec = JSON.parse(fig.querySelector("script.tierlib-spec").textContent);
  vegaEmbed(fig.querySelector(".tierlib-view"), spec, {mode: "vega-lite", renderer: "svg", actions: false})
    .then(function () { fig.classList.add("tierlib-live"); })
    .catch(function (err) { console.error("tierlib chart " + fig.id + ": " + err); });
});
"""


@lru_cache(maxsize=1)
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed in one script, as vl-convert ships them (no network)."""
    import vl_convert as vlc

    return vlc.javascript_bundle()


@lru_cache(maxsize=1)
def own_scripts() -> frozenset[str]:
    """SHA-256 of the scripts tierlib writes into a page: the bundle and the bootstrap."""
    return frozenset(hashlib.sha256(code.encode("utf-8")).hexdigest() for code in (vega_bundle(), BOOTSTRAP))


def _chart_figure(spec: dict, png: str | None, n: int) -> str:
    """One chart: a view for vega-embed, the static PNG with its alt text, the spec as a data block."""
    from tierlib.rendering import alt_text

    label = html.escape(alt_text(spec), quote=True)
    spec = {k: v for k, v in spec.items() if k != "$schema"}  # mode is given; the schema URL is not fetched
    data = json.dumps(spec, ensure_ascii=False).replace("</", "<\\/")
    img = f'<img class="tierlib-static" src="data:image/png;base64,{png}" alt="{label}">' if png else ""
    return (f'<figure class="tierlib-chart" id="tierlib-chart-{n}">'
            f'<div class="tierlib-view" role="figure" aria-label="{label}"></div>{img}'
            f'<script type="application/json" class="tierlib-spec">{data}</script></figure>')


def embed_charts(notebook: Any) -> tuple[Any, int]:
    """A copy of ``notebook`` whose chart outputs are figures (HTML); and how many there are."""
    from tierlib.rendering import VEGALITE_MIME

    notebook = copy.deepcopy(notebook)
    n = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if VEGALITE_MIME in data:
                n += 1
                spec = data[VEGALITE_MIME]
                spec = json.loads(spec) if isinstance(spec, str) else spec
                output["data"] = {"text/html": _chart_figure(spec, data.get("image/png"), n)}
    return notebook, n
