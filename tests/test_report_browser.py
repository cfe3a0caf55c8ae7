"""Issue 13 item 4: the report pages in a real browser (headless chromium, network blocked).

The three report notebooks run once per language through ``tierlib report`` (small
parameters); every page is opened in Debian's chromium through Playwright at 1400 px wide,
every request but the page's own file aborted and recorded, and checked: no request left
the page, no console error, every chart drawn by vega-embed with marks, hovering a mark of
each chart shows the tooltip (with a tier and its Chinese label on each report), no axis
label, title, legend or header text overlaps another (the text boxes read from the DOM,
rotated labels as rotated boxes), every image and chart has its alt text, and a zh page's
headings and chart titles, axis titles and legend titles are Chinese. The zh reports run when
the notebooks declare the ``lang`` parameter; a page of every chart drawn with ``lang="zh"``
is checked the same way whatever the notebooks do.

The run leaves a screenshot of each report (1400 px wide, the tooltip of its first chart that
names a tier shown) in docs/screenshots/, which the README shows.

One test per language, so that each report is made once (on one xdist worker) and each
check's findings are listed together.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tests import browser
from tierlib.report import declared_parameters, load_config, notebook_to_html, run_report
from tierlib.report import browser as real_browser
from tierlib.terms import LANGS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [ROOT / "notebooks" / n for n in
             ("01_compare_schemes.ipynb", "02_threshold_simulation.ipynb", "03_churn_near_tier_drop.ipynb")]
SHOTS = ROOT / "docs" / "screenshots"
WIDTH = 1400
SMALL = {"02_threshold_simulation": {"sweep_values": [250, 300, 350]},
         "03_churn_near_tier_drop": {"n_refit": 3, "n_boot": 50, "max_iter": 40}}
TIER = re.compile(r"\w+ [\u4e00-\u9fff]+")  # "star5 五星", "gold 金卡"
CJK = re.compile(r"[\u4e00-\u9fff]")
NBCONVERT_NO_ALT = "No description has been provided for this image"
DATA_ID = re.compile(r"[a-z0-9_.\[\]=]+")  # a scheme id (facet headers) or a parameter path (the sweep's x axis)

pytestmark = pytest.mark.skipif(real_browser.chromium() is None, reason="chromium is not installed (make browser)")


def _lang_declared() -> bool:
    return all("lang" in declared_parameters(nb) for nb in NOTEBOOKS)


def _display(bundle: tuple[dict, dict]):
    """A display_data output of the renderer's (bundle, metadata)."""
    data, metadata = bundle
    return new_output("display_data", data=data, metadata=metadata)


def _make_reports(folder: Path, lang: str) -> Path:
    cfg = folder / "report.yaml"
    params = {"panel": str(ROOT / "data" / "sample" / "panel.parquet"), "max_customers": 300, "lang": lang}
    cfg.write_text(yaml.safe_dump({"notebooks": [str(p) for p in NOTEBOOKS], "parameters": params,
                                   "notebook_parameters": SMALL, "data_parameters": ["panel"]}), encoding="utf-8")
    run = run_report(load_config(cfg), out=folder / "out")
    assert run.ok, run.failures
    return run.out


def _chart_page(folder: Path, lang: str) -> Path:
    """A page of every chart of tierlib.plots drawn with ``lang``, made without a kernel."""
    import tierlib
    from tierlib import plots
    from tierlib.compare import compare, tier_shares
    from tierlib.reforms import simulate, sweep
    from tierlib.rendering import mimebundle
    from tierlib.synth import make_panel

    panel, _ = make_panel(300, 13, seed=11)
    ledger = tierlib.rate(panel, ["telecom_star", "unicom_vip", "mobile_gotone"])
    c = compare(ledger, panel)
    charts = [plots.tier_bars(c.distribution, lang=lang), plots.cross_heatmap(c.cross, lang=lang),
              plots.movers_heatmap(simulate(panel, "unicom_vip", {"thresholds.mobile.gold": 350}).movers, lang=lang),
              plots.sweep_curves(sweep(panel, "telecom_star", "thresholds.star5", [3000, 4000, 5000]), baseline=4000,
                                 path="thresholds.star5", scheme=tierlib.load_scheme("telecom_star"), lang=lang),
              plots.tier_flows(c.stability, lang=lang), plots.cost_bars(c.cost, lang=lang),
              plots.tier_shares_over_time(tier_shares(ledger, "telecom_star"), lang=lang)]
    cells = [new_markdown_cell("# 图表" if lang == "zh" else "# Charts")]
    for chart in charts:
        cell = new_code_cell("chart")
        cell.outputs = [_display(mimebundle(chart.to_dict()))]
        cells.append(cell)
    page = folder / f"charts-{lang}.html"
    notebook = new_notebook(cells=cells, metadata={"papermill": {"parameters": {"lang": lang}}})
    page.write_text(notebook_to_html(notebook, name=page.stem), encoding="utf-8")
    return page


def _open(browser_, page: Path):
    """The page in a 1400 px wide tab, every request but its own file aborted and recorded."""
    own = page.resolve().as_uri()
    context = browser_.new_context(viewport={"width": WIDTH, "height": 900}, service_workers="block")
    requests: list[str] = []
    console: list[str] = []

    def route(r):
        if r.request.url == own or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            requests.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    tab = context.new_page()
    tab.on("websocket", lambda ws: requests.append(ws.url))
    tab.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: console.append(str(e)))
    tab.goto(own, wait_until="load")
    tab.wait_for_function("document.querySelectorAll('figure.tierlib-chart:not(.tierlib-live)').length === 0",
                          timeout=20_000, polling=100) if tab.locator("figure.tierlib-chart").count() else None
    tab.wait_for_timeout(200)
    return context, tab, requests, console


def _hover(tab, target, name: str, missing: list) -> list[str]:
    """Hover ``target`` (a mark); the tier labels its tooltip shows, or ``name`` noted in ``missing``."""
    from playwright.sync_api import Error

    try:
        target.hover(force=True, timeout=5_000)
        tip = tab.locator("#vg-tooltip-element.visible")
        tip.wait_for(state="visible", timeout=2_000)
        return TIER.findall(tip.inner_text())
    except Error as exc:  # Playwright's TimeoutError among them: no mark to hover, or no tooltip
        missing.append(f"{name}: {str(exc).splitlines()[0]}")
        return []


def _check_page(browser_, page: Path, lang: str, shot: Path | None) -> dict[str, list]:
    """Every check on one page: check name -> what it found wrong (empty lists when all is well)."""
    context, tab, requests, console = _open(browser_, page)
    found: dict[str, list] = {"requests": requests, "console errors": console, "charts without marks": [],
                              "marks without tooltip": [], "overlapping text": [], "text smaller than 9.5 px": [],
                              "headings not in Chinese": [], "images without alt text": [],
                              "chart words not in Chinese": []}
    try:
        for img in tab.locator("img").all():
            alt = img.get_attribute("alt") or ""
            if not alt.strip() or alt == NBCONVERT_NO_ALT:
                found["images without alt text"].append((img.get_attribute("src") or "")[:40])
        for fig in tab.locator("figure.tierlib-chart").all():  # the live chart says what its picture says
            alt = fig.locator("img.tierlib-static").get_attribute("alt")
            if fig.locator(".tierlib-view").get_attribute("aria-label") != alt or ". " not in alt:
                found["images without alt text"].append(f"chart {fig.get_attribute('id')}: {alt!r}")
        figures = tab.locator("figure.tierlib-chart")
        tiers_seen = []
        for i in range(figures.count()):
            fig = figures.nth(i)
            name = f"{page.name} chart {i + 1} ({(fig.locator('.tierlib-view').get_attribute('aria-label') or '')[:60]})"
            marks = fig.locator(".tierlib-view svg g.role-mark > *").count()
            if "tierlib-live" not in (fig.get_attribute("class") or "") or marks == 0:
                found["charts without marks"].append(name)
                continue
            target = fig.locator(", ".join(f".tierlib-view svg g.mark-{kind}.role-mark > path"
                                           for kind in ("rect", "symbol", "area"))).first
            tiers = _hover(tab, target, name, found["marks without tooltip"])
            if shot is not None and tiers and not tiers_seen:  # the first chart whose tooltip names a tier
                shot.parent.mkdir(parents=True, exist_ok=True)
                tab.screenshot(path=str(shot))
            tiers_seen += tiers
            tab.mouse.move(0, 0)
            overlaps = browser.overlapping_text(fig.evaluate(browser.GUIDE_TEXT_JS))
            found["overlapping text"] += [f"{name}: {a!r} / {b!r}" for a, b in overlaps]
            found["text smaller than 9.5 px"] += [f"{name}: {t['text']!r} at {t['px']:.1f} px"
                                                  for t in fig.evaluate(browser.TEXT_SIZES_JS)
                                                  if t["px"] < browser.MIN_TEXT_PX]
        if figures.count() and page.stem != "index" and not tiers_seen:
            found["marks without tooltip"].append(f"{page.name}: no tooltip names a tier with its Chinese label")
        if lang == "zh":
            headings = tab.locator("h1, h2").all_inner_texts()
            found["headings not in Chinese"] = [h for h in headings if not CJK.search(h)] or (
                [] if headings else [f"{page.name}: no heading"])
            words = tab.locator(".tierlib-view svg").locator(", ".join(
                f"g.{role} text" for role in ("role-title-text", "role-axis-title", "role-legend-title"))).all_text_contents()
            found["chart words not in Chinese"] = sorted({w for w in words if not CJK.search(w)
                                                          and not DATA_ID.fullmatch(w)})  # ids and paths are data
    finally:
        context.close()
    return {k: v for k, v in found.items() if v}


@pytest.fixture(scope="module")
def chromium_browser():
    with real_browser.launch() as b:
        yield b


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_report_pages_in_a_real_browser(lang, tmp_path_factory, chromium_browser):
    assert _lang_declared(), "every report notebook declares `lang`"
    for nb in NOTEBOOKS:  # this run's screenshots, not the committed ones
        (SHOTS / f"{nb.stem}-{lang}.png").unlink(missing_ok=True)
    out = _make_reports(tmp_path_factory.mktemp(f"reports-{lang}"), lang)
    pages = sorted(out.glob("*.html"))
    assert [p.name for p in pages] == [f"{nb.stem}.html" for nb in NOTEBOOKS] + ["index.html"]
    problems = {p.name: _check_page(chromium_browser, p, lang, None if p.stem == "index" else
                                    SHOTS / f"{p.stem}-{lang}.png") for p in pages}
    failing = {k: v for k, v in problems.items() if v}
    assert failing == {}, json.dumps(failing, ensure_ascii=False, indent=1)  # every finding, untruncated
    for nb in NOTEBOOKS:
        assert browser.read_png(SHOTS / f"{nb.stem}-{lang}.png").shape[1] == WIDTH


@pytest.mark.parametrize("lang", LANGS)
def test_every_chart_in_a_real_browser(lang, tmp_path, chromium_browser):
    """Every chart of tierlib.plots with ``lang``: drawn, tooltips, no overlap, its words in ``lang``."""
    page = _chart_page(tmp_path, lang)
    assert _check_page(chromium_browser, page, lang, None) == {}
    context, tab, _, _ = _open(chromium_browser, page)
    try:
        titles = tab.locator(".tierlib-view svg g.role-title-text text").all_text_contents()
        assert tab.locator("html").get_attribute("lang") == lang
        assert tab.locator("nav.tierlib a").inner_text().endswith({"en": "report index", "zh": "报告目录"}[lang])
    finally:
        context.close()
    assert len([t for t in titles if not DATA_ID.fullmatch(t)]) >= 7  # the zh check above saw every chart's title


def test_the_overlap_check_sees_overlapping_labels(tmp_path, chromium_browser):
    """The check itself: long labels forced flat under narrow bars, their overlap not hidden, are found."""
    import altair as alt

    from tierlib.rendering import mimebundle

    values = [{"tier": f"platinum{i} 白金卡会员", "n": i + 1} for i in range(6)]
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        x=alt.X("tier:N", axis=alt.Axis(labelAngle=0, labelOverlap=False)), y="n:Q", tooltip=["tier:N"],
    ).properties(width=alt.Step(20), title="overlap", description="overlap. labels drawn over each other")
    cell = new_code_cell("chart")
    cell.outputs = [_display(mimebundle(chart.to_dict()))]
    page = tmp_path / "overlap.html"
    page.write_text(notebook_to_html(new_notebook(cells=[cell])), encoding="utf-8")
    found = _check_page(chromium_browser, page, "en", None)
    assert list(found) == ["overlapping text"] and len(found["overlapping text"]) >= 5, found


def test_the_text_size_check_sees_small_cell_text(tmp_path, chromium_browser):
    """The check itself: heatmap cell text at 8 px (what the static SVGs showed) is found, 11 px is not."""
    import altair as alt

    from tierlib.rendering import mimebundle

    values = [{"a": a, "b": b, "n": 10 * a + b} for a in range(3) for b in range(3)]
    base = alt.Chart(alt.Data(values=values)).encode(x="a:O", y="b:O", tooltip=["n:Q"])
    cells = []
    for size in (8, 11):
        chart = (base.mark_rect() + base.mark_text(fontSize=size).encode(text="n:Q")).properties(
            title=f"cells {size}", description=f"cells {size}. a heatmap with its counts")
        cell = new_code_cell("chart")
        cell.outputs = [_display(mimebundle(chart.to_dict()))]
        cells.append(cell)
    page = tmp_path / "sizes.html"
    page.write_text(notebook_to_html(new_notebook(cells=cells)), encoding="utf-8")
    found = _check_page(chromium_browser, page, "en", None)
    small = found.pop("text smaller than 9.5 px", [])
    assert len(small) == 9 and all("chart 1" in f and "at 8.0 px" in f for f in small), small


def test_without_javascript_each_chart_shows_its_picture_and_alt_text(tmp_path, chromium_browser):
    page = _chart_page(tmp_path, "zh")
    context = chromium_browser.new_context(java_script_enabled=False, viewport={"width": WIDTH, "height": 900})
    try:
        tab = context.new_page()
        tab.goto(page.resolve().as_uri(), wait_until="load")
        pictures = tab.locator("figure.tierlib-chart img.tierlib-static")
        assert pictures.count() == 7
        for img in pictures.all():
            assert img.is_visible() and img.evaluate("i => i.complete && i.naturalWidth > 100")
            assert CJK.search(img.get_attribute("alt"))
    finally:
        context.close()


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on a free local port serving ``tmp_path``; its URL."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         "--ServerApp.token=tierlib", f"--ServerApp.root_dir={tmp_path}", "--allow-root",
         "--LabApp.news_url=", "--ServerApp.open_browser=False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status?token=tierlib", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_charts_are_interactive_in_jupyterlab(tmp_path, jupyterlab, chromium_browser):
    """A notebook's chart outputs (the renderer ``tierlib``) are drawn by JupyterLab's own Vega, offline."""
    import tierlib
    from tierlib import plots
    from tierlib.compare import compare
    from tierlib.rendering import mimebundle
    from tierlib.synth import make_panel

    panel, _ = make_panel(200, 13, seed=11)
    c = compare(tierlib.rate(panel, ["telecom_star", "unicom_vip"]), panel)
    cell = new_code_cell("plots.tier_bars(result.distribution)")
    cell.outputs = [_display(mimebundle(plots.tier_bars(c.distribution, lang="zh").to_dict()))]
    nbformat.write(new_notebook(cells=[cell]), tmp_path / "charts.ipynb")
    outside: list[str] = []
    chromium = chromium_browser.browser_type.launch(  # every host unresolvable but the local server
        executable_path=real_browser.chromium(), headless=True,
        args=["--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
    try:
        _lab_tooltip(chromium, jupyterlab, outside)
    finally:
        chromium.close()
    assert outside == []


def _lab_tooltip(chromium, jupyterlab: str, outside: list) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = chromium.new_context(viewport={"width": WIDTH, "height": 900})
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith((jupyterlab, "data:", "blob:"))
                  else (outside.append(r.request.url), r.abort()))
    try:
        tab = context.new_page()
        tab.goto(f"{jupyterlab}/lab/tree/charts.ipynb?token=tierlib")
        view = tab.locator(".jp-RenderedVegaCommon5 svg g.mark-rect.role-mark > path").first
        view.wait_for(state="visible", timeout=60_000)
        no_kernel = tab.locator(".jp-Dialog button.jp-mod-reject")  # "No Kernel", over the notebook
        try:
            no_kernel.wait_for(state="visible", timeout=20_000)
            no_kernel.click()
            tab.locator(".jp-Dialog").wait_for(state="detached", timeout=10_000)
        except PlaywrightTimeout:  # a user setting that starts a kernel without asking
            pass
        assert tab.locator(".jp-OutputArea-output img").count() == 0  # the spec is drawn, not the picture
        view.hover(force=True)
        tip = tab.locator("#vg-tooltip-element.visible")
        tip.wait_for(state="visible", timeout=5_000)
        assert TIER.search(tip.inner_text()) and "等级" in tip.inner_text()
    finally:
        context.close()
