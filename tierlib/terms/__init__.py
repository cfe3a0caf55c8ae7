"""The report languages and the catalogue of terms every chart, table and report shares.

A term is a key (``customers``, ``share``, ``tier``) with its text in each report language,
read from the YAML files of this folder (``tierlib/terms/*.yaml``, each a mapping
``key: {en: ..., zh: ...}``). The catalogue is the one place a word of the reports is
translated: charts take their titles and axes from it, display tables their headers.
The carriers' own words are used in Chinese, one word per concept (等级 tier, 体系 scheme,
复核 re-rating, 下限 a tier's floor, 门槛 a threshold, 成长值, 有效期, 保级, 降级, 流失, 挽留名单).

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
from types import MappingProxyType
from typing import Mapping

import yaml

__all__ = ["LANGS", "Said", "check_lang", "said", "say", "term", "terms", "text"]

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


def text(key: str, lang: str = "en", **fields) -> str:
    """Term ``key`` in ``lang`` with its ``{fields}`` filled in.

    >>> text("card.ladder", "zh", ladder="银卡 < 金卡")
    '等级阶梯：银卡 < 金卡'
    """
    return term(key, lang).format(**fields)


class Said(str):
    """A sentence an analysis says (a warning, a note): its English text, and its term and fields.

    It is a ``str`` (the English text), so results keep holding plain strings for code and
    tests; a report in another language says it again from the catalogue with :func:`said`.
    A field that is itself a :class:`Said` (a reason inside a warning) is said in that language
    too; other fields (ids, numbers, paths) are shown as given. Equality and hashing are the
    English text's (a Said equals the plain string it reads as); YAML's safe dumper does not know
    the class (dump ``str(w)``).

    >>> w = say("warn.drop_untrusted", reason=say("warn.floor_decides_little", below="40%", above="20%"))
    >>> print(w)
    drop effect not to be trusted: the floor decides little: 40% of re-ratings below it drop, 20% above it
    >>> print(said(w, "zh"))
    降级效应估计不可信：下限作用很小：下限下方的复核中 40% 降级，上方 20% 降级
    >>> said("a plain string", "zh")
    'a plain string'
    """

    key: str
    fields: Mapping

    def __new__(cls, key: str, fields: Mapping) -> "Said":
        out = super().__new__(cls, term(key, "en").format(**fields))
        out.key, out.fields = key, MappingProxyType(dict(fields))  # read-only: the text cannot drift from them
        return out

    def __reduce__(self):  # pickles (multiprocessing, caches) as itself, not as a bare str
        return (Said, (self.key, dict(self.fields)))

    def in_lang(self, lang: str) -> str:
        """The sentence in ``lang``."""
        return text(self.key, lang, **{k: said(v, lang) for k, v in self.fields.items()})


def say(key: str, **fields) -> Said:
    """The sentence of term ``key`` with ``fields`` (``{name}`` in its texts); see :class:`Said`."""
    return Said(key, fields)


def said(text, lang: str = "en"):
    """``text`` in ``lang``: a :class:`Said` is said again from the catalogue; anything else as it is."""
    return text.in_lang(check_lang(lang)) if isinstance(text, Said) else text
