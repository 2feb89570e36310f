#!/usr/bin/python3
"""wafersim_report.py: render a wafersim output folder as a self-contained HTML report and a Markdown twin.

Usage (normally through `wafersim report DIR [-o report.html] [--pareto X,Y]`, which finds this file and
runs it with /usr/bin/python3):

    wafersim_report.py DIR -o OUT.html [--pareto METRIC_X,METRIC_Y]

DIR is one of
  - a run folder      (`wafersim run --out DIR`: summary.json, results.h5, config.resolved.yaml,
                       with --engine systemc also /systemc/wafer<i>/* in results.h5 and trace.json),
  - a sweep folder    (`wafersim sweep EXP --out DIR`: sweep.csv, sweep.h5, experiment.yaml, points/),
  - a validate folder (`wafersim validate --out DIR`: validation.h5).

Writes OUT.html (figures embedded as base64 data URIs; each <img> names its file in data-file and alt),
OUT.md (links the PNG files) and the folder OUT_files/ with one PNG per figure. The figure folder is
written under a temporary name and renamed, the two text files are written to a temporary name and
renamed, so each output is whole or absent. Figures whose data is absent are skipped with a note in the
report; nothing is invented. Only matplotlib (Agg), h5py and numpy are used.

Exit codes: 0 done; 2 bad input (not a wafersim folder, unreadable file, unknown --pareto metric, missing
Python module), with one line "error: ..." on stderr; anything else is a bug.
"""

import argparse
import base64
import csv
import html
import json
import math
import os
import shutil
import sys

MAX_WAFER_PANELS = 4  # heat maps of at most this many wafers are drawn
MAX_HEATMAP_CELLS = 360  # longest side of a drawn heat map, in cells (larger maps are max-pooled)
MAX_TABLE_ROWS = 500  # rows of sweep.csv copied into the report


class InputProblem(Exception):
    """The folder or an option is wrong: exit 2 with the message."""


def fail(msg):
    sys.stderr.write("error: " + msg + "\n")
    sys.exit(2)


try:
    import numpy as np
    import h5py
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.patches
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
except ImportError as e:  # pragma: no cover - depends on the machine
    fail("wafersim report needs Python 3 with matplotlib and h5py (%s, interpreter %s); on Debian: "
         "apt install python3-matplotlib python3-h5py" % (e, sys.executable))

plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 110, "font.size": 9, "axes.titlesize": 10,
                     "axes.grid": True, "grid.alpha": 0.3, "legend.fontsize": 8,
                     "svg.hashsalt": "wafersim", "path.simplify": True})


# ---------------------------------------------------------------------------------------------------------
# Small helpers


def s(v):
    """h5py bytes / numpy scalar -> str."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray) and v.shape == ():
        return s(v[()])
    return str(v)


def fmt(x, digits=4):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, (int, np.integer)):
        return "{:,}".format(int(x))
    ax = abs(x)
    if ax != 0 and (ax >= 1e6 or ax < 1e-3):
        return "%.*g" % (digits, x)
    return "{:,.{p}g}".format(x, p=max(digits, len(str(int(ax))) if ax >= 1 else digits))


def fmt_seconds(x):
    if not isinstance(x, (int, float)) or x is None or not math.isfinite(x):
        return "n/a"
    for unit, f in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if abs(x) >= f:
            return "%.4g %s" % (x / f, unit)
    return "%.4g s" % x


def read_text(path):
    try:
        with open(path, "r", encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise InputProblem("%s: cannot read: %s" % (path, e.strerror))


def read_json(path):
    text = read_text(path)
    try:
        return json.loads(text)
    except ValueError as e:
        raise InputProblem("%s: not valid JSON: %s" % (path, e))


def open_h5(path):
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise InputProblem("%s: not a readable HDF5 file (%s)" % (path, e))


def h5_unit(ds):
    return s(ds.attrs.get("unit", b""))


class Report:
    """Collects sections, figures, tables and notes; writes HTML + Markdown + PNGs."""

    def __init__(self, title, figdir_name):
        self.title = title
        self.figdir_name = figdir_name  # e.g. "report_files" (relative to the HTML)
        self.blocks = []  # ("h2", text) | ("p", text) | ("fig", file, caption, png_bytes) | ("table", head, rows)
        #                   | ("pre", text) | ("note", text)
        self.figures = []  # (file name, png bytes)

    def h2(self, text):
        self.blocks.append(("h2", text))

    def p(self, text):
        self.blocks.append(("p", text))

    def note(self, text):
        self.blocks.append(("note", text))

    def pre(self, text):
        self.blocks.append(("pre", text))

    def table(self, head, rows):
        self.blocks.append(("table", head, rows))

    def figure(self, fig, name, caption):
        import io

        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
        plt.close(fig)
        data = buf.getvalue()
        fname = name + ".png"
        assert fname not in [f for f, _ in self.figures], fname
        self.figures.append((fname, data))
        self.blocks.append(("fig", fname, caption, data))

    # -- rendering --------------------------------------------------------------------------------------
    def html(self):
        e = html.escape
        out = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
               "<title>%s</title>" % e(self.title),
               "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
               "figure{margin:1.5em 0;border-top:1px solid #ddd;padding-top:.8em}img{max-width:100%}"
               "figcaption{font-size:.9em;color:#444}table{border-collapse:collapse;font-size:.9em;margin:1em 0}"
               "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}th{background:#f3f3f3}"
               "td:first-child,th:first-child{text-align:left}pre{background:#f7f7f7;padding:1em;overflow-x:auto;"
               "font-size:.8em}.note{background:#fff8e0;border-left:4px solid #e0b000;padding:.4em .8em}</style>",
               "</head><body>", "<h1>%s</h1>" % e(self.title)]
        for b in self.blocks:
            kind = b[0]
            if kind == "h2":
                out.append("<h2>%s</h2>" % e(b[1]))
            elif kind == "p":
                out.append("<p>%s</p>" % e(b[1]))
            elif kind == "note":
                out.append("<p class=\"note\">%s</p>" % e(b[1]))
            elif kind == "pre":
                out.append("<pre>%s</pre>" % e(b[1]))
            elif kind == "table":
                out.append("<table><tr>%s</tr>" % "".join("<th>%s</th>" % e(h) for h in b[1]))
                for row in b[2]:
                    out.append("<tr>%s</tr>" % "".join("<td>%s</td>" % e(str(c)) for c in row))
                out.append("</table>")
            elif kind == "fig":
                fname, caption, data = b[1], b[2], b[3]
                rel = self.figdir_name + "/" + fname
                out.append("<figure><img src=\"data:image/png;base64,%s\" data-file=\"%s\" alt=\"%s\">"
                           "<figcaption><b>%s</b>: %s</figcaption></figure>"
                           % (base64.b64encode(data).decode("ascii"), e(rel), e(rel), e(fname), e(caption)))
        out.append("</body></html>")
        return "\n".join(out) + "\n"

    def markdown(self):
        def cell(c):
            return str(c).replace("|", "\\|").replace("\n", " ")

        out = ["# " + self.title, ""]
        for b in self.blocks:
            kind = b[0]
            if kind == "h2":
                out += ["## " + b[1], ""]
            elif kind == "p":
                out += [b[1], ""]
            elif kind == "note":
                out += ["> **Note.** " + b[1], ""]
            elif kind == "pre":
                out += ["```", b[1].rstrip("\n"), "```", ""]
            elif kind == "table":
                out.append("| " + " | ".join(cell(h) for h in b[1]) + " |")
                out.append("|" + "---|" * len(b[1]))
                for row in b[2]:
                    out.append("| " + " | ".join(cell(c) for c in row) + " |")
                out.append("")
            elif kind == "fig":
                rel = self.figdir_name + "/" + b[1]
                out += ["![%s](%s)" % (b[1], rel), "", "*%s*: %s" % (b[1], b[2]), ""]
        return "\n".join(out) + "\n"

    def write(self, html_path):
        """Figures folder first (temp name + rename), then the Markdown and the HTML (temp + rename)."""
        out_dir = os.path.dirname(os.path.abspath(html_path))
        figdir = os.path.join(out_dir, self.figdir_name)
        tmpdir = os.path.join(out_dir, ".%s.tmp-%d" % (self.figdir_name, os.getpid()))
        shutil.rmtree(tmpdir, ignore_errors=True)
        os.makedirs(tmpdir)
        try:
            for fname, data in self.figures:
                with open(os.path.join(tmpdir, fname), "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
            old = None
            if os.path.lexists(figdir):
                old = os.path.join(out_dir, ".%s.old-%d" % (self.figdir_name, os.getpid()))
                os.rename(figdir, old)
            os.rename(tmpdir, figdir)
            if old:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise
        md_path = os.path.splitext(html_path)[0] + ".md"
        for path, text in ((md_path, self.markdown()), (html_path, self.html())):
            tmp = path + ".tmp-%d" % os.getpid()
            try:
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write(text)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, path)
            except BaseException:
                if os.path.exists(tmp):
                    os.remove(tmp)
                raise
        return md_path, figdir


# ---------------------------------------------------------------------------------------------------------
# Run folder


def run_setting_text(summary):
    """One line saying what was run, for captions."""
    m, w, wl, pr, mp = (summary.get(k, {}) for k in ("model", "wafer", "workload", "precision", "mapping"))
    grid = mp.get("grid") or []
    grids = sorted({"%dx%d" % tuple(g) for g in grid}) if grid else []
    return ("%s on %s, engine %s, phase %s; batch %s, %s input + %s output tokens; weights %s bit, KV %s bit; "
            "%s wafer(s), %s stage(s) of %s cores, all-reduce %s"
            % (m.get("name", "?"), w.get("name", "?"), summary.get("engine", "?"), wl.get("phase", "?"),
               wl.get("batch", "?"), wl.get("input_tokens", "?"), wl.get("output_tokens", "?"),
               fmt(pr.get("dense_weight_bits")), fmt(pr.get("kv_bits")), mp.get("wafers", "?"), mp.get("stages", "?"),
               "/".join(grids) or "?", mp.get("allreduce", "?")))


def fig_throughput(rep, summary, setting):
    wafer = summary.get("wafer", {}).get("name", "wafer")
    nwaf = summary.get("mapping", {}).get("wafers", 1)
    panels = []
    for phase, key, bkey in (("decode", "tokens_per_s", "decode_tokens_per_s"),
                             ("prefill", "tokens_per_s", "prefill_tokens_per_s")):
        if phase not in summary:
            continue
        labels = ["%s x%s" % (wafer, nwaf)]
        vals = [summary[phase].get(key)]
        colors = ["tab:blue"]
        missing = []
        for b in summary.get("baselines", []):
            label = "%s x%s" % (b.get("device", "?"), b.get("count", "?"))
            v = b.get(bkey)
            labels.append(label)
            colors.append("tab:gray")
            if not b.get("fits", False) or v is None:
                missing.append("%s (%s)" % (label, "does not fit: " + b.get("error", "") if not b.get("fits", False)
                                            else "not run"))
                vals.append("does not fit" if not b.get("fits", False) else "not run")
                continue
            vals.append(v)
        panels.append((phase, labels, vals, colors, missing))
    if not panels:
        rep.note("Throughput: the run has neither decode nor prefill results; no figure.")
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.6), squeeze=False)
    notes = []
    for ax, (phase, labels, vals, colors, missing) in zip(axes[0], panels):
        x = np.arange(len(vals))
        ax.bar(x, [v if not isinstance(v, str) else 0 for v in vals], color=colors)
        ax.set_xticks(x)
        ax.set_xticklabels(labels, rotation=20, ha="right")
        positive = [v for v in vals if not isinstance(v, str) and v is not None and v > 0]
        if positive and max(positive) / min(positive) > 30:
            ax.set_yscale("log")
        for xi, v in zip(x, vals):
            if isinstance(v, str):
                ax.text(xi, 0.02, v, transform=ax.get_xaxis_transform(), ha="center",
                        va="bottom", rotation=90, fontsize=8, color="tab:red")
            else:
                ax.annotate(fmt(v, 4), (xi, v), ha="center", va="bottom", fontsize=8)
        ax.set_ylabel("%s tokens/s%s" % (phase, " per request" if phase == "decode" else ""))
        ax.set_title("%s throughput" % phase)
        ax.grid(axis="x", visible=False)
        notes += ["%s: %s" % (phase, m) for m in missing]
    cap = ("Tokens per second of the wafer (blue) and of each HBM GPU baseline (gray) running the same model and "
           "workload. Decode is per request (one sequence of the batch); prefill is prompt tokens per second. "
           "Run: %s." % setting)
    if notes:
        cap += " Not drawn: " + "; ".join(notes) + "."
    rep.figure(fig, "throughput", cap)


def read_layers(g):
    names = [s(n) for n in g["name"][:]]
    cols = {k: g[k][:] for k in ("compute_s", "collective_s", "transfer_s", "overhead_s", "total_s") if k in g}
    stage = g["stage"][:] if "stage" in g else None
    return names, cols, stage


def fig_layers(rep, h5, summary, setting, phase):
    path = "/%s/layers" % phase
    if path not in h5:
        rep.note("Per-layer %s breakdown: results.h5 has no %s (the run did not include %s); no figure."
                 % (phase, path, phase))
        return
    names, cols, stage = read_layers(h5[path])
    n = len(names)
    if n == 0:
        rep.note("Per-layer %s breakdown: %s is empty; no figure." % (phase, path))
        return
    parts = [("compute_s", "compute", "tab:blue"), ("collective_s", "collectives", "tab:orange"),
             ("transfer_s", "hand-offs", "tab:green"), ("overhead_s", "overhead", "tab:red")]
    fig, ax = plt.subplots(figsize=(max(7.0, min(18.0, 0.16 * n + 3)), 3.8))
    x = np.arange(n)
    bottom = np.zeros(n)
    for key, label, color in parts:
        if key not in cols:
            continue
        v = cols[key] * 1e6
        ax.bar(x, v, bottom=bottom, label=label, color=color, width=0.85)
        bottom += v
    step = max(1, int(math.ceil(n / 60.0)))
    ax.set_xticks(x[::step])
    ax.set_xticklabels(names[::step], rotation=90, fontsize=6)
    ax.set_xlim(-0.7, n - 0.3)
    ax.set_ylabel("time per %s (µs)" % ("decode step" if phase == "decode" else "prefill, summed over chunks"))
    ax.set_xlabel("layer, in execution order (embedding, decoder layers, final norm, LM head, stage hand-offs)")
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=4, frameon=False)
    ax.grid(axis="x", visible=False)
    total = float(np.sum(cols.get("total_s", bottom / 1e6)))
    ph = summary.get(phase, {})
    if phase == "decode":
        extra = ("The bars add up to %s; summary.json gives %s per token (averaged over the generated tokens)."
                 % (fmt_seconds(total), fmt_seconds(ph.get("seconds_per_token", float("nan")))))
    else:
        extra = ("Each bar is the layer's busy time summed over the prefill chunks; chunks overlap across stages, so "
                 "the bars add up to %s while the time to first token is %s."
                 % (fmt_seconds(total), fmt_seconds(ph.get("ttft_s", float("nan")))))
    rep.figure(fig, "layers_" + phase,
               "Time each layer adds to %s, split into compute, collectives on the mesh, stage/wafer hand-offs "
               "and fixed overhead (from %s in results.h5). %s Run: %s."
               % ("one decode step" if phase == "decode" else "the prefill", path, extra, setting))


def pool_max(a, k):
    """Max over k x k blocks (NaN-free input); k == 1 returns a."""
    if k <= 1:
        return a
    r, c = a.shape
    R, C = -(-r // k), -(-c // k)
    pad = np.zeros((R * k, C * k), dtype=a.dtype)
    pad[:r, :c] = a
    return pad.reshape(R, k, C, k).max(axis=(1, 3))


def crop_box(maps):
    """Bounding box (r0, r1, c0, c1) of the nonzero cells of any map, or None when every map is zero."""
    mask = None
    for a in maps:
        m = a != 0
        mask = m if mask is None else (mask | m)
    if mask is None or not mask.any():
        return None
    rows = np.where(mask.any(axis=1))[0]
    cols = np.where(mask.any(axis=0))[0]
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def draw_map(ax, a, box, cmap="viridis", vmin=None, vmax=None):
    """Draws the box of `a`, max-pooled to at most MAX_HEATMAP_CELLS a side; returns (image, pool size)."""
    r0, r1, c0, c1 = box
    sub = a[r0:r1, c0:c1]
    k = max(1, int(math.ceil(max(sub.shape) / float(MAX_HEATMAP_CELLS))))
    pooled = pool_max(sub, k)
    ratio = (r1 - r0) / float(c1 - c0)
    im = ax.imshow(pooled, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest",
                   aspect="equal" if 0.25 <= ratio <= 4 else "auto",
                   extent=(c0 - 0.5, c0 - 0.5 + pooled.shape[1] * k, r0 - 0.5 + pooled.shape[0] * k, r0 - 0.5))
    ax.set_xlabel("mesh column (cores)")
    ax.set_ylabel("mesh row (cores)")
    ax.grid(False)
    return im, k


def wafer_groups(h5, parent, prefix="wafer"):
    if parent not in h5:
        return []
    names = [n for n in h5[parent] if n.startswith(prefix) and n[len(prefix):].isdigit()]
    return sorted(names, key=lambda n: int(n[len(prefix):]))


def read_stages(h5):
    """Stage rectangles from /mapping/stages: list of (wafer, row0, col0, rows, cols, label), or []."""
    if "/mapping/stages" not in h5:
        return []
    g = h5["/mapping/stages"]
    keys = ("wafer", "row0", "col0", "rows", "cols")
    if not all(k in g for k in keys):
        return []
    cols = {k: g[k][:] for k in keys}
    first = g["first_layer"][:] if "first_layer" in g else None
    end = g["end_layer"][:] if "end_layer" in g else None
    out = []
    for i in range(len(cols["wafer"])):
        label = "s%d" % i
        if first is not None and end is not None:
            label += ": layers %d-%d" % (first[i], end[i] - 1) if end[i] > first[i] else ": no decoder layer"
        out.append(tuple(int(cols[k][i]) for k in keys) + (label,))
    return out


def draw_stages(ax, stages, wafer, box):
    r0b, r1b, c0b, c1b = box
    for w, r0, c0, rows, cols, label in stages:
        if w != wafer or r0 >= r1b or c0 >= c1b or r0 + rows <= r0b or c0 + cols <= c0b:
            continue
        ax.add_patch(matplotlib.patches.Rectangle((c0 - 0.5, r0 - 0.5), cols, rows, fill=False, lw=0.6, ec="white"))
        ax.text(c0 + 0.02 * cols, r0 + 0.04 * rows, label, color="black", fontsize=5, va="top", ha="left",
                bbox=dict(boxstyle="square,pad=0.15", fc="white", ec="none", alpha=0.75))


def heatmap_figure(rep, name, title, maps, label, caption, cmap="viridis", stages=(), wafers=()):
    """maps: list of (panel title, 2-D array). One panel each, cropped to the common nonzero box, one colour
    scale from 0 to the largest value of any panel."""
    box = crop_box([a for _, a in maps])
    if box is None:
        rep.note("%s: every cell is zero; no figure." % title)
        return
    n = len(maps)
    ncols = min(n, 2)
    nrows = -(-n // ncols)
    aspect = (box[3] - box[2]) / float(box[1] - box[0])  # columns per row of the drawn box
    panel_w = min(6.0, max(2.6, 4.0 * aspect))
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_w * ncols + 1.2, 4.2 * nrows), squeeze=False,
                             constrained_layout=True)
    vmax = max(float(np.max(a[box[0]:box[1], box[2]:box[3]])) for _, a in maps)
    k, im = 1, None
    for i, (ptitle, a) in enumerate(maps):
        ax = axes[i // ncols][i % ncols]
        im, k = draw_map(ax, a, box, cmap=cmap, vmin=0, vmax=vmax)
        if stages and i < len(wafers):
            draw_stages(ax, stages, wafers[i], box)
        ax.set_title(ptitle)
    for j in range(n, nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.9 if nrows > 1 else 1.0).set_label(label)
    shape = maps[0][1].shape
    cap = caption + (" Shown: rows %d-%d, columns %d-%d of the %dx%d mesh (cells outside are zero)."
                     % (box[0], box[1] - 1, box[2], box[3] - 1, shape[0], shape[1]))
    if k > 1:
        cap += " Each pixel is the maximum over a block of %dx%d cores." % (k, k)
    if stages and wafers:
        cap += " White boxes: the pipeline stages of the plan (/mapping/stages) with their decoder layers."
    rep.figure(fig, name, cap)


def decode_run_cycles(trace_path, clock_hz):
    """Cycles of the first simulated run in trace.json (the run the /systemc maps cover when decode ran):
    the extent of the spans of its first category. Returns (cycles, category) or (None, reason)."""
    if not os.path.exists(trace_path):
        return None, "trace.json is absent"
    tr = read_json(trace_path)
    ev = [e for e in tr.get("traceEvents", []) if e.get("ph") == "X"]
    if not ev:
        return None, "trace.json has no spans"
    cat = ev[0].get("cat", "")
    if not cat.startswith("decode."):
        return None, "the first simulated run in trace.json is %s, not a decode step" % cat
    mine = [e for e in ev if e.get("cat") == cat]
    t0 = min(e["ts"] for e in mine)
    t1 = max(e["ts"] + e["dur"] for e in mine)
    cyc = (t1 - t0) * 1e-6 * clock_hz
    if cyc <= 0:
        return None, "the spans of %s have no extent" % cat
    return cyc, cat


def fig_heatmaps(rep, h5, summary, setting, folder):
    stages = read_stages(h5)
    waf = summary.get("wafer", {})
    sram_core = waf.get("sram_per_core_bytes")
    clock = waf.get("clock_hz")

    def limited(groups, what):
        if len(groups) > MAX_WAFER_PANELS:
            rep.note("%s: the plan uses %d wafers; the first %d are drawn." % (what, len(groups), MAX_WAFER_PANELS))
        return groups[:MAX_WAFER_PANELS]

    # SRAM (the plan's figure; present for every engine)
    sram_groups = wafer_groups(h5, "/mapping/sram_bytes")
    if sram_groups:
        sram_groups = limited(sram_groups, "SRAM map")
        maps = [(g, h5["/mapping/sram_bytes/" + g][:].astype(np.float64) / 1024.0) for g in sram_groups]
        heatmap_figure(rep, "sram_map", "SRAM per core", maps, "SRAM in use per core (KiB)",
                       "SRAM in use per core from the plan (/mapping/sram_bytes): each stage's busiest-core figure "
                       "(weights + KV at the longest context + activations + runtime reserve) on every core of the "
                       "stage, 0 outside stages; not measured by a simulation. A core has %s KiB. Run: %s."
                       % (fmt((sram_core or float("nan")) / 1024.0), setting), cmap="magma",
                       stages=stages, wafers=[int(g[5:]) for g in sram_groups])
    else:
        rep.note("SRAM map: results.h5 has no /mapping/sram_bytes; no figure.")

    sc_groups = wafer_groups(h5, "/systemc")
    if not sc_groups:
        rep.note("Per-core utilization and per-link utilization heat maps: results.h5 has no /systemc group "
                 "(engine %s; only `--engine systemc` simulates cores and links); no figures."
                 % summary.get("engine", "?"))
        return
    sc_groups = limited(sc_groups, "SystemC heat maps")
    cycles, why = decode_run_cycles(os.path.join(folder, "trace.json"), clock or 0)
    busy = [(g, h5["/systemc/%s/core_busy_cycles" % g][:].astype(np.float64)) for g in sc_groups
            if "core_busy_cycles" in h5["/systemc/" + g]]
    if busy:
        if cycles:
            maps = [(t, a / cycles) for t, a in busy]
            heatmap_figure(rep, "core_utilization", "Per-core utilization", maps, "busy cycles / cycles of the step",
                           "Per-core utilization of the simulated decode step: core_busy_cycles (cycles each core "
                           "computed or relayed, /systemc) divided by the %s cycles the step took (extent of the "
                           "spans of %s in trace.json x clock). Stages run one after another in a decode step, so "
                           "a core of one stage idles while the others work. Run: %s." % (fmt(cycles), why, setting),
                           stages=stages, wafers=[int(g[5:]) for g, _ in busy])
        else:
            heatmap_figure(rep, "core_busy_cycles", "Per-core busy cycles", busy, "busy cycles",
                           "Cycles each core computed or relayed in the simulated run (/systemc core_busy_cycles). "
                           "Shown as cycles, not utilization, because the length of that run is not recorded (%s). "
                           "Run: %s." % (why, setting), stages=stages, wafers=[int(g[5:]) for g, _ in busy])
    dirs = ("east", "west", "south", "north")
    for g in sc_groups:
        grp = h5["/systemc/" + g]
        present = [d for d in dirs if "link_wavelets_" + d in grp]
        if not present:
            rep.note("Link heat map of %s: no link_wavelets_* datasets; no figure." % g)
            continue
        maps = [("%s output links (%s)" % (d, g), grp["link_wavelets_" + d][:].astype(np.float64)) for d in present]
        if cycles:
            maps = [(t, a / cycles) for t, a in maps]
            heatmap_figure(rep, "link_utilization_" + g, "Per-link utilization", maps,
                           "wavelets / cycle (1 = busy every cycle)",
                           "Per-link utilization of %s in the simulated decode step: wavelets sent on each router's "
                           "output link in that direction (/systemc link_wavelets_*) divided by the %s cycles of the "
                           "step; a link carries at most one wavelet per cycle. Run: %s." % (g, fmt(cycles), setting),
                           stages=stages, wafers=[int(g[5:])] * len(maps))
        else:
            heatmap_figure(rep, "link_wavelets_" + g, "Wavelets per link", maps, "wavelets",
                           "Wavelets sent on each router's output link of %s (/systemc link_wavelets_*), as counts "
                           "because the length of the simulated run is not recorded (%s). Run: %s." % (g, why, setting),
                           stages=stages, wafers=[int(g[5:])] * len(maps))


def render_run(rep, folder, args):
    spath = os.path.join(folder, "summary.json")
    summary = read_json(spath)
    if not isinstance(summary, dict) or not all(isinstance(summary.get(k), dict) for k in ("model", "wafer", "mapping")):
        raise InputProblem("%s: not a wafersim summary (expected an object with model, wafer and mapping)" % spath)
    for ph in ("decode", "prefill"):
        if ph in summary and not (isinstance(summary[ph], dict) and "tokens_per_s" in summary[ph]):
            raise InputProblem("%s: %s: expected an object with tokens_per_s" % (spath, ph))
    h5 = open_h5(os.path.join(folder, "results.h5"))
    setting = run_setting_text(summary)
    m, w = summary.get("model", {}), summary.get("wafer", {})
    rep.title = "wafersim run: %s on %s (%s engine)" % (m.get("name", "?"), w.get("name", "?"), summary.get("engine", "?"))
    rep.p("Folder: %s. %s." % (folder, setting))
    cmd = s(h5.attrs.get("command_line", b""))
    if cmd:
        rep.p("Command: %s (wafersim %s, %s)." % (cmd, s(h5.attrs.get("wafersim_version", b"?")),
                                                   s(h5.attrs.get("created", b"?"))))
    rows = []
    wname = "%s x%s" % (w.get("name", "wafer"), summary.get("mapping", {}).get("wafers", 1))
    d, pf = summary.get("decode"), summary.get("prefill")
    rows.append([wname, fmt(d["tokens_per_s"]) if d else "not run", fmt_seconds(d.get("seconds_per_token")) if d else "",
                 fmt(pf["tokens_per_s"]) if pf else "not run", fmt_seconds(pf.get("ttft_s")) if pf else ""])
    for b in summary.get("baselines", []):
        lab = "%s x%s" % (b.get("device"), b.get("count"))
        if not b.get("fits", False):
            rows.append([lab, "does not fit", "", "does not fit", ""])
            continue
        rows.append([lab, fmt(b.get("decode_tokens_per_s")) if b.get("decode_tokens_per_s") is not None else "not run",
                     fmt_seconds(b["decode_seconds_per_token"]) if b.get("decode_seconds_per_token") is not None else "",
                     fmt(b.get("prefill_tokens_per_s")) if b.get("prefill_tokens_per_s") is not None else "not run",
                     fmt_seconds(b["ttft_s"]) if b.get("ttft_s") is not None else ""])
    rep.h2("Headline")
    rep.table(["device", "decode tokens/s (per request)", "s/token", "prefill tokens/s", "TTFT"], rows)
    rep.h2("Throughput against the GPU baselines")
    fig_throughput(rep, summary, setting)
    rep.h2("Per-layer time")
    for phase in ("decode", "prefill"):
        fig_layers(rep, h5, summary, setting, phase)
    rep.h2("Wafer heat maps")
    fig_heatmaps(rep, h5, summary, setting, folder)
    rep.h2("Appendix: notes")
    notes = summary.get("notes", [])
    rep.pre("\n".join(notes) if notes else "(none)")
    rep.h2("Appendix: resolved configuration (config.resolved.yaml)")
    cfg = os.path.join(folder, "config.resolved.yaml")
    if os.path.exists(cfg):
        rep.pre(read_text(cfg))
    elif "/config" in h5 and "resolved_yaml" in h5["/config"].attrs:
        rep.note("config.resolved.yaml is absent; the copy stored in results.h5 (/config resolved_yaml) is shown.")
        rep.pre(s(h5["/config"].attrs["resolved_yaml"]))
    else:
        rep.note("config.resolved.yaml is absent and results.h5 holds no copy.")
    h5.close()


# ---------------------------------------------------------------------------------------------------------
# Sweep folder

METRIC_UNITS = {"tokens_per_s": "tokens/s", "seconds_per_token": "s", "ttft_s": "s", "max_context_tokens": "tokens",
                "wafers": "wafers", "stages": "stages", "cores_used": "cores"}
MAXIMIZE = ("tokens_per_s", "max_context_tokens")


def load_sweep(folder):
    """Returns (columns dict name -> list, units dict, axis names, metric names)."""
    h5path, csvpath = os.path.join(folder, "sweep.h5"), os.path.join(folder, "sweep.csv")
    units = {}
    if os.path.exists(csvpath):
        with open(csvpath, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        if not rows or rows[0][:1] != ["index"] or "status" not in rows[0]:
            raise InputProblem("%s: not a wafersim sweep table (expected a header starting with index and a "
                               "status column)" % csvpath)
        head = rows[0]
        cols = {h: [] for h in head}
        for r in rows[1:]:
            r = r + [""] * (len(head) - len(r))
            for h, v in zip(head, r):
                cols[h].append(v)
    else:
        raise InputProblem("%s: absent (the sweep has not finished: every point must be present; run "
                           "`wafersim sweep ... --resume`)" % csvpath)
    if os.path.exists(h5path):
        with open_h5(h5path) as h5:
            if "points" in h5:
                for k in h5["points"]:
                    units[k] = h5_unit(h5["points"][k])
    si = head.index("status")
    axes = head[1:si]
    metrics = [h for h in head[si + 1:] if h != "error"]
    return cols, units, axes, metrics


def as_floats(vals):
    out = []
    for v in vals:
        try:
            out.append(float(v) if v != "" else float("nan"))
        except ValueError:
            return None
    return out


def metric_unit(name, units):
    u = units.get(name, "")
    if u:
        return u
    for k, v in METRIC_UNITS.items():
        if name.endswith(k):
            return v
    return ""


def metric_label(name, units, baseline_names):
    u = metric_unit(name, units)
    lab = name
    parts = name.split(".")
    if parts[0] == "baselines" and len(parts) > 2 and parts[1] in baseline_names:
        lab = "%s (%s)" % (name, baseline_names[parts[1]])
    return "%s (%s)" % (lab, u) if u else lab


def sweep_context(folder, cols):
    """Base settings from the first ok point file; baseline names by index."""
    pdir = os.path.join(folder, "points")
    first = None
    seen = {}  # baseline index -> set of "device xN" over the ok points
    if os.path.isdir(pdir):
        for i, st in zip(cols["index"], cols["status"]):
            p = os.path.join(pdir, "%06d.json" % int(float(i)))
            if st != "ok" or not os.path.exists(p):
                continue
            pt = read_json(p)
            if not isinstance(pt, dict) or not isinstance(pt.get("summary"), dict):
                continue
            first = first or pt
            for k, b in enumerate(pt["summary"].get("baselines", [])):
                seen.setdefault(str(k), set()).add("%s x%s" % (b.get("device", "?"), b.get("count", "?")))
    names = {k: (next(iter(v)) if len(v) == 1 else "varies by point: " + ", ".join(sorted(v))) for k, v in seen.items()}
    if first:
        sm = first["summary"]
        m, w, wl = sm.get("model", {}), sm.get("wafer", {}), sm.get("workload", {})
        text = ("point %s: %s on %s, engine %s, phase %s, batch %s, %s input + %s output tokens"
                % (first.get("index"), m.get("name"), w.get("name"), sm.get("engine"), wl.get("phase"), wl.get("batch"),
                   wl.get("input_tokens"), wl.get("output_tokens")))
    else:
        text = "no point file with a summary was found"
    return names, text


def fig_sweep_axis(rep, cols, units, axes, metrics, xaxis, ok, context, base_names, name):
    others = [a for a in axes if a != xaxis]
    xs_raw = [cols[xaxis][i] for i in ok]
    xnum = as_floats(xs_raw)
    if xnum is not None and any(math.isnan(v) for v in xnum):
        xnum = None  # an empty cell (the base value) cannot be placed on a numeric axis
    if xnum is None:
        cats = []
        for v in xs_raw:
            if v not in cats:
                cats.append(v)
        xpos = [cats.index(v) for v in xs_raw]
    else:
        xpos = xnum
    series = {}
    for j, i in enumerate(ok):
        key = ", ".join("%s=%s" % (a, cols[a][i] or "(base)") for a in others)
        series.setdefault(key, []).append((xpos[j], i))
    drawn = [m for m in metrics if any(math.isfinite(v) for v in (as_floats([cols[m][i] for i in ok]) or []))]
    if not drawn:
        return []
    n = len(drawn)
    ncols = min(3, n)
    nrows = -(-n // ncols)
    fig, axs = plt.subplots(nrows, ncols, figsize=(4.3 * ncols, 3.2 * nrows), squeeze=False)
    for k, m in enumerate(drawn):
        ax = axs[k // ncols][k % ncols]
        for label, pts in series.items():
            pts = sorted(pts)
            xv = [p for p, _ in pts]
            yv = as_floats([cols[m][i] for _, i in pts])
            ax.plot(xv, yv, marker="o", ms=3.5, label=label or "all points")
        ax.set_xlabel(xaxis + ("" if xnum is not None else ""))
        ax.set_ylabel(metric_label(m, units, base_names), fontsize=7)
        if xnum is None:
            ax.set_xticks(range(len(cats)))
            ax.set_xticklabels(cats, rotation=20, ha="right")
        elif min(xnum) > 0 and max(xnum) / min(xnum) >= 16:
            ax.set_xscale("log")
        yv = [v for v in as_floats([cols[m][i] for i in ok]) if math.isfinite(v)]
        if yv and min(yv) > 0 and max(yv) / min(yv) >= 100:
            ax.set_yscale("log")
    for j in range(n, nrows * ncols):
        axs[j // ncols][j % ncols].set_visible(False)
    if others:
        handles, labels = axs[0][0].get_legend_handles_labels()
        if len(labels) > 12:
            handles, labels = handles[:12], labels[:12]
        fig.legend(handles, labels, loc="lower center", ncol=min(3, len(labels)), bbox_to_anchor=(0.5, 1.0),
                   title="a line per value of " + ", ".join(others))
    fig.tight_layout()
    skipped = [m for m in metrics if m not in drawn]
    cap = ("Every metric of sweep.csv against the sweep axis %s%s, over the %d point(s) that ran. Base (%s)."
           % (xaxis, (", a line per value of " + ", ".join(others)) if others else "", len(ok), context))
    if xnum is None:
        cap += " The axis values are not numbers; they are placed in the order they appear."
    if skipped:
        cap += " Not drawn (no value at any point): %s." % ", ".join(skipped)
    rep.figure(fig, name, cap)
    return drawn


def resolve_metric(name, metrics):
    if name in metrics:
        return name
    cands = [m for m in metrics if m.endswith("." + name)]
    if len(cands) == 1:
        return cands[0]
    raise InputProblem("--pareto: unknown metric \"%s\"%s; sweep.csv has: %s"
                       % (name, " (ambiguous: " + ", ".join(cands) + ")" if cands else "", ", ".join(metrics)))


def pareto_front(pts, maxx, maxy):
    """pts: list of (x, y, idx). Returns the points no other point beats on both metrics (at least as good on
    both and better on one), sorted by x. O(n log n): sort by the first metric, keep the running best second."""
    def key(p):
        return (-p[0] if maxx else p[0], -p[1] if maxy else p[1])  # both to be minimised

    front, best = [], None
    for p in sorted(pts, key=key):
        kx, ky = key(p)
        if best is None or ky < best[1] or (kx, ky) == best:
            front.append(p)
            best = (kx, ky) if best is None or ky < best[1] else best
    return sorted(front)


def parse_pareto(spec, metrics):
    """--pareto X,Y (each optionally :max or :min) -> ([x, y], [dir or None, dir or None]), or None for ""."""
    if not spec:
        return None
    parts = [p.strip() for p in spec.split(",")]
    if len(parts) != 2 or not all(parts):
        raise InputProblem("--pareto: expected two metrics separated by a comma (METRIC_X,METRIC_Y), got \"%s\"" % spec)
    names, dirs = [], []
    for p in parts:
        d = None
        if ":" in p:
            p, d = p.rsplit(":", 1)
            if d not in ("max", "min"):
                raise InputProblem("--pareto: direction \"%s\" of %s: expected max or min" % (d, p))
        names.append(resolve_metric(p, metrics))
        dirs.append(d)
    return names, dirs


def fig_pareto(rep, cols, units, axes, metrics, ok, chosen, context, base_names):
    if chosen:
        names, dirs = chosen
    else:
        first = next((m for m in ("decode.tokens_per_s", "prefill.tokens_per_s") if m in metrics and
                      any(math.isfinite(v) for v in as_floats([cols[m][i] for i in ok]) or [])), None)
        if first is None or "mapping.cores_used" not in metrics:
            rep.note("Pareto front: no default pair of metrics with values (decode.tokens_per_s or "
                     "prefill.tokens_per_s against mapping.cores_used); give --pareto X,Y.")
            return
        names, dirs = ["mapping.cores_used", first], [None, None]
    dirs = [d if d else ("max" if n.endswith(MAXIMIZE) else "min") for n, d in zip(names, dirs)]
    xs, ys = as_floats([cols[names[0]][i] for i in ok]), as_floats([cols[names[1]][i] for i in ok])
    if xs is None or ys is None:
        raise InputProblem("--pareto: %s and %s must be numeric columns" % tuple(names))
    pts = [(x, y, i) for x, y, i in zip(xs, ys, ok) if math.isfinite(x) and math.isfinite(y)]
    if not pts:
        rep.note("Pareto front of %s and %s: no point has both values; no figure." % tuple(names))
        return
    front = pareto_front(pts, dirs[0] == "max", dirs[1] == "max")
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=18, color="tab:gray", label="point")
    ax.plot([p[0] for p in front], [p[1] for p in front], "-o", color="tab:red", ms=5, label="Pareto front")
    for x, y, i in front:
        lab = "#%s " % cols["index"][i] + ", ".join("%s=%s" % (a.split(".")[-1], cols[a][i]) for a in axes if cols[a][i])
        ax.annotate(lab, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=6)
    ax.set_xlabel("%s, %s is better" % (metric_label(names[0], units, base_names),
                                        "higher" if dirs[0] == "max" else "lower"))
    ax.set_ylabel("%s, %s is better" % (metric_label(names[1], units, base_names),
                                        "higher" if dirs[1] == "max" else "lower"))
    ax.legend()
    rep.figure(fig, "pareto", "Pareto front of %s (%s) and %s (%s): red points are not beaten on both by any other "
                              "point (labels: point number and axis values); gray points are dominated. Front: "
                              "point(s) %s. %d of %d point(s) have both values. Base (%s). Choose the pair with "
                              "--pareto X,Y (suffix :max or :min to override the direction)."
               % (names[0], dirs[0], names[1], dirs[1], ", ".join(sorted((cols["index"][i] for _, _, i in front), key=float)),
                  len(pts), len(ok), context))


def render_sweep(rep, folder, args):
    cols, units, axes, metrics = load_sweep(folder)
    chosen = parse_pareto(args.pareto, metrics)  # a bad --pareto fails before any figure is drawn
    n = len(cols["index"])
    ok = [i for i in range(n) if cols["status"][i] == "ok"]
    err = [i for i in range(n) if cols["status"][i] != "ok"]
    base_names, context = sweep_context(folder, cols)
    exp = os.path.join(folder, "experiment.yaml")
    rep.title = "wafersim sweep: %s" % os.path.basename(os.path.normpath(folder))
    rep.p("Folder: %s. %d point(s): %d ok, %d error; axes: %s. Base (%s)."
          % (folder, n, len(ok), len(err), ", ".join(axes) or "(none)", context))
    if base_names:
        rep.p("Baselines: " + "; ".join("baselines.%s = %s" % (k, v) for k, v in sorted(base_names.items())) + ".")
    if err:
        msgs = {}
        pdir = os.path.join(folder, "points")
        for i in err:
            p = os.path.join(pdir, "%06d.json" % int(float(cols["index"][i])))
            msgs[i] = read_json(p).get("error", "") if os.path.exists(p) else ""
        rep.note("%d point(s) failed and are not drawn." % len(err))
        rep.table(["index"] + axes + ["error"], [[cols["index"][i]] + [cols[a][i] for a in axes] + [msgs[i]] for i in err])
    rep.h2("Sweep curves")
    if not ok:
        rep.note("No point ran; no sweep curves and no Pareto front.")
    elif not axes:
        rep.note("The sweep has no axis column; no sweep curves.")
    else:
        for k, a in enumerate(axes):
            fig_sweep_axis(rep, cols, units, axes, metrics, a, ok, context, base_names, "sweep_%d_%s" % (k, safe(a)))
    rep.h2("Pareto front")
    if ok:
        fig_pareto(rep, cols, units, axes, metrics, ok, chosen, context, base_names)
    rep.h2("Appendix: sweep table (sweep.csv)")
    shown = min(n, MAX_TABLE_ROWS)
    if shown < n:
        rep.note("The first %d of %d rows; the whole table is in sweep.csv and sweep.h5." % (shown, n))
    rep.table(list(cols.keys()), [[short(cols[h][i]) for h in cols] for i in range(shown)])
    rep.h2("Appendix: experiment (experiment.yaml)")
    if os.path.exists(exp):
        rep.pre(read_text(exp))
    else:
        rep.note("experiment.yaml is absent.")


def safe(name):
    return "".join(c if c.isalnum() else "_" for c in name)


def short(v):
    f = as_floats([v])
    if f and math.isfinite(f[0]) and v and any(c in v for c in ".e"):
        return "%.5g" % f[0]
    return v


# ---------------------------------------------------------------------------------------------------------
# Validate folder

VALIDATION_UNITS = (("tokens_per_s", "tokens/s"), ("gemv.seconds", "s"), ("latency", "cycles"),
                    ("throughput", "flits/node/cycle"))


def validation_unit(metric):
    for suffix, unit in VALIDATION_UNITS:
        if metric.endswith(suffix):
            return unit
    return "unit of " + metric


def render_validate(rep, folder, args):
    path = os.path.join(folder, "validation.h5")
    with open_h5(path) as h5:
        if "cases" not in h5:
            raise InputProblem("%s: no /cases group (not written by wafersim validate)" % path)
        g = h5["cases"]
        need = ("name", "metric", "published", "simulated", "tolerance", "status")
        for k in need:
            if k not in g:
                raise InputProblem("%s: /cases/%s is missing" % (path, k))
        name = [s(x) for x in g["name"][:]]
        metric = [s(x) for x in g["metric"][:]]
        kind = [s(x) for x in g["kind"][:]] if "kind" in g else [""] * len(name)
        status = [s(x) for x in g["status"][:]]
        source = [s(x) for x in g["source"][:]] if "source" in g else [""] * len(name)
        case_files = sorted({os.path.basename(s(x)) for x in g["file"][:]}) if "file" in g else []
        pub, sim, tol = g["published"][:], g["simulated"][:], g["tolerance"][:]
        engine = s(h5.attrs.get("engine", b"?"))
        mape = h5.attrs.get("mape_percent", float("nan"))
        command = s(h5.attrs.get("command", b""))
    n = len(name)
    rep.title = "wafersim validate: %d case(s), engine %s" % (n, engine)
    within = sum(1 for st in status if st == "within")
    rep.p("Folder: %s. %d of %d case(s) within tolerance; mean absolute error %.1f%% over the cases that ran. "
          "Command: %s." % (folder, within, n, float(mape), command or "?"))
    groups = {}
    for i in range(n):
        groups.setdefault(validation_unit(metric[i]), []).append(i)
    failed = [i for i in range(n) if not math.isfinite(sim[i])]
    rep.h2("Predicted against published")
    if len(failed) == n:
        rep.note("No case ran; no figure.")
    else:
        units = [u for u in groups if any(math.isfinite(sim[i]) for i in groups[u])]
        ncols = min(2, len(units))
        nrows = -(-len(units) // ncols)
        fig, axs = plt.subplots(nrows, ncols, figsize=(5.4 * ncols, 4.6 * nrows), squeeze=False)
        markers = "osD^v<>ph*"
        for k, u in enumerate(units):
            ax = axs[k // ncols][k % ncols]
            idx = [i for i in groups[u] if math.isfinite(sim[i])]
            vals = [pub[i] for i in idx] + [sim[i] for i in idx]
            lo, hi = min(vals), max(vals)
            logscale = lo > 0 and hi / lo > 20
            if logscale:
                lo, hi = lo / 1.6, hi * 1.6
            else:
                pad = max(0.15 * (hi - lo), 0.05 * abs(hi)) or 1.0
                lo, hi = lo - pad, hi + pad
            xx = np.geomspace(lo, hi, 200) if logscale else np.linspace(lo, hi, 200)
            ax.plot(xx, xx, "k-", lw=1, label="y = x")
            tols = sorted({float(tol[i]) for i in idx})
            shades = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
            for t_i, t in enumerate(tols):
                ax.fill_between(xx, xx * (1 - t), xx * (1 + t), color=shades[t_i % len(shades)], alpha=0.15,
                                label="tolerance ±%g%%" % (100 * t))
            for m_i, m in enumerate(sorted({metric[i] for i in idx})):
                sel = [i for i in idx if metric[i] == m]
                ax.scatter([pub[i] for i in sel], [sim[i] for i in sel], marker=markers[m_i % len(markers)], s=28,
                           zorder=3, label=m)
                for i in sel:
                    if status[i] != "within":
                        ax.annotate(name[i] + " (miss)", (pub[i], sim[i]), textcoords="offset points", xytext=(4, -8),
                                    fontsize=6, color="tab:red")
            if logscale:
                ax.set_xscale("log")
                ax.set_yscale("log")
            ax.set_xlim(lo, hi)
            ax.set_ylim(lo, hi)
            ax.set_xlabel("published (%s)" % u)
            ax.set_ylabel("simulated (%s)" % u)
            ax.legend(fontsize=6, loc="lower right")
        for j in range(len(units), nrows * ncols):
            axs[j // ncols][j % ncols].set_visible(False)
        fig.tight_layout()
        cap = ("Simulated against published value of each validation case, one panel per unit, with the line y = x "
               "and each tolerance as a shaded band (a case inside the band of its tolerance is within). Misses are "
               "labelled in red. Engine %s; %d case(s) that ran, from %s." % (engine, n - len(failed),
                                                                                ", ".join(case_files) or "?"))
        rep.figure(fig, "validation_scatter", cap)
    if failed:
        rep.note("%d case(s) failed to run and are not drawn: %s." % (len(failed), ", ".join(name[i] for i in failed)))
    rep.h2("Appendix: cases")
    rep.table(["case", "kind", "metric", "published", "simulated", "error", "tolerance", "result", "source"],
              [[name[i], kind[i], metric[i], fmt(float(pub[i])), fmt(float(sim[i])),
                "%+.1f%%" % (100 * (sim[i] - pub[i]) / pub[i]) if math.isfinite(sim[i]) and pub[i] else "n/a",
                "%g%%" % (100 * tol[i]), status[i], source[i]] for i in range(n)])


# ---------------------------------------------------------------------------------------------------------


def folder_kind(folder):
    if not os.path.isdir(folder):
        raise InputProblem("%s: %s" % (folder, "no such folder" if not os.path.exists(folder) else "not a folder"))
    has = lambda f: os.path.isfile(os.path.join(folder, f))
    if has("summary.json") and has("results.h5"):
        return "run"
    if has("sweep.csv") or has("sweep.h5") or has("experiment.yaml"):
        return "sweep"
    if has("validation.h5"):
        return "validate"
    raise InputProblem("%s: not a wafersim output folder: expected summary.json and results.h5 (wafersim run "
                       "--out), sweep.csv (wafersim sweep --out) or validation.h5 (wafersim validate --out)" % folder)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("-o", "--output", default=None, help="HTML file (default DIR/report.html)")
    ap.add_argument("--pareto", default="", help="METRIC_X,METRIC_Y for the sweep Pareto front")
    args = ap.parse_args(argv)
    folder = args.dir.rstrip("/") or "/"
    out = args.output or os.path.join(folder, "report.html")
    if not out.endswith(".html"):
        raise InputProblem("-o %s: the report name must end in .html (the Markdown twin gets .md)" % out)
    out_dir = os.path.dirname(os.path.abspath(out))
    kind = folder_kind(folder)
    if args.pareto and kind != "sweep":
        raise InputProblem("--pareto applies to a sweep folder; %s is a %s folder" % (folder, kind))
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise InputProblem("-o %s: cannot create folder %s: %s" % (out, out_dir, e.strerror))
    stem = os.path.splitext(os.path.basename(out))[0]
    rep = Report("wafersim report", stem + "_files")
    {"run": render_run, "sweep": render_sweep, "validate": render_validate}[kind](rep, folder, args)
    md, figdir = rep.write(out)
    print("report: %s, %s, %d figure(s) in %s/" % (out, md, len(rep.figures), figdir))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except InputProblem as e:
        fail(str(e))
