"""``sim.metrics.Metrics``: the daily backlog series against its definition."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.metrics import Metrics


def _reference_backlog(changes: list[tuple[float, int]], horizon: float, end: float) -> list[int]:
    """Day d (d * 24 h up to the run's end and the horizon) gets the open count left by the
    changes before its instant; a change at that very instant comes after the sample."""
    out = []
    d = 0
    while d * 24.0 <= min(end, horizon):
        out.append(sum(step for t, step in changes if t < d * 24.0))
        d += 1
    return out


@settings(max_examples=200, deadline=None)
@given(gaps=st.lists(st.one_of(st.floats(0.0, 400.0), st.sampled_from([0.0, 24.0, 48.0, 240.0])), max_size=60),
       horizon=st.one_of(st.floats(1.0, 3000.0), st.sampled_from([24.0, 240.0, 2400.0])),
       overrun=st.floats(0.0, 100.0), seed=st.integers(0, 2**16))
def test_the_daily_backlog_is_the_open_count_at_each_whole_day(gaps, horizon, overrun, seed):
    m = Metrics(["building"], 0.0, horizon)
    changes: list[tuple[float, int]] = []
    t, open_now = 0.0, 0
    for i, gap in enumerate(gaps):
        t += gap
        if t > horizon:
            break
        if open_now and (seed >> (i % 16)) & 1:
            m.close_case(t)
            changes.append((t, -1))
            open_now -= 1
        else:
            m.open_case(t)
            changes.append((t, 1))
            open_now += 1
    end = min(horizon, t + overrun) if t <= horizon else horizon
    m.finish(end)
    assert m.backlog == _reference_backlog(changes, horizon, end)
