"""Notebook parameters: read a notebook's ``parameters`` cell and check a config against it."""

from __future__ import annotations

import ast
import io
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from tierlib.report.config import _TYPE_NAMES, ReportConfig, ReportError, ReportWarning, one_line

class Parameter(NamedTuple):
    """One knob of a notebook's ``parameters`` cell.

    ``types`` is the set of accepted type names (``int``, ``float``, ``str``, ``bool``,
    ``list``, ``dict``, ``None``), or ``None`` when the cell does not say (default ``None``
    or an expression that is not a literal): then any value is accepted.
    """

    name: str
    types: frozenset[str] | None
    default: str
    help: str


def declared_parameters(notebook: Any) -> dict[str, Parameter] | None:
    """The parameters declared by the notebook's cell tagged ``parameters``.

    ``notebook`` is a path or an ``nbformat`` notebook. Returns ``None`` when no cell is tagged
    ``parameters``. Types come from annotations (``as_of: str | None = None``), else from the
    literal default (``n = 3`` is an ``int``; an ``int`` is also accepted for a ``float``).

    The cell is read with :mod:`ast` rather than ``papermill.inspect_notebook``: papermill 2.7's
    line-based inspector silently drops ``x: str | None = None`` and any line with two ``=``,
    and infers no type from defaults.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> cell = new_code_cell('panel = "data/sample/panel.parquet"  # the panel\\nas_of: str | None = None')
    >>> cell.metadata["tags"] = ["parameters"]
    >>> params = declared_parameters(new_notebook(cells=[cell]))
    >>> params["panel"].types, params["panel"].help
    (frozenset({'str'}), 'the panel')
    >>> sorted(params["as_of"].types)
    ['None', 'str']
    """
    nb = _read_notebook(notebook) if isinstance(notebook, (str, Path)) else notebook
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        return None
    source = _without_magics(cell.source)
    comments = _comments_by_line(source)
    declared = {}
    for stmt in ast.parse(source).body:
        for name, types in _assigned(stmt):
            default = ast.get_source_segment(source, stmt.value) if stmt.value else ""
            declared[name] = Parameter(name, types, default or "", comments.get(stmt.end_lineno, ""))
    return declared


def _read_notebook(path: str | Path) -> Any:
    import nbformat

    return nbformat.read(path, as_version=4)


def _without_magics(source: str) -> str:
    # IPython magics are legal in a notebook cell but not Python; blank them, keep line numbers.
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _comments_by_line(source: str) -> dict[int, str]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {t.start[0]: t.string.lstrip("#").strip() for t in tokens if t.type == tokenize.COMMENT}


def _assigned(stmt: ast.stmt) -> list[tuple[str, frozenset[str] | None]]:
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return [(stmt.target.id, _annotation_types(stmt.annotation) or _literal_types(stmt.value))]
    if isinstance(stmt, ast.Assign):
        names = [t for t in stmt.targets if isinstance(t, ast.Name)]
        unpacked = [e for t in stmt.targets if isinstance(t, ast.Tuple) for e in t.elts if isinstance(e, ast.Name)]
        return [(n.id, _literal_types(stmt.value)) for n in names] + [(n.id, None) for n in unpacked]
    return []


def _literal_types(node: ast.expr | None) -> frozenset[str] | None:
    try:
        value = ast.literal_eval(node) if node is not None else None
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None  # not a literal (a call, a name): the notebook decides at run time
    if value is None:
        return None
    name = "list" if isinstance(value, tuple) else _type_name(value)
    return frozenset({name}) if name in _TYPE_NAMES else None


_ANNOTATION_ALIASES = {"List": "list", "Tuple": "list", "tuple": "list", "Dict": "dict", "NoneType": "None"}


def _annotation_types(node: ast.expr) -> frozenset[str] | None:
    """``int``, ``list[str]``, ``str | None``, ``Optional[float]``... -> type names; else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "int" (quoted)
        try:
            return _annotation_types(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return None
    if isinstance(node, ast.Constant) and node.value is None:
        return frozenset({"None"})
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _annotation_types(node.left), _annotation_types(node.right)
        return left | right if left is not None and right is not None else None
    if isinstance(node, ast.Subscript):
        outer = _annotation_name(node.value)
        if outer in ("Optional", "Union"):
            parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            types = [_annotation_types(p) for p in parts]
            if any(t is None for t in types):
                return None
            return frozenset().union(*types) | ({"None"} if outer == "Optional" else set())
        node = node.value  # list[str] -> list
    name = _annotation_name(node)
    name = _ANNOTATION_ALIASES.get(name, name)
    return frozenset({name}) if name in _TYPE_NAMES else None


def _annotation_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):  # typing.Optional
        return node.attr
    return None


def _type_name(value: Any) -> str:
    return "None" if value is None else type(value).__name__


def _accepts(types: frozenset[str] | None, value: Any) -> bool:
    if types is None:
        return True
    name = _type_name(value)
    return name in types or (name == "int" and "float" in types)


@dataclass(frozen=True)
class NotebookJob:
    """A notebook to run (absolute ``path``), its page ``name`` and its checked parameters."""

    path: Path
    name: str  # the file name without .ipynb: page name and notebook_parameters key
    parameters: dict[str, Any]


def check_parameters(config: ReportConfig) -> list[NotebookJob]:
    """Match the config's parameters to the notebooks' ``parameters`` cells; run nothing.

    Returns the notebooks in order with the parameters each will get. Raises
    :class:`ReportError` with one line per problem: a missing notebook, an unknown parameter,
    a value of the wrong type, a missing data file.

    Examples
    --------
    >>> import tempfile
    >>> from nbformat import write
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> cell = new_code_cell("months = 12  # window length")
    >>> cell.metadata["tags"] = ["parameters"]
    >>> path = Path(tempfile.mkdtemp()) / "demo.ipynb"
    >>> write(new_notebook(cells=[cell]), path)
    >>> check_parameters(ReportConfig(notebooks=(path,), parameters={"months": 6}))[0].parameters
    {'months': 6}
    >>> check_parameters(ReportConfig(notebooks=(path,), parameters={"months": "6"}))
    Traceback (most recent call last):
    ...
    tierlib.report.ReportError: demo.ipynb: parameter 'months' (window length) must be int (notebook default 12), got str '6'
    """
    problems: list[str] = []
    paths = [p.resolve() for p in config.notebooks]
    names = [p.stem for p in paths]
    problems += [f"{p}: notebook not found" for p in paths if not p.is_file()]
    problems += [f"two notebooks are named '{n}': page names must be unique"
                 for n in sorted(set(names)) if names.count(n) > 1]
    problems += [f"notebook_parameters: '{k}' is none of the notebooks ({', '.join(names)})"
                 for k in config.notebook_parameters if k not in names]
    problems += _data_problems(config)
    if problems:
        raise ReportError("\n".join(problems))

    declared = _declarations(paths)
    for name in config.parameters:
        if not any(name in (d or {}) for d in declared.values()):
            problems.append(f"unknown parameter '{name}' in 'parameters': no notebook declares it")
            continue
        # a report-wide value (e.g. as_of) that some notebook does not declare silently does not
        # reach it: that notebook describes another month than the rest of the report
        for path in paths:
            if name not in (declared[path] or {}):
                warnings.warn(f"{path.name}: does not declare '{name}', given to every notebook in "
                              f"'parameters'; it runs with its own default", ReportWarning, stacklevel=2)
    jobs = []
    for path in paths:
        common = {k: v for k, v in config.parameters.items() if k in (declared[path] or {})}
        own = dict(config.notebook_parameters.get(path.stem, {}))
        problems += _notebook_problems(path.name, declared[path], own, {**common, **own})
        problems += _language_problems(path, {**common, **own})
        jobs.append(NotebookJob(path, path.stem, _absolute_data({**common, **own}, config.data_parameters)))
    if problems:
        raise ReportError("\n".join(problems))
    return jobs


def _declarations(paths: list[Path]) -> dict[Path, dict[str, Parameter] | None]:
    declared, problems = {}, []
    for path in paths:
        try:
            declared[path] = declared_parameters(path)
        except Exception as exc:  # unreadable JSON, a parameters cell that is not Python
            problems.append(f"{path.name}: cannot read its parameters cell ({one_line(str(exc))})")
    if problems:
        raise ReportError("\n".join(problems))
    return declared


def _notebook_problems(label: str, declared: dict[str, Parameter] | None, own: dict, values: dict) -> list[str]:
    if declared is None:
        if not own:
            return []
        return [f"{label}: no cell is tagged 'parameters', so it takes no parameter ({', '.join(own)} given)"]
    problems = []
    for name, value in values.items():
        param = declared.get(name)
        if param is None:
            known = ", ".join(sorted(declared)) or "none"
            problems.append(f"{label}: unknown parameter '{name}' (its parameters cell declares: {known})")
        elif not _accepts(param.types, value):
            about = f" ({param.help})" if param.help else ""
            wanted = " or ".join(t for t in _TYPE_NAMES if t in param.types)
            problems.append(f"{label}: parameter '{name}'{about} must be {wanted} (notebook default "
                            f"{param.default}), got {_type_name(value)} {value!r}")
    return problems


def _language_problems(path: Path, values: dict) -> list[str]:
    """``lang`` must be a report language, and a notebook run in it needs its translation catalogue."""
    from tierlib.report.translation import load_translations, translation_problems
    from tierlib.terms import LANGS

    lang = values.get("lang", "en")
    if lang not in LANGS:
        return [f"{path.name}: parameter 'lang' must be one of {', '.join(LANGS)}, got {lang!r}"]
    if lang == "en":
        return []
    try:
        translations = load_translations(path, lang)
    except ValueError as exc:
        return [str(exc)]
    return translation_problems(_read_notebook(path), translations, f"{path.name} ({lang})")


def _data_problems(config: ReportConfig) -> list[str]:
    problems = []
    sections = [("parameters", config.parameters)]
    sections += [(f"notebook_parameters.{k}", v) for k, v in config.notebook_parameters.items()]
    for section, params in sections:
        for name in config.data_parameters:
            value = params.get(name)
            if value is None:
                continue
            if not isinstance(value, str):
                problems.append(f"{section}: data parameter '{name}' must be a path (str), "
                                f"got {_type_name(value)} {value!r}")
            elif not Path(value).exists():
                problems.append(f"{section}: data parameter '{name}': {Path(value).resolve()} does not exist")
    return problems


def _absolute_data(params: dict[str, Any], data_parameters: tuple[str, ...]) -> dict[str, Any]:
    # Notebooks run in their own folder: a relative data path would point elsewhere there.
    return {k: str(Path(v).resolve()) if k in data_parameters and isinstance(v, str) else v for k, v in params.items()}
