// Per-phase programs: how each op of each layer is partitioned over a stage's R x C region (GEMV with
// alternating orientation in decode; MeshGEMM, Cannon or SUMMA GEMM in prefill), which collectives it needs,
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

// Score entries a chunk of `n` new tokens computes after `prior` cached tokens: token i (1-based) sees
// min(prior + i, W) keys (W = window, or unbounded).
double chunk_scores(std::int64_t n, std::int64_t prior, std::int64_t window) {
    double total = 0;
    const double P = static_cast<double>(prior), W = window > 0 ? static_cast<double>(window) : 1e300;
    // Closed form of sum_{i=1..n} min(P + i, W).
    const double N = static_cast<double>(n);
    const double k = std::max(0.0, std::min(N, W - P));  // tokens below the cap
    total += k * P + k * (k + 1) / 2;
    total += (N - k) * std::min(W, P + N);
    return total;
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
                  const PrecisionPolicy& p, AllReduceAlgo algo, KvLayout kv = KvLayout::Balanced,
                  std::int64_t prompt = 0)
        : m_g(g), m_B(batch), m_L(context), m_hidden(hidden), m_p(p), m_algo(algo), m_act(p.activation_bits / 8.0),
          m_kv(kv), m_prompt(prompt) {}

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
                // The router only supplies gating weights; the activation's layout comes from the others.
                if (ops[static_cast<std::size_t>(pi)].name != "router") in = layout[pi];
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
        // Tokens on the busiest row: balanced and shift keep ceil(L/R); append leaves the prompt where
        // prefill spread it and piles every generated token on the last row.
        const std::int64_t prompt = std::min(L, m_prompt);
        const std::int64_t tok = m_kv == KvLayout::Append ? ceil_div(prompt, m_g.R) + (L - prompt) : ceil_div(L, m_g.R);
        const std::int64_t kv_col = ceil_div(kvd, m_g.C);
        if (m_kv == KvLayout::Shift && m_g.R > 1) {
            // The new token's K/V enter the last row; every row passes its oldest entry (K and V of its
            // kv_col dimensions) to the row above, 1 hop, all columns at once, before the scores.
            Step st = collective_step(op.name + ".kv_shift", CollectiveKind::Shift, Along::Col, m_g,
                                      2.0 * m_p.kv_bits / 8.0 * static_cast<double>(m_B * kv_col), m_algo, std::move(deps));
            st.pattern = ShiftPattern::Neighbour;
            st.shift_hops = 1;
            prog.steps.push_back(st);
            deps = {static_cast<int>(prog.steps.size()) - 1};
        }
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
    KvLayout m_kv;
    std::int64_t m_prompt;
};

// Builds one layer's prefill program: activations are [tokens, width] tiles, tokens over rows and
// width over columns; GEMMs run as S = max(R, C) shift steps with 2-hop interleaved neighbours.
class PrefillBuilder {
public:
    PrefillBuilder(const Region& g, std::int64_t tokens, std::int64_t prior, std::int64_t hidden,
                   const PrecisionPolicy& p, AllReduceAlgo algo, double buffer_bytes, GemmAlgo gemm)
        : m_g(g), m_N(tokens), m_prior(prior), m_hidden(hidden), m_p(p), m_algo(algo),
          m_act(p.activation_bits / 8.0), m_buffer(std::max(64.0, buffer_bytes)), m_gemm(gemm) {}

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
        double macs = 0, a_bytes = 0, c_bytes = 0, b_bytes = 0, bits = 16;
        std::string name;
        for (const Op* o : members) {
            const std::int64_t tk = ceil_div(o->in_features, S), tn = ceil_div(o->out_features, m_g.C);
            bits = weight_bits_of(*o, m_p);
            const double k = o->kind == OpKind::Experts ? static_cast<double>(std::max<std::int64_t>(1, o->top_k)) : 1.0;
            macs += k * static_cast<double>(tm * tk * tn);
            a_bytes = std::max(a_bytes, m_act * static_cast<double>(tm * tk));
            c_bytes += 4.0 * k * static_cast<double>(tm * tn);
            b_bytes += bits / 8.0 * k * static_cast<double>(tk * tn);
            name += (name.empty() ? "" : "+") + o->name;
        }
        // mapping.gemm=meshgemm (default), with the weights stationary (they are resident): the activation
        // tiles shift along the rows and the fp32 partial-sum tiles along the columns, 2 hops per step
        // (interleaved neighbours as in MeshGEMM). Two partial-sum tiles (in hand + arriving) must fit the GEMM
        // buffer; otherwise the output columns are computed in passes, each re-circulating the A tiles.
        const double passes = std::max(1.0, std::ceil(2.0 * c_bytes / m_buffer));
        Step st;
        st.kind = StepKind::Collective;
        st.op = name;
        st.collective = CollectiveKind::Shift;
        st.along = Along::Row;
        st.group_cores = S;
        st.groups = std::min(m_g.R, m_g.C);
        st.bytes_per_core = std::max(a_bytes, c_bytes / passes);
        st.shift_hops = 2;
        st.repeats = S * static_cast<std::int64_t>(passes);
        st.macs_per_core = macs / passes;
        st.weight_bits = bits;
        st.algo = m_algo;
        st.deps = std::move(deps);
        if (m_gemm == GemmAlgo::Cannon) {
            // Cannon on the mesh: the same tiles move on a torus laid on the line (1 hop, and the last core
            // back to the first over S - 1 hops: every step waits for that long link), after an initial
            // skew that moves row i's A tile i positions back (cyclic; up to S/2 tiles share a link).
            Step skew = st;
            skew.op = name + ".skew";
            skew.macs_per_core = 0;
            skew.repeats = 1;
            skew.bytes_per_core = a_bytes;
            skew.pattern = ShiftPattern::Skew;
            skew.shift_hops = S - 1;
            skew.serial_messages = static_cast<double>(std::max<std::int64_t>(1, m_g.C / 2));
            prog.steps.push_back(skew);
            st.deps = {static_cast<int>(prog.steps.size()) - 1};
            st.pattern = ShiftPattern::Torus;
            st.shift_hops = S - 1;
        } else if (m_gemm == GemmAlgo::Summa) {
            // SUMMA: the fp32 partial sums stay; in each of S k-panels the owner of the activation panel
            // multicasts it along the row and the owner of the weight panel down the column, while the
            // previous panel is multiplied (double buffering).
            st.collective = CollectiveKind::Panel;
            st.bytes_per_core = a_bytes;
            st.bytes2_per_core = b_bytes / passes;
            st.shift_hops = 0;
            st.group_cores = m_g.C;
            st.groups = m_g.R;
        }
        prog.steps.push_back(st);
        int s = static_cast<int>(prog.steps.size()) - 1;
        if (first.name == "router") {
            prog.steps.push_back(collective_step("router.gather", CollectiveKind::AllReduce, Along::Row, m_g,
                                                 4.0 * static_cast<double>(tm * first.out_features), m_algo, {s}));
            s = static_cast<int>(prog.steps.size()) - 1;
        }
        return s;
    }

    // Ring attention down the columns: the K/V tiles of the whole context (prior chunks + this one)
    // circulate over the R rows; each step computes its causal share of QK^T and PV; partial scores of
    // a head spread over several columns are reduced along the row.
    int attention(LayerProgram& prog, const Op& op, std::vector<int> deps) {
        const std::int64_t kvd = op.kv_heads * op.head_dim;
        const std::int64_t gqa = std::max<std::int64_t>(1, op.heads / std::max<std::int64_t>(1, op.kv_heads));
        const std::int64_t ctx = (op.window > 0 ? std::min(m_prior, op.window) : m_prior) + m_N;
        const std::int64_t tm = ceil_div(m_N, m_g.R);
        const std::int64_t tk = ceil_div(ctx, m_g.R);
        const std::int64_t kv_col = ceil_div(kvd, m_g.C);
        const std::int64_t heads_per_col = std::max<std::int64_t>(1, ceil_div(op.kv_heads, m_g.C));
        const std::int64_t cols_per_head = std::max<std::int64_t>(1, m_g.C / std::max<std::int64_t>(1, op.kv_heads));
        // Share of the chunk x context score block that is computed (causal mask, sliding window).
        const double frac = chunk_scores(m_N, m_prior, op.window) / (static_cast<double>(m_N) * static_cast<double>(ctx));
        Step st;
        st.kind = StepKind::Collective;
        st.op = op.name + ".ring";
        st.collective = CollectiveKind::Shift;
        st.along = Along::Col;
        st.group_cores = m_g.R;
        st.groups = m_g.C;
        st.bytes_per_core = 2.0 * m_p.kv_bits / 8.0 * static_cast<double>(tk * kv_col);
        st.shift_hops = 2;
        st.repeats = m_g.R;
        st.macs_per_core = 2.0 * frac * static_cast<double>(tm * tk * kv_col * gqa);
        st.weight_bits = 16;
        st.algo = m_algo;
        st.deps = std::move(deps);
        prog.steps.push_back(st);
        int s = static_cast<int>(prog.steps.size()) - 1;
        if (cols_per_head > 1) {
            Region seg{m_g.R, cols_per_head};
            Step red = collective_step(op.name + ".scores.reduce", CollectiveKind::AllReduce, Along::Row, seg,
                                       4.0 * frac * static_cast<double>(tm * tk * gqa * heads_per_col), m_algo, {s});
            red.groups = m_g.R * (m_g.C / cols_per_head);
            red.repeats = m_g.R;
            prog.steps.push_back(red);
            s = static_cast<int>(prog.steps.size()) - 1;
        }
        prog.steps.push_back(compute_step(op.name + ".softmax", 0,
                                          3.0 * frac * static_cast<double>(tm * ctx * gqa * heads_per_col), 16, {s}));
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
    std::int64_t m_N, m_prior, m_hidden;
    const PrecisionPolicy& m_p;
    AllReduceAlgo m_algo;
    double m_act;
    double m_buffer;
    GemmAlgo m_gemm;
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
        st.lanes = std::max<std::int64_t>(1, std::min(a.region.cols, b.region.cols));
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
        DecodeBuilder b(Region{st.region.rows, st.region.cols}, batch, context, hidden, plan.precision, plan.allreduce,
                        plan.kv_layout, plan.workload.input_tokens);
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
                                   const fabric::WaferSpec& wafer, std::int64_t tokens, std::int64_t prior) {
    const std::int64_t hidden = graph.embedding.out_features > 0 ? graph.embedding.out_features : graph.lm_head.in_features;
    const double act = plan.precision.activation_bits / 8.0;
    auto layer_fn = [&](const Stage& st, const LayerGraph* lg, const Op* op, const std::string& name, int idx) {
        const Region g{st.region.rows, st.region.cols};
        if (lg) {
            PrefillBuilder b(g, tokens, prior, hidden, plan.precision, plan.allreduce, plan.prefill_buffer_bytes, plan.gemm);
            return b.build(*lg, name, idx);
        }
        LayerProgram prog;
        prog.name = name;
        if (op->kind == OpKind::Embedding) {
            PrefillBuilder b(g, tokens, prior, hidden, plan.precision, plan.allreduce, plan.prefill_buffer_bytes, plan.gemm);
            b.embedding(prog, *op, {});
        } else {
            // Only the last prompt token's logits are needed for the first output token: the final norm
            // and the LM head run as a decode step of one token.
            DecodeBuilder b(g, 1, prior + tokens, hidden, plan.precision, plan.allreduce, plan.kv_layout, prior + tokens);
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

WeightFootprint op_weight_footprint(const Op& op, std::int64_t R, std::int64_t C, std::int64_t hidden,
                                    const PrecisionPolicy& p) {
    const double bytes = weight_bits_of(op, p) / 8.0;
    const double cores = static_cast<double>(R * C);
    // Resident layout of the decode GEMV: a matrix producing the hidden vector runs with K over the
    // columns and N over the rows; every other matrix with K over the rows and N over the columns.
    auto tile = [&](std::int64_t K, std::int64_t N) {
        return static_cast<double>(N == hidden ? ceil_div(K, C) * ceil_div(N, R) : ceil_div(K, R) * ceil_div(N, C));
    };
    WeightFootprint f;
    switch (op.kind) {
        case OpKind::Projection: {
            if (op.weight_params == 0) return f;  // tied LM head: reads the embedding table
            const double t = tile(op.in_features, op.out_features);
            f.avg = bytes * static_cast<double>(op.weight_params) / cores;
            f.excess = std::max(0.0, bytes * t - f.avg);
            return f;
        }
        case OpKind::Experts: {
            const double t = tile(op.in_features, op.out_features);
            f.avg = bytes * static_cast<double>(op.weight_params) / cores;
            f.excess = std::max(0.0, bytes * t - bytes * static_cast<double>(op.in_features * op.out_features) / cores);
            return f;
        }
        case OpKind::Embedding: {
            // The table [vocab, hidden]: vocabulary rows over the region's rows, hidden over columns.
            const std::int64_t width = std::max<std::int64_t>(1, op.out_features);
            const double t = static_cast<double>(ceil_div(op.weight_params / width, R) * ceil_div(width, C));
            f.avg = bytes * static_cast<double>(op.weight_params) / cores;
            f.excess = std::max(0.0, bytes * t - f.avg);
            return f;
        }
        default: {
            // Norm weights and biases: vectors laid out like the activation they scale (the hidden vector
            // is split over the rows and replicated across the columns), so the rows split them.
            const double t = static_cast<double>(ceil_div(op.weight_params, R));
            f.avg = bytes * static_cast<double>(op.weight_params) / static_cast<double>(R);
            f.excess = std::max(0.0, bytes * t - f.avg);
            return f;
        }
    }
}

WeightFootprint layer_weight_footprint(const LayerGraph& layer, std::int64_t R, std::int64_t C, std::int64_t hidden,
                                       const PrecisionPolicy& p) {
    WeightFootprint total;
    for (const auto& op : layer.ops()) total += op_weight_footprint(op, R, C, hidden, p);
    return total;
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
                                       std::int64_t prefill_tokens, double prefill_buffer_bytes,
                                       const PrecisionPolicy& p) {
    const double act = p.activation_bits / 8.0;
    // Widest output of one GEMV/GEMM (fused groups add up; routed experts count top_k copies) and
    // widest input.
    std::map<int, std::int64_t> group_width;
    std::int64_t widest = 0, widest_in = 0;
    int solo = -1000000;
    for (const auto& op : layer.ops()) {
        if (op.kind != OpKind::Projection && op.kind != OpKind::Experts) continue;
        const std::int64_t k = op.kind == OpKind::Experts ? std::max<std::int64_t>(1, op.top_k) : 1;
        std::int64_t& w = group_width[op.fuse_group >= 0 ? op.fuse_group : solo--];
        w += k * op.out_features;
        widest = std::max(widest, w);
        widest_in = std::max(widest_in, op.in_features);
    }
    // Decode: the residual-stream slice (kept across the layer) plus, for the op being run, its input
    // slice and its fp32 partial sums (ops of a layer run one after another and reuse the buffer; the
    // reduction combines arriving wavelets into the partial sums as they stream in).
    double op_max = 0;
    std::int64_t hidden = 0;  // the residual stream's width: what the layer's first norm normalises
    for (const auto& op : layer.ops())
        if (op.kind == OpKind::Norm && hidden == 0) hidden = width_of(op, widest_in);
    for (const auto& op : layer.ops()) {
        if (op.kind != OpKind::Projection && op.kind != OpKind::Experts) continue;
        const std::int64_t k = op.kind == OpKind::Experts ? std::max<std::int64_t>(1, op.top_k) : 1;
        const bool to_hidden = op.out_features == hidden;
        const std::int64_t kdiv = to_hidden ? C : R, ndiv = to_hidden ? R : C;
        const std::int64_t out_w = op.fuse_group >= 0 ? group_width[op.fuse_group] : k * op.out_features;
        op_max = std::max(op_max, act * static_cast<double>(ceil_div(op.in_features, kdiv)) +
                                      4.0 * static_cast<double>(ceil_div(out_w, ndiv)));
    }
    const double dec = static_cast<double>(batch) * (act * static_cast<double>(ceil_div(hidden, R)) + op_max);
    if (prefill_tokens <= 0) return dec;
    // Prefill (one chunk): the input tile, the A tile in hand and the one arriving, and two fp32
    // partial-sum tiles, bounded by the GEMM buffer (the GEMM runs in passes beyond it).
    const std::int64_t S = std::max(R, C);
    const double tm = static_cast<double>(ceil_div(prefill_tokens, R));
    const double pre = act * tm * static_cast<double>(ceil_div(widest_in, C)) +
                       2.0 * act * tm * static_cast<double>(ceil_div(widest_in, S)) +
                       std::min(2.0 * 4.0 * tm * static_cast<double>(ceil_div(widest, C)), prefill_buffer_bytes);
    return std::max(dec, pre);
}

}  // namespace wafersim::mapping
