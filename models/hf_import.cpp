// Hugging Face config.json import: the key spellings of the Llama, Mistral/Mixtral, Qwen2/Qwen3 (MoE),
// gpt-oss, GLM-4 MoE and DeepSeek-MoE families mapped onto a validated ModelSpec.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/model_spec.hpp"
#include "sim/base/errors.hpp"

namespace wafersim::models {

namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------------
// The keys this importer knows. `Used` keys shape the ModelSpec; `Ignored` keys are recognised and have no
// effect on sizes, dataflow or bytes (tokenizer ids, RoPE frequencies, training-only settings). Any other
// key is either a likely typo of one of these (an error with a suggestion) or reported in `warnings`.
enum class KeyUse { Used, Ignored };
struct KnownKey {
    const char* key;
    KeyUse use;
};

const std::vector<KnownKey>& known_keys() {
    static const std::vector<KnownKey> table = {
        // Structure
        {"_name_or_path", KeyUse::Used},
        {"architectures", KeyUse::Used},
        {"model_type", KeyUse::Used},
        {"hidden_size", KeyUse::Used},
        {"intermediate_size", KeyUse::Used},
        {"num_hidden_layers", KeyUse::Used},
        {"num_attention_heads", KeyUse::Used},
        {"num_key_value_heads", KeyUse::Used},
        {"head_dim", KeyUse::Used},
        {"vocab_size", KeyUse::Used},
        {"max_position_embeddings", KeyUse::Used},
        {"tie_word_embeddings", KeyUse::Used},
        {"hidden_act", KeyUse::Used},
        {"attention_bias", KeyUse::Used},
        {"mlp_bias", KeyUse::Used},
        {"use_qk_norm", KeyUse::Used},
        // Sliding-window attention
        {"sliding_window", KeyUse::Used},
        {"use_sliding_window", KeyUse::Used},
        {"max_window_layers", KeyUse::Used},
        {"layer_types", KeyUse::Used},
        // Mixture of experts
        {"num_local_experts", KeyUse::Used},
        {"num_experts", KeyUse::Used},
        {"n_routed_experts", KeyUse::Used},
        {"num_experts_per_tok", KeyUse::Used},
        {"experts_per_token", KeyUse::Used},
        {"moe_intermediate_size", KeyUse::Used},
        {"shared_expert_intermediate_size", KeyUse::Used},
        {"n_shared_experts", KeyUse::Used},
        {"first_k_dense_replace", KeyUse::Used},
        {"moe_layer_freq", KeyUse::Used},
        {"decoder_sparse_step", KeyUse::Used},
        {"mlp_only_layers", KeyUse::Used},
        {"num_nextn_predict_layers", KeyUse::Used},
        // Precision
        {"torch_dtype", KeyUse::Used},
        {"dtype", KeyUse::Used},
        {"quantization_config", KeyUse::Used},
        // Multi-head latent attention: rejected when set
        {"kv_lora_rank", KeyUse::Used},
        {"q_lora_rank", KeyUse::Used},
        {"qk_rope_head_dim", KeyUse::Ignored},
        {"qk_nope_head_dim", KeyUse::Ignored},
        {"v_head_dim", KeyUse::Ignored},
        // No effect on sizes, dataflow or bytes
        {"rope_theta", KeyUse::Ignored},
        {"rope_scaling", KeyUse::Ignored},
        {"rope_parameters", KeyUse::Ignored},
        {"rope_interleave", KeyUse::Ignored},
        {"partial_rotary_factor", KeyUse::Ignored},
        {"rms_norm_eps", KeyUse::Ignored},
        {"bos_token_id", KeyUse::Ignored},
        {"eos_token_id", KeyUse::Ignored},
        {"pad_token_id", KeyUse::Ignored},
        {"sep_token_id", KeyUse::Ignored},
        {"decoder_start_token_id", KeyUse::Ignored},
        {"initializer_range", KeyUse::Ignored},
        {"transformers_version", KeyUse::Ignored},
        {"use_cache", KeyUse::Ignored},
        {"attention_dropout", KeyUse::Ignored},
        {"hidden_dropout", KeyUse::Ignored},
        {"pretraining_tp", KeyUse::Ignored},
        {"output_router_logits", KeyUse::Ignored},
        {"router_aux_loss_coef", KeyUse::Ignored},
        {"router_z_loss_coef", KeyUse::Ignored},
        {"router_jitter_noise", KeyUse::Ignored},
        {"norm_topk_prob", KeyUse::Ignored},
        {"n_group", KeyUse::Ignored},
        {"topk_group", KeyUse::Ignored},
        {"topk_method", KeyUse::Ignored},
        {"routed_scaling_factor", KeyUse::Ignored},
        {"scoring_func", KeyUse::Ignored},
        {"aux_loss_alpha", KeyUse::Ignored},
        {"seq_aux", KeyUse::Ignored},
        {"ep_size", KeyUse::Ignored},
        {"swiglu_limit", KeyUse::Ignored},
        {"initial_context_length", KeyUse::Ignored},
        {"auto_map", KeyUse::Ignored},
        {"tokenizer_class", KeyUse::Ignored},
        {"torchscript", KeyUse::Ignored},
        {"use_bfloat16", KeyUse::Ignored},
        {"return_dict", KeyUse::Ignored},
        {"output_attentions", KeyUse::Ignored},
        {"output_hidden_states", KeyUse::Ignored},
        {"pruned_heads", KeyUse::Ignored},
        {"is_encoder_decoder", KeyUse::Ignored},
        {"is_decoder", KeyUse::Ignored},
        {"add_cross_attention", KeyUse::Ignored},
        {"tie_encoder_decoder", KeyUse::Ignored},
        {"chunk_size_feed_forward", KeyUse::Ignored},
        {"id2label", KeyUse::Ignored},
        {"label2id", KeyUse::Ignored},
        {"problem_type", KeyUse::Ignored},
        {"task_specific_params", KeyUse::Ignored},
        {"finetuning_task", KeyUse::Ignored},
        {"max_length", KeyUse::Ignored},
        {"min_length", KeyUse::Ignored},
        {"do_sample", KeyUse::Ignored},
        {"temperature", KeyUse::Ignored},
        {"top_k", KeyUse::Ignored},
        {"top_p", KeyUse::Ignored},
        {"num_beams", KeyUse::Ignored},
        {"repetition_penalty", KeyUse::Ignored},
    };
    return table;
}

// Per-family rules where Hugging Face's modeling code, not the file, decides.
struct Family {
    const char* model_type;
    bool tie_default;              // tie_word_embeddings when the key is absent (the Config class default)
    std::int64_t head_dim_default; // head_dim when absent: the Config class default; 0 = hidden / heads
    bool qkv_bias_always;          // Qwen2: q/k/v always have biases, o_proj never
    bool o_bias_with_attention_bias;  // attention_bias also puts a bias on o_proj
    bool qk_norm_always;           // Qwen3: q_norm / k_norm in every layer
    bool gpt_oss_extras;           // attention sinks, router and expert biases
    bool needs_moe_intermediate;   // expert width must come from moe_intermediate_size
};

const std::vector<Family>& families() {
    static const std::vector<Family> table = {
        // model_type    tie    head_dim qkv_b  o_b    qk_n   oss    moe_w
        {"llama",        false, 0,       false, true,  false, false, false},
        {"mistral",      false, 0,       false, true,  false, false, false},
        {"mixtral",      false, 0,       false, true,  false, false, false},
        {"qwen2",        false, 0,       true,  false, false, false, false},
        {"qwen2_moe",    false, 0,       true,  false, false, false, true},
        {"qwen3",        false, 128,     false, true,  true,  false, false},
        {"qwen3_moe",    false, 128,     false, true,  true,  false, true},
        {"gpt_oss",      false, 64,      false, true,  false, true,  false},
        {"glm4_moe",     false, 128,     false, false, false, false, true},
        {"deepseek",     false, 0,       false, true,  false, false, true},
        {"deepseek_v2",  false, 0,       false, true,  false, false, true},
        {"deepseek_v3",  false, 0,       false, true,  false, false, true},
    };
    return table;
}

// Plausibility limits: anything beyond is a typo or a unit mistake, not a model.
constexpr std::int64_t kMaxHidden = 10'000'000;
constexpr std::int64_t kMaxIntermediate = 100'000'000;
constexpr std::int64_t kMaxLayers = 10'000;
constexpr std::int64_t kMaxHeads = 100'000;
constexpr std::int64_t kMaxHeadDim = 100'000;
constexpr std::int64_t kMaxVocab = 1'000'000'000;
constexpr std::int64_t kMaxPosition = 10'000'000'000;
constexpr std::int64_t kMaxExperts = 1'000'000;
// Each size above can be plausible while their products are not: parameter counts are int64 sums of
// products of sizes, so the whole model is bounded too (1000x the largest published models, and far
// below int64 overflow).
constexpr double kMaxParameters = 1e15;

std::string found(const json& v) {
    std::string s = v.dump();
    if (s.size() > 40) s = s.substr(0, 37) + "...";
    return std::string(v.type_name()) + " " + s;
}

std::string stem_of(const std::string& path) {
    std::string s = std::filesystem::path(path).stem().string();
    return s.empty() ? path : s;
}

int line_of_offset(const std::string& text, std::size_t offset) {
    offset = std::min(offset, text.size());
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

// Line of each key of the top-level object (a small scanner over the raw text; the JSON is valid here).
std::map<std::string, int> top_level_key_lines(const std::string& text) {
    std::map<std::string, int> lines;
    int depth = 0, line = 1;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\n') ++line;
        else if (c == '{' || c == '[') ++depth;
        else if (c == '}' || c == ']') --depth;
        else if (c == '"') {
            const int start_line = line;
            std::string s;
            for (++i; i < text.size() && text[i] != '"'; ++i) {
                if (text[i] == '\\' && i + 1 < text.size()) s += text[++i];
                else s += text[i];
            }
            if (depth != 1) continue;
            std::size_t j = i + 1;
            while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j]))) ++j;
            if (j < text.size() && text[j] == ':' && !lines.count(s)) lines[s] = start_line;
        }
    }
    return lines;
}

// Typed access to the top-level object, reporting problems into a sink instead of stopping at the first.
class Reader {
public:
    Reader(const json& j, std::string file, std::map<std::string, int> lines, DiagnosticSink& sink)
        : m_j(j), m_file(std::move(file)), m_lines(std::move(lines)), m_sink(sink) {}

    bool present(const std::string& key) const { return m_j.contains(key) && !m_j.at(key).is_null(); }
    const json& at(const std::string& key) const { return m_j.at(key); }
    int line(const std::string& key) const {
        auto it = m_lines.find(key);
        return it == m_lines.end() ? 0 : it->second;
    }
    void error(const std::string& key, const std::string& message) { m_sink.add(m_file, line(key), key, message); }

    // An integer in [lo, hi]; nullopt when absent (an error when `required`) or invalid (an error).
    std::optional<std::int64_t> integer(const std::string& key, std::int64_t lo, std::int64_t hi, bool required) {
        if (!present(key)) {
            if (required) error(key, "missing required key; expected an integer");
            return std::nullopt;
        }
        const json& v = at(key);
        std::int64_t x = 0;
        if (v.is_number_unsigned()) {
            const auto u = v.get<std::uint64_t>();
            if (u > static_cast<std::uint64_t>(hi)) {
                error(key, "expected at most " + std::to_string(hi) + ", found " + v.dump() + " (absurdly large)");
                return std::nullopt;
            }
            x = static_cast<std::int64_t>(u);
        } else if (v.is_number_integer()) {
            x = v.get<std::int64_t>();
        } else if (v.is_number_float() && std::isfinite(v.get<double>()) &&
                   v.get<double>() == std::floor(v.get<double>()) && std::fabs(v.get<double>()) < 9e18) {
            x = static_cast<std::int64_t>(v.get<double>());
        } else {
            error(key, "expected an integer, found " + found(v));
            return std::nullopt;
        }
        if (x < lo) {
            error(key, std::string("expected ") + (lo == 1 ? "a positive integer" : "an integer >= " + std::to_string(lo)) +
                           ", found " + std::to_string(x));
            return std::nullopt;
        }
        if (x > hi) {
            error(key, "expected at most " + std::to_string(hi) + ", found " + std::to_string(x) + " (absurdly large)");
            return std::nullopt;
        }
        return x;
    }

    std::optional<bool> boolean(const std::string& key) {
        if (!present(key)) return std::nullopt;
        if (!at(key).is_boolean()) {
            error(key, "expected true or false, found " + found(at(key)));
            return std::nullopt;
        }
        return at(key).get<bool>();
    }

    std::optional<std::string> string(const std::string& key, bool required) {
        if (!present(key)) {
            if (required) error(key, "missing required key; expected a string");
            return std::nullopt;
        }
        if (!at(key).is_string()) {
            error(key, "expected a string, found " + found(at(key)));
            return std::nullopt;
        }
        return at(key).get<std::string>();
    }

private:
    const json& m_j;
    std::string m_file;
    std::map<std::string, int> m_lines;
    DiagnosticSink& m_sink;
};

json parse_json(const std::string& text, const std::string& file) {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
        throw InputError(file, 0, "", "file is empty; expected a JSON object (a Hugging Face config.json)");
    std::set<std::string> top_keys;
    std::vector<std::string> duplicates;
    json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::key && depth == 1 && parsed.is_string()) {
            const auto k = parsed.get<std::string>();
            if (!top_keys.insert(k).second) duplicates.push_back(k);
        }
        return true;
    };
    json j;
    try {
        j = json::parse(text, cb);
    } catch (const json::parse_error& e) {
        std::ostringstream msg;
        msg << "malformed JSON at byte " << e.byte << ": " << e.what();
        throw InputError(file, line_of_offset(text, e.byte > 0 ? e.byte - 1 : 0), "", msg.str());
    } catch (const json::out_of_range& e) {
        // A number beyond double range (1e999): nlohmann reports it as out_of_range, without a byte
        // offset; the line is that of the first occurrence of the quoted number in the text.
        const std::string what = e.what();
        const auto q0 = what.find('\''), q1 = what.rfind('\'');
        std::size_t at = std::string::npos;
        if (q0 != std::string::npos && q1 > q0) at = text.find(what.substr(q0 + 1, q1 - q0 - 1));
        throw InputError(file, at == std::string::npos ? 0 : line_of_offset(text, at), "",
                         "malformed JSON: " + what + "; expected a finite number");
    }
    if (!j.is_object())
        throw InputError(file, 0, "", std::string("expected a JSON object at the top level, found ") + j.type_name());
    if (!duplicates.empty()) {
        DiagnosticSink sink;
        const auto lines = top_level_key_lines(text);
        for (const auto& k : duplicates)
            sink.add(file, lines.count(k) ? lines.at(k) : 0, k, "key appears more than once; only one value can be meant");
        sink.throw_if_any();
    }
    return j;
}

std::string supported_model_types() {
    std::string s;
    for (const auto& f : families()) s += (s.empty() ? "" : ", ") + std::string(f.model_type);
    return s;
}

// One value that may be spelled several ways; all spellings present must agree.
std::optional<std::int64_t> one_of(Reader& r, const std::vector<std::string>& keys, std::int64_t lo, std::int64_t hi,
                                   std::string* used_key) {
    std::optional<std::int64_t> value;
    for (const auto& k : keys) {
        auto v = r.integer(k, lo, hi, false);
        if (!v) continue;
        if (value && *value != *v) {
            r.error(k, "found " + std::to_string(*v) + " but " + *used_key + " is " + std::to_string(*value) +
                           "; these keys mean the same thing and must agree");
            continue;
        }
        if (!value) {
            value = v;
            *used_key = k;
        }
    }
    return value;
}

}  // namespace

ModelSpec import_hf_config_text(const std::string& text, const std::string& file) {
    const json j = parse_json(text, file);
    DiagnosticSink sink;
    Reader r(j, file, top_level_key_lines(text), sink);
    ModelSpec m;
    m.source_file = file;

    // --- Unknown keys: typo of a known key -> error; anything else -> warning, never silently dropped.
    std::vector<std::string> known;
    for (const auto& k : known_keys()) known.emplace_back(k.key);
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& key = it.key();
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        if (!key.empty() && key[0] == '_') {
            m.warnings.push_back("ignored internal key \"" + key + "\"");
            continue;
        }
        const std::string hint = did_you_mean(key, known);
        if (!hint.empty() && !j.contains(hint)) {
            r.error(key, "unknown key; did you mean \"" + hint + "\"?");
        } else {
            m.warnings.push_back("ignored unknown key \"" + key + "\" (it does not change sizes in this model)");
        }
    }

    // --- Family
    const Family* fam = nullptr;
    if (auto mt = r.string("model_type", true)) {
        m.model_type = *mt;
        for (const auto& f : families())
            if (m.model_type == f.model_type) fam = &f;
        if (!fam) {
            std::string msg = "model type \"" + m.model_type + "\" is not supported; expected one of " +
                              supported_model_types();
            std::vector<std::string> names;
            for (const auto& f : families()) names.emplace_back(f.model_type);
            const std::string hint = did_you_mean(m.model_type, names);
            if (!hint.empty()) msg += " (did you mean \"" + hint + "\"?)";
            r.error("model_type", msg);
        }
    }
    static const Family generic{"", false, 0, false, true, false, false, false};
    if (!fam) fam = &generic;  // keep validating the rest so all problems are reported together

    if (r.present("architectures")) {
        const json& a = r.at("architectures");
        if (!a.is_array() || std::any_of(a.begin(), a.end(), [](const json& x) { return !x.is_string(); }))
            r.error("architectures", "expected a list of strings, found " + found(a));
    }
    if (auto n = r.string("_name_or_path", false); n && !n->empty()) m.name = *n;
    else m.name = stem_of(file);
    r.string("hidden_act", false);

    // --- Multi-head latent attention is a different KV layout; do not approximate it.
    for (const char* k : {"kv_lora_rank", "q_lora_rank"}) {
        if (r.present(k))
            r.error(k, "multi-head latent attention (DeepSeek-V2/V3 MLA) is not modeled; found " + found(r.at(k)) +
                           ", expected the key to be absent or null");
    }

    // --- Core sizes
    auto hidden = r.integer("hidden_size", 1, kMaxHidden, true);
    auto layers = r.integer("num_hidden_layers", 1, kMaxLayers, true);
    auto heads = r.integer("num_attention_heads", 1, kMaxHeads, true);
    auto vocab = r.integer("vocab_size", 1, kMaxVocab, true);
    auto max_pos = r.integer("max_position_embeddings", 1, kMaxPosition, true);
    auto kv_heads = r.integer("num_key_value_heads", 1, kMaxHeads, false);
    auto head_dim = r.integer("head_dim", 1, kMaxHeadDim, false);
    auto intermediate = r.integer("intermediate_size", 1, kMaxIntermediate, false);

    if (heads && !kv_heads && !r.present("num_key_value_heads")) kv_heads = heads;  // HF: absent -> MHA
    if (heads && kv_heads && *heads % *kv_heads != 0)
        r.error("num_key_value_heads", "num_attention_heads (" + std::to_string(*heads) +
                                           ") must be a multiple of num_key_value_heads (" +
                                           std::to_string(*kv_heads) + "); found a remainder of " +
                                           std::to_string(*heads % *kv_heads));
    if (!head_dim && !r.present("head_dim") && hidden && heads) {
        if (fam->head_dim_default > 0) {
            head_dim = fam->head_dim_default;
            m.warnings.push_back("head_dim absent; using " + std::to_string(*head_dim) + ", the " + m.model_type +
                                 " default");
        } else if (*hidden % *heads != 0) {
            r.error("head_dim", "absent, and hidden_size (" + std::to_string(*hidden) +
                                    ") is not a multiple of num_attention_heads (" + std::to_string(*heads) +
                                    "); give head_dim explicitly");
        } else {
            head_dim = *hidden / *heads;  // HF rule
        }
    }

    m.tied_embeddings = r.boolean("tie_word_embeddings").value_or(fam->tie_default);
    const bool attention_bias = r.boolean("attention_bias").value_or(false);
    m.attention_bias = fam->qkv_bias_always || attention_bias;
    m.attention_out_bias = attention_bias && fam->o_bias_with_attention_bias;
    m.mlp_bias = r.boolean("mlp_bias").value_or(false);
    m.qk_norm = fam->qk_norm_always || r.boolean("use_qk_norm").value_or(false);
    m.attention_sinks = fam->gpt_oss_extras;
    m.expert_bias = fam->gpt_oss_extras;
    m.gated_ffn = true;  // every supported family uses gate/up/down (SwiGLU-style)

    // --- Mixture of experts
    std::string experts_key = "num_local_experts", topk_key = "num_experts_per_tok";
    auto experts = one_of(r, {"num_local_experts", "num_experts", "n_routed_experts"}, 1, kMaxExperts, &experts_key);
    auto top_k = one_of(r, {"num_experts_per_tok", "experts_per_token"}, 1, kMaxExperts, &topk_key);
    auto moe_width = r.integer("moe_intermediate_size", 1, kMaxIntermediate, false);
    auto n_shared = r.integer("n_shared_experts", 0, kMaxExperts, false);
    auto shared_width = r.integer("shared_expert_intermediate_size", 0, kMaxIntermediate, false);
    auto first_dense = r.integer("first_k_dense_replace", 0, kMaxLayers, false);
    auto layer_freq = r.integer("moe_layer_freq", 1, kMaxLayers, false);
    auto sparse_step = r.integer("decoder_sparse_step", 1, kMaxLayers, false);
    std::set<std::int64_t> mlp_only;
    if (r.present("mlp_only_layers")) {
        const json& a = r.at("mlp_only_layers");
        if (!a.is_array()) {
            r.error("mlp_only_layers", "expected a list of layer indices, found " + found(a));
        } else {
            for (const auto& x : a) {
                if (!x.is_number_integer() || x.get<std::int64_t>() < 0 ||
                    (layers && x.get<std::int64_t>() >= *layers)) {
                    r.error("mlp_only_layers", "expected layer indices in [0, num_hidden_layers), found " + found(x));
                    break;
                }
                mlp_only.insert(x.get<std::int64_t>());
            }
        }
    }
    if (top_k && !experts)
        r.error(topk_key, "found " + std::to_string(*top_k) +
                              " active experts but no expert count (num_local_experts, num_experts or n_routed_experts)");
    if (experts && !top_k && !r.present("num_experts_per_tok") && !r.present("experts_per_token"))
        r.error("num_experts_per_tok", "missing; " + experts_key + " is " + std::to_string(*experts) +
                                           ", so the number of experts per token is required");
    if (experts && top_k && *top_k > *experts)
        r.error(topk_key, "expected at most " + experts_key + " (" + std::to_string(*experts) + ") experts per token, found " +
                              std::to_string(*top_k));
    std::int64_t expert_width = 0;
    if (experts) {
        if (moe_width) expert_width = *moe_width;
        else if (fam->needs_moe_intermediate)
            r.error("moe_intermediate_size", "missing; required for " + m.model_type + " mixture-of-experts models");
        else if (intermediate) expert_width = *intermediate;  // Mixtral / gpt-oss: experts are intermediate_size wide
    }
    std::int64_t shared_count = 0, shared_each = 0;
    if (n_shared && *n_shared > 0) {
        shared_count = *n_shared;
        shared_each = expert_width;  // DeepSeek/GLM: each shared expert is moe_intermediate_size wide
    }
    if (shared_width && *shared_width > 0) {
        if (shared_count > 0)
            r.error("shared_expert_intermediate_size", "given together with n_shared_experts; expected one of the two");
        shared_count = 1;  // Qwen2-MoE: one shared expert of this width (its 1-wide sigmoid gate is not counted)
        shared_each = *shared_width;
    }
    auto is_moe_layer = [&](std::int64_t i) {
        if (!experts || !top_k) return false;
        if (mlp_only.count(i)) return false;
        if (sparse_step && (i + 1) % *sparse_step != 0) return false;
        if (first_dense && i < *first_dense) return false;
        if (layer_freq && i % *layer_freq != 0) return false;
        return true;
    };

    // --- Sliding-window attention
    auto window = r.integer("sliding_window", 1, kMaxPosition, false);
    auto use_sw = r.boolean("use_sliding_window");
    auto max_window_layers = r.integer("max_window_layers", 0, kMaxLayers * 100, false);
    std::vector<bool> sliding(static_cast<std::size_t>(layers.value_or(0)), false);
    if (r.present("layer_types")) {
        const json& a = r.at("layer_types");
        if (!a.is_array()) {
            r.error("layer_types", "expected a list of \"full_attention\" / \"sliding_attention\", found " + found(a));
        } else if (layers && static_cast<std::int64_t>(a.size()) != *layers) {
            r.error("layer_types", "has " + std::to_string(a.size()) + " entries; expected num_hidden_layers (" +
                                       std::to_string(*layers) + ")");
        } else {
            // num_hidden_layers absent or invalid (already reported): the entries are still checked.
            if (sliding.size() < a.size()) sliding.resize(a.size(), false);
            for (std::size_t i = 0; i < a.size(); ++i) {
                const std::string t = a[i].is_string() ? a[i].get<std::string>() : a[i].dump();
                if (t == "sliding_attention") sliding[i] = true;
                else if (t != "full_attention") {
                    r.error("layer_types", "entry " + std::to_string(i) + " is \"" + t +
                                               "\"; expected \"full_attention\" or \"sliding_attention\" (other "
                                               "attention kinds are not modeled)");
                    break;
                }
            }
            const bool any = std::find(sliding.begin(), sliding.end(), true) != sliding.end();
            if (any && !window)
                r.error("sliding_window", "layer_types has sliding_attention layers, so a positive sliding_window is "
                                          "required; found " + (r.present("sliding_window") ? found(r.at("sliding_window")) : std::string("none")));
            if (any && use_sw == false)
                r.error("use_sliding_window", "is false but layer_types lists sliding_attention layers");
        }
    } else if (window && use_sw != false) {
        // Mistral: one window for every layer. Qwen2: layers from max_window_layers on slide.
        for (std::size_t i = 0; i < sliding.size(); ++i)
            sliding[i] = !max_window_layers || static_cast<std::int64_t>(i) >= *max_window_layers;
    }

    // --- Precision as released
    double dtype_bits = 16;
    std::string dtype_key = r.present("torch_dtype") ? "torch_dtype" : "dtype";
    if (auto dt = r.string(dtype_key, false)) {
        if (*dt == "bfloat16" || *dt == "float16") dtype_bits = 16;
        else if (*dt == "float32") dtype_bits = 32;
        else r.error(dtype_key, "expected \"bfloat16\", \"float16\" or \"float32\", found \"" + *dt + "\"");
    } else if (!r.present(dtype_key)) {
        m.warnings.push_back("torch_dtype absent; assuming 16-bit weights as released");
    }
    m.released.dense_weight_bits = dtype_bits;
    m.released.expert_weight_bits = dtype_bits;
    m.released.activation_bits = dtype_bits;
    m.released.kv_bits = dtype_bits;
    if (r.present("quantization_config")) {
        const json& q = r.at("quantization_config");
        if (!q.is_object() || !q.contains("quant_method") || !q.at("quant_method").is_string()) {
            r.error("quantization_config", "expected an object with a string \"quant_method\", found " + found(q));
        } else {
            const std::string method = q.at("quant_method").get<std::string>();
            if (method == "mxfp4") {
                const double bits = 4.0 + 8.0 / 32.0;  // 4-bit elements + one 8-bit scale per 32
                if (experts) {
                    m.released.expert_weight_bits = bits;  // attention, router, embeddings, LM head stay as released
                } else {
                    m.released.dense_weight_bits = bits;
                    m.released.expert_weight_bits = bits;
                    m.warnings.push_back("quantization_config mxfp4 on a dense model: all weights counted at 4.25 bits");
                }
            } else if (method == "fp8") {
                m.released.dense_weight_bits = 8;
                m.released.expert_weight_bits = 8;
                m.warnings.push_back("quantization_config fp8: all weights counted at 8 bits (block scales and any "
                                     "16-bit embeddings are not counted)");
            } else if ((method == "gptq" || method == "awq") && q.contains("bits") && q.at("bits").is_number_integer() &&
                       q.at("bits").get<std::int64_t>() > 0 && q.at("bits").get<std::int64_t>() <= 16) {
                const double bits = q.at("bits").get<std::int64_t>();
                m.released.dense_weight_bits = bits;
                m.released.expert_weight_bits = bits;
                m.warnings.push_back("quantization_config " + method + ": weights counted at " + q.at("bits").dump() +
                                     " bits (group scales and zero points not counted)");
            } else {
                r.error("quantization_config.quant_method",
                        "\"" + method + "\" is not modeled; expected mxfp4, fp8, or gptq/awq with integer \"bits\"");
            }
        }
    }

    // --- Multi-token prediction layers (GLM / DeepSeek): stored, not executed.
    m.mtp_layers = r.integer("num_nextn_predict_layers", 0, 100, false).value_or(0);

    // --- Layers
    if (layers && hidden) {
        bool need_intermediate = false;
        for (std::int64_t i = 0; i < *layers; ++i) {
            LayerSpec l;
            l.index = static_cast<int>(i);
            if (sliding[static_cast<std::size_t>(i)]) {
                l.attention = AttentionKind::Sliding;
                l.window = window.value_or(0);
            }
            if (is_moe_layer(i)) {
                l.ffn = FfnKind::Moe;
                l.experts = *experts;
                l.experts_per_token = *top_k;
                l.expert_intermediate = expert_width;
                l.shared_experts = shared_count;
                l.shared_intermediate = shared_each;
                if (expert_width == 0) need_intermediate = true;
            } else {
                l.ffn = FfnKind::Dense;
                l.intermediate = intermediate.value_or(0);
                need_intermediate = true;
            }
            m.layer_specs.push_back(l);
        }
        if (need_intermediate && !intermediate && !r.present("intermediate_size"))
            r.error("intermediate_size", "missing required key; expected an integer (the FFN width)");
    }

    sink.throw_if_any();
    if (!hidden || !layers || !heads || !kv_heads || !head_dim || !vocab || !max_pos)
        throw InternalError("import_hf_config: a required size is unset without a diagnostic (" + file + ")");
    m.hidden = *hidden;
    m.layers = *layers;
    m.heads = *heads;
    m.kv_heads = *kv_heads;
    m.head_dim = *head_dim;
    m.vocab = *vocab;
    m.max_position = *max_pos;

    // --- The whole model: an upper bound (in double, so it cannot overflow) of every term
    // ModelSpec::parameters() and the operator graph sum in int64.
    const double h = static_cast<double>(m.hidden);
    const double q = static_cast<double>(m.heads) * static_cast<double>(m.head_dim);
    const double kv = static_cast<double>(m.kv_heads) * static_cast<double>(m.head_dim);
    auto ffn_bound = [&](double width) { return (3 * h + 2) * width + h; };
    const double attention_bound = (h + 1) * (2 * q + 2 * kv) + 3 * h + 2 * static_cast<double>(m.head_dim) +
                                   static_cast<double>(m.heads);
    double total = 2 * static_cast<double>(m.vocab) * h + h, last_layer = 0;
    for (const auto& l : m.layer_specs) {
        const double e = static_cast<double>(l.experts);
        last_layer = attention_bound + ffn_bound(static_cast<double>(l.intermediate)) + (h + 1) * e +
                     ffn_bound(static_cast<double>(l.shared_experts) * static_cast<double>(l.shared_intermediate)) +
                     e * ffn_bound(static_cast<double>(l.expert_intermediate));
        total += last_layer;
    }
    total += static_cast<double>(m.mtp_layers) * (last_layer + 2 * h * h + 3 * h);
    if (!(total <= kMaxParameters)) {
        std::ostringstream os;
        os << "the model would have about " << std::setprecision(3) << total << " parameters, beyond any model (at most "
           << kMaxParameters << "); check hidden_size, num_hidden_layers, intermediate_size, moe_intermediate_size, "
              "the expert counts, head_dim and vocab_size";
        r.error("hidden_size", os.str());
        sink.throw_if_any();
    }
    return m;
}

ModelSpec import_hf_config(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) throw InputError(path, 0, "", "cannot read model config: no such file");
    if (fs::is_directory(st)) {
        std::string msg = "is a directory; expected a Hugging Face config.json file";
        if (fs::exists(fs::path(path) / "config.json")) msg += " (did you mean " + (fs::path(path) / "config.json").string() + "?)";
        throw InputError(path, 0, "", msg);
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path, 0, "", "cannot read model config: permission denied or not a regular file");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw InputError(path, 0, "", "cannot read model config: read error");
    return import_hf_config_text(ss.str(), path);
}

}  // namespace wafersim::models
