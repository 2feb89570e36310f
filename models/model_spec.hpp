// ModelSpec: a transformer as a Hugging Face config.json describes it, validated and immutable.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace wafersim::models {

enum class AttentionKind { Full, Sliding };
enum class FfnKind { Dense, Moe };

// One decoder layer's structure (sizes in elements, not bytes).
struct LayerSpec {
    int index = 0;
    AttentionKind attention = AttentionKind::Full;
    std::int64_t window = 0;  // tokens kept by a sliding-window layer; 0 for full attention
    FfnKind ffn = FfnKind::Dense;
    std::int64_t intermediate = 0;         // dense FFN width (0 for an MoE layer)
    std::int64_t experts = 0;              // routed experts (MoE)
    std::int64_t experts_per_token = 0;    // active routed experts per token (MoE)
    std::int64_t expert_intermediate = 0;  // width of one routed expert's FFN
    std::int64_t shared_experts = 0;       // always-active experts (DeepSeek/GLM)
    std::int64_t shared_intermediate = 0;  // width of one shared expert's FFN
};

// Bits per stored value for each class of data. Resolved from the model's released precision and the
// run's `precision.*` settings (resolve_precision).
struct PrecisionPolicy {
    double dense_weight_bits = 16;   // attention, dense FFN, embeddings, LM head, router, shared experts
    double expert_weight_bits = 16;  // routed experts
    double kv_bits = 16;
    double activation_bits = 16;
};

struct ModelSpec {
    std::string name;         // file stem or `_name_or_path`
    std::string source_file;  // path as given
    std::string model_type;   // HF "model_type"
    std::int64_t hidden = 0;
    std::int64_t layers = 0;  // executed decoder layers (num_hidden_layers)
    std::int64_t heads = 0;
    std::int64_t kv_heads = 0;
    std::int64_t head_dim = 0;
    std::int64_t vocab = 0;
    std::int64_t max_position = 0;
    bool tied_embeddings = false;
    bool qk_norm = false;
    bool attention_bias = false;
    bool gated_ffn = true;          // SwiGLU-style gate+up+down (3 matrices) vs up+down (2)
    std::int64_t mtp_layers = 0;    // extra multi-token-prediction layers: stored, not executed
    // Bias and extra-weight flags (they change parameter counts, not the dataflow).
    bool attention_out_bias = false;  // o_proj bias (Llama/Qwen3/gpt-oss attention_bias; not GLM, not Qwen2)
    bool mlp_bias = false;            // dense FFN biases (Llama `mlp_bias`)
    bool expert_bias = false;         // router and routed-expert biases (gpt-oss)
    bool attention_sinks = false;     // one learned sink logit per head (gpt-oss)
    std::vector<LayerSpec> layer_specs;  // size == layers
    PrecisionPolicy released;       // precision as released (torch_dtype, quantization_config)
    std::vector<std::string> warnings;   // ignored keys and other notes; never silent

    bool is_moe() const;
    // Parameters stored (all experts, embeddings, LM head unless tied, norms, biases, MTP layers).
    std::int64_t parameters() const;
    // Parameters touched by one token (attention + active experts + shared experts + embeddings row
    // excluded: the LM head and all dense weights count, as in published "active" figures).
    std::int64_t active_parameters() const;
    // KV-cache bytes one token adds across all layers at the given KV precision, with full context
    // (sliding-window layers included at full size; see kv_bytes_at_context for the capped total).
    double kv_bytes_per_token(double kv_bits) const;
    // KV-cache bytes held for a sequence of `context` tokens (sliding layers keep at most `window`).
    double kv_bytes_at_context(std::int64_t context, double kv_bits) const;
    // Parameters stored by one decoder layer (all its experts) / touched by one token in it.
    std::int64_t layer_parameters(const LayerSpec& layer) const;
    std::int64_t layer_active_parameters(const LayerSpec& layer) const;
    // Parameters of the MTP layers (each: a decoder layer shaped like the last one, eh_proj 2h x h and
    // three norms; embedding and LM head shared with the main model).
    std::int64_t mtp_parameters() const;
};

// Reads a Hugging Face config.json. Throws wafersim::InputError naming the file and the key on anything
// it cannot interpret (missing required key, wrong type, non-positive size, inconsistent heads, unknown
// architecture-relevant key, unsupported feature such as multi-head latent attention).
ModelSpec import_hf_config(const std::string& path);
// Same, from text already read; `file_for_errors` names it in messages.
ModelSpec import_hf_config_text(const std::string& json_text, const std::string& file_for_errors);

// Resolves the run's precision: `weights` is "auto" (as released), "fp32", "fp16", "bf16", "fp8" or "fp4"
// (fp4 = MXFP4, 4.25 bits with its shared scales); `kv` the same set without "auto" meaning released
// activation precision. Throws InputError (key "precision.weights" / "precision.kv") on an unknown name.
PrecisionPolicy resolve_precision(const ModelSpec& model, const std::string& weights, const std::string& kv);
double precision_bits(const std::string& name);  // "bf16" -> 16, "fp4" -> 4.25; throws on unknown

}  // namespace wafersim::models
