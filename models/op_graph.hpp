// Operator graphs of a decoder layer (Boost.Graph inside) and the FLOP / byte / KV accounting per op.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/model_spec.hpp"

namespace wafersim::models {

enum class OpKind {
    Embedding,   // token row gather
    Norm,        // RMSNorm (a reduction over the hidden dimension, then a scale)
    Projection,  // dense matrix [K, N] applied to each token (q, k, v, o, gate, up, down, router, LM head)
    Rope,        // rotary position embedding (elementwise)
    Attention,   // scores + softmax + context against the KV cache
    Activation,  // SiLU(gate) * up, elementwise
    Residual,    // elementwise add
    Experts,     // routed or shared expert matrices [K, N] per expert, `experts` of them, `top_k` active
};

enum class WeightClass { None, Dense, Expert };

// One operator. Sizes in elements. Contract: `in_features`/`out_features` describe one token's
// transform; for Experts they describe ONE expert's matrix.
struct Op {
    std::string name;  // unique within the layer: "q_proj", "attention", "experts_gate_up", ...
    OpKind kind = OpKind::Projection;
    WeightClass weight_class = WeightClass::None;
    int fuse_group = -1;  // projections with the same input that run as one distributed matrix (qkv, gate+up)
    std::int64_t in_features = 0;
    std::int64_t out_features = 0;
    std::int64_t weight_params = 0;  // parameters stored (all experts, biases, norm weights)
    // Attention
    std::int64_t heads = 0, kv_heads = 0, head_dim = 0, window = 0;
    // Experts
    std::int64_t experts = 0, top_k = 0;
};

// Data movement and work of one op for one phase. Bytes at the policy's precisions.
struct OpCost {
    double flops = 0;          // 2 per multiply-accumulate
    double weight_bytes = 0;   // weights read (once per step for the whole batch)
    double act_in_bytes = 0;   // activations consumed
    double act_out_bytes = 0;  // activations produced
    double kv_read_bytes = 0;
    double kv_write_bytes = 0;
    OpCost& operator+=(const OpCost& o);
};

// Expected number of distinct routed experts touched by `batch` tokens each choosing `top_k` of `experts`
// (uniform routing): E * (1 - (1 - k/E)^B).
double expected_experts_touched(std::int64_t experts, std::int64_t top_k, std::int64_t batch);

// One decode step: `batch` sequences each at context `context` (tokens already in the KV cache, including
// the new one's position), producing one token each.
OpCost decode_cost(const Op& op, std::int64_t batch, std::int64_t context, const PrecisionPolicy& p);
// Prefill of `tokens` prompt tokens of one sequence (causal attention).
OpCost prefill_cost(const Op& op, std::int64_t tokens, const PrecisionPolicy& p);

// A data dependency: `from` feeds `to`; `elements_per_token` activation elements cross it.
struct OpEdge {
    int from = 0;
    int to = 0;
    std::int64_t elements_per_token = 0;
};

// The operator DAG of one decoder layer, built with Boost.Graph. ops() is in a topological order.
class LayerGraph {
public:
    LayerGraph(const ModelSpec& model, const LayerSpec& layer);
    ~LayerGraph();
    LayerGraph(LayerGraph&&) noexcept;
    LayerGraph& operator=(LayerGraph&&) noexcept;

    const LayerSpec& spec() const { return m_spec; }
    const std::vector<Op>& ops() const { return m_ops; }      // topological order
    const std::vector<OpEdge>& edges() const { return m_edges; }
    std::vector<int> predecessors(int op_index) const;
    std::int64_t weight_params() const;

private:
    LayerSpec m_spec;
    std::vector<Op> m_ops;
    std::vector<OpEdge> m_edges;
};

// Whole model: embedding, decoder layers, final norm and LM head.
struct ModelGraph {
    Op embedding;
    std::vector<LayerGraph> layers;
    Op final_norm;
    Op lm_head;  // weight_params == 0 when tied to the embedding (reads the embedding table instead)
    std::int64_t parameters() const;  // equals ModelSpec::parameters() minus MTP layers
};

ModelGraph build_model_graph(const ModelSpec& model);

// Whole-model totals for a phase (every layer, embedding, final norm, LM head).
OpCost decode_step_cost(const ModelGraph& g, std::int64_t batch, std::int64_t context, const PrecisionPolicy& p);
OpCost prefill_total_cost(const ModelGraph& g, std::int64_t tokens, const PrecisionPolicy& p);

}  // namespace wafersim::models
