"""The declarative scheme vocabulary: a scheme file's ``rule:`` section (docs/SCHEMES.md).

:mod:`tierlib.vocab.spec` checks a scheme file (schema, names, roles of parameters);
:mod:`tierlib.vocab.compile` turns its ``rule`` into the engine's ``prepare(lf, s)``.
"""
