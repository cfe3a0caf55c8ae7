"""Headless Chromium for the report tests: dump a page's DOM, take a screenshot, read the PNG.

Debian's ``chromium`` package (``make browser`` installs it). Pages are opened from
``file://`` URLs with every host name unresolvable, so a page that needs the network shows
it by not rendering.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np

_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND",
]


def chromium() -> str | None:
    """Path of the Chromium binary, or None when it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    binary = chromium()
    if binary is None:
        raise RuntimeError("chromium is not installed (make browser)")
    command = [binary, *_FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)


def dump_dom(page: Path, profile: Path) -> str:
    """The DOM of ``page`` after it loaded, serialised as HTML."""
    return _run(page, profile, "--dump-dom").stdout


def screenshot(page: Path, png: Path, profile: Path, *, size: tuple[int, int] = (1000, 900)) -> Path:
    """A PNG of the top ``size`` (width, height) pixels of ``page``."""
    _run(page, profile, f"--window-size={size[0]},{size[1]}", f"--screenshot={png}")
    return png


def read_png(path: Path) -> np.ndarray:
    """Pixels of an 8-bit, non-interlaced RGB or RGBA PNG as a (height, width, channels) array."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    width, height, depth, color, _, _, interlace = header
    channels = {2: 3, 6: 4}.get(color)
    assert depth == 8 and channels and not interlace, f"unsupported PNG: depth {depth}, colour type {color}"
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, 1 + width * channels)
    rows = np.zeros((height, width * channels), dtype=np.uint8)
    previous = np.zeros(width * channels, dtype=np.uint8)
    for y in range(height):
        rows[y] = previous = _unfilter(raw[y, 0], raw[y, 1:], previous, channels)
    return rows.reshape(height, width, channels)


def _unfilter(kind: int, line: np.ndarray, up: np.ndarray, bpp: int) -> np.ndarray:
    if kind == 0:
        return line
    if kind == 2:
        return line + up  # uint8 arithmetic wraps modulo 256, as PNG wants
    if kind == 1:
        out = line.reshape(-1, bpp).astype(np.uint32).cumsum(axis=0) % 256
        return out.astype(np.uint8).ravel()
    out = bytearray(line.tobytes())
    above = up.tobytes()
    for x in range(len(out)):  # Average and Paeth depend on the pixel just decoded
        a = out[x - bpp] if x >= bpp else 0
        b = above[x]
        if kind == 3:
            out[x] = (out[x] + (a + b) // 2) & 0xFF
            continue
        c = above[x - bpp] if x >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        out[x] = (out[x] + predictor) & 0xFF
    return np.frombuffer(bytes(out), dtype=np.uint8)


def count_color(pixels: np.ndarray, rgb: tuple[int, int, int], *, tolerance: int = 12) -> int:
    """How many pixels are within ``tolerance`` of ``rgb`` in every channel."""
    diff = np.abs(pixels[..., :3].astype(np.int16) - np.array(rgb, dtype=np.int16))
    return int((diff <= tolerance).all(axis=-1).sum())


# --------------------------------------------------------------------------- Playwright checks (issue 13)

#: A JavaScript function ``shown(t)``: a text element with text that nothing hides (opacity 0,
#: visibility hidden, display none on it or an ancestor inside its SVG).
_SHOWN_JS = """const shown = (t) => {
    if (!t.textContent.trim()) return false;
    for (let e = t; e && e.tagName.toLowerCase() !== "svg"; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.opacity === "0" || s.visibility === "hidden" || s.display === "none") return false;
    }
    return true;
  };"""

#: The text of a chart's guides (axis labels and titles, legends, headers, titles), each as the
#: four corners of its box on the screen (rotated labels stay rotated), hidden labels left out.
GUIDE_TEXT_JS = """(fig) => {
  """ + _SHOWN_JS + """
  const out = [];
  fig.querySelectorAll(".tierlib-view svg g.mark-text:not(.role-mark) text").forEach((t) => {
    if (!shown(t)) return;
    const b = t.getBBox(), m = t.getScreenCTM();
    const pts = [[b.x, b.y], [b.x + b.width, b.y], [b.x + b.width, b.y + b.height], [b.x, b.y + b.height]]
      .map(([x, y]) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]);
    out.push({text: t.textContent, role: t.parentElement.getAttribute("class"), pts: pts});
  });
  return out;
}"""


#: The smallest text a reader is shown, in screen pixels (Vega-Lite's axis and legend labels are 10 px;
#: the static SVGs the reports had, shrunk to the page, showed heatmap cell text at about 8 px).
MIN_TEXT_PX = 9.5

#: Every visible text of a chart (marks and guides) with its size on screen: the font size times
#: the scale of the transform the SVG is drawn with.
TEXT_SIZES_JS = """(fig) => {
  """ + _SHOWN_JS + """
  const out = [];
  fig.querySelectorAll(".tierlib-view svg text").forEach((t) => {
    if (!shown(t)) return;
    const m = t.getScreenCTM();
    const px = parseFloat(getComputedStyle(t).fontSize) * Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
    out.push({text: t.textContent, px: px});
  });
  return out;
}"""


def boxes_overlap(p: list, q: list, *, margin: float = 1.0) -> bool:
    """Whether two convex quadrilaterals overlap by more than ``margin`` pixels (separating axes).

    >>> square = lambda x, y, s=10: [[x, y], [x + s, y], [x + s, y + s], [x, y + s]]
    >>> boxes_overlap(square(0, 0), square(5, 5)), boxes_overlap(square(0, 0), square(10, 0))
    (True, False)
    """
    import math

    for poly in (p, q):
        for i in range(len(poly)):
            (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % len(poly)]
            nx, ny = y2 - y1, x1 - x2
            norm = math.hypot(nx, ny) or 1.0
            a = [(nx * x + ny * y) / norm for x, y in p]
            b = [(nx * x + ny * y) / norm for x, y in q]
            if max(a) - margin <= min(b) or max(b) - margin <= min(a):
                return False
    return True


def overlapping_text(boxes: list[dict]) -> list[tuple[str, str]]:
    """Pairs of guide texts (from :data:`GUIDE_TEXT_JS`) whose boxes overlap."""
    return [(a["text"], b["text"]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if boxes_overlap(a["pts"], b["pts"])]
