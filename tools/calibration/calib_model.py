#!/usr/bin/env python3
"""Re-implementation of wafersim's analytic closed forms (sim/engines/analytic_model.cpp,
sim/mapping/programs.cpp) for Llama-3-8B on WSE-2, used to study the fit of calibration.md §A.

It is a study aid, not part of the simulator: it reproduces the analytic engine's numbers for the
tree and pipeline all-reduces (checked against `wafersim run`), and adds the two-way K-tree
('ktree', WaferLLM MeshGEMV) and two candidate constants:
  task   cycles per compute step with work (core.task_overhead, exists already)
  coll   cycles per collective instance (a proposed `core.collective_overhead`; 0 = today)
Run: /usr/bin/python3 tools/calibration/calib_model.py
"""
import math

ceil = lambda a, b: -(-a // b)

H, Q, KV, FF, HEADS, KVH, HD, VOCAB, LAYERS = 4096, 4096, 1024, 14336, 32, 8, 128, 128256, 32


class W:
    def __init__(self, hop=1.0, relay=16.0, pw=1.0, task=0.0, coll=0.0, eff=0.73, simd=4, clock=1.1e9,
                 turn=20.0, wl_lat=5e-6, wl_bw=150e9, eff_gemm=None):
        self.hop, self.relay, self.pw, self.task, self.coll = hop, relay, pw, task, coll
        self.rate = eff * simd
        self.rate_gemm = (eff_gemm if eff_gemm is not None else eff) * simd
        self.clock, self.turn, self.wl_lat, self.wl_bw = clock, turn, wl_lat, wl_bw


def wav(b):
    return max(1.0, math.ceil(b / 4.0))


def chain(n, m, s, w):
    if n <= 1:
        return 0.0
    return (n - 1) * (s * w.hop + w.relay + w.pw) + (m - 1) * max(1.0, w.pw)


def mc(n, m, w):
    return 0.0 if n <= 1 else (n - 1) * w.hop + m


def ktree_reduce(n, m, w):
    """Two-way K-tree reduce to the middle of the line (WaferLLM MeshGEMV, as the brief describes it):
    groups of K = round(sqrt n); each half of a group chains toward the group's middle core; the group
    roots (K apart) do the same toward the line's middle, in two halves; the two middle roots combine
    (one message K hops). Returns (cycles to the final root, distance root->line end for the multicast)."""
    K = max(1, round(math.sqrt(n)))
    k = math.ceil(n / K)
    l1 = chain(math.ceil((K - 1) / 2) + 1, m, 1, w)        # farther half of a group -> its middle
    l2 = chain(math.ceil((k - 1) / 2), m, K, w) if k > 1 else 0.0  # roots of one half of the line -> middle root
    ex = (K * w.hop + w.relay + w.pw + (m - 1) * max(1.0, w.pw)) if k > 1 else 0.0  # the two middle roots combine
    return l1 + l2 + ex, math.ceil(n / 2)


def collective(kind, algo, n, bytes_, w):
    if n <= 1:
        return 0.0
    m = wav(bytes_)
    if kind == 'bcast':
        return mc(n, m, w) + w.coll
    allr = kind == 'allreduce'
    if algo == 'pipeline':
        c = chain(n, m, 1, w) + (mc(n, m, w) if allr else 0)
    elif algo == 'tree':
        g = max(1.0, round(math.sqrt(n)))
        k = math.ceil(n / g)
        c = chain(g, m, 1, w) + chain(k, m, g, w) + (mc(n, m, w) if allr else 0)
    elif algo == 'ktree':
        r, half = ktree_reduce(n, m, w)
        c = r + (mc(half + 1, m, w) if allr else 0)     # multicast from the middle toward both ends
    else:
        raise ValueError(algo)
    return c + w.coll


def comp(macs, elem, w, gemm=False):
    r = w.rate_gemm if gemm else w.rate
    c = macs / r + elem / w.rate
    return c + (w.task if (macs > 0 or elem > 0) else 0)


def decode_layer(P, L, w, algo, parts=None, RC=None):
    R, C = RC if RC else (P, P)
    t = 0.0
    acc = {'compute': 0.0, 'coll': 0.0, 'task': 0.0}

    def C_(macs, elem):
        nonlocal t
        c = comp(macs, elem, w)
        acc['compute'] += c - (w.task if (macs or elem) else 0)
        acc['task'] += (w.task if (macs or elem) else 0)
        t += c

    def A_(n, b, kind='allreduce'):
        nonlocal t
        c = collective(kind, algo, n, b, w)
        acc['coll'] += c
        t += c

    def norm():
        e = ceil(H, R)
        C_(0, 2 * e); A_(R, 4); C_(0, 2 * e)

    norm()
    C_(ceil(H, R) * (ceil(Q, C) + 2 * ceil(KV, C)), 0); A_(R, 2 * (ceil(Q, C) + 2 * ceil(KV, C)))
    C_(0, ceil(Q + KV, C))  # rope
    tok = ceil(L, R); kvc = ceil(KV, C); gqa = HEADS // KVH
    cph = max(1, C // KVH); hpc = max(1, ceil(KVH, C))
    C_(tok * kvc * gqa, 0)
    if cph > 1:
        A_(cph, 4 * tok * gqa * hpc)
    C_(0, 3 * tok * gqa * hpc); A_(R, 8 * gqa * hpc)
    C_(tok * kvc * gqa, 0); A_(R, 4 * ceil(Q, C))
    C_(ceil(Q, C) * ceil(H, R), 0); A_(C, 2 * ceil(H, R))
    C_(0, ceil(H, R))
    norm()
    C_(ceil(H, R) * 2 * ceil(FF, C), 0); A_(R, 2 * 2 * ceil(FF, C))
    C_(0, 4 * ceil(FF, C))
    C_(ceil(FF, C) * ceil(H, R), 0); A_(C, 2 * ceil(H, R))
    C_(0, ceil(H, R))
    if parts is not None:
        for k, v in acc.items():
            parts[k] = parts.get(k, 0) + v
    return t


def decode_plan(P):
    # stages and wafer crossings as wafersim's mapper chose them (summary.json of `wafersim run`)
    return {420: dict(stages=3, cross=[False, True], hops=[420, None]),
            540: dict(stages=2, cross=[True], hops=[None]),
            660: dict(stages=1, cross=[], hops=[])}[P]


def decode_step(P, L, w, algo, parts=None):
    R = C = P
    t = collective('bcast', algo, C, 2 * ceil(H, R), w)  # embedding multicast
    t += LAYERS * decode_layer(P, L, w, algo, parts)
    # final norm + lm head
    e = ceil(H, R)
    t += comp(0, 2 * e, w) + collective('allreduce', algo, R, 4, w) + comp(0, 2 * e, w)
    t += comp(ceil(H, R) * ceil(VOCAB, C), 0, w) + collective('allreduce', algo, R, 2 * ceil(VOCAB, C), w)
    t += collective('allreduce', algo, C, 8, w)
    # hand-offs (wafersim's plan: see decode_plan)
    pl = decode_plan(P)
    for cross, hops in zip(pl['cross'], pl['hops']):
        ser = wav(2 * H / P)
        if cross:
            edge = 750 - 420 + 2 if P == 420 else (750 - 540 + 2)  # usable east edge - region end + ... (approx)
            t += edge * w.hop + ser + w.clock * (w.wl_lat + 2 * H / w.wl_bw)
        else:
            t += hops * w.hop + ser
        t += collective('bcast', algo, C, 2 * ceil(H, P), w)
    return t


def decode_tps(P, w, algo, inp=4096, out=16):
    ts = [decode_step(P, inp + k + 1, w, algo) for k in range(out)]
    return w.clock / (sum(ts) / len(ts))


def gemv_seconds(w, algo, k=16384, n=16384, rows=994, cols=750):
    kp, np_ = math.ceil(k / rows), math.ceil(n / cols)
    c = kp * np_ / w.rate + w.task + collective('reduce', algo, rows, 2 * np_, w)
    return c / w.clock


PUB = {420: 2699.9, 540: 2501.5, 660: 2243.3}
if __name__ == '__main__':
    for algo in ('tree', 'pipeline', 'ktree'):
        w = W()
        print(algo, ' '.join(f'P{P}: {decode_tps(P, w, algo):8.1f}' for P in PUB), f'gemv {gemv_seconds(w, algo)*1e6:.3f} us')


# ---- prefill (PrefillBuilder + run_prefill) ---------------------------------------------------------

def chunk_scores(n, prior):
    return n * prior + n * (n + 1) / 2


def shift(reps, hops, bytes_, macs, w, gemm=True, parts=None):
    cm = hops * w.hop + wav(bytes_)
    cp = macs / (w.rate_gemm if gemm else w.rate)
    per = max(cm, cp)
    if parts is not None:
        parts['compute'] = parts.get('compute', 0) + reps * cp
        parts['exposed_comm'] = parts.get('exposed_comm', 0) + reps * (per - cp)
        parts['step_overhead'] = parts.get('step_overhead', 0) + reps * (w.relay + w.task)
    return reps * (per + w.relay + w.task)


def prefill_layer(P, N, prior, w, algo, buffer=4096.0, parts=None):
    R = C = P
    S = P
    tm = ceil(N, R)
    t = 0.0

    def add(k, v):
        nonlocal t
        t += v
        if parts is not None:
            parts[k] = parts.get(k, 0) + v

    def norm():
        e = tm * ceil(H, C)
        add('elementwise', comp(0, 2 * e, w)); add('collective', collective('allreduce', algo, C, 4 * tm, w))
        add('elementwise', comp(0, 2 * e, w))

    def gemm(K, Ns):
        tk = ceil(K, S)
        macs = sum(tm * tk * ceil(n, C) for n in Ns)
        a = 2 * tm * tk
        c = sum(4 * tm * ceil(n, C) for n in Ns)
        passes = max(1, math.ceil(2 * c / buffer))
        return shift(S * passes, 2, max(a, c / passes), macs / passes, w, True, parts)

    norm()
    t += gemm(H, [Q, KV, KV])
    add('elementwise', comp(0, tm * ceil(Q + KV, C), w))
    ctx = prior + N
    tk = ceil(ctx, R); kvc = ceil(KV, C); gqa = HEADS // KVH
    frac = chunk_scores(N, prior) / (N * ctx)
    t += shift(R, 2, 2 * 2 * tk * kvc, 2 * frac * tm * tk * kvc * gqa, w, False, parts)
    cph = max(1, C // KVH)
    if cph > 1:
        add('scores_reduce', R * collective('allreduce', algo, cph, 4 * frac * tm * tk * gqa, w))
    add('elementwise', comp(0, 3 * frac * tm * ctx * gqa, w))
    t += gemm(Q, [H])
    add('elementwise', comp(0, tm * ceil(H, C), w))
    norm()
    t += gemm(H, [FF, FF])
    add('elementwise', comp(0, 4 * tm * ceil(FF, C), w))
    t += gemm(FF, [H])
    add('elementwise', comp(0, tm * ceil(H, C), w))
    return t


def prefill_ttft(P, w, algo, inp=4096, chunk=512, stage_layers=(19, 13), pipelined=True, parts=None):
    chunks = []
    left = inp
    while left > 0:
        chunks.append(min(chunk, left)); left -= chunks[-1]
    S = len(stage_layers)
    free = [0.0] * S
    prior = 0
    busy_sum = 0.0
    for ci, N in enumerate(chunks):
        last = ci == len(chunks) - 1
        busy = []
        for s, nl in enumerate(stage_layers):
            lp = {} if parts is not None else None
            b = nl * prefill_layer(P, N, prior, w, algo, parts=lp)
            if parts is not None:
                for k, v in lp.items():
                    parts[k] = parts.get(k, 0) + nl * v
            if s == 0:
                b += collective('bcast', algo, P, 2 * ceil(N, P) * ceil(H, P), w)
            if s == S - 1 and last:
                e = ceil(H, P)
                b += comp(0, 2 * e, w) + collective('allreduce', algo, P, 4, w) + comp(0, 2 * e, w)
                b += comp(ceil(H, P) * ceil(VOCAB, P), 0, w) + collective('allreduce', algo, P, 2 * ceil(VOCAB, P), w)
                b += collective('allreduce', algo, P, 8, w)
            busy.append(b)
        hand = P * w.hop + wav(2 * N * H / P)
        arrive = 0.0
        for s in range(S):
            start = max(free[s], arrive) if pipelined else max(free[s], arrive, max(free))
            free[s] = start + busy[s]
            arrive = free[s] + hand
        busy_sum += sum(busy)
        prior += N
    return free[-1] / w.clock


if __name__ == '__main__':
    for algo in ('tree', 'ktree'):
        parts = {}
        ttft = prefill_ttft(480, W(), algo, parts=parts)
        print(algo, f'prefill P480: TTFT {ttft*1e3:.2f} ms, {4096/ttft:.0f} tok/s;',
              ' '.join(f'{k} {v/1.1e9*1e3:.1f}ms' for k, v in parts.items()), '(layer busy time summed over layers, stages and chunks)')
