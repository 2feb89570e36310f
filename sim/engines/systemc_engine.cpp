// SystemC engine: executes each phase program on the fabric kernel. Compute runs on every core of its
// region; collectives (chain, two-level tree, two-way K-tree, folded ring, multicast, shifts) are
// generated as the real messages between real cores along XY routes; every core starts a step when its
// own inputs are ready (dataflow), so steps, layers and prefill chunks overlap wherever the data allow.
#include "sim/engines/systemc_engine.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "fabric/sc/fabric_kernel.hpp"
#include "sim/base/errors.hpp"
#include "sim/base/units.hpp"
#include "sim/engines/analytic_engine.hpp"
#include "sim/engines/analytic_model.hpp"
#include "sim/mapping/mapper.hpp"

namespace wafersim::engines {

using fabric::sc::Cycle;
using fabric::sc::FabricKernel;
using fabric::sc::kNever;
using fabric::sc::Message;
using mapping::AllReduceAlgo;
using mapping::Along;
using mapping::CollectiveKind;
using mapping::StepKind;

const ParamTable& systemc_param_table() {
    static const ParamTable t("systemc", {
        param_int("region", "64", 4, 4096, "cores per side of the region one SystemC process simulates",
                  "style.md §8 (one process per 32x32 .. 64x64 cores)"),
        param_quantity("quantum", UnitKind::Cycles, "1cycles", 1, 1e6,
                       "temporal-decoupling window; must not exceed the hop latency (checked)", "style.md §8.4"),
        param_quantity("max_cycles", UnitKind::Cycles, "0cycles", 0, 1e18,
                       "stop a phase after this many simulated cycles and report where (0 = unbounded)", "design default"),
        param_quantity("max_wall", UnitKind::Time, "0s", 0, 1e7,
                       "stop a simulated run after this much wall-clock time and report where (0 = unbounded)", "design default"),
        param_int("decode_samples", "2", 1, 1024,
                  "decode contexts simulated (first and last generated token, and between); averaged",
                  "design default (step time is linear in context between samples)"),
        param_quantity("memory_limit", UnitKind::Bytes, "0B", 0, 1e15,
                       "refuse runs whose fabric state would exceed this (0 = 80% of available memory)", "design default"),
        param_bool("symmetry", "true",
                   "simulate one line of a collective per distinct timing pattern; lines that are exact time-shifted "
                   "copies finish shifted (links are disjoint)",
                   "style.md §8.7 (exploit exact regularity; checked against full runs in tests/crosscheck)"),
        param_int("prefill_samples", "2", 1, 100000,
                  "prefill chunks simulated (first, last, evenly spaced); the others are interpolated",
                  "design default (chunk cost is linear in its attention context)"),
    });
    return t;
}

namespace {

constexpr std::uint8_t kMsgChain = 1, kMsgLevel2 = 2, kMsgCast = 3, kMsgRing = 4, kMsgShift = 5, kMsgHandoff = 6,
                       kMsgKt1 = 7, kMsgKt2 = 8, kMsgKtX = 9, kMsgPanelA = 10, kMsgPanelB = 11;

std::uint64_t make_tag(std::uint32_t step, std::uint8_t kind, std::uint32_t extra = 0) {
    return static_cast<std::uint64_t>(step) | (static_cast<std::uint64_t>(kind) << 32) |
           (static_cast<std::uint64_t>(extra & 0xFFFFFF) << 40);
}
std::uint32_t tag_step(std::uint64_t t) { return static_cast<std::uint32_t>(t & 0xFFFFFFFFu); }
std::uint8_t tag_kind(std::uint64_t t) { return static_cast<std::uint8_t>((t >> 32) & 0xFF); }
std::uint32_t tag_extra(std::uint64_t t) { return static_cast<std::uint32_t>((t >> 40) & 0xFFFFFF); }

struct Geom {
    int wafer = 0;
    std::int64_t row0 = 0, col0 = 0, rows = 1, cols = 1;
    std::int64_t cores() const { return rows * cols; }
};

// One program instance (a layer, the embedding, the LM head or a hand-off) of one phase run.
struct Prog {
    const mapping::LayerProgram* lp = nullptr;
    int stage = 0;
    std::string phase;  // for the trace
    std::vector<int> preds;  // program instances whose last step gates this program's first steps
    std::vector<int> succs;
    int first_step = -1;    // index into steps of this program's first step
    bool open = false, started = false, done = false;
    Cycle start = kNever, end = 0;
};

struct StepState {
    const mapping::Step* step = nullptr;
    int prog = -1;
    Geom reg;          // cores the step runs on (Handoff: destination region)
    Geom src;          // Handoff: source region
    std::vector<Cycle> ready, finish;
    std::vector<std::uint8_t> pending;
    std::vector<int> dependents;
    std::int64_t remaining = 0;
    bool allocated = false, done = false;
    Cycle first_start = kNever, last_finish = 0;
    // Collective scratch, per core of the region.
    std::vector<Cycle> head_in, head_in2, t1, arrived, arrived_from_send;
    std::vector<Cycle> kt_h2, kt_hx, kt_c2;  // K-tree: level-2 head in, exchange head in, level-2 done
    // Lock-step tiled steps (Cannon's torus shift, SUMMA panels): per member its first tile's latency and
    // arrival; per line how many members have theirs and the longest latency.
    std::vector<Cycle> lock_lat, lock_in, line_max;
    std::vector<std::int64_t> line_cnt;
    std::vector<std::uint32_t> count;
    std::uint32_t wavelets = 1;
    std::uint32_t wavelets2 = 1;  // Panel: the column multicast
    double compute_cycles = 0;  // compute step, or compute per repeat of a shift
    std::int64_t line_len = 1;  // cores in one line (group)
    std::int64_t tree_g = 1;
    bool is_last_of_prog = false;
    // Symmetry: lines whose members become ready exactly `delta` cycles after those of a simulated
    // (representative) line are not simulated; they finish `delta` after it. Their link and busy
    // statistics are replayed from the representative's messages.
    std::int64_t lines = 0;
    std::vector<std::int32_t> line_rep;       // -1 unclassified, -2 representative, else rep line index
    std::vector<std::int64_t> line_delta;
    std::vector<std::vector<std::int32_t>> mirrors;  // per representative line
    struct Sent {
        std::int64_t from, to;
        std::uint32_t wavelets;
    };
    std::vector<std::vector<Sent>> sent;       // per representative line
    std::vector<std::uint32_t> busy;           // per core: busy cycles added in this step
    std::vector<std::int32_t> bcast_src;       // Broadcast: per line, the position that holds the data
    std::vector<std::int32_t> reps;            // representative lines in classification order
};

class Executor : public fabric::sc::IReceiver {
public:
    Executor(FabricKernel& k, const fabric::WaferSpec& w, const mapping::ExecutionPlan& plan, bool symmetry)
        : m_k(k), m_w(w), m_plan(plan), m_symmetry(symmetry) {
        m_self = m_k.add_receiver(this);
        m_relay = static_cast<Cycle>(std::llround(w.relay_latency_cycles));
        m_per_w = w.relay_per_wavelet_cycles;
    }

    // Adds the programs of one phase program (one decode step, or one prefill chunk). `link_stage_to`:
    // for prefill chunks, the previous chunk's last program per stage (-1 when none).
    std::vector<int> add_phase(const mapping::PhaseProgram& pp, const std::string& phase, bool skip_head,
                               const std::vector<int>& prev_chunk_last_of_stage) {
        std::vector<int> last_of_stage(m_plan.stages.size(), -1);
        int prev = -1;
        int prev_stage = -1;
        for (std::size_t i = 0; i < pp.layers.size(); ++i) {
            const auto& lp = pp.layers[i];
            if (skip_head && (lp.name == "final_norm" || lp.name == "lm_head")) continue;
            Prog p;
            p.lp = &lp;
            p.stage = pp.stage_of[i];
            p.phase = phase;
            const int id = static_cast<int>(m_progs.size());
            if (prev >= 0) p.preds.push_back(prev);
            const bool is_handoff = lp.name.rfind("handoff.", 0) == 0;
            // The first program a stage runs in this chunk also waits for the stage's previous chunk.
            if (!is_handoff && p.stage != prev_stage && !prev_chunk_last_of_stage.empty()) {
                const int q = prev_chunk_last_of_stage[static_cast<std::size_t>(p.stage)];
                if (q >= 0) p.preds.push_back(q);
            }
            for (int q : p.preds) m_progs[static_cast<std::size_t>(q)].succs.push_back(id);
            m_progs.push_back(p);
            if (!is_handoff) {
                last_of_stage[static_cast<std::size_t>(p.stage)] = id;
                prev_stage = p.stage;
            }
            prev = id;
        }
        return last_of_stage;
    }

    // Runs everything added so far from the kernel's current time; returns the start time.
    Cycle run() {
        m_t0 = m_k.now();
        for (std::size_t i = 0; i < m_progs.size(); ++i)
            if (m_progs[i].preds.empty()) open_prog(static_cast<int>(i));
        for (std::size_t i = 0; i < m_progs.size(); ++i)
            if (m_progs[i].preds.empty()) start_roots(static_cast<int>(i), m_t0);
        m_k.run();
        check_complete();
        return m_t0;
    }

    const std::vector<Prog>& progs() const { return m_progs; }
    const std::deque<StepState>& steps() const { return m_steps; }
    Cycle t0() const { return m_t0; }
    std::uint64_t mirrored_members() const { return m_mirrored; }
    std::uint64_t symmetry_mismatches() const { return m_mismatch; }

    // IReceiver
    void on_head(const Message& m, std::uint64_t core, std::int64_t row, std::int64_t col, Cycle head, Cycle tail) override;
    void on_action(std::uint64_t, std::uint64_t, Cycle) override {}

private:
    // ---- geometry ----
    Geom stage_geom(int stage) const {
        const auto& s = m_plan.stages[static_cast<std::size_t>(stage)];
        return Geom{s.wafer, s.region.row0, s.region.col0, s.region.rows, s.region.cols};
    }
    std::uint64_t core_of(const Geom& g, std::int64_t idx) const {
        return m_k.core_id(g.wafer, g.row0 + idx / g.cols, g.col0 + idx % g.cols);
    }
    std::int64_t idx_of(const Geom& g, std::uint64_t core) const {
        return (m_k.row_of(core) - g.row0) * g.cols + (m_k.col_of(core) - g.col0);
    }
    // Lines of a collective: Along::Col -> each column top to bottom; Along::Row -> each row west to
    // east, cut into segments of line_len cores.
    void line_of(const StepState& s, std::int64_t idx, std::int64_t& line, std::int64_t& pos, std::int64_t& n) const {
        const std::int64_t r = idx / s.reg.cols, c = idx % s.reg.cols;
        if (s.step->along == Along::Col) {
            line = c;
            pos = r;
            n = s.reg.rows;
        } else {
            const std::int64_t seg = c / s.line_len;
            line = r * ((s.reg.cols + s.line_len - 1) / s.line_len) + seg;
            pos = c % s.line_len;
            n = std::min(s.line_len, s.reg.cols - seg * s.line_len);
        }
    }
    std::int64_t member(const StepState& s, std::int64_t idx, std::int64_t pos) const {
        // the core at position `pos` on the line of core `idx`
        const std::int64_t r = idx / s.reg.cols, c = idx % s.reg.cols;
        if (s.step->along == Along::Col) return pos * s.reg.cols + c;
        const std::int64_t seg0 = (c / s.line_len) * s.line_len;
        return r * s.reg.cols + seg0 + pos;
    }

    // ---- programs and steps ----
    void open_prog(int pid) {
        Prog& p = m_progs[static_cast<std::size_t>(pid)];
        if (p.open) return;
        p.open = true;
        p.first_step = static_cast<int>(m_steps.size());
        const auto& steps = p.lp->steps;
        const Geom here = stage_geom(p.stage);
        for (std::size_t j = 0; j < steps.size(); ++j) {
            StepState s;
            s.step = &steps[j];
            s.prog = pid;
            s.reg = here;
            if (s.step->kind == StepKind::Handoff) {
                s.src = here;                     // the hand-off program belongs to the source stage
                s.reg = stage_geom(p.stage + 1);  // and delivers to the next one
            } else if (j > 0 && steps[j - 1].kind == StepKind::Handoff) {
                s.reg = stage_geom(p.stage + 1);
            }
            s.is_last_of_prog = j + 1 == steps.size();
            m_steps.push_back(std::move(s));
        }
        for (std::size_t j = 0; j < steps.size(); ++j) {
            const int sid = p.first_step + static_cast<int>(j);
            for (int d : steps[j].deps) m_steps[static_cast<std::size_t>(p.first_step + d)].dependents.push_back(sid);
        }
        // Root steps (no deps) depend on the predecessor programs' last steps.
        for (int q : p.preds) {
            const Prog& pq = m_progs[static_cast<std::size_t>(q)];
            if (!pq.open) continue;  // opened later: it wires itself in open_succ_links
            link_pred(q, pid);
        }
        for (std::size_t j = 0; j < steps.size(); ++j) allocate(p.first_step + static_cast<int>(j));
        // Successors that are already open and were waiting for this program's steps to exist.
        for (int sc : p.succs)
            if (m_progs[static_cast<std::size_t>(sc)].open) link_pred(pid, sc);
    }

    void link_pred(int q, int pid) {
        const Prog& pq = m_progs[static_cast<std::size_t>(q)];
        const Prog& p = m_progs[static_cast<std::size_t>(pid)];
        const int last = pq.first_step + static_cast<int>(pq.lp->steps.size()) - 1;
        for (std::size_t j = 0; j < p.lp->steps.size(); ++j)
            if (p.lp->steps[j].deps.empty())
                m_steps[static_cast<std::size_t>(last)].dependents.push_back(p.first_step + static_cast<int>(j));
    }

    int root_dep_count(const Prog& p) const { return static_cast<int>(p.preds.size()); }

    void allocate(int sid) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        if (s.allocated) return;
        s.allocated = true;
        const std::int64_t n = s.reg.cores();
        s.ready.assign(static_cast<std::size_t>(n), 0);
        s.finish.assign(static_cast<std::size_t>(n), kNever);
        const Prog& p = m_progs[static_cast<std::size_t>(s.prog)];
        const int deps = s.step->deps.empty() ? root_dep_count(p) : static_cast<int>(s.step->deps.size());
        s.pending.assign(static_cast<std::size_t>(n), static_cast<std::uint8_t>(std::min(deps, 255)));
        s.remaining = n;
        const auto& st = *s.step;
        s.wavelets = static_cast<std::uint32_t>(std::max(1.0, std::ceil(
            (st.kind == StepKind::Handoff ? st.bytes / static_cast<double>(handoff_senders(s)) : st.bytes_per_core) /
            m_w.link_bytes_per_cycle())));
        if (st.kind == StepKind::Compute) {
            s.compute_cycles = compute_cycles(st.macs_per_core, st.elementwise_per_core, st.weight_bits, m_w) +
                               ((st.macs_per_core > 0 || st.elementwise_per_core > 0) ? m_w.task_overhead_cycles : 0);
        } else if (st.kind == StepKind::Collective) {
            s.compute_cycles = compute_cycles(st.macs_per_core, st.elementwise_per_core, st.weight_bits, m_w);
            s.line_len = st.along == Along::Col ? s.reg.rows
                                                : std::max<std::int64_t>(1, std::min<std::int64_t>(st.group_cores, s.reg.cols));
            s.tree_g = std::max<std::int64_t>(1, std::llround(std::sqrt(static_cast<double>(s.line_len))));
            s.head_in.assign(static_cast<std::size_t>(n), kNever);
            s.arrived.assign(static_cast<std::size_t>(n), kNever);
            if (st.algo == AllReduceAlgo::Tree) {
                s.head_in2.assign(static_cast<std::size_t>(n), kNever);
                s.t1.assign(static_cast<std::size_t>(n), kNever);
            }
            if (st.algo == AllReduceAlgo::KTree && st.collective != CollectiveKind::Shift &&
                st.collective != CollectiveKind::Broadcast) {
                s.head_in2.assign(static_cast<std::size_t>(n), kNever);
                s.t1.assign(static_cast<std::size_t>(n), kNever);
                s.kt_h2.assign(static_cast<std::size_t>(n), kNever);
                s.kt_hx.assign(static_cast<std::size_t>(n), kNever);
                s.kt_c2.assign(static_cast<std::size_t>(n), kNever);
            }
            if (st.algo == AllReduceAlgo::Ring || st.collective == CollectiveKind::Shift)
                s.count.assign(static_cast<std::size_t>(n), 0);
            if (st.collective == CollectiveKind::Shift) s.arrived_from_send.assign(static_cast<std::size_t>(n), 0);
            if (lock_step(st)) {
                s.lock_lat.assign(static_cast<std::size_t>(n), 0);
                s.lock_in.assign(static_cast<std::size_t>(n), 0);
            }
            if (st.collective == CollectiveKind::Panel) {
                s.head_in2.assign(static_cast<std::size_t>(n), kNever);
                s.wavelets2 = static_cast<std::uint32_t>(std::max(1.0, std::ceil(st.bytes2_per_core / m_w.link_bytes_per_cycle())));
            }
            if (st.collective == CollectiveKind::Broadcast) s.bcast_src.assign(static_cast<std::size_t>(n), 0);
            s.lines = st.along == Along::Col ? s.reg.cols : s.reg.rows * ((s.reg.cols + s.line_len - 1) / s.line_len);
            if (lock_step(st)) {
                s.line_cnt.assign(static_cast<std::size_t>(s.lines), 0);
                s.line_max.assign(static_cast<std::size_t>(s.lines), 0);
            }
            // Panel steps multicast along two axes: their lines are not independent (no symmetry).
            if (m_symmetry && st.collective != CollectiveKind::Panel) {
                s.line_rep.assign(static_cast<std::size_t>(s.lines), -1);
                s.line_delta.assign(static_cast<std::size_t>(s.lines), 0);
                s.mirrors.assign(static_cast<std::size_t>(s.lines), {});
                s.sent.assign(static_cast<std::size_t>(s.lines), {});
                s.busy.assign(static_cast<std::size_t>(n), 0);
            }
        } else {
            s.arrived.assign(static_cast<std::size_t>(n), kNever);
        }
    }

    void release(StepState& s) {
        std::vector<Cycle>().swap(s.ready);
        std::vector<Cycle>().swap(s.finish);
        std::vector<std::uint8_t>().swap(s.pending);
        std::vector<Cycle>().swap(s.head_in);
        std::vector<Cycle>().swap(s.head_in2);
        std::vector<Cycle>().swap(s.t1);
        std::vector<Cycle>().swap(s.arrived);
        std::vector<Cycle>().swap(s.arrived_from_send);
        std::vector<Cycle>().swap(s.kt_h2);
        std::vector<Cycle>().swap(s.kt_hx);
        std::vector<Cycle>().swap(s.kt_c2);
        std::vector<Cycle>().swap(s.lock_lat);
        std::vector<Cycle>().swap(s.lock_in);
        std::vector<Cycle>().swap(s.line_max);
        std::vector<std::int64_t>().swap(s.line_cnt);
        std::vector<std::uint32_t>().swap(s.count);
        std::vector<std::int32_t>().swap(s.line_rep);
        std::vector<std::int64_t>().swap(s.line_delta);
        std::vector<std::vector<std::int32_t>>().swap(s.mirrors);
        std::vector<std::vector<StepState::Sent>>().swap(s.sent);
        std::vector<std::uint32_t>().swap(s.busy);
        std::vector<std::int32_t>().swap(s.bcast_src);
    }

    void start_roots(int pid, Cycle t) {
        Prog& p = m_progs[static_cast<std::size_t>(pid)];
        for (std::size_t j = 0; j < p.lp->steps.size(); ++j) {
            if (!p.lp->steps[j].deps.empty()) continue;
            const int sid = p.first_step + static_cast<int>(j);
            StepState& s = m_steps[static_cast<std::size_t>(sid)];
            if (s.step->kind == StepKind::Handoff) {
                for (std::int64_t i = 0; i < s.src.cores(); ++i) handoff_source(sid, core_of(s.src, i), t);
                continue;
            }
            for (std::int64_t i = 0; i < s.reg.cores(); ++i) {
                s.pending[static_cast<std::size_t>(i)] = 0;
                member_ready(sid, i, t);
            }
        }
    }

    void note_start(int sid, Cycle t) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        s.first_start = std::min(s.first_start, t);
        Prog& p = m_progs[static_cast<std::size_t>(s.prog)];
        if (!p.started) {
            p.started = true;
            for (int sc : p.succs) open_prog(sc);
        }
        p.start = std::min(p.start, t);
    }

    void finish_at(int sid, std::int64_t i, Cycle t) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        if (s.finish[static_cast<std::size_t>(i)] != kNever) return;
        if (t > (Cycle(1) << 56))
            throw InternalError("systemc engine: step " + s.step->op + " of " + m_progs[static_cast<std::size_t>(s.prog)].lp->name +
                                " finishes at cycle " + std::to_string(t) + " (ready " + std::to_string(s.ready[static_cast<std::size_t>(i)]) + ")");
        s.finish[static_cast<std::size_t>(i)] = t;
        s.last_finish = std::max(s.last_finish, t);
        if (!s.line_rep.empty()) {
            std::int64_t line, pos, n;
            line_of(s, i, line, pos, n);
            if (s.line_rep[static_cast<std::size_t>(line)] == -2) {
                for (std::int32_t ml : s.mirrors[static_cast<std::size_t>(line)]) {
                    const std::int64_t mi = member_of_line(s, ml, pos);
                    if (s.pending[static_cast<std::size_t>(mi)] == 0 && s.finish[static_cast<std::size_t>(mi)] == kNever &&
                        s.ready[static_cast<std::size_t>(mi)] != kNever)
                        mirror_finish(sid, mi, i, s.ready[static_cast<std::size_t>(mi)]);
                }
            }
        }
        const std::uint64_t core = core_of(s.reg, i);
        for (int d : s.dependents) {
            StepState& ds = m_steps[static_cast<std::size_t>(d)];
            if (ds.step->kind == StepKind::Handoff) {
                handoff_source(d, core, t);
                continue;
            }
            const std::int64_t j = (ds.reg.wafer == s.reg.wafer && ds.reg.row0 == s.reg.row0 && ds.reg.col0 == s.reg.col0) ? i : -1;
            if (j < 0) throw InternalError("systemc engine: a step depends on a step of another region");
            Cycle& r = ds.ready[static_cast<std::size_t>(j)];
            r = std::max(r, t);
            if (ds.pending[static_cast<std::size_t>(j)] > 0 && --ds.pending[static_cast<std::size_t>(j)] == 0) member_ready(d, j, r);
        }
        if (--s.remaining == 0) step_done(sid);
    }

    void step_done(int sid) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        s.done = true;
        replay_links(s);
        if (s.is_last_of_prog) {
            Prog& p = m_progs[static_cast<std::size_t>(s.prog)];
            p.done = true;
            p.end = s.last_finish;
        }
        release(s);
    }

    // ---- members ----
    void member_ready(int sid, std::int64_t i, Cycle t) {
        note_start(sid, t);
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        s.ready[static_cast<std::size_t>(i)] = t;
        const auto& st = *s.step;
        if (st.kind == StepKind::Compute) {
            const Cycle c = static_cast<Cycle>(std::ceil(s.compute_cycles));
            m_k.add_busy(core_of(s.reg, i), c);
            finish_at(sid, i, t + c);
            return;
        }
        if (st.kind == StepKind::Handoff) {
            // Cores of the destination region wait for their lane's message (see on_head).
            const Cycle a = s.arrived[static_cast<std::size_t>(i)];
            if (a != kNever) finish_at(sid, i, std::max(a, t));
            return;
        }
        std::int64_t line, pos, n;
        line_of(s, i, line, pos, n);
        if (n <= 1) {
            const bool tiled = st.collective == CollectiveKind::Shift || st.collective == CollectiveKind::Panel;
            finish_at(sid, i, t + (tiled ? shift_alone(s) : 0));
            return;
        }
        if (mirror_ready(sid, i, t)) return;
        switch (st.collective) {
            case CollectiveKind::Broadcast: {
                // The member holding the data multicasts it toward both ends of its line.
                const std::int64_t src = s.bcast_src.empty() ? 0 : s.bcast_src[static_cast<std::size_t>(line)];
                if (pos == src) {
                    if (src > 0) send(s, sid, i, member(s, i, 0), kMsgCast, t, true);
                    if (src < n - 1) send(s, sid, i, member(s, i, n - 1), kMsgCast, t, true);
                    coll_finish(sid, i, t + s.wavelets - 1);
                } else if (s.arrived[static_cast<std::size_t>(i)] != kNever) {
                    coll_finish(sid, i, std::max(t, s.arrived[static_cast<std::size_t>(i)]));
                }
                return;
            }
            case CollectiveKind::Shift:
                shift_ready(sid, i, pos, n, t);
                return;
            case CollectiveKind::Panel:
                panel_ready(sid, i, pos, n, t);
                return;
            case CollectiveKind::Reduce:
            case CollectiveKind::AllReduce:
                if (st.algo == AllReduceAlgo::Ring) ring_try(sid, i, pos, n);
                else if (st.algo == AllReduceAlgo::Tree) tree_try(sid, i, pos, n);
                else if (st.algo == AllReduceAlgo::KTree) ktree_try(sid, i, pos, n);
                else chain_try(sid, i, pos, 0, n, n);
                return;
        }
    }

    // A collective member's simulated instance ended at `t`; a step that repeats the collective
    // (`repeats` identical instances back to back) ends `repeats` times as late after its start.
    void coll_finish(int sid, std::int64_t i, Cycle t) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        const std::int64_t reps = std::max<std::int64_t>(1, s.step->repeats);
        const Cycle ready = s.ready[static_cast<std::size_t>(i)];
        if (reps > 1 && t > ready) t = ready + static_cast<Cycle>(reps) * (t - ready);
        finish_at(sid, i, t);
    }

    Cycle relay_cost(const StepState&) const { return m_relay + static_cast<Cycle>(std::ceil(m_per_w)); }
    Cycle tail_cost(const StepState& s) const {
        return static_cast<Cycle>(std::ceil((s.wavelets - 1) * std::max(1.0, m_per_w)));
    }

    void send(StepState& s, int sid, std::int64_t from, std::int64_t to, std::uint8_t kind, Cycle t, bool multicast,
              std::uint32_t extra = 0, std::uint32_t wavelets = 0) {
        Message m;
        m.src = core_of(s.reg, from);
        m.dst = core_of(s.reg, to);
        m.wavelets = wavelets ? wavelets : s.wavelets;
        m.color = static_cast<std::uint16_t>(kind);
        m.multicast = multicast;
        m.owner = m_self;
        m.tag = make_tag(static_cast<std::uint32_t>(sid), kind, extra);
        m_k.send(m, t);
        if (!s.line_rep.empty()) {
            std::int64_t line, pos, n, tline, tpos, tn;
            line_of(s, from, line, pos, n);
            line_of(s, to, tline, tpos, tn);
            s.sent[static_cast<std::size_t>(line)].push_back({pos, tpos, m.wavelets});
        }
    }

    void busy_add(StepState& s, std::int64_t i, Cycle c) {
        m_k.add_busy(core_of(s.reg, i), c);
        if (!s.busy.empty()) s.busy[static_cast<std::size_t>(i)] += static_cast<std::uint32_t>(std::min<Cycle>(c, 0xFFFFFFFFu));
    }

    // Symmetry: classify the line of a member that just became ready. Returns true when the member's
    // line is a mirror (nothing to simulate: it finishes when its representative member does, shifted).
    bool mirror_ready(int sid, std::int64_t i, Cycle t) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        if (s.line_rep.empty()) return false;
        std::int64_t line, pos, n;
        line_of(s, i, line, pos, n);
        std::int32_t& rep = s.line_rep[static_cast<std::size_t>(line)];
        if (rep == -2) return false;
        if (rep == -1) {
            // Mirror the first representative covering the same positions of the other axis (the same
            // columns for row segments) whose member at `pos` is ready.
            const std::int64_t segs = s.step->along == Along::Row ? (s.reg.cols + s.line_len - 1) / s.line_len : 1;
            for (std::int32_t r : s.reps) {
                if (segs > 1 && r % segs != line % segs) continue;
                if (!s.bcast_src.empty() && s.bcast_src[static_cast<std::size_t>(r)] != s.bcast_src[static_cast<std::size_t>(line)]) continue;
                const std::int64_t ri = member_of_line(s, r, pos);
                std::int64_t rl, rp, rn;
                line_of(s, ri, rl, rp, rn);
                if (rn != n || s.pending[static_cast<std::size_t>(ri)] != 0) continue;
                rep = r;
                s.line_delta[static_cast<std::size_t>(line)] =
                    static_cast<std::int64_t>(t) - static_cast<std::int64_t>(s.ready[static_cast<std::size_t>(ri)]);
                s.mirrors[static_cast<std::size_t>(r)].push_back(static_cast<std::int32_t>(line));
                break;
            }
            if (rep == -1) {
                rep = -2;
                s.reps.push_back(static_cast<std::int32_t>(line));
                return false;
            }
        }
        const std::int64_t ri = member_of_line(s, rep, pos);
        const std::int64_t delta = s.line_delta[static_cast<std::size_t>(line)];
        if (s.pending[static_cast<std::size_t>(ri)] != 0 ||
            static_cast<std::int64_t>(t) - static_cast<std::int64_t>(s.ready[static_cast<std::size_t>(ri)]) != delta) {
            // Not a pure shift: the member is given its representative's duration (counted, reported).
            ++m_mismatch;
        }
        ++m_mirrored;
        const Cycle rf = s.finish[static_cast<std::size_t>(ri)];
        if (rf != kNever) mirror_finish(sid, i, ri, t);
        return true;
    }

    void mirror_finish(int sid, std::int64_t i, std::int64_t ri, Cycle ready_i) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        const Cycle dur = s.finish[static_cast<std::size_t>(ri)] - s.ready[static_cast<std::size_t>(ri)];
        m_k.add_busy(core_of(s.reg, i), s.busy[static_cast<std::size_t>(ri)]);
        finish_at(sid, i, ready_i + dur);
    }

    std::int64_t member_of_line(const StepState& s, std::int64_t line, std::int64_t pos) const {
        if (s.step->along == Along::Col) return pos * s.reg.cols + line;
        const std::int64_t segs = (s.reg.cols + s.line_len - 1) / s.line_len;
        return (line / segs) * s.reg.cols + (line % segs) * s.line_len + pos;
    }

    // Link statistics of the mirror lines: the representative's messages, replayed along each mirror's
    // straight path.
    void replay_links(StepState& s) {
        if (s.line_rep.empty()) return;
        auto& ls = m_k.stats().link_wavelets;
        for (std::int32_t r : s.reps) {
            for (std::int32_t l : s.mirrors[static_cast<std::size_t>(r)]) {
                for (const auto& m : s.sent[static_cast<std::size_t>(r)]) {
                    const std::int64_t a = member_of_line(s, l, m.from), b = member_of_line(s, l, m.to);
                    std::int64_t ar = a / s.reg.cols, ac = a % s.reg.cols;
                    const std::int64_t br = b / s.reg.cols, bc = b % s.reg.cols;
                    while (ac != bc || ar != br) {
                        std::uint8_t d;
                        if (ac != bc) d = bc > ac ? fabric::sc::East : fabric::sc::West;
                        else d = br > ar ? fabric::sc::South : fabric::sc::North;
                        const std::uint64_t core = m_k.core_id(s.reg.wafer, s.reg.row0 + ar, s.reg.col0 + ac);
                        ls[core * 4 + d] += m.wavelets;
                        if (d == fabric::sc::East) ++ac;
                        else if (d == fabric::sc::West) --ac;
                        else if (d == fabric::sc::South) ++ar;
                        else --ar;
                    }
                }
            }
        }
    }

    // Chain reduce over positions [lo, hi) of the line toward hi-1. `total` is the whole line's length
    // (for the multicast back when this chain is the whole reduction).
    void chain_try(int sid, std::int64_t i, std::int64_t pos, std::int64_t lo, std::int64_t hi, std::int64_t total) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        const Cycle ready = s.ready[static_cast<std::size_t>(i)];
        if (s.pending[static_cast<std::size_t>(i)] != 0) return;
        Cycle send_t;
        if (pos == lo) {
            send_t = ready;
        } else {
            const Cycle h = s.head_in[static_cast<std::size_t>(i)];
            if (h == kNever) return;
            send_t = std::max(ready, h + relay_cost(s));
            busy_add(s, i, relay_cost(s) + tail_cost(s));
        }
        if (pos < hi - 1) {
            send(s, sid, i, member(s, i, pos + 1), kMsgChain, send_t, false);
            if (s.step->collective == CollectiveKind::Reduce) coll_finish(sid, i, send_t + s.wavelets - 1);
            return;
        }
        // End of the chain (a chain of one core has nothing to combine and no tail to wait for).
        const Cycle complete = hi - lo > 1 ? send_t + tail_cost(s) : send_t;
        if (s.step->algo == AllReduceAlgo::Tree && total != hi - lo) {
            tree_leader_done(sid, i, pos, total, complete);
            return;
        }
        root_done(sid, i, pos, total, complete);
    }

    void root_done(int sid, std::int64_t i, std::int64_t pos, std::int64_t n, Cycle complete) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        if (s.step->collective == CollectiveKind::AllReduce) send(s, sid, i, member(s, i, 0), kMsgCast, complete, true);
        coll_finish(sid, i, complete);
    }

    // Two-level tree: chains inside groups of g positions toward each group's last position (leader),
    // then a chain over the leaders (g hops apart, routers forward) toward the last one (root).
    void tree_try(int sid, std::int64_t i, std::int64_t pos, std::int64_t n) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        const std::int64_t g = std::min(s.tree_g, n);
        const std::int64_t k = pos / g;
        const std::int64_t lo = k * g, hi = std::min(n, lo + g);
        chain_try(sid, i, pos, lo, hi, hi - lo == n ? n : -1);
    }

    void tree_leader_done(int sid, std::int64_t i, std::int64_t pos, std::int64_t, Cycle t1) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        s.t1[static_cast<std::size_t>(i)] = t1;
        tree_level2(sid, i, pos);
    }

    void tree_level2(int sid, std::int64_t i, std::int64_t pos) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        std::int64_t line, p, n;
        line_of(s, i, line, p, n);
        const std::int64_t g = std::min(s.tree_g, n);
        const std::int64_t K = (n + g - 1) / g;
        const std::int64_t k = pos / g;
        const Cycle t1 = s.t1[static_cast<std::size_t>(i)];
        if (t1 == kNever) return;
        Cycle send_t;
        if (k == 0) {
            send_t = t1;
        } else {
            const Cycle h = s.head_in2[static_cast<std::size_t>(i)];
            if (h == kNever) return;
            send_t = std::max(t1, h + relay_cost(s));
            busy_add(s, i, relay_cost(s) + tail_cost(s));
        }
        if (k < K - 1) {
            const std::int64_t next_leader = std::min(n, (k + 2) * g) - 1;
            send(s, sid, i, member(s, i, next_leader), kMsgLevel2, send_t, false);
            if (s.step->collective == CollectiveKind::Reduce) coll_finish(sid, i, send_t + s.wavelets - 1);
            return;
        }
        root_done(sid, i, pos, n, k == 0 ? t1 : send_t + tail_cost(s));
    }

    // Two-way K-tree (WaferLLM MeshGEMV), on mapping::KTreeShape. Level 1: in each group, the positions
    // west of the root chain east toward it and those east of it chain west, at the same time; the root
    // combines both streams. Level 2: the group roots west of the two central roots chain east toward
    // the left one, the others west toward the right one (routers forward between roots). The two
    // central roots exchange their partial sums, then multicast: the left root west to position 0, the
    // right root east to n-1 and west to the left root's neighbour.
    void ktree_try(int sid, std::int64_t i, std::int64_t pos, std::int64_t n) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        if (s.pending[static_cast<std::size_t>(i)] != 0) return;
        const mapping::KTreeShape kt(n);
        const std::int64_t g = kt.group_of(pos), lo = kt.lo(g), hi = kt.hi(g), r = kt.root(g);
        const Cycle ready = s.ready[static_cast<std::size_t>(i)];
        if (pos != r) {
            const bool west = pos < r;  // west half: sends east
            const bool first = west ? pos == lo : pos == hi - 1;
            Cycle send_t = ready;
            if (!first) {
                const Cycle h = west ? s.head_in[static_cast<std::size_t>(i)] : s.head_in2[static_cast<std::size_t>(i)];
                if (h == kNever) return;
                send_t = std::max(ready, h + relay_cost(s));
                busy_add(s, i, relay_cost(s) + tail_cost(s));
            }
            send(s, sid, i, member(s, i, west ? pos + 1 : pos - 1), kMsgKt1, send_t, false, west ? 0 : 1);
            if (s.step->collective == CollectiveKind::Reduce) coll_finish(sid, i, send_t + s.wavelets - 1);
            return;
        }
        Cycle t = ready;
        int streams = 0;
        if (r > lo) {
            const Cycle h = s.head_in[static_cast<std::size_t>(i)];
            if (h == kNever) return;
            t = std::max(t, h + relay_cost(s));
            ++streams;
        }
        if (r < hi - 1) {
            const Cycle h = s.head_in2[static_cast<std::size_t>(i)];
            if (h == kNever) return;
            t = std::max(t, h + relay_cost(s));
            ++streams;
        }
        if (streams > 0) busy_add(s, i, static_cast<Cycle>(streams) * relay_cost(s) + tail_cost(s));
        s.t1[static_cast<std::size_t>(i)] = streams > 0 ? t + tail_cost(s) : t;
        ktree_level2(sid, i, pos, n);
    }

    void ktree_level2(int sid, std::int64_t i, std::int64_t pos, std::int64_t n) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        const Cycle t1 = s.t1[static_cast<std::size_t>(i)];
        if (t1 == kNever) return;
        const mapping::KTreeShape kt(n);
        const std::int64_t g = kt.group_of(pos), G = kt.groups;
        const std::int64_t hl = kt.left_root_group(), hr = kt.right_root_group();
        if (G == 1) {
            ktree_final(sid, i, pos, n, t1);
            return;
        }
        const bool west = g <= hl;
        const bool first = west ? g == 0 : g == G - 1;
        Cycle send_t = t1;
        if (!first) {
            const Cycle h = s.kt_h2[static_cast<std::size_t>(i)];
            if (h == kNever) return;
            send_t = std::max(t1, h + relay_cost(s));
            busy_add(s, i, relay_cost(s) + tail_cost(s));
        }
        if (g != hl && g != hr) {
            send(s, sid, i, member(s, i, kt.root(west ? g + 1 : g - 1)), kMsgKt2, send_t, false, west ? 0 : 1);
            if (s.step->collective == CollectiveKind::Reduce) coll_finish(sid, i, send_t + s.wavelets - 1);
            return;
        }
        const Cycle c2 = first ? t1 : send_t + tail_cost(s);
        s.kt_c2[static_cast<std::size_t>(i)] = c2;
        send(s, sid, i, member(s, i, kt.root(g == hl ? hr : hl)), kMsgKtX, c2, false);
        ktree_exchange(sid, i, pos, n);
    }

    void ktree_exchange(int sid, std::int64_t i, std::int64_t pos, std::int64_t n) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        const Cycle c2 = s.kt_c2[static_cast<std::size_t>(i)], hx = s.kt_hx[static_cast<std::size_t>(i)];
        if (c2 == kNever || hx == kNever) return;
        busy_add(s, i, relay_cost(s) + tail_cost(s));
        ktree_final(sid, i, pos, n, std::max(c2, hx + relay_cost(s)) + tail_cost(s));
    }

    void ktree_final(int sid, std::int64_t i, std::int64_t pos, std::int64_t n, Cycle f) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        const mapping::KTreeShape kt(n);
        const std::int64_t rl = kt.root(kt.left_root_group()), rr = kt.root(kt.right_root_group());
        if (s.step->collective == CollectiveKind::AllReduce) {
            if (pos == rl && rl > 0) send(s, sid, i, member(s, i, 0), kMsgCast, f, true);
            if (pos == rr && rr < n - 1) send(s, sid, i, member(s, i, n - 1), kMsgCast, f, true);
            if (pos == rr && rr - rl > 1) send(s, sid, i, member(s, i, rl + 1), kMsgCast, f, true);
        }
        coll_finish(sid, i, f);
    }

    // Folded ring: order 0, 2, 4, ..., then the odd positions descending; neighbours are 2 hops apart
    // (1 at the ends). 2(n-1) steps of chunks of m/n wavelets: reduce-scatter then all-gather.
    static std::int64_t ring_pos(std::int64_t idx, std::int64_t n) {
        const std::int64_t evens = (n + 1) / 2;
        if (idx < evens) return 2 * idx;
        const std::int64_t j = idx - evens;  // 0 = largest odd
        const std::int64_t largest_odd = (n - 1) % 2 == 1 ? n - 1 : n - 2;
        return largest_odd - 2 * j;
    }
    static std::int64_t ring_idx(std::int64_t pos, std::int64_t n) {
        const std::int64_t evens = (n + 1) / 2;
        if (pos % 2 == 0) return pos / 2;
        const std::int64_t largest_odd = (n - 1) % 2 == 1 ? n - 1 : n - 2;
        return evens + (largest_odd - pos) / 2;
    }
    static std::int64_t ring_succ(std::int64_t pos, std::int64_t n) { return ring_pos((ring_idx(pos, n) + 1) % n, n); }
    static std::int64_t ring_pred(std::int64_t pos, std::int64_t n) { return ring_pos((ring_idx(pos, n) + n - 1) % n, n); }

    void ring_try(int sid, std::int64_t i, std::int64_t pos, std::int64_t n) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        if (s.pending[static_cast<std::size_t>(i)] != 0) return;
        const std::uint32_t steps = static_cast<std::uint32_t>(2 * (n - 1));
        const std::uint32_t chunk = static_cast<std::uint32_t>(std::max<std::int64_t>(1, (s.wavelets + n - 1) / n));
        std::uint32_t& sent = s.count[static_cast<std::size_t>(i)];  // low 16: sent, high 16: received
        const Cycle ready = s.ready[static_cast<std::size_t>(i)];
        const Cycle per = m_relay + static_cast<Cycle>(std::ceil(std::max(1.0, m_per_w) * chunk));
        Cycle prev = kNever;
        // A member that became ready after chunks had already arrived catches up: it sends every step
        // whose previous chunk it holds, one relay apart (before, it sent one and then waited for a
        // chunk that never came: a deadlock without the symmetry shortcut).
        for (;;) {
            const std::uint32_t n_sent = sent & 0xFFFF, n_recv = sent >> 16;
            if (n_sent >= steps) return;
            if (n_sent > n_recv) return;  // waits for the chunk of the previous step
            Cycle t = n_sent == 0 ? ready : std::max(ready, s.head_in[static_cast<std::size_t>(i)] + per);
            if (prev != kNever) t = std::max(t, prev + per);
            if (n_sent > 0) busy_add(s, i, m_relay + chunk);
            send(s, sid, i, member(s, i, ring_succ(pos, n)), kMsgRing, t, false, n_sent, chunk);
            sent = (n_recv << 16) | (n_sent + 1);
            prev = t;
        }
    }

    void ring_recv(int sid, std::int64_t i, Cycle head, Cycle tail) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        std::int64_t line, pos, n;
        line_of(s, i, line, pos, n);
        std::uint32_t& c = s.count[static_cast<std::size_t>(i)];
        const std::uint32_t n_sent = c & 0xFFFF, n_recv = (c >> 16) + 1;
        c = (n_recv << 16) | n_sent;
        s.head_in[static_cast<std::size_t>(i)] = head;
        const std::uint32_t steps = static_cast<std::uint32_t>(2 * (n - 1));
        if (n_recv >= steps) {
            coll_finish(sid, i, std::max(tail, s.ready[static_cast<std::size_t>(i)]));
            return;
        }
        ring_try(sid, i, pos, n);
    }

    // Shift (one repeat simulated; every repeat of the step is identical): each core sends its tile to
    // its folded-ring successor while it computes on the tile in hand.
    Cycle shift_alone(const StepState& s) const {
        const double reps = static_cast<double>(std::max<std::int64_t>(1, s.step->repeats));
        return static_cast<Cycle>(std::ceil(reps * (s.compute_cycles + m_relay + m_w.task_overhead_cycles)));
    }

    // Where a Shift step's member at `pos` sends its tile (`to`), or receives from (`from`, the
    // inverse): folded ring (2-hop neighbours), torus (p -> p + 1, the last core back to the first) or
    // Cannon's skew (row r sends its tiles r positions back, cyclic; row 0 does not move).
    std::int64_t shift_peer(const StepState& s, std::int64_t i, std::int64_t pos, std::int64_t n, bool to) const {
        switch (s.step->pattern) {
            case mapping::ShiftPattern::FoldedRing: return to ? ring_succ(pos, n) : ring_pred(pos, n);
            case mapping::ShiftPattern::Torus: return to ? (pos + 1) % n : (pos + n - 1) % n;
            case mapping::ShiftPattern::Skew: {
                const std::int64_t a = (i / s.reg.cols) % n;
                return to ? (pos + n - a) % n : (pos + a) % n;
            }
            case mapping::ShiftPattern::Neighbour: return to ? std::max<std::int64_t>(0, pos - 1) : std::min(n - 1, pos + 1);
        }
        return pos;
    }

    void shift_ready(int sid, std::int64_t i, std::int64_t pos, std::int64_t n, Cycle t) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        const std::int64_t to = shift_peer(s, i, pos, n, true), from = shift_peer(s, i, pos, n, false);
        if (to != pos) send(s, sid, i, member(s, i, to), kMsgShift, t, false);
        s.head_in[static_cast<std::size_t>(i)] = t;  // (reused) when this member sent its tile
        if (from == pos) {  // nothing arrives (a skew of 0; the last core of a neighbour shift)
            finish_at(sid, i, t + shift_alone(s));
            return;
        }
        shift_maybe_finish(sid, i);
    }

    // SUMMA panel (one repeat simulated, steady state as for shifts): the first core of each row
    // multicasts the activation panel east along the row, the first core of each column the weight
    // panel south down the column; a core multiplies when both have arrived.
    void panel_ready(int sid, std::int64_t i, std::int64_t pos, std::int64_t n, Cycle t) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        const std::int64_t r = i / s.reg.cols, c = i % s.reg.cols;
        if (pos == 0) {
            send(s, sid, i, member(s, i, n - 1), kMsgPanelA, t, true);
            s.arrived[static_cast<std::size_t>(i)] = t;
        }
        if (r == 0) {
            if (s.reg.rows > 1) send(s, sid, i, (s.reg.rows - 1) * s.reg.cols + c, kMsgPanelB, t, true, 0, s.wavelets2);
            s.head_in2[static_cast<std::size_t>(i)] = t;
        }
        panel_maybe_finish(sid, i);
    }

    void panel_maybe_finish(int sid, std::int64_t i) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        const Cycle a = s.arrived[static_cast<std::size_t>(i)], b = s.head_in2[static_cast<std::size_t>(i)];
        if (s.pending[static_cast<std::size_t>(i)] != 0 || a == kNever || b == kNever ||
            s.finish[static_cast<std::size_t>(i)] != kNever)
            return;
        std::int64_t line, pos, n;
        line_of(s, i, line, pos, n);
        const Cycle sent_a = s.ready[static_cast<std::size_t>(member(s, i, 0))];
        const Cycle sent_b = s.ready[static_cast<std::size_t>(i % s.reg.cols)];
        const double lat_a = a > sent_a ? static_cast<double>(a - sent_a) + 1.0 : 1.0;
        const double lat_b = b > sent_b ? static_cast<double>(b - sent_b) + 1.0 : 1.0;
        tiled_arrived(sid, i, std::max(lat_a, lat_b), std::max(a, b));
    }

    // Cannon's torus shift and SUMMA's panels run in lock step along a line: every repeat waits for the
    // line's slowest transfer (the wrap-around link, the farthest multicast destination), as in the
    // analytic closed form. The line's members finish once all have their first tile.
    static bool lock_step(const mapping::Step& st) {
        return st.collective == CollectiveKind::Panel ||
               (st.collective == CollectiveKind::Shift && st.pattern == mapping::ShiftPattern::Torus);
    }

    void tiled_arrived(int sid, std::int64_t i, double lat, Cycle in) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        if (!lock_step(*s.step)) {
            tiled_finish(sid, i, lat, in);
            return;
        }
        // A SUMMA panel step is lock-step over the whole region (every panel needs both its row and
        // its column multicast, and the rows share the column multicasts); a torus shift per line.
        const bool whole = s.step->collective == CollectiveKind::Panel;
        std::int64_t line = 0, pos = 0, n = s.reg.cores();
        if (!whole) line_of(s, i, line, pos, n);
        s.lock_lat[static_cast<std::size_t>(i)] = static_cast<Cycle>(lat);
        s.lock_in[static_cast<std::size_t>(i)] = in;
        Cycle& mx = s.line_max[static_cast<std::size_t>(line)];
        mx = std::max(mx, static_cast<Cycle>(lat));
        if (++s.line_cnt[static_cast<std::size_t>(line)] < n) return;
        for (std::int64_t p = 0; p < n; ++p) {
            const std::int64_t j = whole ? p : member(s, i, p);
            tiled_finish(sid, j, static_cast<double>(mx), s.lock_in[static_cast<std::size_t>(j)]);
        }
    }

    // A repeated tiled step (shift or panel) whose first tiles arrived at `in` after a transfer of
    // `lat` cycles: every repeat takes max(lat, compute) + the buffer switch (steady state).
    void tiled_finish(int sid, std::int64_t i, double lat, Cycle in) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        const Cycle ready = s.ready[static_cast<std::size_t>(i)];
        const double reps = static_cast<double>(std::max<std::int64_t>(1, s.step->repeats));
        const double fixed = m_relay + m_w.task_overhead_cycles;
        const double per = std::max(lat, s.compute_cycles) + fixed;
        const double own = static_cast<double>(ready) + reps * per;
        const double waited = static_cast<double>(in) + 1.0 + (reps - 1.0) * per + s.compute_cycles + fixed;
        busy_add(s, i, static_cast<Cycle>(reps * (s.compute_cycles + m_relay)));
        finish_at(sid, i, static_cast<Cycle>(std::ceil(std::max(own, waited))));
    }

    void shift_maybe_finish(int sid, std::int64_t i) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        const Cycle in = s.arrived[static_cast<std::size_t>(i)];
        if (s.pending[static_cast<std::size_t>(i)] != 0 || in == kNever || s.finish[static_cast<std::size_t>(i)] != kNever) return;
        // Steady state: every repeat takes the longer of the compute on the tile in hand and the transfer
        // of the next tile (its latency through the fabric, contention included), plus the buffer
        // switch. The first tile may arrive late (its sender started later): that delay counts once.
        const Cycle sent = s.arrived_from_send[static_cast<std::size_t>(i)];
        tiled_arrived(sid, i, in > sent ? static_cast<double>(in - sent) + 1.0 : 1.0, in);
    }

    // Hand-offs between stages. Side by side (or across wafers): each row's slice of the activation
    // leaves from the east column of the source region toward the west column of the next one.
    // Stacked vertically: the slice of row r goes straight down column (r mod cols) to row r of the
    // next region, so the slices use different columns; the row then spreads it from there.
    static bool vertical(const StepState& s) { return s.src.wafer == s.reg.wafer && s.src.col0 == s.reg.col0; }
    static std::int64_t handoff_senders(const StepState& s) {
        if (vertical(s)) return std::max<std::int64_t>(1, s.src.rows);
        return std::max<std::int64_t>(1, std::min(s.step->lanes, s.src.rows));
    }

    // A core of the source region finished its last step: lane sources send to the next stage.
    void handoff_source(int sid, std::uint64_t core, Cycle t) {
        StepState& s = m_steps[static_cast<std::size_t>(sid)];
        note_start(sid, t);
        const std::int64_t r = m_k.row_of(core) - s.src.row0, c = m_k.col_of(core) - s.src.col0;
        const std::int64_t lanes = handoff_senders(s);
        const bool vert = vertical(s);
        if (r >= lanes) return;
        if (vert ? c != r % s.src.cols : c != s.src.cols - 1) return;
        for (std::int64_t br = r; br < s.reg.rows; br += lanes) {
            Message m;
            m.src = core;
            m.dst = m_k.core_id(s.reg.wafer, s.reg.row0 + br, vert ? s.reg.col0 + std::min(c, s.reg.cols - 1) : s.reg.col0);
            m.wavelets = s.wavelets;
            m.color = kMsgHandoff;
            m.owner = m_self;
            m.tag = make_tag(static_cast<std::uint32_t>(sid), kMsgHandoff);
            m_k.send(m, t);
        }
    }

    void check_complete() {
        for (const auto& p : m_progs) {
            if (p.done) continue;
            std::ostringstream os;
            const Cycle t = m_k.now();
            if (m_k.stopped_by_bound()) {
                os << "stopped at cycle " << (t - m_t0) << " by " << (m_k.stopped_by_wall() ? "systemc.max_wall" : "systemc.max_cycles")
                   << " while " << p.phase << " " << p.lp->name
                   << " (stage " << p.stage << ") was " << (p.started ? "running" : "waiting");
            } else {
                os << "deadlock: no event left at cycle " << (t - m_t0) << " while " << p.phase << " " << p.lp->name
                   << " (stage " << p.stage << ") has not finished";
                for (int j = 0; j < static_cast<int>(p.lp->steps.size()) && p.open; ++j) {
                    const StepState& s = m_steps[static_cast<std::size_t>(p.first_step + j)];
                    if (s.done || !s.allocated) continue;
                    os << "; step " << s.step->op << " waits on " << s.remaining << " of " << s.reg.cores() << " cores";
                    break;
                }
                auto links = m_k.links_busy_after(t, 4);
                if (!links.empty()) {
                    os << "; links still reserved:";
                    for (auto l : links) os << " (" << m_k.row_of(l / 4) << "," << m_k.col_of(l / 4) << ")->" << "EWSN"[l % 4];
                }
            }
            throw PlanError(os.str());
        }
    }

    FabricKernel& m_k;
    const fabric::WaferSpec& m_w;
    const mapping::ExecutionPlan& m_plan;
    bool m_symmetry = true;
    std::uint64_t m_mirrored = 0, m_mismatch = 0;
    std::uint32_t m_self = 0;
    Cycle m_relay = 0;
    double m_per_w = 1;
    Cycle m_t0 = 0;
    std::vector<Prog> m_progs;
    std::deque<StepState> m_steps;  // references stay valid while programs open (push_back)
};

void Executor::on_head(const Message& m, std::uint64_t, std::int64_t row, std::int64_t col, Cycle head, Cycle tail) {
    const int sid = static_cast<int>(tag_step(m.tag));
    StepState& s = m_steps[static_cast<std::size_t>(sid)];
    if (!s.allocated || s.done) return;
    const std::int64_t i = (row - s.reg.row0) * s.reg.cols + (col - s.reg.col0);
    switch (tag_kind(m.tag)) {
        case kMsgChain: {
            s.head_in[static_cast<std::size_t>(i)] = head;
            std::int64_t line, pos, n;
            line_of(s, i, line, pos, n);
            if (s.step->algo == AllReduceAlgo::Tree) tree_try(sid, i, pos, n);
            else chain_try(sid, i, pos, 0, n, n);
            break;
        }
        case kMsgLevel2: {
            s.head_in2[static_cast<std::size_t>(i)] = head;
            std::int64_t line, pos, n;
            line_of(s, i, line, pos, n);
            tree_level2(sid, i, pos);
            break;
        }
        case kMsgCast: {
            s.arrived[static_cast<std::size_t>(i)] = tail;
            // A member that has started the step (all its inputs were ready) is done when the data arrive.
            if (s.pending[static_cast<std::size_t>(i)] == 0 && s.finish[static_cast<std::size_t>(i)] == kNever)
                coll_finish(sid, i, std::max(tail, s.ready[static_cast<std::size_t>(i)]));
            break;
        }
        case kMsgRing:
            ring_recv(sid, i, head, tail);
            break;
        case kMsgPanelA:
            s.arrived[static_cast<std::size_t>(i)] = tail;
            panel_maybe_finish(sid, i);
            break;
        case kMsgPanelB:
            s.head_in2[static_cast<std::size_t>(i)] = tail;
            panel_maybe_finish(sid, i);
            break;
        case kMsgKt1: {
            (tag_extra(m.tag) == 0 ? s.head_in : s.head_in2)[static_cast<std::size_t>(i)] = head;
            std::int64_t line, pos, n;
            line_of(s, i, line, pos, n);
            ktree_try(sid, i, pos, n);
            break;
        }
        case kMsgKt2: {
            s.kt_h2[static_cast<std::size_t>(i)] = head;
            std::int64_t line, pos, n;
            line_of(s, i, line, pos, n);
            ktree_level2(sid, i, pos, n);
            break;
        }
        case kMsgKtX: {
            s.kt_hx[static_cast<std::size_t>(i)] = head;
            std::int64_t line, pos, n;
            line_of(s, i, line, pos, n);
            ktree_exchange(sid, i, pos, n);
            break;
        }
        case kMsgShift: {
            s.arrived[static_cast<std::size_t>(i)] = tail;
            // The sender is this member's predecessor on the folded ring.
            std::int64_t line, pos, n;
            line_of(s, i, line, pos, n);
            const std::int64_t pred = shift_peer(s, i, pos, n, false);
            s.arrived_from_send[static_cast<std::size_t>(i)] = s.head_in[static_cast<std::size_t>(member(s, i, pred))];
            shift_maybe_finish(sid, i);
            break;
        }
        case kMsgHandoff: {
            // The row of the destination region that received its slice can go on; the spread that
            // follows starts from the core that holds it.
            const std::int64_t r = i / s.reg.cols;
            for (int d : s.dependents) {
                StepState& ds = m_steps[static_cast<std::size_t>(d)];
                if (ds.step->kind == StepKind::Collective && ds.step->collective == CollectiveKind::Broadcast &&
                    ds.step->along == Along::Row && !ds.bcast_src.empty())
                    ds.bcast_src[static_cast<std::size_t>(r)] = static_cast<std::int32_t>(i % s.reg.cols);
            }
            for (std::int64_t c = 0; c < s.reg.cols; ++c) {
                const std::int64_t j = r * s.reg.cols + c;
                s.arrived[static_cast<std::size_t>(j)] = tail;
                finish_at(sid, j, tail);
            }
            break;
        }
        default:
            throw InternalError("systemc engine: unknown message kind");
    }
}

// ---- results ----

struct PhaseRun {
    Cycle cycles = 0;
    std::vector<LayerTime> layers;
    std::vector<TraceSpan> spans;
};

PhaseRun collect(const Executor& ex, const fabric::WaferSpec& w, std::size_t first_prog, std::size_t end_prog,
                 double trace_offset_us) {
    PhaseRun out;
    const double cyc = w.cycle_s();
    Cycle prev_end = ex.t0();
    Cycle last = ex.t0();
    for (std::size_t i = first_prog; i < end_prog; ++i) {
        const Prog& p = ex.progs()[i];
        last = std::max(last, p.end);
    }
    out.cycles = last - ex.t0();
    for (std::size_t i = first_prog; i < end_prog; ++i) {
        const Prog& p = ex.progs()[i];
        LayerTime lt;
        lt.name = p.lp->name;
        lt.stage = p.stage;
        // Time this program adds to the critical path, split in proportion to its steps' spans.
        const Cycle add = p.end > prev_end ? p.end - prev_end : 0;
        prev_end = std::max(prev_end, p.end);
        double comp = 0, coll = 0, xfer = 0, ovh = 0;
        for (std::size_t j = 0; j < p.lp->steps.size(); ++j) {
            const StepState& s = ex.steps()[static_cast<std::size_t>(p.first_step) + j];
            const double span = s.first_start == kNever ? 0.0 : static_cast<double>(s.last_finish - std::min(s.last_finish, s.first_start));
            if (s.step->kind == StepKind::Compute) {
                // A compute step's cycles include core.task_overhead (when it has work): that share of
                // its span is overhead, as in the analytic step_cost().
                const bool work = s.step->macs_per_core > 0 || s.step->elementwise_per_core > 0;
                const double share = work && s.compute_cycles > 0 ? std::min(1.0, w.task_overhead_cycles / s.compute_cycles) : 0.0;
                comp += span * (1 - share);
                ovh += span * share;
            } else if (s.step->kind == StepKind::Handoff) {
                xfer += span;
            } else {
                coll += span;
            }
        }
        const double sum = comp + coll + xfer + ovh;
        const double sec = static_cast<double>(add) * cyc;
        if (sum > 0) {
            lt.compute_s = sec * comp / sum;
            lt.collective_s = sec * coll / sum;
            lt.transfer_s = sec * xfer / sum;
            lt.overhead_s = sec * ovh / sum;
        } else {
            lt.collective_s = sec;
        }
        out.layers.push_back(lt);
        TraceSpan sp;
        sp.name = p.lp->name;
        sp.phase = p.phase;
        sp.wafer = 0;
        sp.stage = p.stage;
        sp.start_us = trace_offset_us + (p.start == kNever ? 0.0 : static_cast<double>(p.start - ex.t0()) * cyc * 1e6);
        sp.dur_us = p.start == kNever ? 0.0 : static_cast<double>(p.end - p.start) * cyc * 1e6;
        out.spans.push_back(sp);
    }
    return out;
}

struct Settings {
    fabric::sc::KernelConfig kernel;
    bool symmetry = true;
    int prefill_samples = 2;
    int decode_samples = 2;
    double memory_limit = 0;
};

double available_memory_bytes() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    double kb = 0;
    std::string unit;
    while (in >> key >> kb >> unit)
        if (key == "MemAvailable:") return kb * 1024.0;
    return 8.0 * 1024 * 1024 * 1024;
}

// Checks the memory the plan's fabric needs against the limit (PlanError, exit 3), then configures the
// kernel for it.
void configure_kernel(FabricKernel& k, const fabric::WaferSpec& wafer, const mapping::ExecutionPlan& plan,
                      const Settings& settings) {
    fabric::sc::KernelConfig kc = settings.kernel;
    kc.wafers = plan.wafers;
    // Fabric state, plus the executor's per-core arrays of the steps open at once (ready, finish,
    // pending, collective scratch and statistics: ~96 B per core of a region, ~8 steps open), plus
    // the process's fixed footprint (presets, model graph, plan, SystemC kernel).
    std::int64_t largest = 0;
    for (const auto& st : plan.stages) largest = std::max(largest, st.region.cores());
    const double need = FabricKernel::estimate_bytes(wafer, kc) + 8.0 * 96.0 * static_cast<double>(largest) +
                        64.0 * 1024 * 1024;
    const double limit = settings.memory_limit > 0 ? settings.memory_limit : 0.8 * available_memory_bytes();
    if (need > limit)
        throw PlanError("the SystemC fabric for " + std::to_string(kc.wafers) + " wafer(s) of " + wafer.name + " needs " +
                        format_quantity(need, UnitKind::Bytes) + " of state; the limit is " +
                        format_quantity(limit, UnitKind::Bytes) + " (systemc.memory_limit or 80% of available memory)");
    k.configure(wafer, kc);
}

Settings settings_from(const ParamSet* params) {
    Settings st;
    if (params) {
        const ParamSet& p = *params;
        st.kernel.region_side = static_cast<int>(p.integer("region"));
        st.kernel.quantum = static_cast<Cycle>(p.num("quantum"));
        st.kernel.max_cycles = static_cast<Cycle>(p.num("max_cycles"));
        st.kernel.max_wall_s = p.num("max_wall");
        st.decode_samples = static_cast<int>(p.integer("decode_samples"));
        st.memory_limit = p.num("memory_limit");
        st.symmetry = p.flag("symmetry");
        st.prefill_samples = static_cast<int>(p.integer("prefill_samples"));
    }
    return st;
}

class Runner {
public:
    Runner(const EngineInput& in, const Settings& st) : m_in(in), m_st(st), m_k(FabricKernel::instance()) {}

    void configure() { configure_kernel(m_k, m_in.wafer, m_in.plan, m_st); }

    PhaseRun decode(std::int64_t context, std::int64_t batch, double trace_offset_us) {
        configure();
        auto prog = mapping::build_decode_program(m_in.plan, m_in.graph, m_in.wafer, context, batch);
        Executor ex(m_k, m_in.wafer, m_in.plan, m_st.symmetry);
        ex.add_phase(prog, "decode", false, {});
        ex.run();
        m_events += static_cast<double>(m_k.events_processed());
        m_mirrored += ex.mirrored_members();
        m_mismatch += ex.symmetry_mismatches();
        return collect(ex, m_in.wafer, 0, ex.progs().size(), trace_offset_us);
    }

    // Prefill: each chunk's program (all stages) runs on the fabric on its own, which measures every
    // stage's busy time and every hand-off for that chunk; the chunks then pipeline through the stages
    // (chunk c starts on stage s when the stage has finished chunk c-1 and chunk c has arrived), as in
    // the analytic engine. Overlap between consecutive chunks inside one stage is not simulated.
    // Prefill: a chunk's program (all stages) runs on the fabric on its own, which measures every
    // stage's busy time and every hand-off for that chunk; the chunks then pipeline through the stages
    // (chunk c starts on stage s when the stage has finished chunk c-1 and chunk c has arrived), as in
    // the analytic engine. `samples` chunks are simulated (the first, the last, evenly spaced between);
    // the others are interpolated linearly (a chunk differs from the next only in its attention
    // context, whose cost is linear). Prefill runs without the symmetry shortcut: its timing patterns
    // are not exact time-shifted copies across lines.
    PhaseRun prefill(double trace_offset_us) {
        const auto chunks = mapping::prefill_chunks(m_in.plan);
        const std::size_t S = m_in.plan.stages.size(), C = chunks.size();
        std::vector<std::size_t> sim;
        const std::size_t samples = std::min<std::size_t>(C, static_cast<std::size_t>(std::max(1, m_st.prefill_samples)));
        for (std::size_t k = 0; k < samples; ++k) {
            const std::size_t c = samples == 1 ? C - 1 : static_cast<std::size_t>(std::llround(static_cast<double>(k) * (C - 1) / (samples - 1)));
            if (sim.empty() || sim.back() != c) sim.push_back(c);
        }
        struct ChunkRun {
            std::vector<double> busy, hand, first;
            PhaseRun run;
        };
        std::map<std::size_t, ChunkRun> runs;
        std::vector<std::int64_t> prior(C, 0);
        for (std::size_t c = 1; c < C; ++c) prior[c] = prior[c - 1] + chunks[c - 1];
        for (std::size_t c : sim) {
            const bool last = c + 1 == C;
            configure();
            auto prog = mapping::build_prefill_program(m_in.plan, m_in.graph, m_in.wafer, chunks[c], prior[c]);
            Executor ex(m_k, m_in.wafer, m_in.plan, false);
            ex.add_phase(prog, "prefill.chunk" + std::to_string(c), !last, {});
            ex.run();
            m_events += static_cast<double>(m_k.events_processed());
            m_mirrored += ex.mirrored_members();
            m_mismatch += ex.symmetry_mismatches();
            ChunkRun cr;
            cr.run = collect(ex, m_in.wafer, 0, ex.progs().size(), 0.0);
            cr.busy.assign(S, 0.0);
            cr.hand.assign(S, 0.0);
            cr.first.assign(S, -1.0);
            for (const auto& p : ex.progs()) {
                const double st = static_cast<double>(p.start - ex.t0()), en = static_cast<double>(p.end - ex.t0());
                const std::size_t k = static_cast<std::size_t>(p.stage);
                if (p.lp->name.rfind("handoff.", 0) == 0) {
                    cr.hand[k] += en - st;
                } else {
                    if (cr.first[k] < 0) cr.first[k] = st;
                    cr.busy[k] = std::max(cr.busy[k], en - cr.first[k]);
                }
            }
            runs[c] = std::move(cr);
        }
        // Interpolation weights between the simulated chunks around c.
        auto around = [&](std::size_t c, std::size_t& lo, std::size_t& hi, double& w) {
            lo = sim.front();
            hi = sim.back();
            for (std::size_t x : sim) {
                if (x <= c) lo = x;
                if (x >= c) { hi = x; break; }
            }
            w = hi == lo ? 0.0 : static_cast<double>(c - lo) / static_cast<double>(hi - lo);
        };
        PhaseRun out;
        std::map<std::string, std::size_t> index;
        std::vector<double> stage_free(S, 0.0);
        double makespan = 0;
        const double cyc_us = m_in.wafer.cycle_s() * 1e6;
        for (std::size_t c = 0; c < C; ++c) {
            std::size_t lo, hi;
            double w;
            around(c, lo, hi, w);
            const ChunkRun& a = runs[lo];
            const ChunkRun& b = runs[hi];
            double arrive = 0;
            std::vector<double> begin(S, 0.0);
            for (std::size_t k = 0; k < S; ++k) {
                const double busy = (1 - w) * a.busy[k] + w * b.busy[k];
                const double hand = (1 - w) * a.hand[k] + w * b.hand[k];
                begin[k] = std::max(stage_free[k], arrive);
                stage_free[k] = begin[k] + busy;
                arrive = stage_free[k] + hand;
            }
            makespan = stage_free[S - 1];
            if (runs.count(c)) {
                for (auto sp : runs[c].run.spans) {
                    const std::size_t k = static_cast<std::size_t>(sp.stage);
                    sp.start_us = trace_offset_us + (begin[k] - std::max(0.0, runs[c].first[k])) * cyc_us + sp.start_us;
                    out.spans.push_back(sp);
                }
            }
            // Per-layer breakdown: every chunk's share, interpolated for chunks not simulated.
            const auto& la = a.run.layers;
            const auto& lb = b.run.layers;
            const bool is_last = c + 1 == C;
            const auto& names = is_last ? runs[C - 1].run.layers : la;
            for (std::size_t i = 0; i < names.size(); ++i) {
                LayerTime l = names[i];
                if (!is_last && i < lb.size() && i < la.size()) {
                    l.compute_s = (1 - w) * la[i].compute_s + w * lb[i].compute_s;
                    l.collective_s = (1 - w) * la[i].collective_s + w * lb[i].collective_s;
                    l.transfer_s = (1 - w) * la[i].transfer_s + w * lb[i].transfer_s;
                    l.overhead_s = (1 - w) * la[i].overhead_s + w * lb[i].overhead_s;
                }
                auto it = index.find(l.name);
                if (it == index.end()) {
                    index[l.name] = out.layers.size();
                    out.layers.push_back(l);
                } else {
                    LayerTime& t = out.layers[it->second];
                    t.compute_s += l.compute_s;
                    t.collective_s += l.collective_s;
                    t.transfer_s += l.transfer_s;
                    t.overhead_s += l.overhead_s;
                }
            }
        }
        out.cycles = static_cast<Cycle>(std::ceil(makespan));
        return out;
    }

    void heatmaps(EngineResult& res) const {
        const auto& st = m_k.stats();
        const std::size_t R = static_cast<std::size_t>(m_k.rows()), C = static_cast<std::size_t>(m_k.cols());
        const char* dirs[4] = {"east", "west", "south", "north"};
        for (int w = 0; w < m_in.plan.wafers; ++w) {
            const std::size_t base = static_cast<std::size_t>(w) * R * C;
            Heatmap busy{"core_busy_cycles", "cycles", "cycles each core computed or relayed in one simulated decode step (the first decode context; prefill chunk when only prefill runs)", w, R, C, {}};
            busy.data.resize(R * C);
            for (std::size_t i = 0; i < R * C; ++i) busy.data[i] = static_cast<float>(st.core_busy[base + i]);
            res.heatmaps.push_back(std::move(busy));
            Heatmap sram{"core_sram_high_water_bytes", "B", "SRAM high-water mark per core (weights + KV at the longest context + activations + runtime)", w, R, C,
                         mapping::sram_map(m_in.plan, m_in.wafer, w)};
            res.heatmaps.push_back(std::move(sram));
            for (int d = 0; d < 4; ++d) {
                Heatmap lw{std::string("link_wavelets_") + dirs[d], "wavelets", std::string("wavelets sent on each router's ") + dirs[d] + " output link", w, R, C, {}};
                Heatmap lq{std::string("link_peak_queue_") + dirs[d], "wavelets", std::string("peak wavelets waiting for each router's ") + dirs[d] + " output link (estimate)", w, R, C, {}};
                lw.data.resize(R * C);
                lq.data.resize(R * C);
                for (std::size_t i = 0; i < R * C; ++i) {
                    lw.data[i] = static_cast<float>(st.link_wavelets[(base + i) * 4 + static_cast<std::size_t>(d)]);
                    lq.data[i] = static_cast<float>(st.link_peak_queue[(base + i) * 4 + static_cast<std::size_t>(d)]);
                }
                res.heatmaps.push_back(std::move(lw));
                res.heatmaps.push_back(std::move(lq));
            }
        }
    }

    double events() const { return m_events; }
    std::uint64_t mirrored() const { return m_mirrored; }
    std::uint64_t mismatches() const { return m_mismatch; }

private:
    const EngineInput& m_in;
    Settings m_st;
    FabricKernel& m_k;
    double m_events = 0;
    std::uint64_t m_mirrored = 0, m_mismatch = 0;
};

PhaseResult phase_result(const EngineInput& in, const std::vector<PhaseRun>& runs, std::int64_t batch, bool decode) {
    PhaseResult r;
    double cycles = 0;
    for (const auto& run : runs) cycles += static_cast<double>(run.cycles);
    cycles /= static_cast<double>(runs.size());
    r.seconds = cycles * in.wafer.cycle_s();
    r.layers = runs.front().layers;
    if (runs.size() > 1) {
        for (std::size_t k = 1; k < runs.size(); ++k)
            for (std::size_t i = 0; i < r.layers.size() && i < runs[k].layers.size(); ++i) {
                r.layers[i].compute_s += runs[k].layers[i].compute_s;
                r.layers[i].collective_s += runs[k].layers[i].collective_s;
                r.layers[i].transfer_s += runs[k].layers[i].transfer_s;
                r.layers[i].overhead_s += runs[k].layers[i].overhead_s;
            }
        for (auto& l : r.layers) {
            l.compute_s /= static_cast<double>(runs.size());
            l.collective_s /= static_cast<double>(runs.size());
            l.transfer_s /= static_cast<double>(runs.size());
            l.overhead_s /= static_cast<double>(runs.size());
        }
    }
    finish_wafer_phase(r, in, decode, batch);
    return r;
}

}  // namespace

EngineResult SystemcEngine::run(const EngineInput& in) const {
    const Settings st = settings_from(in.engine_params);
    Runner runner(in, st);
    EngineResult res;
    res.engine = name();
    res.device = in.wafer.name;
    res.device_count = in.plan.wafers;
    const auto& w = in.plan.workload;
    double offset = 0;
    bool have_maps = false;
    if (w.runs_decode()) {
        const auto ctxs = decode_sample_contexts(w, st.decode_samples);
        auto run_batch = [&](std::int64_t batch) {
            std::vector<PhaseRun> runs;
            for (std::size_t k = 0; k < ctxs.size(); ++k) {
                runs.push_back(runner.decode(ctxs[k], batch, offset));
                if (!have_maps) {
                    runner.heatmaps(res);
                    have_maps = true;
                }
                for (auto& sp : runs.back().spans) {
                    sp.phase = "decode.b" + std::to_string(batch) + ".ctx" + std::to_string(ctxs[k]);
                    res.trace.push_back(sp);
                }
                offset += static_cast<double>(runs.back().cycles) * in.wafer.cycle_s() * 1e6;
            }
            return phase_result(in, runs, batch, true);
        };
        res.decode = run_batch(w.batch);
        res.decode_batch1 = w.batch == 1 ? res.decode : run_batch(1);
        res.notes.push_back("systemc: decode simulated at " + std::to_string(ctxs.size()) +
                            " context(s) of the generated tokens and averaged");
    }
    if (w.runs_prefill()) {
        PhaseRun pr = runner.prefill(offset);
        if (!have_maps) runner.heatmaps(res);
        for (auto& sp : pr.spans) res.trace.push_back(sp);
        res.prefill = phase_result(in, {pr}, 1, false);
        res.notes.push_back("systemc: prefill shift steps simulate one repeat on the fabric and repeat it (steady state); "
                            "chunks are simulated on their own (" + std::to_string(std::min<std::size_t>(mapping::prefill_chunks(in.plan).size(),
                            static_cast<std::size_t>(st.prefill_samples))) + " of " + std::to_string(mapping::prefill_chunks(in.plan).size()) +
                            ", the others interpolated) and pipeline through the stages");
    }
    for (auto& sp : res.trace) {
        // Lanes: wafer of the stage.
        sp.wafer = in.plan.stages[static_cast<std::size_t>(sp.stage)].wafer;
    }
    res.max_context_tokens = in.plan.max_context_tokens;
    res.simulated_events = runner.events();
    if (st.symmetry)
        res.notes.push_back("systemc: " + std::to_string(runner.mirrored()) +
                            " collective members finished as exact time-shifted copies of simulated lines (" +
                            std::to_string(runner.mismatches()) + " not exact shifts: given their line's duration)");
    return res;
}

double systemc_program_seconds(const fabric::WaferSpec& wafer, const mapping::ExecutionPlan& plan,
                               const mapping::PhaseProgram& prog, const ParamSet* params) {
    const Settings st = settings_from(params);
    FabricKernel& k = FabricKernel::instance();
    configure_kernel(k, wafer, plan, st);
    Executor ex(k, wafer, plan, st.symmetry);
    ex.add_phase(prog, "program", false, {});
    ex.run();
    Cycle end = ex.t0();
    for (const auto& p : ex.progs()) end = std::max(end, p.end);
    return static_cast<double>(end - ex.t0()) * wafer.cycle_s();
}

}  // namespace wafersim::engines
