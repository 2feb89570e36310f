// A run request (what the user asked for) resolved into validated specs (what will be simulated).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "fabric/wafer_spec.hpp"
#include "models/op_graph.hpp"
#include "sim/base/params.hpp"
#include "sim/engines/gpu_spec.hpp"
#include "sim/mapping/mapper.hpp"

namespace wafersim::run {

struct RunRequest {
    std::string wafer = "wse3";
    std::string model = "llama-3.1-8b";
    std::vector<std::string> gpus = {"h100", "h200"};
    std::string phase = "both";  // decode | prefill | both
    std::string engine = "analytic";
    std::vector<std::string> sets;  // "key.path=value"
    std::uint64_t seed = 0;
};

// The `baseline.*` keys (GPU count for tensor parallelism).
const ParamTable& baseline_param_table();

struct ResolvedRun {
    RunRequest request;
    std::string wafer_origin, model_origin;
    std::vector<std::string> gpu_origins;
    fabric::WaferSpec wafer;
    models::ModelSpec model;
    models::ModelGraph graph;
    std::vector<engines::GpuSpec> gpus;
    ParamSet mapping_params, workload_params, precision_params, baseline_params, systemc_params;
    mapping::MappingOptions mapping;
    mapping::Workload workload;
    models::PrecisionPolicy precision;
    std::int64_t baseline_count = 1;
};

// Splits "key.path=value"; throws InputError (file "--set") when malformed.
std::pair<std::string, std::string> parse_set(const std::string& text);

// Loads presets, applies --set overrides, validates everything and collects every error before
// throwing one InputError. Unknown --set prefixes get a did-you-mean.
ResolvedRun resolve_run(const RunRequest& request);

// The fully resolved configuration (defaults included) as YAML, with the command line, version and seed.
std::string resolved_config_yaml(const ResolvedRun& run, const std::string& command_line);

}  // namespace wafersim::run
