"""Scheme files -> :class:`~tierlib.params.Scheme`: the registry of scheme files, reading and
checking one, ``extends`` applied, the Scheme built and its values checked in their domains.

Registered schemes are the YAML files of ``tierlib/rules/`` and of the folders named by the
environment variable ``TIERLIB_SCHEMES``; a path to any scheme file works too (docs/SCHEMES.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from tierlib.dated import Param, SchemeError, _leaf, flatten
from tierlib.params import Scheme, _roles
from tierlib.vocab import spec

__all__ = ["SCHEME_DIR", "USER_SCHEMES", "load_scheme", "schemes", "scheme_dirs"]

SCHEME_DIR = Path(__file__).parent / "rules"
#: folders of the analyst's own scheme files, registered beside the built-in ones
#: (``os.pathsep``-separated, like PATH)
USER_SCHEMES = "TIERLIB_SCHEMES"


def scheme_dirs() -> list[Path]:
    """The folders schemes are registered from: the built-in one, then those of ``TIERLIB_SCHEMES``."""
    user = [Path(d) for d in os.environ.get(USER_SCHEMES, "").split(os.pathsep) if d.strip()]
    for d in user:
        if not d.is_dir():
            raise SchemeError(f"{USER_SCHEMES}: {d} is not a folder of scheme files")
    return [SCHEME_DIR, *user]


def _registry() -> dict[str, Path]:
    """``{id: file}`` of every registered scheme; an id registered twice is a SchemeError."""
    out: dict[str, Path] = {}
    for d in scheme_dirs():
        for p in sorted(d.glob("*.yaml")):
            if p.stem in out:
                raise SchemeError(f"{p}: scheme id '{p.stem}' is already registered by {out[p.stem]}")
            out[p.stem] = p
    return out


def schemes() -> list[str]:
    """The ids of the registered schemes (one YAML file each): the built-in ones and those in the
    folders of the environment variable ``TIERLIB_SCHEMES``.

    >>> schemes()[:3]
    ['mobile_credit', 'mobile_gotone', 'telecom_club']
    """
    return sorted(_registry())


def _read(path: Path) -> dict:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise SchemeError(f"{path}: not valid YAML: {' '.join(str(e).split())}") from None
    except UnicodeDecodeError:
        raise SchemeError(f"{path}: not a UTF-8 text file") from None
    return spec.check_doc(doc, str(path))


def _file_of(text: str) -> Path:
    known = _registry()
    if text not in known:
        raise SchemeError(f"unknown scheme '{text}' (known: {', '.join(sorted(known))})")
    return known[text]


def load_scheme(scheme: str | Path | Scheme, *, variant: str | None = None,
                as_of: Any = None) -> Scheme:
    """Load a scheme by id (``"telecom_club"``, ``"telecom_club:high"``) or from a YAML path.

    Parameters
    ----------
    scheme : a registered id, ``id:variant``, a path to a scheme file (one of its own, or one
        that ``extends`` another and changes some values), or a Scheme.
    variant : a regional variant listed in the file's ``variants``.
    as_of : freeze every dated parameter at its value in force at this month
        (:func:`tierlib.months.as_month`).

    >>> load_scheme("telecom_club:high").value("regional.all_high")
    True
    >>> load_scheme("mobile_gotone", as_of="2024-06").value("plan_levels.288")
    'silver'
    """
    if isinstance(scheme, Scheme):
        out = scheme
    else:
        text = str(scheme)
        if text.endswith((".yaml", ".yml")):
            path = Path(text)
            if not path.exists():
                raise SchemeError(f"scheme file not found: {path}")
        else:
            if ":" in text:
                text, variant = text.split(":", 1)[0], variant or text.split(":", 1)[1]
            path = _file_of(text)
        out = _build(*_resolve(path, ()), variant, path)
        if not text.endswith((".yaml", ".yml")) and out.id != text:
            raise SchemeError(f"{path}: id '{out.id}' differs from the file's name '{text}' "
                              "(a registered scheme's file is named <id>.yaml)")
    if as_of is not None:
        out = out.resolved(as_of)
    return out


def _resolve(path: Path, seen: tuple[str, ...]) -> tuple[dict, dict[str, Param], tuple[str, ...]]:
    """A file's document, parameters and the ids it extends (nearest first), ``extends`` applied.

    A variant file changes only what it gives: its own values replace the base's (each path must
    be one of the base's, else a SchemeError naming it), the keys of its ``rule`` the base rule's,
    other keys the base's keys.
    """
    doc = _read(path)
    params = flatten(doc["parameters"]) if "parameters" in doc else {}
    if "extends" not in doc:
        return doc, params, ()
    parent = doc["extends"]
    where = str(path)
    base = (path.parent / parent) if parent.endswith((".yaml", ".yml")) else _file_of(parent)
    if not base.exists():
        raise SchemeError(f"{where}: extends: scheme file not found: {base}")
    if base.resolve() in seen or base.resolve() == path.resolve():
        raise SchemeError(f"{where}: extends: '{parent}' extends this file again (a cycle)")
    bdoc, bparams, blineage = _resolve(base, (*seen, path.resolve()))
    for p in params:
        if p not in bparams and "rule" not in doc:
            near = [k for k in bparams if k.split(".")[-1] == p.split(".")[-1]]
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise SchemeError(f"{where}: parameters.{p}: '{bdoc['id']}' has no parameter '{p}'{hint}")
    merged = {**bdoc, **{k: v for k, v in doc.items() if k not in ("parameters", "extends")}}
    merged["labels"] = {**(bdoc.get("labels") or {}), **(doc.get("labels") or {})}
    if "rule" in doc and "rule" in bdoc:  # the keys of the rule it gives replace the base's
        merged["rule"] = {**bdoc["rule"], **doc["rule"]}
    return merged, {**bparams, **params}, (bdoc["id"], *blineage)


def _build(doc: dict, params: dict[str, Param], lineage: tuple[str, ...], variant: str | None,
           path: Path) -> Scheme:
    params = dict(params)
    variants = doc.get("variants") or {}
    if variant is not None:
        if variant not in variants:
            raise SchemeError(f"scheme {doc['id']} has no variant '{variant}' "
                              f"(variants: {', '.join(variants) or 'none'})")
        for p, node in (variants[variant].get("parameters") or {}).items():
            if p not in params:
                raise SchemeError(f"{path}: variant '{variant}' sets unknown parameter '{p}'")
            params[p] = _leaf(p, node)
    ladder = tuple(doc["ladder"])
    rule = doc.get("rule")
    if rule is None and "module" not in doc:
        raise SchemeError(f"{path}: no 'rule:' section (docs/SCHEMES.md) and no 'module:'; "
                          "a scheme needs one of them")
    if rule is not None:
        spec.check_rule(rule, params, ladder, rule.get("columns") or {}, str(path))
    from tierlib.domains import check

    out = Scheme(
        id=doc["id"], name=doc.get("name", doc["id"]), label=doc.get("label", ""),
        carrier=doc.get("carrier", ""), ladder=ladder,
        labels=MappingProxyType(dict(doc.get("labels") or {})), holding=doc["holding"],
        params=MappingProxyType(params), components=MappingProxyType(dict(doc.get("components") or {})),
        module_name=doc.get("module", doc["id"]), variant=variant, variants=tuple(variants),
        description=str(doc.get("description", "")).strip(),
        extra=MappingProxyType({}),
        rule=MappingProxyType(dict(rule)) if rule is not None else None,
        lineage=lineage, origin=str(path),
    )
    # every value in its domain, thresholds in order (tierlib.domains)
    check(out, where=str(path), roles=_roles(out))
    return out
