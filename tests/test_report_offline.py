"""Issue 10 item 9: the offline check, both layers, on a corpus of tricks and on real report pages.

Layer a: :func:`tierlib.report.find_remote_resources` (HTML parser, browser-style URL
normalisation, the tinycss2 tokenizer). Layer b: the page loaded in headless chromium with
every request routed (:mod:`tierlib.report.browser`). One browser per module.
Also issue 12 item 6 on notebook 01: its report carries its key tables as a workbook.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

from tierlib.report import find_remote_resources
from tierlib.report import browser as real_browser

ROOT = Path(__file__).resolve().parents[1]
GIF = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs="
E = "https://evil.example"

needs_chromium = pytest.mark.skipif(real_browser.chromium() is None, reason="chromium is not installed (make browser)")

# name: (markup in <body>, or a full page when it starts with "<!DOCTYPE"; the URL the check must name;
#        whether a browser fetches it on load, without a click)
TRICKS = {
    "srcset_second_candidate": (f'<img src="{GIF}" srcset="{GIF} 1x, {E}/srcset2.png 2x">', f"{E}/srcset2.png", True),
    "link_imagesrcset": (f'<link rel="preload" as="image" imagesrcset="{GIF} 1x, {E}/pre.png 2x">', f"{E}/pre.png", True),
    "meta_refresh": (f'<!DOCTYPE html><html><head><meta http-equiv="Refresh" content="0; URL=\'{E}/go\'"></head>'
                     "<body>x</body></html>", f"{E}/go", True),
    "css_image_set": (f'<style>body {{ background-image: image-set("{E}/set.png" 1x); }}</style>', f"{E}/set.png", True),
    "css_escaped_url": (f"<style>body {{ background: u\\72l({E}/esc.png); }}</style>", f"{E}/esc.png", True),
    "css_escaped_import": (f'<style>@\\69mport "{E}/imp.css";</style>', f"{E}/imp.css", True),
    "tab_entity_in_scheme": ('<img src="ht&#9;tps://evil.example/tab.png">', "ht\ttps://evil.example/tab.png", True),
    "newline_entity_in_scheme": ('<img src="h&#x0A;ttps://evil.example/nl.png">', "h\nttps://evil.example/nl.png", True),
    "backslashes": ('<img src="https:\\\\evil.example\\bs.png">', "https:\\\\evil.example\\bs.png", True),
    "protocol_relative": ('<img src="//evil.example/pr.png">', "//evil.example/pr.png", True),
    "backslash_relative": ('<img src="\\\\evil.example\\unc.png">', "\\\\evil.example\\unc.png", True),
    "style_attribute": (f"<div style=\"width:9px;height:9px;background:url('{E}/attr.png')\"></div>", f"{E}/attr.png",
                        True),
    "style_block_font": (f'<style>@font-face {{ font-family: x; src: url("{E}/f.woff2"); }} body {{ font-family: x; }}'
                         "</style>text", f"{E}/f.woff2", True),
    "svg_href": (f'<svg width="9" height="9"><image href="{E}/svg.png" width="9" height="9"/></svg>', f"{E}/svg.png",
                 True),
    "svg_xlink_href": (f'<svg width="9" height="9" xmlns:xlink="http://www.w3.org/1999/xlink"><image '
                       f'xlink:href="{E}/xl.png" width="9" height="9"/></svg>', f"{E}/xl.png", True),
    "object_data": (f'<object data="{E}/o.svg" type="image/svg+xml"></object>', f"{E}/o.svg", True),
    "iframe_src": (f'<iframe src="{E}/frame.html"></iframe>', f"{E}/frame.html", True),
    "iframe_srcdoc": (f"<iframe srcdoc=\"<img src='{E}/doc.png'>\"></iframe>", f"{E}/doc.png", True),
    "video_poster": (f'<video poster="{E}/poster.png" width="9" height="9"></video>', f"{E}/poster.png", True),
    "upper_case_scheme": ('<img src="HTTPS://EVIL.example/up.png">', "HTTPS://EVIL.example/up.png", True),
    "inline_script_fetch": (f'<script>fetch("{E}/api")</script>', f"{E}/api", True),
    "form_action": (f'<form action="{E}/submit"><input name="q"></form>', f"{E}/submit", False),
    "entity_encoded_scheme": ('<img src="&#104;ttps://evil.example/ent.png">', "https://evil.example/ent.png", True),
}

NEGATIVES = {
    "data_uri_image": f'<img src="{GIF}" srcset="{GIF} 1x, {GIF} 2x">',
    "data_uri_css": f'<style>body {{ background: url("{GIF}"); }}</style><div style="background:url({GIF})"></div>',
    "fragment_links": '<a href="#top">top</a><svg><use href="#m"/><defs><g id="m"></g></defs></svg>',
    "sibling_links": '<a href="index.html">index</a> <a href="params.json">params</a> <a href="t/01-x.csv">csv</a>',
    "external_link_to_follow": '<a href="https://www.10010.com">Unicom</a>',
    "plain_text_mentions": "<p>see https://evil.example/ and url(https://evil.example/x) in text</p>",
    "css_without_urls": "<style>body { color: #222; font: 15px sans-serif; }</style><b style='color:red'>x</b>",
}


def page(markup: str) -> str:
    if markup.startswith("<!DOCTYPE"):
        return markup
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>{markup}</body></html>'


@pytest.fixture(scope="module")
def chromium_browser():
    with real_browser.launch() as b:
        yield b


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tricks")
    for name, (markup, _, _) in TRICKS.items():
        (folder / f"{name}.html").write_text(page(markup), encoding="utf-8")
    for name, markup in NEGATIVES.items():
        (folder / f"{name}.html").write_text(page(markup), encoding="utf-8")
    for sibling in ("index.html", "params.json"):
        (folder / sibling).write_text("{}")
    return folder


@pytest.mark.parametrize("name", TRICKS)
def test_precheck_finds_every_trick(name):
    markup, url, _ = TRICKS[name]
    assert url in find_remote_resources(page(markup))


@pytest.mark.parametrize("name", NEGATIVES)
def test_precheck_passes_what_stays_inside_the_page(name):
    assert find_remote_resources(page(NEGATIVES[name])) == []


def test_precheck_names_a_script_even_without_a_url():
    assert find_remote_resources(page("<script>var a = 1;</script>")) == ["<script> (inline)"]
    assert find_remote_resources(page('<body onload="go()">')) == ["<body onload=...>"]


@needs_chromium
def test_browser_records_every_trick_a_browser_fetches(chromium_browser, corpus):
    missed = {}
    for name, (_, _, fetched) in TRICKS.items():
        blocked = real_browser.blocked_requests(chromium_browser, corpus / f"{name}.html")
        if fetched and not any("evil.example" in u.lower() for u in blocked):
            missed[name] = blocked
        assert all("evil.example" in u.lower() for u in blocked), (name, blocked)
    assert missed == {}


@needs_chromium
def test_browser_passes_the_negatives(chromium_browser, corpus):
    found = {n: real_browser.blocked_requests(chromium_browser, corpus / f"{n}.html") for n in NEGATIVES}
    assert found == {n: [] for n in NEGATIVES}


# --------------------------------------------------------------------------- real report pages


@pytest.fixture(scope="module")
def report_01(tmp_path_factory) -> Path:
    """The report of notebook 01 on 300 customers of the sample panel, browser check on."""
    from tierlib.cli import cmd_report

    folder = tmp_path_factory.mktemp("report_01")
    cfg = folder / "report.yaml"
    cfg.write_text(yaml.safe_dump({
        "notebooks": [str(ROOT / "notebooks" / "01_compare_schemes.ipynb")],
        "parameters": {"panel": str(ROOT / "data" / "sample" / "panel.parquet"), "max_customers": 300},
        "data_parameters": ["panel"], "browser_check": real_browser.chromium() is not None,
    }), encoding="utf-8")
    assert cmd_report(argparse.Namespace(config=str(cfg), out=str(folder / "out"), overwrite=False)) == 0
    return folder / "out"


def test_notebook_01_publishes_its_key_tables_as_a_workbook_and_csv(report_01):
    sheets = pl.read_excel(report_01 / "01_compare_schemes.xlsx", sheet_id=0)
    assert list(sheets) == ["tier distribution 档位分布", "summary 概览", "cross tiers 交叉", "correlation 相关",
                            "equivalent tiers 等价档", "stability 稳定性", "benefit cost 权益成本", "assumptions 假设"]
    csvs = sorted((report_01 / "01_compare_schemes").glob("*.csv"))
    assert [c.name.split("-", 1)[0] for c in csvs] == [f"{i:02d}" for i in range(1, 9)]
    for (name, sheet), csv in zip(sheets.items(), csvs):
        assert sheet.height > 0, name
        back = pl.read_csv(csv, try_parse_dates=True)
        assert back.columns == sheet.columns and back.height == sheet.height, name
        assert_frame_equal(back, sheet, check_dtypes=False, rel_tol=1e-9)
    params = json.loads((report_01 / "params.json").read_text())
    assert len(params["notebooks"][0]["tables"]) == 9


def test_real_report_pages_pass_the_precheck(report_01):
    for p in report_01.glob("*.html"):
        assert find_remote_resources(p.read_text(encoding="utf-8")) == [], p.name


@needs_chromium
def test_real_report_pages_request_nothing_in_chromium(chromium_browser, report_01):
    pages = sorted(report_01.glob("*.html"))
    assert [p.name for p in pages] == ["01_compare_schemes.html", "index.html"]
    assert {p.name: real_browser.blocked_requests(chromium_browser, p) for p in pages} == {p.name: [] for p in pages}


@needs_chromium
def test_browser_check_in_the_run_fails_a_page_that_fetches(tmp_path, capsys, monkeypatch):
    """``browser_check: true``: the browser layer fails the run on its own (pre-check switched off)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    import tierlib.report.pages as pages
    from tierlib.cli import cmd_report

    monkeypatch.setattr(pages, "find_remote_resources", lambda page: [])
    code = f'from IPython.display import HTML\nHTML("<img src=\'h&#9;ttps://evil.example/x.png\'>")'
    nbformat.write(new_notebook(cells=[new_code_cell(code)]), tmp_path / "leak.ipynb")
    cfg = tmp_path / "r.yaml"
    cfg.write_text(yaml.safe_dump({"notebooks": [str(tmp_path / "leak.ipynb")], "browser_check": True}))
    assert cmd_report(argparse.Namespace(config=str(cfg), out=str(tmp_path / "out"), overwrite=False)) == 1
    err = capsys.readouterr().err
    assert ("tierlib report: leak.html requested https://evil.example/x.png in headless chromium with the network "
            "blocked") in err
    assert json.loads((tmp_path / "out" / "params.json").read_text())["status"] == "failed"
