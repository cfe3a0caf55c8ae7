"""Report config: the YAML file naming the notebooks and their parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "report_config.yaml"
_CONFIG_KEYS = {"notebooks", "parameters", "notebook_parameters", "data_parameters", "output_parameters",
                "cell_timeout", "browser_check"}
#: Seconds one cell may run before the run fails (config ``cell_timeout``).
DEFAULT_CELL_TIMEOUT = 600
_TYPE_NAMES = ("bool", "int", "float", "str", "list", "dict", "None")


class ReportWarning(UserWarning):
    """A report config that runs, but maybe not as meant (a common parameter a notebook ignores)."""


class ReportError(ValueError):
    """A report config or parameter problem, found before any notebook runs.

    ``str(error)`` holds one line per problem, each naming the notebook and the parameter.
    """



def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line of at most ``limit`` characters.

    Examples
    --------
    >>> one_line("a   b  c", limit=10)
    'a b c'
    """
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class ReportConfig:
    """What to run: notebooks in order, common and per-notebook parameters.

    Relative paths (notebooks, data and output parameters) are taken from the working
    directory. ``output_parameters`` name files a notebook writes: they must lie in the report
    folder or in ``data/``. ``cell_timeout`` (seconds) fails a cell that runs longer.
    ``browser_check`` also loads every page in headless chromium with the network blocked.
    """

    notebooks: tuple[Path, ...]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    notebook_parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    data_parameters: tuple[str, ...] = ()
    source: Path | None = None
    output_parameters: tuple[str, ...] = ()
    cell_timeout: float = DEFAULT_CELL_TIMEOUT
    browser_check: bool = False

    def with_parameters(self, **values: Any) -> ReportConfig:
        """This config with common ``parameters`` set (e.g. ``lang="zh"`` from ``tierlib report --lang``)."""
        from dataclasses import replace

        return replace(self, parameters={**self.parameters, **values})


class _StringDates(yaml.SafeLoader):
    """YAML loader that keeps ``2024-12-01`` a string: notebooks take dates as ISO strings."""


_StringDates.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _StringDates.yaml_implicit_resolvers.items()
}


def load_config(path: str | Path | None = None) -> ReportConfig:
    """Read a report config file (YAML); ``None`` reads the default config.

    Examples
    --------
    >>> config = load_config()
    >>> [p.name for p in config.notebooks]
    ['01_compare_schemes.ipynb', '02_threshold_simulation.ipynb', '03_churn_near_tier_drop.ipynb']
    >>> config.data_parameters
    ('panel',)
    """
    source = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        raw = yaml.load(source.read_text(encoding="utf-8"), Loader=_StringDates) or {}
    except OSError as exc:
        raise ReportError(f"{source}: cannot read the config ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ReportError(f"{source}: not valid YAML ({' '.join(str(exc).split())})") from None
    problems = _config_shape_problems(raw)
    if problems:
        raise ReportError("\n".join(f"{source}: {p}" for p in problems))
    return ReportConfig(
        notebooks=tuple(Path(p) for p in raw["notebooks"]),
        parameters=raw.get("parameters") or {},
        notebook_parameters={k: v or {} for k, v in (raw.get("notebook_parameters") or {}).items()},
        data_parameters=tuple(raw.get("data_parameters") or ()),
        source=source,
        output_parameters=tuple(raw.get("output_parameters") or ()),
        cell_timeout=raw.get("cell_timeout", DEFAULT_CELL_TIMEOUT),
        browser_check=raw.get("browser_check", False),
    )


def _config_shape_problems(raw: Any) -> list[str]:
    if not isinstance(raw, dict):
        return ["the config must be a mapping with a 'notebooks' list"]
    problems = [f"unknown key '{k}' (expected one of: {', '.join(sorted(_CONFIG_KEYS))})"
                for k in raw if k not in _CONFIG_KEYS]
    notebooks = raw.get("notebooks")
    if not isinstance(notebooks, list) or not notebooks or not all(isinstance(p, str) for p in notebooks):
        problems.append("'notebooks' must be a non-empty list of notebook paths")
    if not isinstance(raw.get("parameters") or {}, dict):
        problems.append("'parameters' must be a mapping of name: value")
    sections = raw.get("notebook_parameters") or {}
    if not isinstance(sections, dict) or not all(isinstance(v or {}, dict) for v in sections.values()):
        problems.append("'notebook_parameters' must map a notebook name to a mapping of name: value")
    for key in ("data_parameters", "output_parameters"):
        names = raw.get(key) or []
        if not isinstance(names, list) or not all(isinstance(p, str) for p in names):
            problems.append(f"'{key}' must be a list of parameter names")
    both = set(raw.get("data_parameters") or []) & set(raw.get("output_parameters") or [])
    if both and not problems:
        problems.append(f"{', '.join(sorted(both))}: both a data (input) and an output parameter")
    timeout = raw.get("cell_timeout", DEFAULT_CELL_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < float("inf"):
        problems.append(f"'cell_timeout' must be a positive number of seconds (default {DEFAULT_CELL_TIMEOUT}), "
                        f"got {timeout!r}")
    if not isinstance(raw.get("browser_check", False), bool):
        problems.append(f"'browser_check' must be true or false, got {raw['browser_check']!r}")
    return problems
