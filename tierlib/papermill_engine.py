"""The papermill engine ``tierlib``: papermill's own (nbclient), Markdown in the ``lang`` parameter's language.

Registered as an entry point (``papermill.engine``), so that::

    papermill --engine tierlib -p lang zh notebooks/01_compare_schemes.ipynb /tmp/01.zh.ipynb

runs the notebook with its Markdown cells from ``notebooks/01_compare_schemes.zh.yaml``
(:func:`tierlib.report.translation.translate_notebook`). papermill loads its entry points while
it is itself being imported, so this module imports nothing at the top and delegates to
papermill's nbclient engine when it runs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ENGINE", "TranslatingEngine", "register"]

#: The engine's name (``papermill --engine tierlib``; ``tierlib report`` runs every notebook with it).
ENGINE = "tierlib"


class TranslatingEngine:
    """papermill's nbclient engine, with the notebook's Markdown cells in the ``lang`` parameter's language."""

    @classmethod
    def execute_notebook(cls, nb: Any, kernel_name: str, **kwargs: Any) -> Any:
        import os

        from papermill.engines import NBClientEngine

        from tierlib.notebook import MARKDOWN_LANG_ENV
        from tierlib.report.translation import SOURCE_LANG, translate_notebook

        papermill = nb.metadata.get("papermill", {})
        lang = (papermill.get("parameters") or {}).get("lang", SOURCE_LANG)
        source = kwargs.get("input_path") or papermill.get("input_path")  # relative to where papermill started

        said_in = SOURCE_LANG
        if lang != SOURCE_LANG and source:
            translate_notebook(nb, lang, source)
            said_in = lang
        before = os.environ.get(MARKDOWN_LANG_ENV)
        os.environ[MARKDOWN_LANG_ENV] = said_in  # the kernel inherits it: check_markdown_lang is quiet when it is lang
        try:
            return NBClientEngine.execute_notebook(nb, kernel_name, **kwargs)
        finally:
            if before is None:
                os.environ.pop(MARKDOWN_LANG_ENV, None)
            else:
                os.environ[MARKDOWN_LANG_ENV] = before

    @classmethod
    def nb_kernel_name(cls, nb: Any, name: str | None = None) -> str:
        from papermill.engines import NBClientEngine

        return NBClientEngine.nb_kernel_name(nb, name)

    @classmethod
    def nb_language(cls, nb: Any, language: str | None = None) -> str:
        from papermill.engines import NBClientEngine

        return NBClientEngine.nb_language(nb, language)


def register() -> str:
    """Register the engine with papermill (the entry point does it once the package is installed); its name."""
    from papermill.engines import papermill_engines

    papermill_engines.register(ENGINE, TranslatingEngine)
    return ENGINE
