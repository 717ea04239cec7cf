"""Timing helpers: best of a few repeats after a warm-up, and table printing."""

import time


def best_time(function, repeats=3, warmup=1):
    """Minimum wall time of ``function()`` over ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def print_table(title, rows, target_note=""):
    """Print rows of (what, skadam seconds, peer seconds or None, target ratio or None)."""
    print(f"\n{title}")
    print(f"{'comparison':<46} {'skadam s':>9} {'peer s':>9} {'ratio':>7} {'target':>7}  ok")
    for what, ours, peer, target in rows:
        if peer is None:
            print(f"{what:<46} {ours:>9.4f} {'-':>9} {'-':>7} {'-':>7}  skipped")
            continue
        ratio = ours / peer
        ok = "" if target is None else ("yes" if ratio <= target else "NO")
        target_text = "-" if target is None else f"<={target:.3g}"
        print(f"{what:<46} {ours:>9.4f} {peer:>9.4f} {ratio:>7.2f} {target_text:>7}  {ok}")
    if target_note:
        print(target_note)
