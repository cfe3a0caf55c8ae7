"""How a chart is shown: an interactive Vega-Lite view, with a static picture beside it.

A notebook's chart output (:func:`mimebundle`, the Altair renderer ``tierlib`` that
:func:`tierlib.notebook.setup_notebook` enables) carries both the Vega-Lite spec (JupyterLab
draws it with its own Vega, offline; the report page with the bundle vl-convert ships) and a
PNG made by vl-convert, for readers without JavaScript. The PNG is drawn with a CJK font
found on the machine and registered with vl-convert, so its Chinese labels are not boxes
(``make report`` and ``make test`` install one: Debian's ``fonts-wqy-microhei``).
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import warnings
from functools import lru_cache
from pathlib import Path

__all__ = ["VEGALITE_MIME", "cjk_font_dirs", "register_cjk_fonts", "static_png", "mimebundle", "alt_text"]

#: The mimetype JupyterLab 4 draws Vega-Lite from (its own renderer; nothing fetched).
VEGALITE_MIME = "application/vnd.vegalite.v5+json"
#: Scale of the static picture: sharp on a high-density screen and in print.
PNG_SCALE = 2.0
_FONT_NAMES = ("wqy", "notosanscjk", "notoserifcjk", "noto-cjk", "sourcehan", "droidsansfallback", "simhei",
               "simsun", "msyh", "pingfang", "arphic", "uming", "ukai")


def cjk_font_dirs() -> list[str]:
    """Folders holding a font with Chinese glyphs: fontconfig's answer, else a scan of the font folders.

    >>> all(Path(d).is_dir() for d in cjk_font_dirs())
    True
    """
    files: list[str] = []
    if shutil.which("fc-list"):
        done = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False)
        files = [line.split(":")[0].strip() for line in done.stdout.splitlines() if line.strip()]
    if not files:
        roots = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts",
                 Path.home() / ".local/share/fonts"]
        files = [str(p) for root in roots if root.is_dir() for p in root.rglob("*")
                 if p.suffix.lower() in (".ttf", ".ttc", ".otf")
                 and any(n in p.name.lower().replace("_", "").replace(" ", "") for n in _FONT_NAMES)]
    return sorted({str(Path(f).parent) for f in files if Path(f).is_file()})


@lru_cache(maxsize=1)
def register_cjk_fonts() -> tuple[str, ...]:
    """Register every CJK font folder with vl-convert (once per process); warn when there is none."""
    import vl_convert as vlc

    dirs = tuple(cjk_font_dirs())
    for d in dirs:
        vlc.register_font_directory(d)
    if not dirs:
        warnings.warn("no font with Chinese glyphs is installed: the static charts' Chinese labels will be boxes "
                      "(Debian: apt-get install fonts-wqy-microhei, or make fonts)", stacklevel=2)
    return dirs


def static_png(spec: dict) -> bytes:
    """The chart as a PNG drawn by vl-convert with the registered CJK fonts."""
    import vl_convert as vlc

    register_cjk_fonts()
    return vlc.vegalite_to_png(spec, scale=PNG_SCALE)


def _plain(title) -> str:
    if isinstance(title, dict):
        title = title.get("text", "")
    if isinstance(title, list):
        title = " ".join(str(t) for t in title)
    return str(title or "")


def alt_text(spec: dict) -> str:
    """A chart's alt text: its ``description`` (title and what it shows), else its title.

    >>> alt_text({"description": "Tiers. bars by tier"}), alt_text({"title": {"text": ["a", "b"]}})
    ('Tiers. bars by tier', 'a b')
    >>> alt_text({"mark": "bar"})
    'chart'
    """
    return spec.get("description") or _plain(spec.get("title")) or "chart"


def mimebundle(spec: dict, **metadata) -> tuple[dict, dict]:
    """The Altair renderer ``tierlib``: the spec (interactive) and a PNG of it (static), with its alt text.

    Returns the bundle and its metadata: JupyterLab draws the spec as SVG (as the report pages
    do: text stays text), without vega-embed's action menu.
    """
    png = base64.b64encode(static_png(spec)).decode("ascii")
    return ({VEGALITE_MIME: spec, "image/png": png, "text/plain": alt_text(spec)},
            {VEGALITE_MIME: {"embed_options": {"renderer": "svg", "actions": False}}})
