"""The index page and ``params.json`` of a report run."""

from __future__ import annotations

import html
import json
from urllib.parse import quote
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from tierlib.report.execution import ReportRun

def _tierlib_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tierlib")
    except PackageNotFoundError:  # running from a checkout that is not installed
        import tierlib

        return getattr(tierlib, "__version__", "unknown")


def _data_paths(run: ReportRun) -> list[str]:
    names = run.config.data_parameters
    return sorted({str(v) for r in run.results for k, v in r.parameters.items() if k in names})


def _run_summary(run: ReportRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "status": "ok" if run.ok else "failed",
        "run_date": run.started.isoformat(timespec="seconds"),
        "tierlib_version": _tierlib_version(),
        "config": str(run.config.source.resolve()) if run.config.source else None,
        "data": _data_paths(run),
        "parameters": dict(run.config.parameters),
        "notebooks": [
            {"name": r.name, "source": str(r.source), "parameters": r.parameters,
             "status": "failed" if r.error else "ok", "error": r.error, "seconds": r.seconds,
             "tables": r.tables}
            for r in run.results
        ],
    }


def write_params(run: ReportRun, folder: Path) -> None:
    """Write ``params.json`` into ``folder`` (the run's temporary folder until it is published)."""
    text = json.dumps(_run_summary(run), indent=2, ensure_ascii=False, default=str)
    (folder / "params.json").write_text(text + "\n", encoding="utf-8")


def index_html(run: ReportRun) -> str:
    """The run's index page, in the language of its ``lang`` parameter (``en`` when none is given)."""
    from tierlib.terms import check_lang, text

    lang = check_lang(str(run.config.parameters.get("lang", "en")))

    def t(key: str, **kw: Any) -> str:
        return text(key, lang, **kw)

    s = _run_summary(run)
    e = html.escape
    rows = []
    for nb in s["notebooks"]:
        status = t("index.ok") if nb["error"] is None else f"<strong>{e(t('index.failed_status'))}</strong>: {e(nb['error'])}"
        params = e(json.dumps(nb["parameters"], ensure_ascii=False, default=str))
        tables = " ".join(f'<a href="{e(quote(x))}">{e(x)}</a>' for x in nb["tables"]) or e(t("index.none"))
        rows.append(f'<tr><td><a href="{e(nb["name"])}.html">{e(nb["name"])}</a></td><td>{status}</td>'
                    f'<td><code>{params}</code></td><td>{e(t("index.seconds", s=nb["seconds"]))}</td>'
                    f'<td><a href="{e(nb["name"])}.ipynb">.ipynb</a></td><td>{tables}</td></tr>')
    facts = [(t("index.run"), s["run_id"]), (t("index.run_date"), s["run_date"]),
             (t("index.version"), s["tierlib_version"]),
             (t("index.data"), ", ".join(s["data"]) or t("index.none_given")),
             (t("index.config"), s["config"] or t("index.in_code")),
             (t("index.common_parameters"), json.dumps(s["parameters"], ensure_ascii=False, default=str))]
    dl = "\n".join(f"<dt>{e(k)}</dt><dd><code>{e(str(v))}</code></dd>" for k, v in facts)
    verdict = t("index.all_ran") if run.ok else t("index.failed", n=len(run.failures))
    title = t("index.title", run=s["run_id"])
    heads = "".join(f"<th>{e(t(k))}</th>" for k in ("index.notebook", "index.status", "index.parameters",
                                                    "index.time", "index.executed", "index.tables"))
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{e(title)}{"" if run.ok else e(t("index.failed_mark"))}</title>
<style>
body {{ font: 15px/1.5 sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }}
dl {{ display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }} dt {{ font-weight: bold; }}
dd {{ margin: 0; }} table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .4em; text-align: left; vertical-align: top; }}
code {{ font-size: 13px; word-break: break-word; }}
</style></head>
<body>
<h1>{e(title)}</h1>
<p>{e(verdict)} {e(t("index.params_as_run"))} <a href="params.json">params.json</a>.</p>
<dl>
{dl}
</dl>
<table><thead>
<tr>{heads}</tr>
</thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
</body></html>
"""
