"""The report languages and the catalogue of terms every chart, table and report shares.

A term is a key (``customers``, ``share``, ``tier``) with its text in each report language,
read from the YAML files of this folder (``tierlib/terms/*.yaml``, each a mapping
``key: {en: ..., zh: ...}``). The catalogue is the one place a word of the reports is
translated: charts take their titles and axes from it, display tables their headers.
The carriers' own words are used in Chinese (星级, 成长值, 有效期, 保级, 降级, 流失, 挽留名单).

Examples
--------
>>> term("customers", "zh"), term("customers", "en")
('客户数', 'customers')
>>> check_lang("fr")
Traceback (most recent call last):
...
ValueError: lang 'fr': the reports are written in en or zh
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

__all__ = ["LANGS", "check_lang", "term", "terms"]

LANGS = ("en", "zh")
HERE = Path(__file__).parent


def check_lang(lang: str) -> str:
    """``lang`` if it is a report language (``en`` or ``zh``); a ValueError naming it otherwise."""
    if lang not in LANGS:
        raise ValueError(f"lang {lang!r}: the reports are written in {' or '.join(LANGS)}")
    return lang


@lru_cache(maxsize=1)
def terms() -> dict[str, dict[str, str]]:
    """Every term of the catalogue: ``{key: {lang: text}}``, checked complete.

    A key defined in two files, or missing a language, is an error naming the file and key.
    """
    out: dict[str, dict[str, str]] = {}
    where: dict[str, str] = {}
    for path in sorted(HERE.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(doc, dict):
            raise ValueError(f"{path}: a mapping of term keys to {{en: ..., zh: ...}} is expected")
        for key, texts in doc.items():
            if key in out:
                raise ValueError(f"{path}: term {key!r} is already defined in {where[key]}")
            missing = [lang for lang in LANGS if not isinstance(texts, dict) or not texts.get(lang)]
            if missing:
                raise ValueError(f"{path}: term {key!r} has no {', '.join(missing)} text")
            out[str(key)] = {lang: str(texts[lang]) for lang in LANGS}
            where[str(key)] = path.name
    return out


def term(key: str, lang: str = "en") -> str:
    """The text of term ``key`` in ``lang``; a KeyError naming the key when it is not catalogued."""
    check_lang(lang)
    try:
        return terms()[key][lang]
    except KeyError:
        raise KeyError(f"term {key!r} is not in the catalogue (tierlib/terms/*.yaml)") from None
