// Per-core SRAM footprint of layers on an R x C region (weights, KV, activations), shared by the fit
// check and the programs so both use the same partition.
#pragma once
#include <cstdint>

#include "models/op_graph.hpp"

namespace wafersim::mapping {

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return b <= 0 ? 0 : (a + b - 1) / b; }

// Weight bytes on the busiest core when `op`'s matrices are tiled ceil(K/R) x ceil(N/C).
double op_weight_bytes_per_core(const models::Op& op, std::int64_t R, std::int64_t C,
                                const models::PrecisionPolicy& p);
double layer_weight_bytes_per_core(const models::LayerGraph& layer, std::int64_t R, std::int64_t C,
                                   const models::PrecisionPolicy& p);
// KV bytes on the busiest core for `batch` sequences at `context` tokens: tokens over rows, KV
// dimensions over columns; sliding-window layers keep at most their window.
double layer_kv_bytes_per_core(const models::LayerGraph& layer, std::int64_t R, std::int64_t C,
                               std::int64_t batch, std::int64_t context, const models::PrecisionPolicy& p);
// Working activations on the busiest core (double-buffered vectors in decode; GEMM tiles in prefill).
double layer_activation_bytes_per_core(const models::LayerGraph& layer, std::int64_t R, std::int64_t C,
                                       std::int64_t batch, std::int64_t prefill_tokens,
                                       const models::PrecisionPolicy& p);

}  // namespace wafersim::mapping
