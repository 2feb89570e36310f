// The run's parameter tables: mapping.*, workload.*, precision.* (declared once; drive parsing,
// validation, describe and docs/params.md).
#include <algorithm>

#include "sim/mapping/mapper.hpp"

namespace wafersim::mapping {

namespace {
ParamDef def(std::string key, ParamType t, std::string dflt, std::string doc, std::string src = "design default") {
    ParamDef d;
    d.key = std::move(key);
    d.type = t;
    d.default_value = std::move(dflt);
    d.doc = std::move(doc);
    d.source = std::move(src);
    return d;
}
ParamDef ranged(ParamDef d, double lo, double hi) {
    d.min = lo;
    d.max = hi;
    return d;
}
ParamDef choice(ParamDef d, std::vector<std::string> c) {
    d.choices = std::move(c);
    return d;
}
}  // namespace

const ParamTable& mapping_param_table() {
    static const ParamTable t("mapping", {
        def("grid", ParamType::Grid, "auto", "per-stage grid of cores RxC (rows x columns), or auto"),
        ranged(def("max_wafers", ParamType::Int, "64", "most wafers the model may be pipelined across"), 1, 4096),
        choice(def("allreduce", ParamType::Enum, "tree", "all-reduce algorithm on the mesh: pipeline chain, ring, two-level tree"),
               {"pipeline", "ring", "tree"}),
        ranged(def("max_tiles", ParamType::Int, "12", "automatic grid search: most regions per wafer side"), 1, 64),
        ranged(def("prefill_chunk", ParamType::Int, "512",
                   "prompt tokens per prefill chunk; chunks pipeline through the stages and bound activation SRAM"),
               1, 1e8),
        [] {
            ParamDef d = ranged(def("prefill_buffer", ParamType::Quantity, "4KiB",
                                    "per-core SRAM for prefill GEMM tiles; a GEMM whose tiles exceed it runs in passes"),
                                64, 1e9);
            d.unit = UnitKind::Bytes;
            return d;
        }(),
    });
    return t;
}

const ParamTable& workload_param_table() {
    static const ParamTable t("workload", {
        ranged(def("batch", ParamType::Int, "1", "sequences decoded together"), 1, 65536),
        ranged(def("input_tokens", ParamType::Int, "4096", "prompt length in tokens",
                   "calibration.md §A (4096-token input)"), 1, 1e8),
        ranged(def("output_tokens", ParamType::Int, "128", "generated tokens; decode figures average over them"), 1, 1e7),
    });
    return t;
}

const ParamTable& precision_param_table() {
    static const ParamTable t("precision", {
        choice(def("weights", ParamType::Enum, "auto", "weight precision; auto = as released (torch_dtype, quantization_config)"),
               {"auto", "fp32", "fp16", "bf16", "fp8", "fp4"}),
        choice(def("kv", ParamType::Enum, "auto", "KV-cache precision; auto = the released activation precision (16-bit for bf16/fp16 checkpoints)"),
               {"auto", "fp32", "fp16", "bf16", "fp8", "fp4"}),
    });
    return t;
}

MappingOptions mapping_options_from(const ParamSet& p) {
    MappingOptions o;
    auto g = p.grid("grid");
    o.grid_rows = g.first;
    o.grid_cols = g.second;
    o.max_wafers = static_cast<int>(p.integer("max_wafers"));
    const std::string& a = p.str("allreduce");
    o.allreduce = a == "pipeline" ? AllReduceAlgo::Pipeline : a == "ring" ? AllReduceAlgo::Ring : AllReduceAlgo::Tree;
    o.max_tiles_per_side = static_cast<int>(p.integer("max_tiles"));
    o.prefill_buffer_bytes = p.num("prefill_buffer");
    o.prefill_chunk = p.integer("prefill_chunk");
    return o;
}

Workload workload_from(const ParamSet& p, PhaseSel phase) {
    Workload w;
    w.batch = p.integer("batch");
    w.input_tokens = p.integer("input_tokens");
    w.output_tokens = p.integer("output_tokens");
    w.phase = phase;
    return w;
}

}  // namespace wafersim::mapping
