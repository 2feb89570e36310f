// Per-core SRAM footprint of layers on an R x C region (weights, KV, activations), shared by the fit
// check and the programs so both use the same partition.
#pragma once
#include <cstdint>

#include "models/op_graph.hpp"

namespace wafersim::mapping {

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return b <= 0 ? 0 : (a + b - 1) / b; }

// Weight bytes per core of a set of matrices tiled over an R x C region. Each matrix's tiles are
// ceil/floor of K/R x N/C; the tile boundaries rotate from one matrix to the next so that per-core
// storage balances: a core holds the mean (`avg`, exact) plus at most the largest single-matrix excess
// of a ceil tile over the mean (`excess`). Stage total = sum of avg + max of excess.
struct WeightFootprint {
    double avg = 0;
    double excess = 0;
    double bytes() const { return avg + excess; }
    WeightFootprint& operator+=(const WeightFootprint& o) {
        avg += o.avg;
        excess = excess > o.excess ? excess : o.excess;
        return *this;
    }
};
WeightFootprint op_weight_footprint(const models::Op& op, std::int64_t R, std::int64_t C, std::int64_t hidden,
                                    const models::PrecisionPolicy& p);
WeightFootprint layer_weight_footprint(const models::LayerGraph& layer, std::int64_t R, std::int64_t C,
                                       std::int64_t hidden, const models::PrecisionPolicy& p);
// KV bytes on the busiest core for `batch` sequences at `context` tokens: tokens over rows, KV
// dimensions over columns; sliding-window layers keep at most their window.
double layer_kv_bytes_per_core(const models::LayerGraph& layer, std::int64_t R, std::int64_t C,
                               std::int64_t batch, std::int64_t context, const models::PrecisionPolicy& p);
// Working activations on the busiest core (double-buffered vectors in decode; GEMM tiles in prefill).
double layer_activation_bytes_per_core(const models::LayerGraph& layer, std::int64_t R, std::int64_t C,
                                       std::int64_t batch, std::int64_t prefill_tokens,
                                       double prefill_buffer_bytes, const models::PrecisionPolicy& p);

}  // namespace wafersim::mapping
