// Resolving a run: presets + overrides -> validated WaferSpec, ModelSpec, GpuSpecs and run parameters.
#include "sim/run/run_config.hpp"

#include <sstream>

#include "sim/engines/systemc_engine.hpp"
#include "sim/run/presets.hpp"

namespace wafersim::run {

namespace {
const std::vector<std::string> kPrefixes = {"wafer", "gpu", "mapping", "workload", "precision", "baseline", "systemc"};

// Applies overrides whose key starts with `prefix.` to `flat` and returns how many applied.
void apply(FlatConfig& flat, const std::vector<std::pair<std::string, std::string>>& sets, const std::string& prefix) {
    for (const auto& kv : sets)
        if (kv.first.compare(0, prefix.size() + 1, prefix + ".") == 0)
            set_flat(flat, kv.first.substr(prefix.size() + 1), kv.second, "--set");
}

std::string yaml_scalar(const std::string& s) {
    bool plain = !s.empty();
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '/'))
            plain = false;
    if (plain) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

void dump_params(std::ostringstream& os, const ParamSet& p, const std::string& indent) {
    for (const auto& kv : p.values()) os << indent << kv.first << ": " << yaml_scalar(kv.second.text) << "\n";
}
}  // namespace

const ParamTable& baseline_param_table() {
    static const ParamTable t("baseline", [] {
        ParamDef d;
        d.key = "count";
        d.type = ParamType::Int;
        d.default_value = "1";
        d.min = 1;
        d.max = 4096;
        d.doc = "GPUs in tensor parallel for every baseline device";
        d.source = "design default";
        return std::vector<ParamDef>{d};
    }());
    return t;
}

std::pair<std::string, std::string> parse_set(const std::string& text) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
        throw InputError("--set", 0, text, "expected key.path=value (e.g. mapping.grid=420x420)");
    std::string key = text.substr(0, eq), value = text.substr(eq + 1);
    if (key.find('.') == std::string::npos || key.front() == '.' || key.back() == '.')
        throw InputError("--set", 0, key, "expected a dotted key such as workload.batch or wafer.core.sram");
    return {key, value};
}

ResolvedRun resolve_run(const RunRequest& req) {
    ResolvedRun run;
    run.request = req;
    DiagnosticSink sink;
    std::vector<std::pair<std::string, std::string>> sets;
    for (const auto& s : req.sets) {
        try {
            auto kv = parse_set(s);
            const std::string prefix = kv.first.substr(0, kv.first.find('.'));
            if (std::find(kPrefixes.begin(), kPrefixes.end(), prefix) == kPrefixes.end()) {
                std::string msg = "unknown section \"" + prefix + "\"";
                std::string near = did_you_mean(prefix, kPrefixes);
                if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
                msg += " (sections: wafer, gpu, mapping, workload, precision, baseline, systemc)";
                sink.add("--set", 0, kv.first, msg);
                continue;
            }
            sets.push_back(kv);
        } catch (const InputError& e) {
            for (const auto& d : e.diagnostics()) sink.add(d);
        }
    }

    if (req.phase != "decode" && req.phase != "prefill" && req.phase != "both")
        sink.add("--phase", 0, "phase", "\"" + req.phase + "\" is not one of decode, prefill, both");

    // Run parameter tables.
    auto resolve_table = [&](const ParamTable& t, ParamSet& out) {
        FlatConfig flat;
        apply(flat, sets, t.name());
        out = t.resolve(flat, sink);
    };
    resolve_table(mapping::mapping_param_table(), run.mapping_params);
    resolve_table(mapping::workload_param_table(), run.workload_params);
    resolve_table(mapping::precision_param_table(), run.precision_params);
    resolve_table(baseline_param_table(), run.baseline_params);
    resolve_table(engines::systemc_param_table(), run.systemc_params);

    // Wafer.
    try {
        PresetText t = load_preset(PresetKind::Wafer, req.wafer, "--wafer");
        run.wafer_origin = t.origin;
        FlatConfig flat = parse_yaml_flat(t.text, t.origin);
        apply(flat, sets, "wafer");
        run.wafer = fabric::load_wafer(flat, t.origin);
    } catch (const InputError& e) {
        for (const auto& d : e.diagnostics()) sink.add(d);
    }
    // Model.
    bool model_ok = false;
    try {
        PresetText t = load_preset(PresetKind::Model, req.model, "--model");
        run.model_origin = t.origin;
        run.model = models::import_hf_config_text(t.text, t.origin);
        if (run.model.name.empty() || run.model.name.find('/') != std::string::npos) run.model.name = t.name;
        model_ok = true;
    } catch (const InputError& e) {
        for (const auto& d : e.diagnostics()) sink.add(d);
    }
    // GPUs.
    for (const auto& g : req.gpus) {
        try {
            PresetText t = load_preset(PresetKind::Gpu, g, "--gpu");
            FlatConfig flat = parse_yaml_flat(t.text, t.origin);
            apply(flat, sets, "gpu");
            engines::GpuSpec spec = engines::load_gpu(flat);
            if (spec.name.empty()) spec.name = t.name;
            run.gpus.push_back(std::move(spec));
            run.gpu_origins.push_back(t.origin);
        } catch (const InputError& e) {
            for (const auto& d : e.diagnostics()) sink.add(d);
        }
    }
    sink.throw_if_any();

    const mapping::PhaseSel phase = req.phase == "decode"    ? mapping::PhaseSel::Decode
                                    : req.phase == "prefill" ? mapping::PhaseSel::Prefill
                                                             : mapping::PhaseSel::Both;
    run.mapping = mapping::mapping_options_from(run.mapping_params);
    run.workload = mapping::workload_from(run.workload_params, phase);
    run.baseline_count = run.baseline_params.integer("count");
    if (model_ok) {
        run.precision = models::resolve_precision(run.model, run.precision_params.str("weights"),
                                                  run.precision_params.str("kv"));
        run.graph = models::build_model_graph(run.model);
    }
    return run;
}

std::string resolved_config_yaml(const ResolvedRun& run, const std::string& command_line) {
    std::ostringstream os;
    os << "# Fully resolved configuration of this run (defaults included).\n";
    os << "version: " << WAFERSIM_VERSION << "\n";
    os << "command: " << yaml_scalar(command_line) << "\n";
    os << "seed: " << run.request.seed << "\n";
    os << "engine: " << run.request.engine << "\n";
    os << "phase: " << run.request.phase << "\n";
    os << "wafer:\n  name: " << yaml_scalar(run.wafer.name) << "\n  source: " << yaml_scalar(run.wafer_origin) << "\n";
    dump_params(os, run.wafer.params, "  ");
    os << "model:\n  name: " << yaml_scalar(run.model.name) << "\n  source: " << yaml_scalar(run.model_origin) << "\n";
    os << "  parameters: " << run.model.parameters() << "\n";
    os << "gpus:\n";
    for (std::size_t i = 0; i < run.gpus.size(); ++i) {
        os << "  - name: " << yaml_scalar(run.gpus[i].name) << "\n    source: " << yaml_scalar(run.gpu_origins[i]) << "\n";
        dump_params(os, run.gpus[i].params, "    ");
    }
    os << "mapping:\n";
    dump_params(os, run.mapping_params, "  ");
    os << "workload:\n";
    dump_params(os, run.workload_params, "  ");
    os << "precision:\n";
    dump_params(os, run.precision_params, "  ");
    os << "  resolved_bits: {dense_weights: " << run.precision.dense_weight_bits << ", expert_weights: "
       << run.precision.expert_weight_bits << ", kv: " << run.precision.kv_bits << ", activations: "
       << run.precision.activation_bits << "}\n";
    os << "baseline:\n";
    dump_params(os, run.baseline_params, "  ");
    os << "systemc:\n";
    dump_params(os, run.systemc_params, "  ");
    return os.str();
}

}  // namespace wafersim::run
