// One experiment: map the model, run the chosen engine on the plan, run the HBM baselines.
#pragma once
#include <string>
#include <vector>

#include "sim/engines/result.hpp"
#include "sim/mapping/plan.hpp"
#include "sim/run/run_config.hpp"

namespace wafersim::run {

struct BaselineOutcome {
    std::string device;
    std::int64_t count = 1;
    bool fits = true;
    std::string error;  // why it does not fit (PlanError message)
    engines::EngineResult result;
};

struct RunResult {
    mapping::ExecutionPlan plan;
    engines::EngineResult wafer;
    std::vector<BaselineOutcome> baselines;
};

// Throws PlanError when the model cannot be mapped onto the wafer(s).
RunResult execute(const ResolvedRun& run);

}  // namespace wafersim::run
