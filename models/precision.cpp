// Number formats of weights and the KV cache: bits per stored value, and the run's precision policy.
#include <string>
#include <utility>
#include <vector>

#include "models/model_spec.hpp"
#include "sim/base/errors.hpp"

namespace wafersim::models {

namespace {

// Bits per stored value. fp4 is MXFP4: 4-bit elements plus one 8-bit shared scale per 32 values.
const std::vector<std::pair<std::string, double>>& formats() {
    static const std::vector<std::pair<std::string, double>> table = {
        {"fp32", 32.0}, {"fp16", 16.0}, {"bf16", 16.0}, {"fp8", 8.0}, {"fp4", 4.0 + 8.0 / 32.0},
    };
    return table;
}

std::string allowed_names(bool with_auto) {
    std::string s = with_auto ? "auto" : "";
    for (const auto& f : formats()) s += (s.empty() ? "" : ", ") + f.first;
    return s;
}

double bits_for(const std::string& name, const std::string& key, bool allow_auto) {
    for (const auto& f : formats())
        if (f.first == name) return f.second;
    std::vector<std::string> names;
    if (allow_auto) names.push_back("auto");
    for (const auto& f : formats()) names.push_back(f.first);
    std::string msg = "unknown number format \"" + name + "\"; expected one of " + allowed_names(allow_auto);
    const std::string hint = did_you_mean(name, names);
    if (!hint.empty()) msg += " (did you mean \"" + hint + "\"?)";
    throw InputError("", 0, key, msg);
}

}  // namespace

double precision_bits(const std::string& name) { return bits_for(name, "precision", false); }

PrecisionPolicy resolve_precision(const ModelSpec& model, const std::string& weights, const std::string& kv) {
    PrecisionPolicy p = model.released;
    if (weights != "auto") {
        const double bits = bits_for(weights, "precision.weights", true);
        p.dense_weight_bits = bits;
        p.expert_weight_bits = bits;
    }
    // "auto" keeps the released KV precision, which the importer sets to the released activation
    // precision (16 bits for bf16/fp16 checkpoints).
    if (kv != "auto") p.kv_bits = bits_for(kv, "precision.kv", true);
    return p;
}

}  // namespace wafersim::models
