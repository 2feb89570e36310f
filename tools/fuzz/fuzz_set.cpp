// Fuzz target: `--set key.path=value` strings -> parse_set -> the mapping / workload / precision /
// baseline ParamTables (the path of `wafersim run --set ...`). One input may hold several --set strings,
// one per line, so keys can repeat and interact.
// Contract checked: parse_set throws only wafersim::InputError; ParamTable::resolve reports problems
// through the sink and never throws; a set that resolves without diagnostics converts into
// MappingOptions / Workload / a PrecisionPolicy without exceptions and within the declared ranges.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/model_spec.hpp"
#include "sim/base/errors.hpp"
#include "sim/base/params.hpp"
#include "sim/mapping/mapper.hpp"
#include "sim/run/run_config.hpp"
#include "tools/fuzz/fuzz_support.hpp"

using wafersim::fuzz::finding;

namespace {

void check_in_range(const wafersim::ParamTable& t, const wafersim::ParamSet& p, const std::string& input) {
    for (const auto& d : t.defs()) {
        if (!p.has(d.key)) finding("resolved " + t.name() + " lacks " + d.key, input);
        const double n = p.num(d.key);
        if (n < d.min || n > d.max) finding(t.name() + "." + d.key + " resolved outside its range", input);
        if (!wafersim::fuzz::integer_text_matches(d, p)) finding(t.name() + "." + d.key + " accepted a non-integer", input);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input = wafersim::fuzz::as_text(data, size);
    std::vector<std::pair<std::string, std::string>> sets;
    std::size_t start = 0;
    while (start <= input.size()) {
        std::size_t nl = input.find('\n', start);
        if (nl == std::string::npos) nl = input.size();
        const std::string line = input.substr(start, nl - start);
        start = nl + 1;
        try {
            sets.push_back(wafersim::run::parse_set(line));
        } catch (const wafersim::InputError& e) {
            if (e.diagnostics().empty()) finding("InputError without a diagnostic", input);
            continue;
        }
        const auto& kv = sets.back();
        if (kv.first.empty() || kv.first.find('.') == std::string::npos || kv.first.front() == '.' ||
            kv.first.back() == '.' || kv.first + "=" + kv.second != line)
            finding("parse_set accepted a malformed key or changed the text", input);
    }

    // As resolve_run does: every table gets the overrides that start with its name, prefix removed.
    auto resolve = [&](const wafersim::ParamTable& t, wafersim::DiagnosticSink& sink) {
        wafersim::FlatConfig flat;
        for (const auto& kv : sets)
            if (kv.first.compare(0, t.name().size() + 1, t.name() + ".") == 0)
                wafersim::set_flat(flat, kv.first.substr(t.name().size() + 1), kv.second, "--set");
        return t.resolve(flat, sink);
    };
    wafersim::DiagnosticSink ms, ws, ps, bs;
    const wafersim::ParamSet mapping = resolve(wafersim::mapping::mapping_param_table(), ms);
    const wafersim::ParamSet workload = resolve(wafersim::mapping::workload_param_table(), ws);
    const wafersim::ParamSet precision = resolve(wafersim::mapping::precision_param_table(), ps);
    const wafersim::ParamSet baseline = resolve(wafersim::run::baseline_param_table(), bs);
    for (const auto* s : {&ms, &ws, &ps, &bs}) {
        for (const auto& d : s->diagnostics())
            if (d.message.empty() || d.key.empty()) finding("diagnostic without a key or message", input);
        try {
            s->throw_if_any();
        } catch (const wafersim::InputError&) {
        }
    }

    if (ms.empty()) {
        check_in_range(wafersim::mapping::mapping_param_table(), mapping, input);
        const auto o = wafersim::mapping::mapping_options_from(mapping);
        if (o.grid_rows < 0 || o.grid_cols < 0 || (o.grid_rows == 0) != (o.grid_cols == 0) || o.max_wafers < 1 ||
            o.max_tiles_per_side < 1 || o.prefill_chunk < 1 || !(o.prefill_buffer_bytes > 0))
            finding("mapping options out of range after a clean resolve", input);
    }
    if (ws.empty()) {
        check_in_range(wafersim::mapping::workload_param_table(), workload, input);
        const auto w = wafersim::mapping::workload_from(workload, wafersim::mapping::PhaseSel::Both);
        if (w.batch < 1 || w.input_tokens < 1 || w.output_tokens < 1) finding("workload out of range", input);
    }
    if (ps.empty()) {
        // A precision the table accepts is one resolve_precision knows: no exception may escape here.
        const auto p = wafersim::models::resolve_precision(wafersim::models::ModelSpec{}, precision.str("weights"),
                                                           precision.str("kv"));
        if (!(p.dense_weight_bits > 0) || !(p.kv_bits > 0)) finding("non-positive precision bits", input);
    }
    if (bs.empty() && baseline.integer("count") < 1) finding("baseline.count < 1", input);
    return 0;
}
