"""The report notebooks in another language: their Markdown cells from a catalogue beside them.

Each notebook stays one file, written in English. Its translations live beside it in
``<notebook>.<lang>.yaml`` (``notebooks/01_compare_schemes.zh.yaml``), a mapping of cell id to
the cell's Markdown in that language; every Markdown cell of the notebook must have one, and
the catalogue names no other cell. When a notebook runs with ``lang`` other than ``en`` (the
parameter every report notebook declares), its Markdown cells are replaced from the catalogue
before the first cell runs, so the executed notebook and its HTML page hold that language only.
Code cells are not translated: they take ``lang`` and pass it to the tables, charts and summaries.

``tierlib report`` does this for every notebook; with papermill directly, the engine
:mod:`tierlib.papermill_engine` (entry point ``papermill.engine``, name ``tierlib``) does it::

    papermill --engine tierlib -p lang zh notebooks/01_compare_schemes.ipynb /tmp/01.zh.ipynb
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from tierlib.terms import check_lang

__all__ = ["catalogue_path", "load_translations", "translate_notebook", "translation_problems"]
#: The language the notebooks are written in: it needs no catalogue.
SOURCE_LANG = "en"


def catalogue_path(notebook: str | Path, lang: str) -> Path:
    """Where the ``lang`` Markdown of ``notebook`` lives: ``<folder>/<stem>.<lang>.yaml``.

    >>> catalogue_path("notebooks/01_compare_schemes.ipynb", "zh").as_posix()
    'notebooks/01_compare_schemes.zh.yaml'
    """
    path = Path(notebook)
    return path.with_name(f"{path.stem}.{check_lang(lang)}.yaml")


def load_translations(notebook: str | Path, lang: str) -> dict[str, str]:
    """Cell id -> Markdown in ``lang`` for ``notebook``; a ValueError naming the file when unusable."""
    path = catalogue_path(notebook, lang)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the {lang} translation of {Path(notebook).name} "
                         f"({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(doc, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in doc.items()):
        raise ValueError(f"{path}: a mapping of cell id to the cell's Markdown text is expected")
    return doc


def translation_problems(nb: Any, translations: dict[str, str], label: str) -> list[str]:
    """One line per Markdown cell with no translation, and per translation of no Markdown cell."""
    markdown = [c.get("id") for c in nb.cells if c.cell_type == "markdown"]
    problems = [f"{label}: Markdown cell {i!r} has no translation" for i in markdown if i not in translations]
    problems += [f"{label}: translation {k!r} names no Markdown cell of the notebook"
                 for k in translations if k not in markdown]
    return problems


def translate_notebook(nb: Any, lang: str, source: str | Path) -> Any:
    """``nb`` (an nbformat notebook read from ``source``) with its Markdown in ``lang``, in place.

    ``en`` leaves it as written. Any other language needs a complete catalogue: a missing or
    stale translation is a ValueError naming the cell, never an English cell in a Chinese report.
    """
    if check_lang(lang) == SOURCE_LANG:
        return nb
    translations = load_translations(source, lang)
    problems = translation_problems(nb, translations, str(catalogue_path(source, lang)))
    if problems:
        raise ValueError("; ".join(problems))
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = translations[cell["id"]].rstrip("\n")
    nb.metadata["tierlib"] = {"lang": lang}
    return nb
