"""The terms catalogue (tierlib/terms): complete in every report language, errors that name the key."""

from __future__ import annotations

import pytest

from tierlib.terms import LANGS, term, terms


def test_every_term_has_every_language_and_chinese_text_is_chinese():
    catalogue = terms()
    assert catalogue, "the catalogue is empty"
    for key, texts in catalogue.items():
        assert set(texts) == set(LANGS), key
        assert any("\u4e00" <= ch <= "\u9fff" for ch in texts["zh"]), f"{key}: zh text {texts['zh']!r} has no Chinese"


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
