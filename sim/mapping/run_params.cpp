// The run's parameter tables: mapping.*, workload.*, precision.* (declared once; drive parsing,
// validation, describe and docs/params.md).
#include <algorithm>

#include "sim/mapping/mapper.hpp"

namespace wafersim::mapping {


const ParamTable& mapping_param_table() {
    static const std::string design = "design default";
    static const ParamTable t("mapping", {
        param_grid("grid", "auto", "per-stage grid of cores RxC (rows x columns), or auto", design),
        param_int("max_wafers", "64", 1, 4096, "most wafers the model may be pipelined across", design),
        param_enum("allreduce", "ktree", {"pipeline", "ring", "tree", "ktree"},
                   "all-reduce algorithm on the mesh: pipeline chain, folded ring, two-level one-way tree, "
                   "two-way K-tree (WaferLLM MeshGEMV)",
                   "WaferLLM's MeshGEMV (calibration.md §A; core.task_overhead is fitted with it)"),
        param_enum("gemm", "meshgemm", {"meshgemm", "cannon", "summa"},
                   "prefill GEMM: meshgemm (2-hop interleaved shifts), cannon (skew + 1-hop shifts with a "
                   "wrap-around), summa (row and column multicasts per k-panel)", design),
        param_enum("kv_layout", "balanced", {"balanced", "append", "shift"},
                   "decode KV cache over the rows: balanced (even, free), append (new tokens on the last row), "
                   "shift (WaferLLM: rows pass one entry up per step)", design),
        param_int("max_tiles", "12", 1, 64, "automatic grid search: most regions per wafer side", design),
        param_int("prefill_chunk", "512", 1, 1e8,
                  "prompt tokens per prefill chunk; chunks pipeline through the stages and bound activation SRAM", design),
        param_quantity("prefill_buffer", UnitKind::Bytes, "4KiB", 64, 1e9,
                       "per-core SRAM for prefill GEMM tiles; a GEMM whose tiles exceed it runs in passes", design),
    });
    return t;
}

const ParamTable& workload_param_table() {
    static const std::string design = "design default";
    static const ParamTable t("workload", {
        param_int("batch", "1", 1, 65536, "sequences decoded together", design),
        param_int("input_tokens", "4096", 1, 1e8, "prompt length in tokens", "calibration.md §A (4096-token input)"),
        param_int("output_tokens", "128", 1, 1e7, "generated tokens; decode figures average over them", design),
    });
    return t;
}

const ParamTable& precision_param_table() {
    static const std::string design = "design default";
    static const ParamTable t("precision", {
        param_enum("weights", "auto", {"auto", "fp32", "fp16", "bf16", "fp8", "fp4"},
                   "weight precision; auto = as released (torch_dtype, quantization_config)", design),
        param_enum("kv", "auto", {"auto", "fp32", "fp16", "bf16", "fp8", "fp4"},
                   "KV-cache precision; auto = the released activation precision (16-bit for bf16/fp16 checkpoints)", design),
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
    o.allreduce = a == "pipeline" ? AllReduceAlgo::Pipeline
                  : a == "ring"   ? AllReduceAlgo::Ring
                  : a == "ktree"  ? AllReduceAlgo::KTree
                                  : AllReduceAlgo::Tree;
    const std::string& gm = p.str("gemm");
    o.gemm = gm == "cannon" ? GemmAlgo::Cannon : gm == "summa" ? GemmAlgo::Summa : GemmAlgo::MeshGemm;
    const std::string& kv = p.str("kv_layout");
    o.kv_layout = kv == "append" ? KvLayout::Append : kv == "shift" ? KvLayout::Shift : KvLayout::Balanced;
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
