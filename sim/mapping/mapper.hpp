// The mapper: layers -> pipeline stages -> rectangular regions on wafers, SRAM fit with reasons in
// numbers, and the per-phase programs (GEMV/GEMM partitions, collectives, hand-offs) engines execute.
#pragma once
#include <functional>
#include <vector>

#include "fabric/wafer_spec.hpp"
#include "models/op_graph.hpp"
#include "sim/base/params.hpp"
#include "sim/mapping/plan.hpp"

namespace wafersim::mapping {

struct MappingOptions {
    std::int64_t grid_rows = 0, grid_cols = 0;  // 0 = automatic
    int max_wafers = 64;
    AllReduceAlgo allreduce = AllReduceAlgo::KTree;
    GemmAlgo gemm = GemmAlgo::MeshGemm;         // prefill GEMM
    KvLayout kv_layout = KvLayout::Balanced;    // decode KV cache
    int max_tiles_per_side = 12;                // automatic search: regions per wafer side
    double prefill_buffer_bytes = 4096;         // per-core buffer for prefill GEMM tiles
    std::int64_t prefill_chunk = 512;           // prompt tokens per prefill chunk
};

// Parameter tables of the run: `mapping.*`, `workload.*`, `precision.*`.
const ParamTable& mapping_param_table();
const ParamTable& workload_param_table();
const ParamTable& precision_param_table();
MappingOptions mapping_options_from(const ParamSet& p);
Workload workload_from(const ParamSet& p, PhaseSel phase);

// Scores a candidate plan (lower is better), e.g. the analytic engine's decode seconds per token.
using PlanScorer = std::function<double(const ExecutionPlan&)>;

// Builds the plan. With a forced grid (options.grid_*), every stage gets that grid; otherwise candidate
// tilings of the wafer are tried and the one with the fewest wafers, then the lowest score, wins.
// Throws PlanError with the reason in numbers when nothing fits within options.max_wafers.
ExecutionPlan make_plan(const models::ModelSpec& spec, const models::ModelGraph& graph,
                        const fabric::WaferSpec& wafer, const MappingOptions& options, const Workload& workload,
                        const models::PrecisionPolicy& precision, const PlanScorer& scorer = {});

// One decode step of `batch` sequences at context `context` (per sequence).
PhaseProgram build_decode_program(const ExecutionPlan& plan, const models::ModelGraph& graph,
                                  const fabric::WaferSpec& wafer, std::int64_t context, std::int64_t batch);
// Prefill of a chunk of `tokens` prompt tokens of one sequence after `prior` tokens already prefilled
// (their KV is cached). The whole prompt is prefill_chunks(plan) chunks in turn.
PhaseProgram build_prefill_program(const ExecutionPlan& plan, const models::ModelGraph& graph,
                                   const fabric::WaferSpec& wafer, std::int64_t tokens, std::int64_t prior);
// Chunk sizes of the prompt: mapping.prefill_chunk tokens each, the last one the remainder.
std::vector<std::int64_t> prefill_chunks(const ExecutionPlan& plan);

// SRAM bytes in use per core on `wafer_index`, row-major [mesh_rows][mesh_cols] (0 outside stages).
std::vector<float> sram_map(const ExecutionPlan& plan, const fabric::WaferSpec& wafer, int wafer_index);

}  // namespace wafersim::mapping
