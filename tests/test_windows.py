"""The compiled window sums: prefix sums in whole fen give exactly the loop's rounded sums."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tierlib import windows


def loop(x, i, lo, hi):
    """The reference: each row's window summed oldest first, rounded to fen."""
    out = np.empty(len(x))
    for r in range(len(x)):
        acc = 0.0
        for j in range(r - min(lo[r], i[r]), r - max(hi[r], 1) + 1):
            acc += x[j]
        out[r] = np.rint(acc * 100) / 100
    return out


def customers(sizes):
    return np.concatenate([np.arange(n, dtype=np.int32) for n in sizes])


fen = st.one_of(st.integers(0, 10**9 * 100).map(lambda f: f / 100),  # whole fen, up to MAX_MONEY
                st.sampled_from([0.29, 0.1, 0.7, 1e9, 99.99, 50.0, 0.0]))
#: mostly whole fen (the prefix sums), sometimes a sub-fen, negative or huge value (the loop)
money = st.one_of(fen, fen, fen, st.floats(0, 1e9, allow_nan=False), st.sampled_from([-0.1, -0.2, 3e9, 1e12]))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=6).flatmap(
    lambda sizes: st.tuples(st.just(sizes), st.lists(money, min_size=sum(sizes), max_size=sum(sizes)))),
    st.integers(1, 40), st.integers(1, 3))
def test_fixed_and_per_row_windows_equal_the_loop(data, lo, hi):
    sizes, values = data
    x, i = np.array(values, np.float64), customers(sizes)
    lo, hi = max(lo, hi), hi
    want = loop(x, i, np.full(len(x), lo), np.full(len(x), hi))
    got = windows._wsum_fixed_kernel(x, i, lo, hi, np.empty(len(x)))
    np.testing.assert_array_equal(got, want)
    los = (np.arange(len(x)) % lo + hi).astype(np.int32)
    his = np.full(len(x), hi, np.int32)
    np.testing.assert_array_equal(windows._wsum_kernel(x, i, los, his, np.empty(len(x))), loop(x, i, los, his))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(fen, min_size=130, max_size=400), st.integers(1, 120))
def test_long_panels_in_whole_fen_take_the_prefix_sums_and_equal_the_loop(values, lo):
    x = np.array(values, np.float64)
    i = customers([len(x) // 3, len(x) - len(x) // 3])
    assert windows._in_fen(x).shape == (len(x) + 1,)
    got = windows._wsum_fixed_kernel(x, i, lo, 1, np.empty(len(x)))
    np.testing.assert_array_equal(got, loop(x, i, np.full(len(x), lo), np.full(len(x), 1)))
    assert not np.signbit(got).any()


@pytest.mark.parametrize("bad", [0.005, np.nan, 1e13, 3e9, -0.1])
def test_a_value_not_in_whole_fen_takes_the_loop(bad):  # 0.005: half a fen
    x = np.array([0.1, 0.2, bad, 0.4])
    assert windows._in_fen(x).shape == (0,)
    assert windows._in_fen(x[:2]).tolist() == [0, 10, 30]
