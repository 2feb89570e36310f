// The analytic engine: closed-form time of every step of the plan, summed along each layer's
// critical path (no contention, no overlap between layers).
#pragma once
#include "sim/engines/i_engine.hpp"

namespace wafersim::engines {

class AnalyticEngine : public IEngine {
public:
    const char* name() const override { return "analytic"; }
    EngineResult run(const EngineInput& in) const override;
};

// Seconds of one decode step of `batch` sequences at `context` (used to score candidate plans).
double analytic_decode_step_seconds(const mapping::ExecutionPlan& plan, const models::ModelGraph& graph,
                                    const fabric::WaferSpec& wafer, std::int64_t context, std::int64_t batch);

// Fills the derived figures of a phase result from its `seconds` (decode: per step at `batch`; prefill:
// TTFT): tokens/s, aggregate tokens/s, FLOPs, utilization of the wafers' dense peak, energy. Shared by
// every wafer engine so that they report the same quantities the same way.
void finish_wafer_phase(PhaseResult& r, const EngineInput& in, bool decode, std::int64_t batch);

// Contexts at which decode is evaluated: every generated token when there are at most `max_samples`,
// otherwise `max_samples` evenly spaced ones (step time is linear in context between them).
std::vector<std::int64_t> decode_sample_contexts(const mapping::Workload& w, int max_samples = 16);

}  // namespace wafersim::engines
