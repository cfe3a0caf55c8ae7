"""Checking a YAML document against a JSON Schema (written in YAML), one readable error.

The one mechanism behind the file formats tierlib reads: column mappings
(``tierlib/mapping_schema.yaml``, :mod:`tierlib.mapping`) and scheme files
(``tierlib/scheme_schema.yaml``, :mod:`tierlib.vocab.spec`). It imports nothing of tierlib.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any, Callable, Mapping

import jsonschema
import yaml

__all__ = ["load_schema", "plain", "schema_error"]


@functools.cache
def load_schema(name: str) -> dict:
    """The JSON Schema ``tierlib/<name>`` (YAML)."""
    return yaml.safe_load((Path(__file__).parent / name).read_text(encoding="utf-8"))


def plain(node: Any) -> Any:
    """A YAML document as JSON data: ``true:``/``false:`` keys (YAML booleans) as the words, dates as
    ``YYYY-MM-DD``, number keys as text."""
    if isinstance(node, Mapping):
        return {(str(k).lower() if isinstance(k, bool) else str(k) if isinstance(k, (int, float)) else k):
                plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, dt.date):
        return node.isoformat()
    return node


def schema_error(doc: Any, schema: dict, origin: str, *,
                 unknown: Callable[[str], str] = lambda path: "key(s)",
                 required_hint: str = "") -> str | None:
    """``"<origin>.<path>: <what was expected>"`` for the first violation, None when ``doc`` conforms.

    ``unknown(path)`` names what an unknown key is at ``path`` ("panel column(s)", "key(s)").

    >>> schema_error({"a": 1}, {"type": "object", "properties": {"a": {"type": "string"}}}, "f.yaml")
    "f.yaml.a: 1 is not of type 'string'"
    """
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if not errors:
        return None
    e = jsonschema.exceptions.best_match(errors)
    path = ".".join(str(p) for p in e.absolute_path)
    where = f"{origin}.{path}" if path else origin
    if e.validator == "additionalProperties" and isinstance(e.instance, Mapping):
        allowed = sorted(e.schema.get("properties", {}))
        extra = sorted(str(k) for k in e.instance if k not in allowed)
        return f"{where}: unknown {unknown(path)} {extra} (allowed: {', '.join(allowed)})"
    if e.validator == "required":
        return f"{where}: {e.message}{required_hint}"
    described = e.schema.get("description") if isinstance(e.schema, Mapping) else None
    hint = " (quote a code such as \"Y\" or \"yes\", which YAML reads as true)" if isinstance(e.instance, bool) else ""
    if described and e.validator in ("pattern", "enum", "const", "type"):
        return f"{where}: {e.instance!r} is not {described}"
    return f"{where}: {e.message}{hint}"
