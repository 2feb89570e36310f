// Per-phase programs: how each op of each layer is partitioned over a stage's R x C region (GEMV with
// alternating orientation in decode, MeshGEMM-style shifted GEMM in prefill), which collectives it needs,
// and the hand-offs between stages and wafers. Also the per-core SRAM footprint used by the fit check.
#include <algorithm>
#include <cmath>
#include <map>

#include "sim/base/errors.hpp"
#include "sim/mapping/footprint.hpp"
#include "sim/mapping/mapper.hpp"

namespace wafersim::mapping {

using models::LayerGraph;
using models::Op;
using models::OpKind;
using models::PrecisionPolicy;
using models::WeightClass;

namespace {

double weight_bits_of(const Op& op, const PrecisionPolicy& p) {
    return op.weight_class == WeightClass::Expert ? p.expert_weight_bits : p.dense_weight_bits;
}

std::int64_t width_of(const Op& op, std::int64_t hidden) {
    if (op.out_features > 0) return op.out_features;
    if (op.in_features > 0) return op.in_features;
    return hidden;
}

bool is_qk_norm(const Op& op) { return op.name.find("q_norm") != std::string::npos || op.name.find("k_norm") != std::string::npos; }

// Effective context of an attention op: sliding layers see at most their window.
std::int64_t effective_context(const Op& op, std::int64_t context) {
    return op.window > 0 ? std::min(context, op.window) : context;
}

// Fraction of the N x N causal score matrix that is computed (window W caps each row at W).
double causal_fraction(std::int64_t n, std::int64_t window) {
    if (n <= 0) return 0;
    const double N = static_cast<double>(n);
    if (window <= 0 || window >= n) return (N * (N + 1) / 2) / (N * N);
    const double W = static_cast<double>(window);
    // rows 1..W grow linearly, the rest are capped at W
    return (W * (W + 1) / 2 + (N - W) * W) / (N * N);
}

enum class Layout { Rows, Cols };  // decode vectors split over the R rows (replicated across columns) or over C

struct Region {
    std::int64_t R = 1, C = 1;
};

Step compute_step(std::string name, double macs, double elementwise, double bits, std::vector<int> deps) {
    Step s;
    s.kind = StepKind::Compute;
    s.op = std::move(name);
    s.macs_per_core = macs;
    s.elementwise_per_core = elementwise;
    s.weight_bits = bits;
    s.deps = std::move(deps);
    return s;
}

Step collective_step(std::string name, CollectiveKind kind, Along along, const Region& g, double bytes,
                     AllReduceAlgo algo, std::vector<int> deps) {
    Step s;
    s.kind = StepKind::Collective;
    s.op = std::move(name);
    s.collective = kind;
    s.along = along;
    s.algo = algo;
    s.group_cores = along == Along::Row ? g.C : g.R;
    s.groups = along == Along::Row ? g.R : g.C;
    s.bytes_per_core = bytes;
    s.deps = std::move(deps);
    return s;
}

// Builds one layer's decode program.
class DecodeBuilder {
public:
    DecodeBuilder(const Region& g, std::int64_t batch, std::int64_t context, std::int64_t hidden,
                  const PrecisionPolicy& p, AllReduceAlgo algo)
        : m_g(g), m_B(batch), m_L(context), m_hidden(hidden), m_p(p), m_algo(algo), m_act(p.activation_bits / 8.0) {}

    LayerProgram build(const LayerGraph& layer, const std::string& name, int index) {
        LayerProgram prog;
        prog.name = name;
        prog.layer = index;
        const auto& ops = layer.ops();
        std::vector<int> last_step(ops.size(), -1);
        std::vector<Layout> layout(ops.size(), Layout::Rows);
        std::map<int, std::pair<int, Layout>> group_done;  // fuse group -> (step, layout)
        for (std::size_t i = 0; i < ops.size(); ++i) {
            const Op& op = ops[i];
            std::vector<int> deps;
            Layout in = Layout::Rows;
            auto preds = layer.predecessors(static_cast<int>(i));
            for (int pi : preds) {
                if (last_step[pi] >= 0) deps.push_back(last_step[pi]);
                in = layout[pi];
            }
            if (op.fuse_group >= 0) {
                auto it = group_done.find(op.fuse_group);
                if (it != group_done.end()) {
                    last_step[i] = it->second.first;
                    layout[i] = it->second.second;
                    continue;
                }
            }
            Layout out = in;
            switch (op.kind) {
                case OpKind::Norm:
                    last_step[i] = norm(prog, op, in, deps);
                    break;
                case OpKind::Projection:
                case OpKind::Experts:
                    last_step[i] = matvec(prog, layer, op, in, deps, out);
                    if (op.fuse_group >= 0) group_done[op.fuse_group] = {last_step[i], out};
                    break;
                case OpKind::Attention:
                    if (in != Layout::Cols) throw InternalError("decode attention expects q/k/v split over columns");
                    last_step[i] = attention(prog, op, deps);
                    out = Layout::Cols;
                    break;
                case OpKind::Embedding:
                    last_step[i] = embedding(prog, op, deps);
                    out = Layout::Rows;
                    break;
                case OpKind::Rope:
                case OpKind::Activation:
                case OpKind::Residual: {
                    const std::int64_t w = width_of(op, m_hidden);
                    const double elems = static_cast<double>(m_B * ceil_div(w, in == Layout::Rows ? m_g.R : m_g.C));
                    prog.steps.push_back(compute_step(op.name, 0, elems * (op.kind == OpKind::Activation ? 4 : 1), 16, deps));
                    last_step[i] = static_cast<int>(prog.steps.size()) - 1;
                    break;
                }
            }
            layout[i] = out;
        }
        return prog;
    }

    // Vector of `width` elements split along `in`: local sum of squares, all-reduce of B scalars across
    // the other axis, then scale.
    int norm(LayerProgram& prog, const Op& op, Layout in, std::vector<int> deps) {
        const std::int64_t w = width_of(op, m_hidden);
        const double elems = static_cast<double>(m_B * ceil_div(w, in == Layout::Rows ? m_g.R : m_g.C));
        prog.steps.push_back(compute_step(op.name, 0, 2 * elems, 16, std::move(deps)));
        if (is_qk_norm(op)) return static_cast<int>(prog.steps.size()) - 1;  // per head, inside a core's slice
        int s = static_cast<int>(prog.steps.size()) - 1;
        prog.steps.push_back(collective_step(op.name + ".sumsq", CollectiveKind::AllReduce,
                                             in == Layout::Rows ? Along::Col : Along::Row, m_g, 4.0 * m_B, m_algo, {s}));
        s = static_cast<int>(prog.steps.size()) - 1;
        prog.steps.push_back(compute_step(op.name + ".scale", 0, 2 * elems, 16, {s}));
        return static_cast<int>(prog.steps.size()) - 1;
    }

    // A (possibly fused) distributed GEMV. Input split along rows -> K over R, N over C, all-reduce down
    // the columns, output split over C; input split along columns -> the transposed orientation.
    int matvec(LayerProgram& prog, const LayerGraph& layer, const Op& first, Layout in, std::vector<int> deps,
               Layout& out) {
        std::vector<const Op*> members;
        if (first.fuse_group >= 0) {
            for (const auto& o : layer.ops())
                if (o.fuse_group == first.fuse_group) members.push_back(&o);
        } else {
            members.push_back(&first);
        }
        const bool rows_in = in == Layout::Rows;
        const std::int64_t kdiv = rows_in ? m_g.R : m_g.C, ndiv = rows_in ? m_g.C : m_g.R;
        double macs = 0, msg_elems = 0, bits = 16;
        std::string name;
        for (const Op* o : members) {
            const double tile = static_cast<double>(ceil_div(o->in_features, kdiv) * ceil_div(o->out_features, ndiv));
            const double k = o->kind == OpKind::Experts ? static_cast<double>(std::max<std::int64_t>(1, o->top_k)) : 1.0;
            macs += m_B * k * tile;
            // Routed experts whose output is the hidden vector are combined locally before the reduction.
            const bool combined = o->kind == OpKind::Experts && o->out_features == m_hidden;
            msg_elems += m_B * (combined ? 1.0 : k) * static_cast<double>(ceil_div(o->out_features, ndiv));
            bits = weight_bits_of(*o, m_p);
            name += (name.empty() ? "" : "+") + o->name;
        }
        prog.steps.push_back(compute_step(name, macs, 0, bits, std::move(deps)));
        int s = static_cast<int>(prog.steps.size()) - 1;
        prog.steps.push_back(collective_step(name + ".reduce", CollectiveKind::AllReduce,
                                             rows_in ? Along::Col : Along::Row, m_g, msg_elems * m_act, m_algo, {s}));
        s = static_cast<int>(prog.steps.size()) - 1;
        out = rows_in ? Layout::Cols : Layout::Rows;
        if (first.name == "router") {
            // Top-k needs every expert's logit: gather them along the other axis.
            prog.steps.push_back(collective_step("router.gather", CollectiveKind::AllReduce,
                                                 rows_in ? Along::Row : Along::Col, m_g,
                                                 4.0 * m_B * static_cast<double>(first.out_features), m_algo, {s}));
            s = static_cast<int>(prog.steps.size()) - 1;
        }
        if (first.name == "lm_head") {
            // Greedy sampling: arg-max of the logits (value + index) along the other axis.
            prog.steps.push_back(collective_step("lm_head.argmax", CollectiveKind::AllReduce,
                                                 rows_in ? Along::Row : Along::Col, m_g, 8.0 * m_B, m_algo, {s}));
            s = static_cast<int>(prog.steps.size()) - 1;
        }
        return s;
    }

    // KV cache: tokens over the R rows, KV dimensions over the C columns. Each column serves the
    // heads/kv_heads query heads that share its KV dimensions (q's layout is chosen to match).
    int attention(LayerProgram& prog, const Op& op, std::vector<int> deps) {
        const std::int64_t L = effective_context(op, m_L);
        const std::int64_t kvd = op.kv_heads * op.head_dim;
        const std::int64_t qd = op.heads * op.head_dim;
        const std::int64_t gqa = std::max<std::int64_t>(1, op.heads / std::max<std::int64_t>(1, op.kv_heads));
        const std::int64_t tok = ceil_div(L, m_g.R);
        const std::int64_t kv_col = ceil_div(kvd, m_g.C);
        const std::int64_t heads_per_col = std::max<std::int64_t>(1, ceil_div(op.kv_heads, m_g.C));
        const std::int64_t cols_per_head = std::max<std::int64_t>(1, m_g.C / std::max<std::int64_t>(1, op.kv_heads));
        const double macs = static_cast<double>(m_B * tok * kv_col * gqa);
        prog.steps.push_back(compute_step(op.name + ".scores", macs, 0, 16, std::move(deps)));
        int s = static_cast<int>(prog.steps.size()) - 1;
        if (cols_per_head > 1) {
            Region seg{m_g.R, cols_per_head};
            Step st = collective_step(op.name + ".scores.reduce", CollectiveKind::AllReduce, Along::Row, seg,
                                      4.0 * m_B * tok * gqa * heads_per_col, m_algo, {s});
            st.groups = m_g.R * (m_g.C / cols_per_head);
            prog.steps.push_back(st);
            s = static_cast<int>(prog.steps.size()) - 1;
        }
        const double score_elems = static_cast<double>(m_B * tok * gqa * heads_per_col);
        prog.steps.push_back(compute_step(op.name + ".softmax", 0, 3 * score_elems, 16, {s}));
        s = static_cast<int>(prog.steps.size()) - 1;
        prog.steps.push_back(collective_step(op.name + ".softmax.reduce", CollectiveKind::AllReduce, Along::Col, m_g,
                                             8.0 * m_B * gqa * heads_per_col, m_algo, {s}));
        s = static_cast<int>(prog.steps.size()) - 1;
        prog.steps.push_back(compute_step(op.name + ".context", macs, 0, 16, {s}));
        s = static_cast<int>(prog.steps.size()) - 1;
        prog.steps.push_back(collective_step(op.name + ".context.reduce", CollectiveKind::AllReduce, Along::Col, m_g,
                                             4.0 * m_B * static_cast<double>(ceil_div(qd, m_g.C)), m_algo, {s}));
        return static_cast<int>(prog.steps.size()) - 1;
    }

    int embedding(LayerProgram& prog, const Op& op, std::vector<int> deps) {
        // The token's row is read where it is stored and multicast along each row of the region.
        prog.steps.push_back(collective_step(op.name, CollectiveKind::Broadcast, Along::Row, m_g,
                                             m_act * m_B * static_cast<double>(ceil_div(m_hidden, m_g.R)), m_algo,
                                             std::move(deps)));
        return static_cast<int>(prog.steps.size()) - 1;
    }

private:
    Region m_g;
    std::int64_t m_B, m_L, m_hidden;
    const PrecisionPolicy& m_p;
    AllReduceAlgo m_algo;
    double m_act;
};

// Builds one layer's prefill program: activations are [tokens, width] tiles, tokens over rows and
// width over columns; GEMMs run as S = max(R, C) shift steps with 2-hop interleaved neighbours.
class PrefillBuilder {
public:
    PrefillBuilder(const Region& g, std::int64_t tokens, std::int64_t hidden, const PrecisionPolicy& p,
                   AllReduceAlgo algo)
        : m_g(g), m_N(tokens), m_hidden(hidden), m_p(p), m_algo(algo), m_act(p.activation_bits / 8.0) {}

    LayerProgram build(const LayerGraph& layer, const std::string& name, int index) {
        LayerProgram prog;
        prog.name = name;
        prog.layer = index;
        const auto& ops = layer.ops();
        std::vector<int> last_step(ops.size(), -1);
        std::map<int, int> group_done;
        for (std::size_t i = 0; i < ops.size(); ++i) {
            const Op& op = ops[i];
            std::vector<int> deps;
            for (int pi : layer.predecessors(static_cast<int>(i)))
                if (last_step[pi] >= 0) deps.push_back(last_step[pi]);
            if (op.fuse_group >= 0) {
                auto it = group_done.find(op.fuse_group);
                if (it != group_done.end()) {
                    last_step[i] = it->second;
                    continue;
                }
            }
            switch (op.kind) {
                case OpKind::Norm: last_step[i] = norm(prog, op, deps); break;
                case OpKind::Projection:
                case OpKind::Experts:
                    last_step[i] = gemm(prog, layer, op, deps);
                    if (op.fuse_group >= 0) group_done[op.fuse_group] = last_step[i];
                    break;
                case OpKind::Attention: last_step[i] = attention(prog, op, deps); break;
                case OpKind::Embedding: last_step[i] = embedding(prog, op, deps); break;
                case OpKind::Rope:
                case OpKind::Activation:
                case OpKind::Residual: {
                    const double elems = static_cast<double>(ceil_div(m_N, m_g.R) * ceil_div(width_of(op, m_hidden), m_g.C));
                    prog.steps.push_back(compute_step(op.name, 0, elems * (op.kind == OpKind::Activation ? 4 : 1), 16, deps));
                    last_step[i] = static_cast<int>(prog.steps.size()) - 1;
                    break;
                }
            }
        }
        return prog;
    }

    int norm(LayerProgram& prog, const Op& op, std::vector<int> deps) {
        const double elems = static_cast<double>(ceil_div(m_N, m_g.R) * ceil_div(width_of(op, m_hidden), m_g.C));
        prog.steps.push_back(compute_step(op.name, 0, 2 * elems, 16, std::move(deps)));
        int s = static_cast<int>(prog.steps.size()) - 1;
        if (is_qk_norm(op)) return s;
        prog.steps.push_back(collective_step(op.name + ".sumsq", CollectiveKind::AllReduce, Along::Row, m_g,
                                             4.0 * static_cast<double>(ceil_div(m_N, m_g.R)), m_algo, {s}));
        s = static_cast<int>(prog.steps.size()) - 1;
        prog.steps.push_back(compute_step(op.name + ".scale", 0, 2 * elems, 16, {s}));
        return static_cast<int>(prog.steps.size()) - 1;
    }

    int gemm(LayerProgram& prog, const LayerGraph& layer, const Op& first, std::vector<int> deps) {
        std::vector<const Op*> members;
        if (first.fuse_group >= 0) {
            for (const auto& o : layer.ops())
                if (o.fuse_group == first.fuse_group) members.push_back(&o);
        } else {
            members.push_back(&first);
        }
        const std::int64_t S = std::max(m_g.R, m_g.C);
        const std::int64_t tm = ceil_div(m_N, m_g.R);
        double macs = 0, a_bytes = 0, b_bytes = 0, bits = 16;
        std::string name;
        for (const Op* o : members) {
            const std::int64_t tk = ceil_div(o->in_features, S), tn = ceil_div(o->out_features, m_g.C);
            bits = weight_bits_of(*o, m_p);
            double copies = 1, k = 1;
            if (o->kind == OpKind::Experts) {
                k = static_cast<double>(std::max<std::int64_t>(1, o->top_k));
                copies = models::expected_experts_touched(o->experts, o->top_k, m_N);
            }
            macs += k * static_cast<double>(tm * tk * tn);
            a_bytes = std::max(a_bytes, m_act * static_cast<double>(tm * tk));
            b_bytes += copies * bits / 8.0 * static_cast<double>(tk * tn);
            name += (name.empty() ? "" : "+") + o->name;
        }
        Step st;
        st.kind = StepKind::Collective;
        st.op = name;
        st.collective = CollectiveKind::Shift;
        st.along = Along::Row;  // activation tiles move along rows, weight tiles along columns, at once
        st.group_cores = S;
        st.groups = std::min(m_g.R, m_g.C);
        st.bytes_per_core = std::max(a_bytes, b_bytes);
        st.shift_hops = 2;
        st.repeats = S;
        st.macs_per_core = macs;
        st.weight_bits = bits;
        st.algo = m_algo;
        st.deps = std::move(deps);
        prog.steps.push_back(st);
        int s = static_cast<int>(prog.steps.size()) - 1;
        if (first.name == "router") {
            prog.steps.push_back(collective_step("router.gather", CollectiveKind::AllReduce, Along::Row, m_g,
                                                 4.0 * static_cast<double>(tm * first.out_features), m_algo, {s}));
            s = static_cast<int>(prog.steps.size()) - 1;
        }
        return s;
    }

    // Ring attention down the columns: K/V tiles circulate over the R rows; each step computes its
    // causal share of QK^T and PV; partial scores of a head spread over several columns are reduced.
    int attention(LayerProgram& prog, const Op& op, std::vector<int> deps) {
        const std::int64_t kvd = op.kv_heads * op.head_dim;
        const std::int64_t gqa = std::max<std::int64_t>(1, op.heads / std::max<std::int64_t>(1, op.kv_heads));
        const std::int64_t tm = ceil_div(m_N, m_g.R);
        const std::int64_t kv_col = ceil_div(kvd, m_g.C);
        const std::int64_t heads_per_col = std::max<std::int64_t>(1, ceil_div(op.kv_heads, m_g.C));
        const std::int64_t cols_per_head = std::max<std::int64_t>(1, m_g.C / std::max<std::int64_t>(1, op.kv_heads));
        const double frac = causal_fraction(m_N, op.window);
        Step st;
        st.kind = StepKind::Collective;
        st.op = op.name + ".ring";
        st.collective = CollectiveKind::Shift;
        st.along = Along::Col;
        st.group_cores = m_g.R;
        st.groups = m_g.C;
        st.bytes_per_core = 2.0 * m_p.kv_bits / 8.0 * static_cast<double>(tm * kv_col);
        st.shift_hops = 2;
        st.repeats = m_g.R;
        st.macs_per_core = 2.0 * frac * static_cast<double>(tm * tm * kv_col * gqa);
        st.weight_bits = 16;
        st.algo = m_algo;
        st.deps = std::move(deps);
        prog.steps.push_back(st);
        int s = static_cast<int>(prog.steps.size()) - 1;
        if (cols_per_head > 1) {
            Region seg{m_g.R, cols_per_head};
            Step red = collective_step(op.name + ".scores.reduce", CollectiveKind::AllReduce, Along::Row, seg,
                                       4.0 * frac * static_cast<double>(tm * tm * gqa * heads_per_col), m_algo, {s});
            red.groups = m_g.R * (m_g.C / cols_per_head);
            red.repeats = m_g.R;
            prog.steps.push_back(red);
            s = static_cast<int>(prog.steps.size()) - 1;
        }
        prog.steps.push_back(compute_step(op.name + ".softmax", 0,
                                          3.0 * frac * static_cast<double>(tm * m_N * gqa * heads_per_col), 16, {s}));
        return static_cast<int>(prog.steps.size()) - 1;
    }

    int embedding(LayerProgram& prog, const Op& op, std::vector<int> deps) {
        prog.steps.push_back(collective_step(op.name, CollectiveKind::Broadcast, Along::Col, m_g,
                                             m_act * static_cast<double>(ceil_div(m_N, m_g.R) * ceil_div(m_hidden, m_g.C)),
                                             m_algo, std::move(deps)));
        return static_cast<int>(prog.steps.size()) - 1;
    }

private:
    Region m_g;
    std::int64_t m_N, m_hidden;
    const PrecisionPolicy& m_p;
    AllReduceAlgo m_algo;
    double m_act;
};

// Activation hand-off from stage `s` to stage `s + 1`.
LayerProgram handoff(const ExecutionPlan& plan, const fabric::WaferSpec& wafer, std::size_t s, double bytes,
                     double bytes_after_per_core, AllReduceAlgo algo) {
    const Stage& a = plan.stages[s];
    const Stage& b = plan.stages[s + 1];
    LayerProgram prog;
    prog.name = "handoff." + std::to_string(s) + "->" + std::to_string(s + 1);
    Step st;
    st.kind = StepKind::Handoff;
    st.op = prog.name;
    st.bytes = bytes;
    st.lanes = std::max<std::int64_t>(1, std::min(a.region.rows, b.region.rows));
    if (a.wafer != b.wafer) {
        st.crosses_wafer = true;
        // Wafer I/O sits at the border: east edge of this region to the east border, west border to the
        // next region.
        st.edge_hops = (wafer.usable_col0 + wafer.usable_cols - (a.region.col0 + a.region.cols)) +
                       (b.region.col0 - wafer.usable_col0) + 2;
    } else if (a.region.row0 == b.region.row0) {
        st.hops = std::max<std::int64_t>(1, std::llabs(b.region.col0 - a.region.col0) - a.region.cols + 1);
    } else if (a.region.col0 == b.region.col0) {
        st.hops = std::llabs(b.region.row0 - a.region.row0);
        st.lanes = std::max<std::int64_t>(1, std::min(a.region.cols, b.region.rows));
    } else {
        st.hops = std::llabs(b.region.row0 - a.region.row0) + std::llabs(b.region.col0 - a.region.col0);
        st.turns = true;
    }
    prog.steps.push_back(st);
    if (bytes_after_per_core > 0) {
        Region g{b.region.rows, b.region.cols};
        prog.steps.push_back(collective_step(prog.name + ".spread", CollectiveKind::Broadcast, Along::Row, g,
                                             bytes_after_per_core, algo, {0}));
    }
    return prog;
}

template <class LayerFn, class EdgeFn>
PhaseProgram build_program(const ExecutionPlan& plan, const models::ModelGraph& graph, LayerFn layer_fn,
                           EdgeFn edge_fn) {
    PhaseProgram out;
    for (std::size_t s = 0; s < plan.stages.size(); ++s) {
        const Stage& st = plan.stages[s];
        auto add = [&](LayerProgram p) {
            out.layers.push_back(std::move(p));
            out.stage_of.push_back(static_cast<int>(s));
        };
        if (st.has_embedding) add(layer_fn(st, nullptr, &graph.embedding, "embedding", -1));
        for (int l = st.first_layer; l < st.end_layer; ++l)
            add(layer_fn(st, &graph.layers[static_cast<std::size_t>(l)], nullptr, "layer." + std::to_string(l), l));
        if (st.has_lm_head) {
            add(layer_fn(st, nullptr, &graph.final_norm, "final_norm", -1));
            add(layer_fn(st, nullptr, &graph.lm_head, "lm_head", -1));
        }
        if (s + 1 < plan.stages.size()) add(edge_fn(s));
    }
    return out;
}

}  // namespace

PhaseProgram build_decode_program(const ExecutionPlan& plan, const models::ModelGraph& graph,
                                  const fabric::WaferSpec& wafer, std::int64_t context, std::int64_t batch) {
    const std::int64_t hidden = graph.embedding.out_features > 0 ? graph.embedding.out_features : graph.lm_head.in_features;
    const double act = plan.precision.activation_bits / 8.0;
    auto layer_fn = [&](const Stage& st, const LayerGraph* lg, const Op* op, const std::string& name, int idx) {
        DecodeBuilder b(Region{st.region.rows, st.region.cols}, batch, context, hidden, plan.precision, plan.allreduce);
        if (lg) return b.build(*lg, name, idx);
        LayerProgram prog;
        prog.name = name;
        if (op->kind == OpKind::Embedding) {
            b.embedding(prog, *op, {});
        } else if (op->kind == OpKind::Norm) {
            b.norm(prog, *op, Layout::Rows, {});
        } else {
            // The LM head is a GEMV from the hidden vector (split over rows) to the vocabulary; matvec
            // looks at the layer only for fused groups, and the LM head is not fused.
            Layout out;
            b.matvec(prog, graph.layers.front(), *op, Layout::Rows, {}, out);
        }
        return prog;
    };
    auto edge_fn = [&](std::size_t s) {
        const Stage& next = plan.stages[s + 1];
        return handoff(plan, wafer, s, act * batch * hidden, act * batch * ceil_div(hidden, next.region.rows),
                       plan.allreduce);
    };
    return build_program(plan, graph, layer_fn, edge_fn);
}

PhaseProgram build_prefill_program(const ExecutionPlan& plan, const models::ModelGraph& graph,
                                   const fabric::WaferSpec& wafer, std::int64_t tokens) {
    const std::int64_t hidden = graph.embedding.out_features > 0 ? graph.embedding.out_features : graph.lm_head.in_features;
    const double act = plan.precision.activation_bits / 8.0;
    auto layer_fn = [&](const Stage& st, const LayerGraph* lg, const Op* op, const std::string& name, int idx) {
        const Region g{st.region.rows, st.region.cols};
        if (lg) {
            PrefillBuilder b(g, tokens, hidden, plan.precision, plan.allreduce);
            return b.build(*lg, name, idx);
        }
        LayerProgram prog;
        prog.name = name;
        if (op->kind == OpKind::Embedding) {
            PrefillBuilder b(g, tokens, hidden, plan.precision, plan.allreduce);
            b.embedding(prog, *op, {});
        } else {
            // Only the last prompt token's logits are needed for the first output token: the final norm
            // and the LM head run as a decode step of one token.
            DecodeBuilder b(g, 1, tokens, hidden, plan.precision, plan.allreduce);
            if (op->kind == OpKind::Norm) {
                b.norm(prog, *op, Layout::Rows, {});
            } else {
                Layout out;
                b.matvec(prog, graph.layers.front(), *op, Layout::Rows, {}, out);
            }
        }
        return prog;
    };
    auto edge_fn = [&](std::size_t s) {
        return handoff(plan, wafer, s, act * static_cast<double>(tokens * hidden), 0, plan.allreduce);
    };
    return build_program(plan, graph, layer_fn, edge_fn);
}

// ---- Footprint ------------------------------------------------------------------------------------

double op_weight_bytes_per_core(const Op& op, std::int64_t R, std::int64_t C, const PrecisionPolicy& p) {
    const double bytes = weight_bits_of(op, p) / 8.0;
    switch (op.kind) {
        case OpKind::Projection:
            // Whichever orientation the op runs in, its tile is one of ceil(K/R)ceil(N/C) or ceil(K/C)ceil(N/R).
            return bytes * static_cast<double>(std::max(ceil_div(op.in_features, R) * ceil_div(op.out_features, C),
                                                        ceil_div(op.in_features, C) * ceil_div(op.out_features, R)));
        case OpKind::Experts:
            return bytes * static_cast<double>(op.experts) *
                   static_cast<double>(std::max(ceil_div(op.in_features, R) * ceil_div(op.out_features, C),
                                                ceil_div(op.in_features, C) * ceil_div(op.out_features, R)));
        case OpKind::Embedding:
            return bytes * static_cast<double>(ceil_div(op.in_features > 0 ? op.in_features : op.weight_params, R) *
                                               ceil_div(op.out_features, C));
        default:
            // Norm weights and biases: small vectors, split over rows or columns (the larger share).
            return bytes * static_cast<double>(ceil_div(op.weight_params, std::min(R, C)));
    }
}

double layer_weight_bytes_per_core(const LayerGraph& layer, std::int64_t R, std::int64_t C, const PrecisionPolicy& p) {
    double b = 0;
    for (const auto& op : layer.ops()) b += op_weight_bytes_per_core(op, R, C, p);
    return b;
}

double layer_kv_bytes_per_core(const LayerGraph& layer, std::int64_t R, std::int64_t C, std::int64_t batch,
                               std::int64_t context, const PrecisionPolicy& p) {
    double b = 0;
    for (const auto& op : layer.ops()) {
        if (op.kind != OpKind::Attention) continue;
        const std::int64_t L = effective_context(op, context);
        b += 2.0 * p.kv_bits / 8.0 * static_cast<double>(batch * ceil_div(L, R) * ceil_div(op.kv_heads * op.head_dim, C));
    }
    return b;
}

double layer_activation_bytes_per_core(const LayerGraph& layer, std::int64_t R, std::int64_t C, std::int64_t batch,
                                       std::int64_t prefill_tokens, const PrecisionPolicy& p) {
    const double act = p.activation_bits / 8.0;
    std::int64_t widest = 0, hidden = 0;
    for (const auto& op : layer.ops()) {
        if (op.kind == OpKind::Projection || op.kind == OpKind::Experts) {
            std::int64_t n = op.out_features * (op.kind == OpKind::Experts ? std::max<std::int64_t>(1, op.top_k) : 1);
            widest = std::max(widest, n);
            hidden = std::max(hidden, op.in_features);
        }
    }
    // Decode: input slice + output slice (fp32 partial sums), double-buffered.
    const double dec = 2.0 * batch * (act * static_cast<double>(ceil_div(hidden, std::min(R, C))) +
                                      4.0 * static_cast<double>(ceil_div(widest, std::min(R, C))));
    if (prefill_tokens <= 0) return dec;
    // Prefill: the residual tile, two A tiles and two B tiles in flight, and the fp32 output tile.
    const std::int64_t S = std::max(R, C);
    const double tm = static_cast<double>(ceil_div(prefill_tokens, R));
    const double pre = act * tm * static_cast<double>(ceil_div(hidden, C)) +
                       2.0 * act * tm * static_cast<double>(ceil_div(hidden, S)) +
                       2.0 * (p.dense_weight_bits / 8.0) * static_cast<double>(ceil_div(hidden, S) * ceil_div(widest, C)) +
                       4.0 * tm * static_cast<double>(ceil_div(widest, C));
    return std::max(dec, pre);
}

}  // namespace wafersim::mapping
