// Runs one experiment: mapping (automatic grid scored by the analytic engine), engine, baselines.
#include "sim/run/experiment.hpp"

#include "sim/base/errors.hpp"
#include "sim/engines/analytic_engine.hpp"
#include "sim/engines/hbm_baseline.hpp"
#include "sim/engines/i_engine.hpp"

namespace wafersim::run {

RunResult execute(const ResolvedRun& run) {
    RunResult out;
    auto engine = engines::make_engine(run.request.engine);
    // Candidate grids are scored by the analytic decode time at the mean context (whatever the phase):
    // cheap, and the same closed form whatever engine then runs the chosen plan.
    const mapping::Workload& w = run.workload;
    mapping::PlanScorer scorer = [&](const mapping::ExecutionPlan& p) {
        const std::int64_t mid = w.input_tokens + (w.output_tokens + 1) / 2;
        return engines::analytic_decode_step_seconds(p, run.graph, run.wafer, mid, w.batch);
    };
    out.plan = mapping::make_plan(run.model, run.graph, run.wafer, run.mapping, w, run.precision, scorer);
    engines::EngineInput in{run.model, run.graph, run.wafer, out.plan, run.request.seed,
                            run.request.engine == "systemc" ? &run.systemc_params : nullptr};
    out.wafer = engine->run(in);
    for (const auto& gpu : run.gpus) {
        BaselineOutcome b;
        b.device = gpu.name;
        b.count = run.baseline_count;
        try {
            b.result = engines::run_hbm_baseline(gpu, run.baseline_count, run.model, run.graph, run.precision, w);
        } catch (const PlanError& e) {
            b.fits = false;
            b.error = e.what();
        }
        out.baselines.push_back(std::move(b));
    }
    return out;
}

}  // namespace wafersim::run
