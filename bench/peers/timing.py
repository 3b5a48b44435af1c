"""Timing shared by the PyTorch peers: best and median wall-clock ms after two warm-up runs."""
import time


def best_ms(fn, repeats):
    for _ in range(2):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    n = len(times)
    median = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
    return times[0], median
