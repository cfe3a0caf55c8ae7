"""One module per carrier scheme; each pairs with a parameter file ``<id>.yaml``.

A rule module defines ``prepare(lf, s) -> LazyFrame``, adding to the panel (with the engine's
``_t``, ``tenure``, ``_i`` columns): ``eligible``, ``score``, ``window_complete``, the per-row
thresholds ``_thr1 .. _thrK``, score components ``c_<name>`` and eligibility conditions
``ok_<name>`` (for explain), and optionally ``_assessed``, ``_cancel``, ``_frozen``, ``_floor``,
``_init_rank``, ``_init_until``, ``valid_until``, ``flag``, ``_win_from``/``_win_to``.
See docs/CONTRACT.md.

Rows arrive sorted by customer and month with contiguous months: per-customer quantities use
the engine's ``wsum``/``wsum_range``/``prev``/``first_of`` (row offsets within the customer),
not ``.over("customer_id")``, which groups by the id and costs a hash of every row.
"""
