"""中文 reports (issue 13 parts 2 and 3): translation catalogues, the `lang` parameter, display tables.

Each report notebook is one file, written in English; its Chinese Markdown lives beside it in
``<notebook>.zh.yaml`` keyed by cell id. These tests fail when a Markdown cell has no translation
(or a translation names no cell), when a table column has no header in the terms catalogue, and
when a zh page shows an English heading. The notebooks' real runs in both languages (every table
header they show, no raw reprs) are in tests/test_notebooks.py.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import polars as pl
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tierlib.display import display_table, header
from tierlib.notebook import show, table
from tierlib.report import ReportConfig, ReportError, check_parameters, declared_parameters, run_report
from tierlib.report.translation import catalogue_path, load_translations, translate_notebook, translation_problems
from tierlib.terms import terms

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CJK = re.compile(r"[\u4e00-\u9fff]")


def _ids(paths):
    return [p.stem for p in paths]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_every_markdown_cell_has_a_chinese_translation(path):
    nb = nbformat.read(path, as_version=4)
    translations = load_translations(path, "zh")
    assert translation_problems(nb, translations, path.name) == []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        zh = translations[cell.id]
        assert CJK.search(zh), f"{path.name} cell {cell.id!r}: the zh text has no Chinese"
        # the same outline: headings of the same levels, in the same order
        levels = [len(m) for m in re.findall(r"^(#+) ", cell.source, re.M)]
        assert [len(m) for m in re.findall(r"^(#+) ", zh, re.M)] == levels, f"{path.name} cell {cell.id!r}"
        for line in re.findall(r"^#+ .*$", zh, re.M):
            assert CJK.search(line), f"{path.name} cell {cell.id!r}: heading {line!r} is not Chinese"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_every_notebook_takes_lang_and_has_meaningful_cell_ids(path):
    nb = nbformat.read(path, as_version=4)
    declared = declared_parameters(nb)
    assert declared["lang"].default == '"en"'
    ids = [c.id for c in nb.cells]
    assert len(set(ids)) == len(ids)
    random = [i for i in ids if re.fullmatch(r"[0-9a-f]{8}", i)]
    assert not random, f"{path.name}: cells with random ids (a translation key must say what the cell is): {random}"


def test_a_missing_or_stale_translation_is_refused_before_anything_runs(tmp_path):
    nb = new_notebook(cells=[_parameters(), new_markdown_cell("# Title", id="intro"),
                             new_markdown_cell("Text.", id="body")])
    path = tmp_path / "demo.ipynb"
    nbformat.write(nb, path)
    catalogue_path(path, "zh").write_text("intro: '# 标题'\nold: '旧的'\n", encoding="utf-8")
    with pytest.raises(ReportError) as caught:
        check_parameters(ReportConfig(notebooks=(path,), parameters={"lang": "zh"}))
    assert "Markdown cell 'body' has no translation" in str(caught.value)
    assert "translation 'old' names no Markdown cell" in str(caught.value)
    with pytest.raises(ValueError, match="body"):
        translate_notebook(nbformat.read(path, as_version=4), "zh", path)
    # English needs no catalogue; another language is refused, naming the notebook
    assert check_parameters(ReportConfig(notebooks=(path,), parameters={"lang": "en"}))
    with pytest.raises(ReportError, match=r"demo.ipynb: parameter 'lang' must be one of en, zh, got 'fr'"):
        check_parameters(ReportConfig(notebooks=(path,), parameters={"lang": "fr"}))
    catalogue_path(path, "zh").unlink()
    with pytest.raises(ReportError, match=r"demo.zh.yaml: cannot read the zh translation"):
        check_parameters(ReportConfig(notebooks=(path,), parameters={"lang": "zh"}))


def _parameters(source: str = 'lang = "en"  # report language'):
    cell = new_code_cell(source, id="parameters")
    cell.metadata["tags"] = ["parameters"]
    return cell


def test_a_zh_report_page_has_chinese_headings_only(tmp_path):
    """`tierlib report --lang zh`: the page holds the catalogue's Markdown, not the notebook's English."""
    from tierlib.cli import main

    nb = new_notebook(cells=[new_markdown_cell("# Tier report\n\nEnglish text.", id="intro"), _parameters(),
                             new_code_cell("from tierlib.notebook import table\nimport polars as pl\n"
                                           "table(pl.DataFrame({'customers': [1596300], 'member_share': [0.25]}), "
                                           "'members', lang)", id="table"),
                             new_markdown_cell("## 1. Members", id="members-md")])
    path = tmp_path / "demo.ipynb"
    nbformat.write(nb, path)
    catalogue_path(path, "zh").write_text("intro: |\n  # 等级报告\n\n  中文说明。\nmembers-md: '## 1. 会员'\n",
                                          encoding="utf-8")
    config = tmp_path / "report.yaml"
    config.write_text(f"notebooks: [{path}]\n", encoding="utf-8")
    assert main(["report", "--config", str(config), "--out", str(tmp_path / "out"), "--lang", "zh"]) == 0
    page = (tmp_path / "out" / "demo.html").read_text(encoding="utf-8")
    headings = re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", page, re.S)
    headings = [re.sub(r"<[^>]+>|¶", "", h).strip() for h in headings]
    assert headings == ["等级报告", "1. 会员"]
    assert "English text" not in page and "Tier report" not in page
    assert all(s in page for s in ("客户数", "会员占比", "1,596,300", "25.0%"))
    executed = nbformat.read(tmp_path / "out" / "demo.ipynb", as_version=4)
    assert executed.metadata["papermill"]["parameters"]["lang"] == "zh"
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh">' in index and "<h1>tierlib 报告 out</h1>" in index
    assert all(s in index for s in ("全部笔记本已运行。", "<th>笔记本</th>", "<th>关键表（Excel、CSV）</th>", "成功"))
    assert not re.search(r"<t[hd]>(Notebook|Status|ok)</t[hd]>|All notebooks ran", index)


def test_papermill_engine_translates_the_markdown(tmp_path):
    """`papermill --engine tierlib -p lang zh`: the same substitution without the report runner;
    under papermill's own engine the Markdown stays English and the page says so."""
    check = new_code_cell("import tierlib.notebook\nprint(tierlib.notebook.check_markdown_lang(lang))", id="check")
    nb = new_notebook(cells=[_parameters(), new_markdown_cell("# Title", id="intro"), check])
    path = tmp_path / "demo.ipynb"
    nbformat.write(nb, path)
    catalogue_path(path, "zh").write_text("intro: '# 标题'\n", encoding="utf-8")

    def run(engine: str) -> nbformat.NotebookNode:
        code = ("import papermill; from tierlib.papermill_engine import register; register(); "
                f"papermill.execute_notebook({str(path)!r}, {str(tmp_path / 'out.ipynb')!r}, parameters={{'lang': 'zh'}}, "
                f"engine_name={engine!r}, kernel_name='python3', language='python', progress_bar=False)")
        env = {k: v for k, v in os.environ.items() if k != "TIERLIB_MARKDOWN_LANG"}
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, env=env)
        return nbformat.read(tmp_path / "out.ipynb", as_version=4)

    out = run("tierlib")
    assert [c.source for c in out.cells if c.cell_type == "markdown"] == ["# 标题"]
    assert out.cells[-1].outputs[0]["text"] == "None\n"
    plain = run("nbclient")
    assert [c.source for c in plain.cells if c.cell_type == "markdown"] == ["# Title"]
    assert plain.cells[-1].outputs[0]["text"].startswith("警告：本页的标题和说明文字仍是英文（lang = zh 只作用于表格和图表）")


# --------------------------------------------------------------------------- display tables


def test_display_tables_format_numbers_for_a_reader():
    t = pl.DataFrame({"scheme": ["unicom_vip", "unicom_vip"], "tier": ["gold", "none"], "rank": [2, 0],
                      "tier_label": ["gold 金卡", "none 非会员"], "customers": [1596300, 12],
                      "share": [0.06125, None], "yearly_cost": [1596300.4, 10.0], "month": [dt.date(2024, 12, 1)] * 2,
                      "assumed": [True, False]})
    zh = display_table(t, "zh")
    assert zh.df.columns == ["scheme", "tier_label", "customers", "share", "yearly_cost", "month", "assumed"]
    html = zh._repr_html_()
    for text in ("体系", "等级", "客户数", "占比", "年权益成本（元）", "月份", "假设值",  # headers
                 "金卡", "非会员", "1,596,300", "6.1%", "¥1,596,300", "2024-12", "是", "否", "–"):
        assert text in html, text
    assert "gold 金卡" not in html and "1.5963e6" not in html and "1596300.4" not in html
    assert 'style="overflow-x: auto' in html  # a wide table scrolls in its own box
    coded = display_table(pl.DataFrame({"reason": ["expiring", "near_floor", None], "scheme": ["a", "b", "c"]}), "zh")
    assert coded.df["reason"].to_list() == ["有效期将满", "接近下限", None] and coded.df["scheme"].to_list() == ["a", "b", "c"]
    assert display_table(pl.DataFrame({"reason": ["expiring", "other"]}), "zh").df["reason"].to_list() == ["expiring", "other"]
    money = display_table(pl.DataFrame({"cost_change": [-204.0, 0.0], "revenue": [12.25, 3.5]}), "zh")._repr_html_()
    assert all(s in money for s in (">−¥204<", ">¥0<", ">¥12.25<", ">¥3.50<"))  # whole yuan without fen, sign first
    shares = display_table(pl.DataFrame({"churn_rate": [0.0004, 0.25, 0.0]}), "en")._repr_html_()
    assert all(s in shares for s in (">0.04%<", ">25.00%<", ">0.00%<"))  # never 0.0% for a share that is not 0
    en = display_table(t, "en")._repr_html_()
    assert "gold 金卡" in en and "yearly benefit cost (yuan)" in en and "yes" in en


def test_a_column_without_a_header_is_named_in_chinese_and_keeps_its_name_in_english():
    with pytest.raises(KeyError, match=r"table column 'mystery' has no zh header: pass headers=.*tierlib/terms/tables.yaml"):
        display_table(pl.DataFrame({"customers": [1], "mystery": [2]}), "zh")
    with pytest.raises(KeyError, match="mystery"):
        table(pl.DataFrame({"mystery": [2]}), "t", "zh")
    # an analyst's own table in English reads with its own column names (the report's key-table
    # fixture has a column `yuan`); in Chinese it takes the headers given
    en = table(pl.DataFrame({"mystery": [2], "customers": [3]}), "t", "en")._repr_html_()
    assert ">mystery<" in en and ">customers<" in en
    zh = show(pl.DataFrame({"mystery": [2], "customers": [3]}), "zh", headers={"mystery": "神秘列"})._repr_html_()
    assert "神秘列" in zh and "客户数" in zh and ">mystery<" not in zh


def test_per_tier_columns_and_every_table_term_is_bilingual():
    assert header("members_gold_change", "zh") == "gold会员数变化"
    assert header("share_star5", "en") == "share star5"
    table_terms = [k for k in terms() if k.startswith(("col.", "say.", "table."))]
    assert len(table_terms) > 100


def test_long_tables_scroll_downwards_too():
    html = display_table(pl.DataFrame({"customers": list(range(100))}), "en")._repr_html_()
    assert "max-height" in html and "overflow-y: auto" in html
    assert "max-height" not in display_table(pl.DataFrame({"customers": [1]}), "en")._repr_html_()


def test_threshold_search_reads_as_a_sentence():
    from tierlib.reforms.search import ThresholdSearch

    r = ThresholdSearch("thresholds.mobile.gold", "gold", 0.06, 312.0, 0.0612, 0.0598, 5, "bisection")
    assert r._repr_markdown_().startswith("`thresholds.mobile.gold` = **312**: **6.1%** of the base")
    assert "二分查找" in r.summary("zh")


def test_run_report_rejects_a_language_before_anything_runs(tmp_path):
    nb = new_notebook(cells=[_parameters()])
    path = tmp_path / "demo.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(ReportError, match="'lang' must be one of"):
        run_report(ReportConfig(notebooks=(path,), parameters={"lang": "de"}), out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_analyses_warnings_notes_and_sources_are_said_in_chinese():
    """Issue 13: the reform, unfolding and drop-effect words of a zh page, not English."""
    import datetime as dt

    from tierlib.reforms import compare_reforms, simulate, unfold
    from tierlib.terms import said

    months = [dt.date(2024, m, 1) for m in range(1, 9)]
    p = pl.concat([pl.DataFrame({"customer_id": c, "month": months, "join_month": months[0], "billed": b})
                   for c, b in (("a", 320.0), ("b", 180.0))])
    cmp = compare_reforms(p, "unicom_vip", {"same": {"thresholds.mobile.gold": 300}, "later": {
        "thresholds.mobile.gold": {"from": "2025-01-01", "value": 350}}}, drop_effect=(1.5, 2.0, 3.0), churn=0.1,
        lang="zh")
    rows = {r["reform"]: r for r in cmp.table.iter_rows(named=True)}
    assert rows["same"]["warnings"] == "改革“same”没有任何改动：每个取值都与基准相同（thresholds.mobile.gold = 300）"
    assert rows["later"]["warnings"].startswith("thresholds.mobile.gold 自 2025-01 起生效，晚于 as_of 2024-08")
    assert rows["same"]["drop_effect_source"] == "分析师设定（低、中、高）"
    assert rows["same"]["probability"] == "每位降级客户 p = 10.00%，由分析师设定"
    topics = set(cmp.assumptions["topic"])
    assert {"改动", "降级效应", "流失概率 p", "净值", "收入", "流失成本", "降级效应（估计时）"} <= topics
    assert not any(re.search(r"[a-z]{4,} [a-z]{4,}", v) for v in cmp.assumptions.filter(
        pl.col("topic").is_in(["净值", "流失成本", "降级效应（估计时）"]))["value"].to_list())
    zh = compare_reforms(p, "unicom_vip", {"x": {"thresholds.mobile.gold": 350}}, drop_effect=(1.5, 2.0, 3.0),
                         lang="zh")  # no `churned` column: no churn rate, a note shared by every reform
    assert zh.table["warnings"].item() == said(zh.notes[0], "zh") and zh.table["warnings"].item().startswith("无流失成本：")
    assert "warning:" not in repr(zh) and repr(zh).count("note: no churn cost") == 1  # said once, as the note
    en = compare_reforms(p, "unicom_vip", {"same": {"thresholds.mobile.gold": 300}}, drop_effect=(1.5, 2.0, 3.0),
                         churn=0.1)
    assert en.table["drop_effect_source"].item() == "set by the analyst (low, central, high)"

    sim = simulate(p, "unicom_vip", {"thresholds.mobile.gold": 300})
    assert list(sim.warnings) == ["reform 'reform' changes nothing: every value equals the baseline "
                            "(thresholds.mobile.gold = 300)"]
    assert "⚠ 改革“reform”没有任何改动" in sim.summary_text("zh")
    unf = unfold(p, "unicom_vip", {"thresholds.mobile.gold": 350}, start="2024-06", horizon=6)
    assert [said(n, "zh") for n in unf.notes] == [
        "面板止于 2024-08：从 2024-06 到 2024-11 的 6 个月中只显示 3 个月；其后月份不做预测（不外推消费）"]
