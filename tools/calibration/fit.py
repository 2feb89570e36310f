#!/usr/bin/env python3
"""Least-squares fit (log space) of the wafer's free constants to calibration.md §A, using the
closed forms of calib_model.py (which reproduce the analytic engine for tree/pipeline).
Run: /usr/bin/python3 tools/calibration/fit.py"""
import math
import sys
import os
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from calib_model import W, decode_tps, prefill_ttft, gemv_seconds, PUB  # noqa: E402

PREFILL, GEMV = 20320.6, 1.2e-6


def gemv(w, algo, orient):
    if orient == 'rows':     # validate case today: K over the 994 rows, reduce along a 994-core line
        return gemv_seconds(w, algo)
    if orient == 'best':     # the faster of the two orientations (K over rows or over columns)
        return min(gemv_seconds(w, algo), gemv_seconds(w, algo, rows=750, cols=994))


def points(w, algo, orient='rows'):
    """(simulated/published) ratios, throughput-like (>1 = too fast), for the five §A points."""
    r = [decode_tps(P, w, algo) / PUB[P] for P in (420, 540, 660)]
    r.append(4096 / prefill_ttft(480, w, algo) / PREFILL)
    r.append(GEMV / gemv(w, algo, orient))
    return np.array(r)


def cost(w, algo, orient, use):
    return float(np.sum(np.log(points(w, algo, orient)[use]) ** 2))


def fit1(make, lo, hi, algo, orient, use, iters=60):
    a, b = lo, hi
    g = (math.sqrt(5) - 1) / 2
    for _ in range(iters):
        c, d = b - g * (b - a), a + g * (b - a)
        if cost(make(c), algo, orient, use) < cost(make(d), algo, orient, use):
            b = d
        else:
            a = c
    return (a + b) / 2


def show(label, w, algo, orient):
    p = points(w, algo, orient)
    e = (p - 1) * 100
    e[4] = (1 / p[4] - 1) * 100  # GEMV: time error, as wafersim validate reports gemv.seconds
    print(f'  {label:38s} d420 {e[0]:+6.1f}%  d540 {e[1]:+6.1f}%  d660 {e[2]:+6.1f}%  prefill {e[3]:+6.1f}%  gemv(time) {e[4]:+6.1f}%')


if __name__ == '__main__':
    ALL = [0, 1, 2, 3, 4]
    DEC = [0, 1, 2]
    for algo in ('ktree', 'tree', 'pipeline'):
        print(f'== all-reduce {algo}')
        show('uncalibrated (task 0)', W(), algo, 'rows')
        for orient in ('rows', 'best'):
            for use, name in ((ALL, 'all 5 points'), (DEC, 'decode only')):
                t = fit1(lambda x: W(task=x), 0, 3000, algo, orient, use)
                show(f'task={t:6.1f} fit to {name}, gemv {orient}', W(task=t), algo, orient)
        # two constants: task + relay latency (grid over relay, golden section over task)
        best = None
        for relay in np.arange(0, 41, 1.0):
            t = fit1(lambda x: W(task=x, relay=relay), 0, 3000, algo, 'best', ALL, iters=40)
            c = cost(W(task=t, relay=relay), algo, 'best', ALL)
            if best is None or c < best[0]:
                best = (c, t, relay)
        show(f'task={best[1]:.0f} relay={best[2]:.0f} (2-param, gemv best)', W(task=best[1], relay=best[2]), algo, 'best')
