"""The built-in schemes: one file ``<id>.yaml`` each, its rule written in the scheme vocabulary.

A file's ``rule:`` section (docs/SCHEMES.md) is compiled by :mod:`tierlib.vocab.compile` to the
``prepare(lf, s) -> LazyFrame`` contract of docs/CONTRACT.md. What the vocabulary cannot say may
still be a Python module named by the file's ``module:`` (a name in this package or a dotted
module path) defining ``prepare``, adding to the panel (with the engine's ``_t``, ``tenure``,
``_i`` columns): ``eligible``, ``score``, ``window_complete``, the per-row thresholds
``_thr1 .. _thrK``, score components ``c_<name>`` and eligibility conditions ``ok_<name>`` (for
explain), and optionally ``_assessed`` (else the highest rank whose threshold the score meets,
at most ``_cap`` when given), ``_cap``, ``_cancel``, ``_frozen``, ``_floor``, ``_init_rank``,
``_init_until``, ``valid_until`` (or ``_vu_t``, its month index), ``flag``, ``_win_from``/``_win_to``.

Rows arrive sorted by customer and month with contiguous months: per-customer quantities use
the engine's ``wsum``/``wsum_range``/``prev``/``first_of`` (row offsets within the customer),
not ``.over("customer_id")``, which groups by the id and costs a hash of every row.
"""
