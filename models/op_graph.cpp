// Operator DAG of a decoder layer (Boost.Graph, topologically ordered) and the FLOP / weight / activation /
// KV-cache accounting of each operator for decode and prefill.
//
// Accounting conventions (docs/modeling.md repeats them; this file is the one place in code):
//  - 2 FLOPs per multiply-accumulate; a bias adds 1 FLOP per output; RMSNorm ~4 FLOPs per element, RoPE 3,
//    SiLU(gate)*up 4 per output element, residual add 1.
//  - A step reads each resident weight of the active path once for the whole batch. Routed experts: the
//    expected number of distinct experts touched by the step's tokens (uniform routing).
//  - A tied LM head reads the embedding table (weight_params 0, bytes read K x N).
//  - The embedding is a gather: bytes = tokens x hidden, no FLOPs.
//  - Decode attention at context L: 4 * L_eff * heads * head_dim FLOPs per token, L_eff = min(L, window)
//    for sliding layers; reads L_eff K and V entries per KV head, writes one.
//  - Prefill of N tokens: causal attention 4 * heads * head_dim * sum_{i=1..N} min(i, W) FLOPs; the KV of all
//    N tokens is written; nothing is read from a KV cache (the sequence starts empty). The LM head runs on
//    the last prompt token only (the logits that sample the first output token).
#include "models/op_graph.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/topological_sort.hpp>

#include "sim/base/errors.hpp"

namespace wafersim::models {

OpCost& OpCost::operator+=(const OpCost& o) {
    flops += o.flops;
    weight_bytes += o.weight_bytes;
    act_in_bytes += o.act_in_bytes;
    act_out_bytes += o.act_out_bytes;
    kv_read_bytes += o.kv_read_bytes;
    kv_write_bytes += o.kv_write_bytes;
    return *this;
}

double expected_experts_touched(std::int64_t experts, std::int64_t top_k, std::int64_t batch) {
    if (experts <= 0 || top_k <= 0 || batch <= 0) return 0;
    if (top_k >= experts) return static_cast<double>(experts);
    const double e = static_cast<double>(experts);
    const double miss = std::pow(1.0 - static_cast<double>(top_k) / e, static_cast<double>(batch));
    return e * (1.0 - miss);
}

namespace {

double to_d(std::int64_t x) { return static_cast<double>(x); }

// Parameters read when a matrix op runs: its K x N matrix (also for a tied LM head, whose weight_params is
// 0 because the embedding holds it) plus any bias stored with it. For Experts: per expert.
double matrix_read_params(const Op& op) {
    const double kn = to_d(op.in_features) * to_d(op.out_features);
    const double stored = op.kind == OpKind::Experts && op.experts > 0 ? to_d(op.weight_params) / to_d(op.experts)
                                                                       : to_d(op.weight_params);
    return kn + std::max(0.0, stored - kn);
}

double bias_outputs(const Op& op) {
    const double kn = to_d(op.in_features) * to_d(op.out_features);
    const double stored = op.kind == OpKind::Experts && op.experts > 0 ? to_d(op.weight_params) / to_d(op.experts)
                                                                       : to_d(op.weight_params);
    return stored > kn ? std::min(to_d(op.out_features), stored - kn) : 0.0;
}

double weight_bytes_per_param(const Op& op, const PrecisionPolicy& p) {
    return (op.weight_class == WeightClass::Expert ? p.expert_weight_bits : p.dense_weight_bits) / 8.0;
}

double kv_entry_bytes(const Op& op, const PrecisionPolicy& p) {  // K and V of one token in one layer
    return 2.0 * to_d(op.kv_heads) * to_d(op.head_dim) * p.kv_bits / 8.0;
}

// Sum over query positions i = 1..n of the keys it attends to: min(i, window) (window 0 = unlimited).
double causal_pairs(std::int64_t n, std::int64_t window) {
    const double N = to_d(n);
    if (window <= 0 || window >= n) return N * (N + 1) / 2;
    const double W = to_d(window);
    return W * (W + 1) / 2 + (N - W) * W;
}

// Work and traffic common to both phases, for `tokens` tokens processed at once. Attention and weight
// reads of Experts depend on the phase and are filled in by the callers.
OpCost elementwise_and_matrix_cost(const Op& op, double tokens, const PrecisionPolicy& p) {
    OpCost c;
    const double act = p.activation_bits / 8.0;
    const double wb = weight_bytes_per_param(op, p);
    switch (op.kind) {
    case OpKind::Embedding:
        c.weight_bytes = tokens * to_d(op.out_features) * wb;  // gather of one row per token
        c.act_out_bytes = tokens * to_d(op.out_features) * act;
        break;
    case OpKind::Norm:
        c.flops = 4.0 * tokens * to_d(op.in_features);
        c.weight_bytes = to_d(op.weight_params) * wb;
        c.act_in_bytes = tokens * to_d(op.in_features) * act;
        c.act_out_bytes = tokens * to_d(op.out_features) * act;
        break;
    case OpKind::Projection:
        c.flops = 2.0 * tokens * to_d(op.in_features) * to_d(op.out_features) + tokens * bias_outputs(op);
        c.weight_bytes = matrix_read_params(op) * wb;
        c.act_in_bytes = tokens * to_d(op.in_features) * act;
        c.act_out_bytes = tokens * to_d(op.out_features) * act;
        break;
    case OpKind::Rope:
        c.flops = 3.0 * tokens * to_d(op.in_features);
        c.act_in_bytes = tokens * to_d(op.in_features) * act;
        c.act_out_bytes = tokens * to_d(op.out_features) * act;
        break;
    case OpKind::Activation:
        c.flops = 4.0 * tokens * to_d(op.out_features);
        c.act_in_bytes = tokens * to_d(op.in_features) * act;
        c.act_out_bytes = tokens * to_d(op.out_features) * act;
        break;
    case OpKind::Residual:
        c.flops = tokens * to_d(op.out_features);
        c.act_in_bytes = tokens * to_d(op.in_features) * act;
        c.act_out_bytes = tokens * to_d(op.out_features) * act;
        break;
    case OpKind::Experts: {
        const double per_token_macs = to_d(op.top_k) * to_d(op.in_features) * to_d(op.out_features);
        c.flops = 2.0 * tokens * per_token_macs + tokens * to_d(op.top_k) * bias_outputs(op);
        c.weight_bytes = expected_experts_touched(op.experts, op.top_k, static_cast<std::int64_t>(tokens)) *
                         matrix_read_params(op) * wb;
        c.act_in_bytes = tokens * to_d(op.top_k) * to_d(op.in_features) * act;   // dispatched copies
        c.act_out_bytes = tokens * to_d(op.top_k) * to_d(op.out_features) * act;
        break;
    }
    case OpKind::Attention:
        c.weight_bytes = to_d(op.weight_params) * wb;  // sinks, if any
        c.act_in_bytes = tokens * to_d(op.in_features) * act;
        c.act_out_bytes = tokens * to_d(op.out_features) * act;
        break;
    }
    return c;
}

}  // namespace

OpCost decode_cost(const Op& op, std::int64_t batch, std::int64_t context, const PrecisionPolicy& p) {
    OpCost c = elementwise_and_matrix_cost(op, to_d(batch), p);
    if (op.kind == OpKind::Attention) {
        const std::int64_t l_eff = op.window > 0 ? std::min(context, op.window) : context;
        c.flops = to_d(batch) * 4.0 * to_d(l_eff) * to_d(op.heads) * to_d(op.head_dim);
        c.kv_read_bytes = to_d(batch) * to_d(l_eff) * kv_entry_bytes(op, p);
        c.kv_write_bytes = to_d(batch) * kv_entry_bytes(op, p);
    }
    return c;
}

OpCost prefill_cost(const Op& op, std::int64_t tokens, const PrecisionPolicy& p) {
    OpCost c = elementwise_and_matrix_cost(op, to_d(tokens), p);
    if (op.kind == OpKind::Attention) {
        c.flops = 4.0 * to_d(op.heads) * to_d(op.head_dim) * causal_pairs(tokens, op.window);
        c.kv_write_bytes = to_d(tokens) * kv_entry_bytes(op, p);
    }
    return c;
}

// --------------------------------------------------------------------------------------------------------

namespace {

class Builder {
public:
    int add(Op op) {
        m_ops.push_back(std::move(op));
        return static_cast<int>(m_ops.size()) - 1;
    }
    void edge(int from, int to, std::int64_t elements) { m_edges.push_back({from, to, elements}); }
    std::vector<Op>& ops() { return m_ops; }
    std::vector<OpEdge>& edges() { return m_edges; }

private:
    std::vector<Op> m_ops;
    std::vector<OpEdge> m_edges;
};

Op make_op(std::string name, OpKind kind, std::int64_t in, std::int64_t out) {
    Op op;
    op.name = std::move(name);
    op.kind = kind;
    op.in_features = in;
    op.out_features = out;
    return op;
}

Op norm(std::string name, std::int64_t elements, std::int64_t weight) {
    Op op = make_op(std::move(name), OpKind::Norm, elements, elements);
    op.weight_class = WeightClass::Dense;
    op.weight_params = weight;
    return op;
}

Op projection(std::string name, std::int64_t k, std::int64_t n, std::int64_t bias, int fuse_group) {
    Op op = make_op(std::move(name), OpKind::Projection, k, n);
    op.weight_class = WeightClass::Dense;
    op.weight_params = k * n + bias;
    op.fuse_group = fuse_group;
    return op;
}

Op experts(std::string name, std::int64_t k, std::int64_t n, std::int64_t count, std::int64_t top_k, bool bias) {
    Op op = make_op(std::move(name), OpKind::Experts, k, n);
    op.weight_class = WeightClass::Expert;
    op.experts = count;
    op.top_k = top_k;
    op.weight_params = count * (k * n + (bias ? n : 0));
    return op;
}

}  // namespace

LayerGraph::LayerGraph(const ModelSpec& m, const LayerSpec& layer) : m_spec(layer) {
    const std::int64_t h = m.hidden;
    const std::int64_t q = m.heads * m.head_dim;
    const std::int64_t kv = m.kv_heads * m.head_dim;
    Builder b;

    // Attention block. q/k/v share the normed input: fuse group 0.
    const int in_norm = b.add(norm("input_norm", h, h));
    const int qp = b.add(projection("q_proj", h, q, m.attention_bias ? q : 0, 0));
    const int kp = b.add(projection("k_proj", h, kv, m.attention_bias ? kv : 0, 0));
    const int vp = b.add(projection("v_proj", h, kv, m.attention_bias ? kv : 0, 0));
    b.edge(in_norm, qp, h);
    b.edge(in_norm, kp, h);
    b.edge(in_norm, vp, h);
    int q_src = qp, k_src = kp;
    if (m.qk_norm) {  // per-head RMSNorm over head_dim, one weight vector shared by the heads
        q_src = b.add(norm("q_norm", q, m.head_dim));
        k_src = b.add(norm("k_norm", kv, m.head_dim));
        b.edge(qp, q_src, q);
        b.edge(kp, k_src, kv);
    }
    const int rope = b.add(make_op("rope", OpKind::Rope, q + kv, q + kv));
    b.edge(q_src, rope, q);
    b.edge(k_src, rope, kv);
    Op att = make_op("attention", OpKind::Attention, q + 2 * kv, q);
    att.heads = m.heads;
    att.kv_heads = m.kv_heads;
    att.head_dim = m.head_dim;
    att.window = layer.attention == AttentionKind::Sliding ? layer.window : 0;
    if (m.attention_sinks) {
        att.weight_params = m.heads;
        att.weight_class = WeightClass::Dense;
    }
    const int attn = b.add(att);
    b.edge(rope, attn, q + kv);
    b.edge(vp, attn, kv);
    const int op = b.add(projection("o_proj", q, h, m.attention_out_bias ? h : 0, -1));
    b.edge(attn, op, q);
    const int res_attn = b.add(make_op("residual_attn", OpKind::Residual, 2 * h, h));
    b.edge(op, res_attn, h);
    const int post = b.add(norm("post_norm", h, h));
    b.edge(res_attn, post, h);

    // FFN block.
    std::vector<int> into_residual;
    std::int64_t residual_inputs = 2 * h;
    if (layer.ffn == FfnKind::Dense) {
        const std::int64_t w = layer.intermediate;
        const std::int64_t act_in = m.gated_ffn ? 2 * w : w;
        const int act = b.add(make_op("act", OpKind::Activation, act_in, w));
        if (m.gated_ffn) {  // gate and up share the normed input: fuse group 1
            const int gate = b.add(projection("gate_proj", h, w, m.mlp_bias ? w : 0, 1));
            b.edge(post, gate, h);
            b.edge(gate, act, w);
        }
        const int up = b.add(projection("up_proj", h, w, m.mlp_bias ? w : 0, 1));
        b.edge(post, up, h);
        b.edge(up, act, w);
        const int down = b.add(projection("down_proj", w, h, m.mlp_bias ? h : 0, -1));
        b.edge(act, down, w);
        into_residual.push_back(down);
    } else {
        // Router and shared experts are dense matrices on the same input: fuse group 2. Routed experts see
        // dispatched copies of the input (top_k per token), so they are not fused with them.
        const std::int64_t w = layer.expert_intermediate;
        const std::int64_t k = layer.experts_per_token;
        const std::int64_t gu = m.gated_ffn ? 2 * w : w;
        const int router = b.add(projection("router", h, layer.experts, m.expert_bias ? layer.experts : 0, 2));
        b.edge(post, router, h);
        const int eg = b.add(experts("experts_gate_up", h, gu, layer.experts, k, m.expert_bias));
        Op ea_op = make_op("experts_act", OpKind::Activation, k * gu, k * w);
        ea_op.experts = layer.experts;
        ea_op.top_k = k;
        const int ea = b.add(ea_op);
        const int ed = b.add(experts("experts_down", w, h, layer.experts, k, m.expert_bias));
        b.edge(post, eg, h);
        b.edge(router, eg, k);  // routing weights of the chosen experts
        b.edge(router, ed, k);  // combine weights
        b.edge(eg, ea, k * gu);
        b.edge(ea, ed, k * w);
        into_residual.push_back(ed);  // weighted sum of the top_k outputs: hidden elements
        if (layer.shared_experts > 0) {
            // All shared experts as one FFN of width shared_experts x shared_intermediate (DeepSeek/GLM).
            const std::int64_t sw = layer.shared_experts * layer.shared_intermediate;
            const std::int64_t sgu = m.gated_ffn ? 2 * sw : sw;
            const int sg = b.add(projection("shared_gate_up", h, sgu, 0, 2));
            const int sa = b.add(make_op("shared_act", OpKind::Activation, sgu, sw));
            const int sd = b.add(projection("shared_down", sw, h, 0, -1));
            b.edge(post, sg, h);
            b.edge(sg, sa, sgu);
            b.edge(sa, sd, sw);
            into_residual.push_back(sd);
            residual_inputs += h;
        }
    }
    const int res_ffn = b.add(make_op("residual_ffn", OpKind::Residual, residual_inputs, h));
    b.edge(res_attn, res_ffn, h);
    for (int src : into_residual) b.edge(src, res_ffn, h);

    // Order the ops topologically with Boost.Graph and renumber the edges.
    using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
    Graph g(b.ops().size());
    for (const auto& e : b.edges()) boost::add_edge(static_cast<std::size_t>(e.from), static_cast<std::size_t>(e.to), g);
    std::vector<Graph::vertex_descriptor> reverse_order;
    try {
        boost::topological_sort(g, std::back_inserter(reverse_order));
    } catch (const boost::not_a_dag&) {
        throw InternalError("LayerGraph: the operator graph of layer " + std::to_string(layer.index) + " has a cycle");
    }
    std::vector<int> new_index(b.ops().size());
    m_ops.reserve(b.ops().size());
    for (auto it = reverse_order.rbegin(); it != reverse_order.rend(); ++it) {
        new_index[*it] = static_cast<int>(m_ops.size());
        m_ops.push_back(std::move(b.ops()[*it]));
    }
    m_edges.reserve(b.edges().size());
    for (const auto& e : b.edges()) m_edges.push_back({new_index[e.from], new_index[e.to], e.elements_per_token});
}

LayerGraph::~LayerGraph() = default;
LayerGraph::LayerGraph(LayerGraph&&) noexcept = default;
LayerGraph& LayerGraph::operator=(LayerGraph&&) noexcept = default;

std::vector<int> LayerGraph::predecessors(int op_index) const {
    std::vector<int> out;
    for (const auto& e : m_edges)
        if (e.to == op_index) out.push_back(e.from);
    return out;
}

std::int64_t LayerGraph::weight_params() const {
    std::int64_t total = 0;
    for (const auto& op : m_ops) total += op.weight_params;
    return total;
}

std::int64_t ModelGraph::parameters() const {
    std::int64_t total = embedding.weight_params + final_norm.weight_params + lm_head.weight_params;
    for (const auto& l : layers) total += l.weight_params();
    return total;
}

ModelGraph build_model_graph(const ModelSpec& m) {
    ModelGraph g;
    g.embedding = make_op("embedding", OpKind::Embedding, 1, m.hidden);
    g.embedding.weight_class = WeightClass::Dense;
    g.embedding.weight_params = m.vocab * m.hidden;
    g.layers.reserve(m.layer_specs.size());
    for (const auto& l : m.layer_specs) g.layers.emplace_back(m, l);
    g.final_norm = norm("final_norm", m.hidden, m.hidden);
    g.lm_head = projection("lm_head", m.hidden, m.vocab, 0, -1);
    if (m.tied_embeddings) g.lm_head.weight_params = 0;  // reads the embedding table
    return g;
}

OpCost decode_step_cost(const ModelGraph& g, std::int64_t batch, std::int64_t context, const PrecisionPolicy& p) {
    OpCost total = decode_cost(g.embedding, batch, context, p);
    for (const auto& l : g.layers)
        for (const auto& op : l.ops()) total += decode_cost(op, batch, context, p);
    total += decode_cost(g.final_norm, batch, context, p);
    total += decode_cost(g.lm_head, batch, context, p);
    return total;
}

OpCost prefill_total_cost(const ModelGraph& g, std::int64_t tokens, const PrecisionPolicy& p) {
    OpCost total = prefill_cost(g.embedding, tokens, p);
    for (const auto& l : g.layers)
        for (const auto& op : l.ops()) total += prefill_cost(op, tokens, p);
    total += prefill_cost(g.final_norm, tokens, p);
    total += prefill_cost(g.lm_head, 1, p);  // logits of the last prompt token only
    return total;
}

}  // namespace wafersim::models
