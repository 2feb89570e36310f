// Fuzz target: Hugging Face config.json text -> import_hf_config_text (the path of `--model FILE`), then
// what every run does next with the ModelSpec: parameter counts, KV sizes and the operator graph.
// Contract checked: import throws only wafersim::InputError on bad input; an accepted model has positive,
// consistent sizes, and counting its parameters or building its graph is free of UB (signed overflow)
// and of exceptions.
#include <cmath>
#include <cstdint>
#include <string>

#include "models/model_spec.hpp"
#include "models/op_graph.hpp"
#include "sim/base/errors.hpp"
#include "tools/fuzz/fuzz_support.hpp"

using wafersim::fuzz::finding;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input = wafersim::fuzz::as_text(data, size);
    wafersim::models::ModelSpec m;
    try {
        m = wafersim::models::import_hf_config_text(input, "fuzz/config.json");
    } catch (const wafersim::InputError& e) {
        if (e.diagnostics().empty()) finding("InputError without a diagnostic", input);
        return 0;
    }
    if (m.hidden < 1 || m.layers < 1 || m.heads < 1 || m.kv_heads < 1 || m.head_dim < 1 || m.vocab < 1 ||
        m.max_position < 1)
        finding("accepted a non-positive size", input);
    if (m.heads % m.kv_heads != 0) finding("accepted heads not a multiple of kv_heads", input);
    if (static_cast<std::int64_t>(m.layer_specs.size()) != m.layers) finding("layer_specs.size() != layers", input);
    for (const auto& l : m.layer_specs) {
        if (l.ffn == wafersim::models::FfnKind::Moe &&
            (l.experts < 1 || l.experts_per_token < 1 || l.experts_per_token > l.experts || l.expert_intermediate < 1))
            finding("accepted an MoE layer with invalid expert sizes", input);
        if (l.ffn == wafersim::models::FfnKind::Dense && l.intermediate < 1)
            finding("accepted a dense layer without an FFN width", input);
    }
    const std::int64_t total = m.parameters();
    const std::int64_t active = m.active_parameters();
    if (total < 1 || active < 1) finding("non-positive parameter count", input);
    if (total > 1e15 || active > total) finding("accepted a model beyond the importer's 1e15-parameter bound", input);
    for (double bits : {4.25, 8.0, 16.0, 32.0})
        if (!std::isfinite(m.kv_bytes_per_token(bits)) || !std::isfinite(m.kv_bytes_at_context(m.max_position, bits)))
            finding("KV size is not finite", input);
    for (const char* p : {"auto", "fp32", "bf16", "fp8", "fp4"}) (void)wafersim::models::resolve_precision(m, p, p);
    const wafersim::models::ModelGraph g = wafersim::models::build_model_graph(m);
    if (g.parameters() != total - m.mtp_parameters()) finding("graph parameter count disagrees with ModelSpec", input);
    return 0;
}
