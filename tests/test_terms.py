"""The terms catalogue (tierlib/terms): complete in every report language, errors that name the key."""

from __future__ import annotations

import pickle
import re
import string
from pathlib import Path

import pytest

from tierlib.terms import LANGS, Said, said, say, term, terms

ROOT = Path(__file__).resolve().parents[1]


def test_every_term_has_every_language_and_chinese_text_is_chinese():
    catalogue = terms()
    assert catalogue, "the catalogue is empty"
    for key, texts in catalogue.items():
        assert set(texts) == set(LANGS), key
        # ideographs, or CJK punctuation for a term that is punctuation only (say.stop: 。)
        assert any("\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" for ch in texts["zh"]), \
            f"{key}: zh text {texts['zh']!r} has no Chinese"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_chinese_text_of_a_term_names_no_field_the_english_lacks():
    """A zh text naming another field than the en one would fail only in a Chinese report. (A zh
    text may leave out an English-only field: say.note_no_benefits omits the file's English
    description and says what it means instead.)"""
    for key, texts in terms().items():
        assert _fields(texts["zh"]) <= _fields(texts["en"]), key


def test_every_term_the_code_and_notebooks_name_is_catalogued():
    """term("k"), say("k"), the charts' _t("k"): every key written literally in tierlib/ and notebooks/."""
    used = set()
    files = [*(ROOT / "tierlib").rglob("*.py"), *(ROOT / "notebooks").glob("*.ipynb")]
    for path in files:
        text = path.read_text(encoding="utf-8").replace('\\"', '"')
        used |= {(m, path.name) for m in re.findall(r"\b(?:term|say|_t)\(\s*[\"']([a-z_]+(?:\.[a-z_]+)*)[\"']", text)}
    missing = sorted(f"{key} ({where})" for key, where in used if key not in terms())
    assert not missing, missing
    assert {k for k, _ in used} >= {"warn.few_leavers", "chart_cross_title", "customers", "card.ladder"}


def test_a_said_sentence_is_its_english_text_and_says_itself_in_chinese():
    w = say("warn.drop_untrusted", reason=say("warn.few_leavers", below=29, above=12, min=100))
    assert isinstance(w, str) and w.startswith("drop effect not to be trusted: only 29 leavers below and 12 above")
    assert said(w, "zh") == ("降级效应估计不可信：带宽内下限下方仅有 29 位流失客户、上方 12 位（每侧少于文档规定的最低 "
                             "100 位，假设值）：估计不可靠；请使用更多客户或更多月份")
    assert said(w, "en") == w and said("plain", "zh") == "plain"
    back = pickle.loads(pickle.dumps(w))  # results are pickled (multiprocessing, caches)
    assert isinstance(back, Said) and back == w and said(back, "zh") == said(w, "zh")
    with pytest.raises(ValueError, match="'fr'"):
        said(w, "fr")


def test_an_unknown_term_or_language_is_named():
    with pytest.raises(KeyError, match="'no such term'"):
        term("no such term", "zh")
    with pytest.raises(ValueError, match="'de'"):
        term("customers", "de")


def test_a_term_missing_a_language_is_refused(tmp_path, monkeypatch):
    import tierlib.terms as t

    (tmp_path / "a.yaml").write_text("x: {en: x}\n", encoding="utf-8")
    monkeypatch.setattr(t, "HERE", tmp_path)
    t.terms.cache_clear()
    try:
        with pytest.raises(ValueError, match="term 'x' has no zh text"):
            t.terms()
    finally:
        monkeypatch.undo()
        t.terms.cache_clear()


#: One Chinese word per concept on a page: the variant a translator might reach for -> the word used.
#: (星级 stays in the notebooks' text where it names China Telecom's own programme, 电信星级.)
VARIANTS = {"方案": "体系 (scheme)", "保级线": "下限 (a tier's floor)", "重新定级": "复核 (re-rating)"}


def test_one_chinese_word_per_concept():
    catalogue = [(f"terms:{k}", t["zh"]) for k, t in terms().items()]
    notebooks = [(p.name, p.read_text(encoding="utf-8")) for p in (ROOT / "notebooks").glob("*.zh.yaml")]
    found = [f"{where}: {bad} (use {use})" for where, text in catalogue + notebooks
             for bad, use in VARIANTS.items() if bad in text]
    found += [f"{where}: 星级 (use 等级)" for where, text in catalogue if "星级" in text]
    assert not found, found
