// Unit tests of models/: HF config.json import, parameter and KV accounting, precision, operator graphs, costs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "models/model_spec.hpp"
#include "models/op_graph.hpp"
#include "sim/base/errors.hpp"

using namespace wafersim::models;
using wafersim::InputError;

namespace {

std::string zoo_path(const std::string& name) {
    return std::string(WAFERSIM_SOURCE_DIR) + "/configs/models/" + name + ".json";
}
ModelSpec zoo(const std::string& name) { return import_hf_config(zoo_path(name)); }

const std::vector<std::string> kZoo = {"llama-3.1-8b",   "llama-3-8b",      "llama-2-13b", "llama-3.1-70b",
                                       "llama-3.3-70b",  "llama-3.1-405b",  "qwen3-32b",   "qwen3-235b-a22b",
                                       "gpt-oss-120b",   "glm-4.6"};

// A config.json assembled from (key, raw JSON value) pairs, so each test states only what it changes.
using Fields = std::vector<std::pair<std::string, std::string>>;

Fields tiny_llama() {
    return {{"architectures", "[\"LlamaForCausalLM\"]"},
            {"model_type", "\"llama\""},
            {"hidden_size", "256"},
            {"intermediate_size", "512"},
            {"num_hidden_layers", "4"},
            {"num_attention_heads", "8"},
            {"num_key_value_heads", "2"},
            {"vocab_size", "1000"},
            {"max_position_embeddings", "2048"},
            {"tie_word_embeddings", "false"},
            {"torch_dtype", "\"bfloat16\""}};
}

Fields with(Fields f, const std::string& key, const std::string& value) {
    for (auto& kv : f)
        if (kv.first == key) {
            kv.second = value;
            return f;
        }
    f.emplace_back(key, value);
    return f;
}

Fields without(Fields f, const std::string& key) {
    f.erase(std::remove_if(f.begin(), f.end(), [&](const auto& kv) { return kv.first == key; }), f.end());
    return f;
}

std::string text_of(const Fields& f) {
    std::string s = "{\n";
    for (std::size_t i = 0; i < f.size(); ++i)
        s += "  \"" + f[i].first + "\": " + f[i].second + (i + 1 < f.size() ? ",\n" : "\n");
    return s + "}\n";
}

ModelSpec parse(const Fields& f) { return import_hf_config_text(text_of(f), "inline.json"); }

// The error text of an import that must fail.
std::string error_of(const std::string& text) {
    try {
        import_hf_config_text(text, "bad.json");
    } catch (const InputError& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected an InputError for:\n" << text;
    return "";
}
std::string error_of(const Fields& f) { return error_of(text_of(f)); }

bool has_warning(const ModelSpec& m, const std::string& needle) {
    return std::any_of(m.warnings.begin(), m.warnings.end(),
                       [&](const std::string& w) { return w.find(needle) != std::string::npos; });
}

// Parameters of the tiny Llama above, by hand: h=256, I=512, 4 layers, 8 heads x 32, 2 KV heads, vocab 1000.
constexpr std::int64_t kTinyH = 256, kTinyI = 512, kTinyV = 1000;
std::int64_t tiny_layer_attention(std::int64_t q_width, std::int64_t kv_width) {
    return kTinyH * q_width + 2 * kTinyH * kv_width + q_width * kTinyH + 2 * kTinyH;
}

PrecisionPolicy bf16() { return PrecisionPolicy{}; }

}  // namespace

// ----------------------------------------------------------------------------------------------- zoo

TEST(ModelsZoo, ParameterTotalsMatchPublished) {
    struct Row {
        const char* name;
        double published;
    };
    const Row rows[] = {
        {"llama-3.1-8b", 8.03e9},   {"llama-3-8b", 8.03e9},       {"llama-2-13b", 13.0e9},
        {"llama-3.1-70b", 70.55e9}, {"llama-3.3-70b", 70.55e9},   {"llama-3.1-405b", 405.85e9},
        {"qwen3-32b", 32.76e9},     {"qwen3-235b-a22b", 235.1e9}, {"gpt-oss-120b", 116.8e9},
        {"glm-4.6", 355e9},
    };
    for (const auto& r : rows) {
        const ModelSpec m = zoo(r.name);
        const double p = static_cast<double>(m.parameters());
        EXPECT_NEAR(p / r.published, 1.0, 0.01) << r.name << ": " << p / 1e9 << " B";
    }
    EXPECT_EQ(zoo("llama-3-8b").parameters(), zoo("llama-3.1-8b").parameters());
    EXPECT_EQ(zoo("llama-3-8b").max_position, 8192);
    EXPECT_EQ(zoo("llama-3.1-8b").max_position, 131072);
}

TEST(ModelsZoo, ExactDenseCountsByHand) {
    // Llama-3.1-8B: embeddings + LM head + 32 x (attention + SwiGLU + 2 norms) + final norm.
    const std::int64_t h = 4096, v = 128256, i = 14336;
    const std::int64_t layer = h * h + 2 * h * 1024 + h * h + 3 * h * i + 2 * h;
    EXPECT_EQ(zoo("llama-3.1-8b").parameters(), 2 * v * h + 32 * layer + h);
}

TEST(ModelsZoo, ActiveParametersOfMoeModels) {
    // Active = everything one token touches except the embedding row gather (header convention).
    EXPECT_NEAR(static_cast<double>(zoo("qwen3-235b-a22b").active_parameters()) / 22.1e9, 1.0, 0.03);
    EXPECT_NEAR(static_cast<double>(zoo("gpt-oss-120b").active_parameters()) / 5.1e9, 1.0, 0.02);
    EXPECT_NEAR(static_cast<double>(zoo("glm-4.6").active_parameters()) / 32e9, 1.0, 0.03);
    const ModelSpec dense = zoo("llama-3.1-8b");
    EXPECT_EQ(dense.active_parameters(), dense.parameters() - dense.vocab * dense.hidden);
    for (const auto& n : kZoo) EXPECT_EQ(zoo(n).is_moe(), n == "qwen3-235b-a22b" || n == "gpt-oss-120b" || n == "glm-4.6") << n;
}

TEST(ModelsZoo, KvBytesPerToken) {
    const double KiB = 1024;
    EXPECT_DOUBLE_EQ(zoo("llama-3.1-8b").kv_bytes_per_token(16), 128 * KiB);
    EXPECT_DOUBLE_EQ(zoo("llama-3-8b").kv_bytes_per_token(16), 128 * KiB);
    EXPECT_DOUBLE_EQ(zoo("llama-3.1-70b").kv_bytes_per_token(16), 320 * KiB);
    EXPECT_DOUBLE_EQ(zoo("llama-3.3-70b").kv_bytes_per_token(16), 320 * KiB);
    EXPECT_DOUBLE_EQ(zoo("llama-3.1-405b").kv_bytes_per_token(16), 504 * KiB);
    EXPECT_DOUBLE_EQ(zoo("qwen3-32b").kv_bytes_per_token(16), 256 * KiB);
    EXPECT_DOUBLE_EQ(zoo("qwen3-235b-a22b").kv_bytes_per_token(16), 188 * KiB);
    EXPECT_DOUBLE_EQ(zoo("glm-4.6").kv_bytes_per_token(16), 368 * KiB);  // MTP layer not executed
    EXPECT_DOUBLE_EQ(zoo("llama-2-13b").kv_bytes_per_token(16), 800 * KiB);
    EXPECT_DOUBLE_EQ(zoo("llama-3.1-8b").kv_bytes_per_token(8), 64 * KiB);
}

TEST(ModelsZoo, GptOssKvFullPerTokenAndCappedBySlidingLayers) {
    // models.md: 72 KiB per token counts every layer at full size; half the layers keep only 128 tokens.
    const ModelSpec m = zoo("gpt-oss-120b");
    EXPECT_DOUBLE_EQ(m.kv_bytes_per_token(16), 72 * 1024.0);
    const double per_layer_token = 2.0 * 8 * 64 * 2;  // K and V, 8 KV heads x 64, 2 bytes
    EXPECT_DOUBLE_EQ(m.kv_bytes_at_context(100, 16), 72 * 1024.0 * 100);  // below the window: all layers full
    EXPECT_DOUBLE_EQ(m.kv_bytes_at_context(100000, 16), 18 * per_layer_token * 100000 + 18 * per_layer_token * 128);
    const ModelSpec dense = zoo("llama-3.1-8b");
    EXPECT_DOUBLE_EQ(dense.kv_bytes_at_context(4096, 16), 128 * 1024.0 * 4096);
}

TEST(ModelsZoo, StructureAsReleased) {
    const ModelSpec q = zoo("qwen3-32b");
    EXPECT_EQ(q.head_dim, 128);
    EXPECT_EQ(q.heads * q.head_dim, 8192);
    EXPECT_NE(q.heads * q.head_dim, q.hidden);
    EXPECT_TRUE(q.qk_norm);
    EXPECT_FALSE(q.attention_bias);
    for (const auto& l : q.layer_specs) EXPECT_EQ(l.attention, AttentionKind::Full);  // use_sliding_window false

    const ModelSpec g = zoo("glm-4.6");
    ASSERT_EQ(g.layer_specs.size(), 92u);
    EXPECT_EQ(g.mtp_layers, 1);
    EXPECT_TRUE(g.qk_norm);
    EXPECT_TRUE(g.attention_bias);
    EXPECT_FALSE(g.attention_out_bias);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(g.layer_specs[i].ffn, FfnKind::Dense);
        EXPECT_EQ(g.layer_specs[i].intermediate, 12288);
    }
    const LayerSpec& gm = g.layer_specs[3];
    EXPECT_EQ(gm.ffn, FfnKind::Moe);
    EXPECT_EQ(gm.experts, 160);
    EXPECT_EQ(gm.experts_per_token, 8);
    EXPECT_EQ(gm.expert_intermediate, 1536);
    EXPECT_EQ(gm.shared_experts, 1);
    EXPECT_EQ(gm.shared_intermediate, 1536);

    const ModelSpec o = zoo("gpt-oss-120b");
    EXPECT_EQ(o.layer_specs[0].attention, AttentionKind::Sliding);
    EXPECT_EQ(o.layer_specs[0].window, 128);
    EXPECT_EQ(o.layer_specs[1].attention, AttentionKind::Full);
    EXPECT_EQ(o.layer_specs[1].window, 0);
    EXPECT_EQ(o.layer_specs[35].attention, AttentionKind::Full);
    EXPECT_EQ(o.layer_specs[0].experts, 128);
    EXPECT_EQ(o.layer_specs[0].experts_per_token, 4);
    EXPECT_EQ(o.layer_specs[0].expert_intermediate, 2880);
    EXPECT_TRUE(o.attention_bias && o.attention_out_bias && o.attention_sinks && o.expert_bias);

    const ModelSpec qm = zoo("qwen3-235b-a22b");
    for (const auto& l : qm.layer_specs) EXPECT_EQ(l.ffn, FfnKind::Moe);
    EXPECT_EQ(qm.kv_heads, 4);

    const ModelSpec l2 = zoo("llama-2-13b");
    EXPECT_EQ(l2.kv_heads, l2.heads);
    EXPECT_EQ(l2.name, "meta-llama/Llama-2-13b-hf");  // _name_or_path
    EXPECT_EQ(zoo("llama-3.1-8b").name, "llama-3.1-8b");  // file stem
}

TEST(ModelsZoo, EveryKeyOfTheZooIsKnown) {
    for (const auto& n : kZoo) {
        const ModelSpec m = zoo(n);
        EXPECT_FALSE(has_warning(m, "unknown key")) << n;
    }
    // gpt-oss ships without torch_dtype: 16 bits assumed, and said so.
    EXPECT_TRUE(has_warning(zoo("gpt-oss-120b"), "torch_dtype"));
    EXPECT_FALSE(has_warning(zoo("llama-3.1-8b"), "torch_dtype"));
}

TEST(ModelsZoo, ReleasedPrecision) {
    const ModelSpec o = zoo("gpt-oss-120b");
    EXPECT_DOUBLE_EQ(o.released.expert_weight_bits, 4.25);
    EXPECT_DOUBLE_EQ(o.released.dense_weight_bits, 16);
    EXPECT_DOUBLE_EQ(o.released.kv_bits, 16);
    EXPECT_DOUBLE_EQ(zoo("llama-2-13b").released.dense_weight_bits, 16);  // float16
    EXPECT_DOUBLE_EQ(zoo("glm-4.6").released.expert_weight_bits, 16);
    const ModelSpec f32 = parse(with(tiny_llama(), "torch_dtype", "\"float32\""));
    EXPECT_DOUBLE_EQ(f32.released.dense_weight_bits, 32);
    const ModelSpec fp8 = parse(with(tiny_llama(), "quantization_config", R"({"quant_method": "fp8", "fmt": "e4m3"})"));
    EXPECT_DOUBLE_EQ(fp8.released.dense_weight_bits, 8);
    EXPECT_TRUE(has_warning(parse(without(tiny_llama(), "torch_dtype")), "torch_dtype"));
}

// --------------------------------------------------------------------------------------------- import

TEST(ModelsImport, GqaMhaMqa) {
    const ModelSpec gqa = parse(tiny_llama());
    EXPECT_EQ(gqa.heads, 8);
    EXPECT_EQ(gqa.kv_heads, 2);
    EXPECT_EQ(gqa.head_dim, 32);
    const ModelSpec mha = parse(without(tiny_llama(), "num_key_value_heads"));  // HF: absent -> heads
    EXPECT_EQ(mha.kv_heads, 8);
    const ModelSpec mqa = parse(with(tiny_llama(), "num_key_value_heads", "1"));
    EXPECT_EQ(mqa.kv_heads, 1);
    EXPECT_DOUBLE_EQ(mha.kv_bytes_per_token(16), 4 * 2 * 8 * 32 * 2.0);
    EXPECT_DOUBLE_EQ(gqa.kv_bytes_per_token(16), 4 * 2 * 2 * 32 * 2.0);
    EXPECT_DOUBLE_EQ(mqa.kv_bytes_per_token(16), 4 * 2 * 1 * 32 * 2.0);
    // K and V projections shrink with the KV heads: each layer loses 2 x h x (8 - 2) x 32.
    EXPECT_EQ(mha.parameters() - gqa.parameters(), 4 * 2 * kTinyH * 6 * 32);
}

TEST(ModelsImport, HeadDimExplicitVsDerived) {
    const ModelSpec derived = parse(tiny_llama());
    EXPECT_EQ(derived.head_dim, kTinyH / 8);
    const ModelSpec wide = parse(with(tiny_llama(), "head_dim", "64"));  // q width 512 != hidden 256
    EXPECT_EQ(wide.head_dim, 64);
    const std::int64_t mlp = 3 * kTinyH * kTinyI;
    const std::int64_t layer = tiny_layer_attention(8 * 64, 2 * 64) + mlp;
    EXPECT_EQ(wide.parameters(), 2 * kTinyV * kTinyH + 4 * layer + kTinyH);
    // Qwen3's config class defaults head_dim to 128 when absent; the import says so.
    const ModelSpec q3 = parse(with(without(tiny_llama(), "head_dim"), "model_type", "\"qwen3\""));
    EXPECT_EQ(q3.head_dim, 128);
    EXPECT_TRUE(has_warning(q3, "head_dim"));
    // hidden not divisible by heads and no head_dim: cannot derive.
    const std::string e = error_of(with(with(tiny_llama(), "hidden_size", "250"), "num_key_value_heads", "8"));
    EXPECT_NE(e.find("head_dim"), std::string::npos) << e;
}

TEST(ModelsImport, TiedEmbeddingsDropTheLmHead) {
    const ModelSpec untied = parse(tiny_llama());
    const ModelSpec tied = parse(with(tiny_llama(), "tie_word_embeddings", "true"));
    EXPECT_TRUE(tied.tied_embeddings);
    EXPECT_EQ(untied.parameters() - tied.parameters(), kTinyV * kTinyH);
    // Absent: false for these families (their Config classes' default), unlike PretrainedConfig's true.
    EXPECT_FALSE(parse(without(tiny_llama(), "tie_word_embeddings")).tied_embeddings);
    // The tied LM head still reads the table in decode, and is still counted as active.
    EXPECT_EQ(tied.active_parameters(), untied.active_parameters());
    const ModelGraph g = build_model_graph(tied);
    EXPECT_EQ(g.lm_head.weight_params, 0);
    EXPECT_DOUBLE_EQ(decode_cost(g.lm_head, 1, 1, bf16()).weight_bytes, kTinyH * kTinyV * 2.0);
    EXPECT_EQ(g.parameters(), tied.parameters());
}

TEST(ModelsImport, HandCountOfTinyLlama) {
    const std::int64_t layer = tiny_layer_attention(256, 64) + 3 * kTinyH * kTinyI;
    EXPECT_EQ(parse(tiny_llama()).parameters(), 2 * kTinyV * kTinyH + 4 * layer + kTinyH);
    // attention_bias on Llama: q, k, v and o biases.
    const ModelSpec b = parse(with(tiny_llama(), "attention_bias", "true"));
    EXPECT_EQ(b.parameters() - parse(tiny_llama()).parameters(), 4 * (256 + 64 + 64 + 256));
    // Qwen2: q/k/v biases always, none on o_proj.
    const ModelSpec q2 = parse(with(tiny_llama(), "model_type", "\"qwen2\""));
    EXPECT_EQ(q2.parameters() - parse(tiny_llama()).parameters(), 4 * (256 + 64 + 64));
}

TEST(ModelsImport, SlidingWindowFromLayerTypes) {
    const ModelSpec m = parse(with(with(tiny_llama(), "sliding_window", "64"), "layer_types",
                                   R"(["sliding_attention", "full_attention", "sliding_attention", "full_attention"])"));
    ASSERT_EQ(m.layer_specs.size(), 4u);
    EXPECT_EQ(m.layer_specs[0].attention, AttentionKind::Sliding);
    EXPECT_EQ(m.layer_specs[0].window, 64);
    EXPECT_EQ(m.layer_specs[1].attention, AttentionKind::Full);
    EXPECT_EQ(m.layer_specs[2].attention, AttentionKind::Sliding);
    EXPECT_DOUBLE_EQ(m.kv_bytes_at_context(1000, 16), 2 * 2 * 32 * 2.0 * (2 * 1000 + 2 * 64));  // K+V, 2 KV heads x 32
}

TEST(ModelsImport, SlidingWindowMistralAndQwen2Styles) {
    // Mistral: sliding_window applies to every layer.
    const ModelSpec mistral = parse(with(with(tiny_llama(), "model_type", "\"mistral\""), "sliding_window", "128"));
    for (const auto& l : mistral.layer_specs) {
        EXPECT_EQ(l.attention, AttentionKind::Sliding);
        EXPECT_EQ(l.window, 128);
    }
    // Mistral with null window: none.
    const ModelSpec none = parse(with(with(tiny_llama(), "model_type", "\"mistral\""), "sliding_window", "null"));
    for (const auto& l : none.layer_specs) EXPECT_EQ(l.attention, AttentionKind::Full);
    // Qwen2: use_sliding_window false disables the window.
    Fields q2 = with(with(tiny_llama(), "model_type", "\"qwen2\""), "sliding_window", "4096");
    const ModelSpec off = parse(with(with(q2, "use_sliding_window", "false"), "max_window_layers", "2"));
    for (const auto& l : off.layer_specs) EXPECT_EQ(l.attention, AttentionKind::Full);
    // Qwen2 with the window on: layers from max_window_layers slide.
    const ModelSpec on = parse(with(with(q2, "use_sliding_window", "true"), "max_window_layers", "2"));
    EXPECT_EQ(on.layer_specs[1].attention, AttentionKind::Full);
    EXPECT_EQ(on.layer_specs[2].attention, AttentionKind::Sliding);
    EXPECT_EQ(on.layer_specs[3].window, 4096);
}

TEST(ModelsImport, MixtralSpelling) {
    Fields f = with(with(with(tiny_llama(), "model_type", "\"mixtral\""), "num_local_experts", "8"),
                    "num_experts_per_tok", "2");
    const ModelSpec m = parse(f);
    ASSERT_TRUE(m.is_moe());
    for (const auto& l : m.layer_specs) {
        EXPECT_EQ(l.ffn, FfnKind::Moe);
        EXPECT_EQ(l.experts, 8);
        EXPECT_EQ(l.experts_per_token, 2);
        EXPECT_EQ(l.expert_intermediate, kTinyI);  // Mixtral experts are intermediate_size wide
        EXPECT_EQ(l.shared_experts, 0);
    }
    const std::int64_t attn = tiny_layer_attention(256, 64);
    const std::int64_t expert = 3 * kTinyH * kTinyI;
    const std::int64_t router = kTinyH * 8;
    EXPECT_EQ(m.parameters(), 2 * kTinyV * kTinyH + 4 * (attn + router + 8 * expert) + kTinyH);
    EXPECT_EQ(m.active_parameters(), kTinyV * kTinyH + 4 * (attn + router + 2 * expert) + kTinyH);
}

TEST(ModelsImport, QwenMoeSpelling) {
    Fields f = with(with(with(tiny_llama(), "model_type", "\"qwen3_moe\""), "num_experts", "16"),
                    "num_experts_per_tok", "4");
    f = with(with(with(f, "moe_intermediate_size", "128"), "decoder_sparse_step", "1"), "mlp_only_layers", "[0]");
    f = with(f, "head_dim", "32");
    const ModelSpec m = parse(f);
    EXPECT_EQ(m.layer_specs[0].ffn, FfnKind::Dense);  // listed in mlp_only_layers
    EXPECT_EQ(m.layer_specs[0].intermediate, kTinyI);
    for (int i = 1; i < 4; ++i) {
        EXPECT_EQ(m.layer_specs[i].ffn, FfnKind::Moe);
        EXPECT_EQ(m.layer_specs[i].expert_intermediate, 128);
        EXPECT_EQ(m.layer_specs[i].experts, 16);
    }
    EXPECT_TRUE(m.qk_norm);  // Qwen3 always has q_norm / k_norm
    // decoder_sparse_step 2: layers 1 and 3 are MoE.
    const ModelSpec s = parse(with(with(f, "decoder_sparse_step", "2"), "mlp_only_layers", "[]"));
    EXPECT_EQ(s.layer_specs[0].ffn, FfnKind::Dense);
    EXPECT_EQ(s.layer_specs[1].ffn, FfnKind::Moe);
    EXPECT_EQ(s.layer_specs[2].ffn, FfnKind::Dense);
    EXPECT_EQ(s.layer_specs[3].ffn, FfnKind::Moe);
    // moe_intermediate_size is required for this family.
    const std::string e = error_of(without(f, "moe_intermediate_size"));
    EXPECT_NE(e.find("moe_intermediate_size"), std::string::npos) << e;
}

TEST(ModelsImport, DeepSeekStyleSpelling) {
    Fields f = with(with(tiny_llama(), "model_type", "\"deepseek\""), "n_routed_experts", "32");
    f = with(with(with(f, "num_experts_per_tok", "4"), "moe_intermediate_size", "64"), "n_shared_experts", "2");
    f = with(with(f, "first_k_dense_replace", "1"), "moe_layer_freq", "1");
    const ModelSpec m = parse(f);
    EXPECT_EQ(m.layer_specs[0].ffn, FfnKind::Dense);
    const LayerSpec& l = m.layer_specs[1];
    EXPECT_EQ(l.ffn, FfnKind::Moe);
    EXPECT_EQ(l.experts, 32);
    EXPECT_EQ(l.shared_experts, 2);
    EXPECT_EQ(l.shared_intermediate, 64);
    const std::int64_t attn = tiny_layer_attention(256, 64);
    const std::int64_t expert = 3 * kTinyH * 64;
    const std::int64_t moe_layer = attn + kTinyH * 32 + 2 * expert + 32 * expert;  // router, 2 shared, 32 routed
    const std::int64_t dense_layer = attn + 3 * kTinyH * kTinyI;
    EXPECT_EQ(m.parameters(), 2 * kTinyV * kTinyH + dense_layer + 3 * moe_layer + kTinyH);
    EXPECT_EQ(m.active_parameters(),
              kTinyV * kTinyH + dense_layer + 3 * (attn + kTinyH * 32 + 2 * expert + 4 * expert) + kTinyH);
    // Multi-token prediction layers are stored (counted) but not executed.
    const ModelSpec mtp = parse(with(f, "num_nextn_predict_layers", "1"));
    EXPECT_EQ(mtp.mtp_layers, 1);
    EXPECT_EQ(mtp.parameters() - m.parameters(), moe_layer + 2 * kTinyH * kTinyH + 3 * kTinyH);
    EXPECT_EQ(mtp.layer_specs.size(), 4u);
    EXPECT_EQ(mtp.active_parameters(), m.active_parameters());
}

TEST(ModelsImport, GptOssStyleSpelling) {
    Fields f = with(with(tiny_llama(), "model_type", "\"gpt_oss\""), "num_local_experts", "8");
    f = with(with(with(f, "experts_per_token", "2"), "head_dim", "32"), "attention_bias", "true");
    f = with(f, "quantization_config", R"({"quant_method": "mxfp4", "modules_to_not_convert": ["lm_head"]})");
    const ModelSpec m = parse(f);
    EXPECT_EQ(m.layer_specs[0].experts_per_token, 2);
    EXPECT_EQ(m.layer_specs[0].expert_intermediate, kTinyI);
    EXPECT_DOUBLE_EQ(m.released.expert_weight_bits, 4.25);
    EXPECT_DOUBLE_EQ(m.released.dense_weight_bits, 16);
    // Both spellings present must agree.
    const std::string e = error_of(with(f, "num_experts_per_tok", "3"));
    EXPECT_NE(e.find("num_experts_per_tok"), std::string::npos) << e;
}

TEST(ModelsImport, UnknownKeysAreWarnedNotDropped) {
    const ModelSpec m = parse(with(tiny_llama(), "frobnication_level", "3"));
    EXPECT_TRUE(has_warning(m, "frobnication_level"));
    const ModelSpec n = parse(with(tiny_llama(), "_commit_hash", "\"abc\""));
    EXPECT_TRUE(has_warning(n, "_commit_hash"));
    EXPECT_EQ(parse(tiny_llama()).name, "inline");
}

// --------------------------------------------------------------------------------------------- errors

TEST(ModelsErrors, MissingHiddenSize) {
    const std::string e = error_of(without(tiny_llama(), "hidden_size"));
    EXPECT_NE(e.find("bad.json"), std::string::npos) << e;
    EXPECT_NE(e.find("hidden_size: missing required key"), std::string::npos) << e;
}

TEST(ModelsErrors, KvHeadsMustDivideHeads) {
    const std::string e = error_of(with(tiny_llama(), "num_key_value_heads", "3"));
    EXPECT_NE(e.find("num_key_value_heads"), std::string::npos) << e;
    EXPECT_NE(e.find("multiple"), std::string::npos) << e;
}

TEST(ModelsErrors, MoreActiveExpertsThanExperts) {
    Fields f = with(with(with(tiny_llama(), "model_type", "\"gpt_oss\""), "num_local_experts", "4"),
                    "experts_per_token", "8");
    const std::string e = error_of(f);
    EXPECT_NE(e.find("experts_per_token"), std::string::npos) << e;
    EXPECT_NE(e.find("num_local_experts (4)"), std::string::npos) << e;
}

TEST(ModelsErrors, TypoSuggestsKnownKey) {
    Fields f = without(tiny_llama(), "num_hidden_layers");
    f.emplace_back("num_hiden_layers", "4");
    const std::string e = error_of(f);
    EXPECT_NE(e.find("num_hiden_layers: unknown key; did you mean \"num_hidden_layers\""), std::string::npos) << e;
}

TEST(ModelsErrors, MultiHeadLatentAttentionNotModeled) {
    const std::string e = error_of(with(tiny_llama(), "kv_lora_rank", "512"));
    EXPECT_NE(e.find("kv_lora_rank"), std::string::npos) << e;
    EXPECT_NE(e.find("not modeled"), std::string::npos) << e;
    // A null q_lora_rank (DeepSeek-V2-Lite spelling) is not MLA by itself.
    EXPECT_NO_THROW(parse(with(tiny_llama(), "q_lora_rank", "null")));
}

TEST(ModelsErrors, MalformedJsonGivesByteOffsetAndLine) {
    const std::string text = "{\n  \"hidden_size\": 4096,\n  \"vocab_size\": ,\n}\n";
    try {
        import_hf_config_text(text, "bad.json");
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        const std::string w = e.what();
        EXPECT_NE(w.find("malformed JSON at byte"), std::string::npos) << w;
        ASSERT_EQ(e.diagnostics().size(), 1u);
        EXPECT_EQ(e.diagnostics()[0].line, 3);
    }
}

TEST(ModelsErrors, EmptyTextAndNonObject) {
    EXPECT_NE(error_of("").find("empty"), std::string::npos);
    EXPECT_NE(error_of("  \n\t ").find("empty"), std::string::npos);
    EXPECT_NE(error_of("[1, 2]").find("JSON object"), std::string::npos);
}

TEST(ModelsErrors, LayerTypesLengthMismatch) {
    Fields f = with(with(tiny_llama(), "sliding_window", "64"), "layer_types", R"(["sliding_attention", "full_attention"])");
    const std::string e = error_of(f);
    EXPECT_NE(e.find("layer_types: has 2 entries; expected num_hidden_layers (4)"), std::string::npos) << e;
}

TEST(ModelsErrors, UnknownLayerType) {
    Fields f = with(tiny_llama(), "layer_types",
                    R"(["full_attention", "chunked_attention", "full_attention", "full_attention"])");
    const std::string e = error_of(f);
    EXPECT_NE(e.find("layer_types"), std::string::npos) << e;
    EXPECT_NE(e.find("chunked_attention"), std::string::npos) << e;
}

TEST(ModelsErrors, SlidingLayersNeedAWindow) {
    Fields f = with(tiny_llama(), "layer_types",
                    R"(["sliding_attention", "full_attention", "full_attention", "full_attention"])");
    EXPECT_NE(error_of(f).find("sliding_window"), std::string::npos);
}

TEST(ModelsErrors, NegativeAbsurdAndWrongTypeSizes) {
    std::string e = error_of(with(tiny_llama(), "hidden_size", "-4096"));
    EXPECT_NE(e.find("hidden_size: expected a positive integer, found -4096"), std::string::npos) << e;
    e = error_of(with(tiny_llama(), "num_hidden_layers", "0"));
    EXPECT_NE(e.find("num_hidden_layers: expected a positive integer, found 0"), std::string::npos) << e;
    e = error_of(with(tiny_llama(), "hidden_size", "100000000"));
    EXPECT_NE(e.find("hidden_size"), std::string::npos) << e;
    EXPECT_NE(e.find("absurdly large"), std::string::npos) << e;
    e = error_of(with(tiny_llama(), "num_hidden_layers", "20000"));
    EXPECT_NE(e.find("num_hidden_layers"), std::string::npos) << e;
    e = error_of(with(tiny_llama(), "hidden_size", "\"4096\""));
    EXPECT_NE(e.find("hidden_size: expected an integer, found string"), std::string::npos) << e;
    e = error_of(with(tiny_llama(), "tie_word_embeddings", "1"));
    EXPECT_NE(e.find("tie_word_embeddings: expected true or false"), std::string::npos) << e;
}

TEST(ModelsErrors, AllProblemsReportedTogetherWithLines) {
    Fields f = with(with(tiny_llama(), "hidden_size", "-1"), "num_key_value_heads", "3");
    f = without(f, "vocab_size");
    try {
        parse(f);
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        std::set<std::string> keys;
        for (const auto& d : e.diagnostics()) keys.insert(d.key);
        EXPECT_TRUE(keys.count("hidden_size"));
        EXPECT_TRUE(keys.count("num_key_value_heads"));
        EXPECT_TRUE(keys.count("vocab_size"));
        for (const auto& d : e.diagnostics()) {
            EXPECT_EQ(d.file, "inline.json");
            if (d.key == "hidden_size") {
                EXPECT_EQ(d.line, 4);  // line of the key in the text
            }
        }
    }
}

TEST(ModelsErrors, UnsupportedModelTypeAndDuplicateKey) {
    std::string e = error_of(with(tiny_llama(), "model_type", "\"lama\""));
    EXPECT_NE(e.find("model_type"), std::string::npos) << e;
    EXPECT_NE(e.find("did you mean \"llama\""), std::string::npos) << e;
    e = error_of("{\"model_type\": \"llama\", \"hidden_size\": 8, \"hidden_size\": 16}");
    EXPECT_NE(e.find("hidden_size: key appears more than once"), std::string::npos) << e;
    e = error_of(with(tiny_llama(), "quantization_config", R"({"quant_method": "bitsandbytes"})"));
    EXPECT_NE(e.find("quantization_config.quant_method"), std::string::npos) << e;
}

TEST(ModelsErrors, FileProblems) {
    try {
        import_hf_config(std::string(WAFERSIM_SOURCE_DIR) + "/configs/models");
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
    }
    try {
        import_hf_config(std::string(WAFERSIM_SOURCE_DIR) + "/configs/models/no-such-model.json");
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos) << e.what();
    }
}

// ------------------------------------------------------------------------------------------ precision

TEST(ModelsPrecision, NamesAndPolicy) {
    EXPECT_DOUBLE_EQ(precision_bits("fp32"), 32);
    EXPECT_DOUBLE_EQ(precision_bits("bf16"), 16);
    EXPECT_DOUBLE_EQ(precision_bits("fp16"), 16);
    EXPECT_DOUBLE_EQ(precision_bits("fp8"), 8);
    EXPECT_DOUBLE_EQ(precision_bits("fp4"), 4.25);
    const ModelSpec o = zoo("gpt-oss-120b");
    PrecisionPolicy p = resolve_precision(o, "auto", "auto");
    EXPECT_DOUBLE_EQ(p.expert_weight_bits, 4.25);
    EXPECT_DOUBLE_EQ(p.dense_weight_bits, 16);
    EXPECT_DOUBLE_EQ(p.kv_bits, 16);
    p = resolve_precision(o, "fp8", "fp8");
    EXPECT_DOUBLE_EQ(p.expert_weight_bits, 8);
    EXPECT_DOUBLE_EQ(p.dense_weight_bits, 8);
    EXPECT_DOUBLE_EQ(p.kv_bits, 8);
    p = resolve_precision(zoo("llama-3.1-8b"), "fp4", "fp16");
    EXPECT_DOUBLE_EQ(p.dense_weight_bits, 4.25);
    EXPECT_DOUBLE_EQ(p.kv_bits, 16);
}

TEST(ModelsPrecision, UnknownNamesNameTheKey) {
    const ModelSpec m = zoo("llama-3.1-8b");
    try {
        resolve_precision(m, "int3", "auto");
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        const std::string w = e.what();
        EXPECT_NE(w.find("precision.weights"), std::string::npos) << w;
        EXPECT_NE(w.find("fp4"), std::string::npos) << w;
    }
    try {
        resolve_precision(m, "auto", "fp9");
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("precision.kv"), std::string::npos) << e.what();
    }
    EXPECT_THROW(precision_bits("auto"), InputError);
}

// ---------------------------------------------------------------------------------------------- graph

TEST(ModelsGraph, TopologicalOrderAndParameterTotals) {
    for (const auto& n : kZoo) {
        const ModelSpec m = zoo(n);
        const ModelGraph g = build_model_graph(m);
        ASSERT_EQ(g.layers.size(), m.layer_specs.size()) << n;
        for (const auto& l : g.layers) {
            std::set<std::string> names;
            for (const auto& op : l.ops()) EXPECT_TRUE(names.insert(op.name).second) << n << " duplicate " << op.name;
            for (const auto& e : l.edges()) {
                EXPECT_LT(e.from, e.to) << n << ": " << l.ops()[e.from].name << " -> " << l.ops()[e.to].name;
                EXPECT_GT(e.elements_per_token, 0);
            }
        }
        EXPECT_EQ(g.parameters(), m.parameters() - m.mtp_parameters()) << n;
        // Each layer's graph agrees with the spec's independent count.
        for (std::size_t i = 0; i < g.layers.size(); ++i)
            EXPECT_EQ(g.layers[i].weight_params(), m.layer_parameters(m.layer_specs[i])) << n << " layer " << i;
    }
}

TEST(ModelsGraph, DenseAndMoeLayerOps) {
    auto index_of = [](const LayerGraph& l, const std::string& name) {
        for (std::size_t i = 0; i < l.ops().size(); ++i)
            if (l.ops()[i].name == name) return static_cast<int>(i);
        return -1;
    };
    const ModelSpec q = zoo("qwen3-32b");
    const LayerGraph dense(q, q.layer_specs[0]);
    for (const char* n : {"input_norm", "q_proj", "k_proj", "v_proj", "q_norm", "k_norm", "rope", "attention", "o_proj",
                          "residual_attn", "post_norm", "gate_proj", "up_proj", "act", "down_proj", "residual_ffn"})
        EXPECT_GE(index_of(dense, n), 0) << n;
    EXPECT_EQ(dense.ops()[index_of(dense, "q_proj")].out_features, 8192);
    EXPECT_EQ(dense.ops()[index_of(dense, "k_proj")].fuse_group, 0);
    EXPECT_EQ(dense.ops()[index_of(dense, "gate_proj")].fuse_group, 1);
    EXPECT_EQ(dense.ops()[index_of(dense, "up_proj")].fuse_group, 1);
    const auto preds = dense.predecessors(index_of(dense, "attention"));
    EXPECT_EQ(preds.size(), 2u);  // rope (q, k) and v_proj

    const ModelSpec g = zoo("glm-4.6");
    const LayerGraph moe(g, g.layer_specs[10]);
    for (const char* n : {"router", "experts_gate_up", "experts_act", "experts_down", "shared_gate_up", "shared_down",
                          "residual_ffn"})
        EXPECT_GE(index_of(moe, n), 0) << n;
    EXPECT_EQ(index_of(moe, "gate_proj"), -1);
    const Op& router = moe.ops()[index_of(moe, "router")];
    EXPECT_EQ(router.kind, OpKind::Projection);
    EXPECT_EQ(router.weight_class, WeightClass::Dense);
    EXPECT_EQ(router.in_features, 5120);
    EXPECT_EQ(router.out_features, 160);
    const Op& eg = moe.ops()[index_of(moe, "experts_gate_up")];
    EXPECT_EQ(eg.kind, OpKind::Experts);
    EXPECT_EQ(eg.weight_class, WeightClass::Expert);
    EXPECT_EQ(eg.in_features, 5120);
    EXPECT_EQ(eg.out_features, 2 * 1536);
    EXPECT_EQ(eg.experts, 160);
    EXPECT_EQ(eg.top_k, 8);
    const Op& ed = moe.ops()[index_of(moe, "experts_down")];
    EXPECT_EQ(ed.in_features, 1536);
    EXPECT_EQ(ed.out_features, 5120);
    const Op& sg = moe.ops()[index_of(moe, "shared_gate_up")];
    EXPECT_EQ(sg.kind, OpKind::Projection);
    EXPECT_EQ(sg.out_features, 2 * 1536);

    const ModelSpec o = zoo("gpt-oss-120b");
    const LayerGraph l0(o, o.layer_specs[0]), l1(o, o.layer_specs[1]);
    EXPECT_EQ(l0.ops()[index_of(l0, "attention")].window, 128);
    EXPECT_EQ(l1.ops()[index_of(l1, "attention")].window, 0);
}

// ---------------------------------------------------------------------------------------------- costs

TEST(ModelsCost, ProjectionDecode) {
    Op op;
    op.name = "proj";
    op.kind = OpKind::Projection;
    op.weight_class = WeightClass::Dense;
    op.in_features = 4096;
    op.out_features = 1024;
    op.weight_params = 4096 * 1024;
    const OpCost c = decode_cost(op, 7, 100, bf16());
    EXPECT_DOUBLE_EQ(c.flops, 2.0 * 4096 * 1024 * 7);
    EXPECT_DOUBLE_EQ(c.weight_bytes, 4096.0 * 1024 * 2);  // once per step, whatever the batch
    EXPECT_DOUBLE_EQ(c.act_in_bytes, 7.0 * 4096 * 2);
    EXPECT_DOUBLE_EQ(c.act_out_bytes, 7.0 * 1024 * 2);
    PrecisionPolicy p8 = bf16();
    p8.dense_weight_bits = 8;
    EXPECT_DOUBLE_EQ(decode_cost(op, 7, 100, p8).weight_bytes, 4096.0 * 1024);
    const OpCost pre = prefill_cost(op, 50, bf16());
    EXPECT_DOUBLE_EQ(pre.flops, 2.0 * 50 * 4096 * 1024);
    EXPECT_DOUBLE_EQ(pre.weight_bytes, 4096.0 * 1024 * 2);
}

TEST(ModelsCost, AttentionAtContext) {
    Op a;
    a.kind = OpKind::Attention;
    a.heads = 32;
    a.kv_heads = 8;
    a.head_dim = 128;
    a.in_features = (32 + 16) * 128;
    a.out_features = 32 * 128;
    const std::int64_t L = 4096, B = 3;
    OpCost c = decode_cost(a, B, L, bf16());
    EXPECT_DOUBLE_EQ(c.flops, 3.0 * 4 * 4096 * 32 * 128);
    EXPECT_DOUBLE_EQ(c.kv_read_bytes, 3.0 * 4096 * 2 * 8 * 128 * 2);
    EXPECT_DOUBLE_EQ(c.kv_write_bytes, 3.0 * 2 * 8 * 128 * 2);
    EXPECT_DOUBLE_EQ(c.weight_bytes, 0);
    a.window = 128;  // sliding: at most 128 keys
    c = decode_cost(a, B, L, bf16());
    EXPECT_DOUBLE_EQ(c.flops, 3.0 * 4 * 128 * 32 * 128);
    EXPECT_DOUBLE_EQ(c.kv_read_bytes, 3.0 * 128 * 2 * 8 * 128 * 2);
    EXPECT_DOUBLE_EQ(decode_cost(a, 1, 50, bf16()).flops, 4.0 * 50 * 32 * 128);  // shorter than the window
    // Prefill, causal: sum_{i=1..N} min(i, W).
    a.window = 0;
    OpCost pre = prefill_cost(a, 1000, bf16());
    EXPECT_DOUBLE_EQ(pre.flops, 4.0 * 32 * 128 * (1000.0 * 1001 / 2));
    EXPECT_DOUBLE_EQ(pre.kv_write_bytes, 1000.0 * 2 * 8 * 128 * 2);
    a.window = 128;
    pre = prefill_cost(a, 1000, bf16());
    EXPECT_DOUBLE_EQ(pre.flops, 4.0 * 32 * 128 * (128.0 * 129 / 2 + (1000 - 128) * 128.0));
}

TEST(ModelsCost, DecodeStepOfLlama8bReadsAllWeightsButTheTable) {
    const ModelSpec m = zoo("llama-3.1-8b");
    const ModelGraph g = build_model_graph(m);
    const std::int64_t batch = 4;
    const OpCost c = decode_step_cost(g, batch, 1024, resolve_precision(m, "bf16", "auto"));
    const double table = static_cast<double>(m.vocab * m.hidden);
    const double expect = (static_cast<double>(m.parameters()) - table) * 2 + batch * m.hidden * 2.0;  // + gathered rows
    EXPECT_DOUBLE_EQ(c.weight_bytes, expect);
    EXPECT_NEAR(c.weight_bytes / (static_cast<double>(m.parameters()) * 2 - table * 2), 1.0, 1e-4);
    // FLOPs ~ 2 x active parameters x batch + attention.
    const double attention = batch * 32 * 4.0 * 1024 * 32 * 128;
    EXPECT_NEAR(c.flops / (2.0 * batch * m.active_parameters() + attention), 1.0, 0.01);
    EXPECT_DOUBLE_EQ(c.kv_read_bytes, batch * 1024 * m.kv_bytes_per_token(16));
    EXPECT_DOUBLE_EQ(c.kv_write_bytes, batch * m.kv_bytes_per_token(16));
    // Prefill: KV of every prompt token written; LM head only for the last token.
    const OpCost pre = prefill_total_cost(g, 512, bf16());
    EXPECT_DOUBLE_EQ(pre.kv_write_bytes, 512 * m.kv_bytes_per_token(16));
    EXPECT_GT(pre.flops, 2.0 * 512 * (m.active_parameters() - m.vocab * m.hidden));
}

TEST(ModelsCost, ExpectedExpertsTouched) {
    EXPECT_DOUBLE_EQ(expected_experts_touched(128, 8, 1), 8);
    EXPECT_NEAR(expected_experts_touched(128, 8, 10000), 128, 1e-9);
    EXPECT_GT(expected_experts_touched(128, 8, 16), 8);
    EXPECT_LT(expected_experts_touched(128, 8, 16), 128);
    EXPECT_DOUBLE_EQ(expected_experts_touched(8, 8, 3), 8);
    EXPECT_DOUBLE_EQ(expected_experts_touched(128, 8, 0), 0);
}

TEST(ModelsCost, MoeDecodeReadsOnlyTouchedExperts) {
    const ModelSpec m = zoo("qwen3-235b-a22b");
    const ModelGraph g = build_model_graph(m);
    const PrecisionPolicy p = resolve_precision(m, "auto", "auto");
    // Batch 1: weights read = active parameters (minus the LM head's gathered-vs-matrix difference) x 2 bytes.
    const OpCost one = decode_step_cost(g, 1, 1, p);
    const double expect = (static_cast<double>(m.active_parameters())) * 2 + m.hidden * 2.0;
    EXPECT_NEAR(one.weight_bytes / expect, 1.0, 1e-9);
    // Large batch: every expert is read.
    const OpCost many = decode_step_cost(g, 100000, 1, p);
    const double all = (static_cast<double>(m.parameters()) - m.vocab * m.hidden) * 2 + 100000.0 * m.hidden * 2;
    EXPECT_NEAR(many.weight_bytes / all, 1.0, 1e-6);
    // Experts FLOPs: batch x top_k x 2 x K x N.
    const LayerGraph& l = g.layers[0];
    for (const auto& op : l.ops())
        if (op.name == "experts_down") {
            EXPECT_DOUBLE_EQ(decode_cost(op, 5, 1, p).flops, 5.0 * 8 * 2 * 1536 * 4096);
        }
    // MXFP4 experts: gpt-oss expert bytes at 4.25 bits.
    const ModelSpec o = zoo("gpt-oss-120b");
    const LayerGraph lo(o, o.layer_specs[0]);
    for (const auto& op : lo.ops())
        if (op.name == "experts_down") {
            EXPECT_DOUBLE_EQ(decode_cost(op, 1, 1, o.released).weight_bytes, 4 * (2880.0 * 2880 + 2880) * 4.25 / 8);
        }
}

TEST(ModelsCost, EmbeddingIsAGather) {
    const ModelSpec m = zoo("llama-3.1-8b");
    const ModelGraph g = build_model_graph(m);
    EXPECT_EQ(g.embedding.weight_params, m.vocab * m.hidden);
    const OpCost c = prefill_cost(g.embedding, 100, bf16());
    EXPECT_DOUBLE_EQ(c.flops, 0);
    EXPECT_DOUBLE_EQ(c.weight_bytes, 100.0 * 4096 * 2);
    OpCost sum;
    sum += c;
    sum += c;
    EXPECT_DOUBLE_EQ(sum.weight_bytes, 2 * c.weight_bytes);
}
