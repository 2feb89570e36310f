// Parameter counts (total and per-token active) and KV-cache sizes of a transformer described by a ModelSpec.
#include "models/model_spec.hpp"

#include <algorithm>

namespace wafersim::models {

namespace {

// Attention block of one layer: q/k/v/o, their biases, QK-norm weights, sinks, the two RMSNorm vectors.
std::int64_t attention_block_parameters(const ModelSpec& m) {
    const std::int64_t q = m.heads * m.head_dim;
    const std::int64_t kv = m.kv_heads * m.head_dim;
    std::int64_t p = m.hidden * q + 2 * m.hidden * kv + q * m.hidden;
    if (m.attention_bias) p += q + 2 * kv;
    if (m.attention_out_bias) p += m.hidden;
    if (m.qk_norm) p += 2 * m.head_dim;
    if (m.attention_sinks) p += m.heads;
    p += 2 * m.hidden;  // input_layernorm + post_attention_layernorm
    return p;
}

// One FFN of width `width` (gate+up+down when gated), optionally with biases.
std::int64_t ffn_parameters(const ModelSpec& m, std::int64_t width, bool bias) {
    const std::int64_t mats = m.gated_ffn ? 3 : 2;
    std::int64_t p = mats * m.hidden * width;
    if (bias) p += (m.gated_ffn ? 2 * width : width) + m.hidden;
    return p;
}

// Router (hidden x experts, plus a bias per expert when the model has expert biases) and shared experts.
// Shared experts are counted as one FFN of width shared_experts x shared_intermediate, as DeepSeek/GLM
// implement them (the same count as that many separate experts).
std::int64_t moe_always_on_parameters(const ModelSpec& m, const LayerSpec& l) {
    std::int64_t p = m.hidden * l.experts;
    if (m.expert_bias) p += l.experts;
    if (l.shared_experts > 0) p += ffn_parameters(m, l.shared_experts * l.shared_intermediate, false);
    return p;
}

}  // namespace

bool ModelSpec::is_moe() const {
    return std::any_of(layer_specs.begin(), layer_specs.end(),
                       [](const LayerSpec& l) { return l.ffn == FfnKind::Moe; });
}

std::int64_t ModelSpec::layer_parameters(const LayerSpec& l) const {
    std::int64_t p = attention_block_parameters(*this);
    if (l.ffn == FfnKind::Dense) return p + ffn_parameters(*this, l.intermediate, mlp_bias);
    p += moe_always_on_parameters(*this, l);
    p += l.experts * ffn_parameters(*this, l.expert_intermediate, expert_bias);
    return p;
}

std::int64_t ModelSpec::layer_active_parameters(const LayerSpec& l) const {
    std::int64_t p = attention_block_parameters(*this);
    if (l.ffn == FfnKind::Dense) return p + ffn_parameters(*this, l.intermediate, mlp_bias);
    p += moe_always_on_parameters(*this, l);
    p += l.experts_per_token * ffn_parameters(*this, l.expert_intermediate, expert_bias);
    return p;
}

std::int64_t ModelSpec::mtp_parameters() const {
    if (mtp_layers <= 0 || layer_specs.empty()) return 0;
    const std::int64_t per = layer_parameters(layer_specs.back())  // decoder block like the last layer
                              + 2 * hidden * hidden                // eh_proj: [embedding ; hidden] -> hidden
                              + 3 * hidden;                        // enorm, hnorm, shared_head.norm
    return mtp_layers * per;
}

std::int64_t ModelSpec::parameters() const {
    std::int64_t p = vocab * hidden;       // embed_tokens
    if (!tied_embeddings) p += vocab * hidden;  // lm_head
    p += hidden;                           // final norm
    for (const auto& l : layer_specs) p += layer_parameters(l);
    p += mtp_parameters();
    return p;
}

std::int64_t ModelSpec::active_parameters() const {
    // The embedding row gather is excluded; the LM head (the embedding matrix when tied) is included.
    std::int64_t p = vocab * hidden + hidden;
    for (const auto& l : layer_specs) p += layer_active_parameters(l);
    return p;
}

double ModelSpec::kv_bytes_per_token(double kv_bits) const {
    return static_cast<double>(layer_specs.size()) * 2.0 * static_cast<double>(kv_heads * head_dim) * kv_bits /
           8.0;
}

double ModelSpec::kv_bytes_at_context(std::int64_t context, double kv_bits) const {
    const double per_token_layer = 2.0 * static_cast<double>(kv_heads * head_dim) * kv_bits / 8.0;
    double total = 0;
    for (const auto& l : layer_specs) {
        std::int64_t kept = context;
        if (l.attention == AttentionKind::Sliding && l.window > 0) kept = std::min(context, l.window);
        total += per_token_layer * static_cast<double>(kept);
    }
    return total;
}

}  // namespace wafersim::models
