// wafersim_bench: how fast the simulator evaluates design points (a benchmark, not a test; nothing here
// asserts a time). The run is resolved once; then N design points vary the workload (batch 1..8, prompt
// 1K..8K tokens) and, with --forced-grid, the per-stage grid. Three figures are printed:
//   engine:  mapping::make_plan + engines::AnalyticEngine().run per point (with --forced-grid the grid is
//            given, so this is the engine alone; otherwise the automatic grid search is included);
//   CLI path: run::execute (mapping, engine, HBM baselines) + run::summary_json per point, i.e. what
//            `wafersim run -q` does after resolving its inputs, without writing files;
// plus points evaluated, wall seconds, points per second and the peak resident set (getrusage).
// See docs/benchmarks.md.
#include <CLI/CLI.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "sim/base/errors.hpp"
#include "sim/engines/analytic_engine.hpp"
#include "sim/engines/i_engine.hpp"
#include "sim/mapping/mapper.hpp"
#include "sim/run/experiment.hpp"
#include "sim/run/outputs.hpp"
#include "sim/run/run_config.hpp"

namespace {

using namespace wafersim;
using Clock = std::chrono::steady_clock;

// Per-stage grids tried with --forced-grid (rows x columns); all fit in the WSE-2 and WSE-3 user areas.
// Points whose plan does not fit (e.g. batch 8 at 8K tokens on 106x377) are counted as infeasible.
const std::vector<std::pair<std::int64_t, std::int64_t>> kGrids = {
    {106, 377}, {200, 200}, {250, 250}, {300, 300}, {377, 377}, {420, 420}, {500, 500}, {994, 750}};
const std::int64_t kInputs[] = {1024, 2048, 4096, 8192};

struct Point {
    std::int64_t grid_rows = 0, grid_cols = 0;  // 0 = automatic
    mapping::Workload workload;
};

// Design point i: (with --forced-grid) the grid varies fastest, then the batch, then the prompt length.
Point point(const run::ResolvedRun& base, int i, bool forced) {
    Point p;
    p.workload = base.workload;
    if (forced) {
        const int g = static_cast<int>(kGrids.size());
        p.grid_rows = kGrids[i % g].first;
        p.grid_cols = kGrids[i % g].second;
        i /= g;
    }
    p.workload.batch = 1 + i % 8;
    p.workload.input_tokens = kInputs[(i / 8) % 4];
    return p;
}

double peak_rss_mib() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;  // Linux: KiB
}

struct Tally {
    int evaluated = 0, infeasible = 0;
    double seconds = 0;
    double engine_seconds = -1;  // of which AnalyticEngine::run (engine benchmark only)
    double checksum = 0;  // keeps the work observable
};

void report(const char* what, const Tally& t) {
    std::printf("%-40s %6d points (%d infeasible)  %8.3f s  %9.1f points/s  %7.2f ms/point  peak RSS %.1f MiB\n", what,
                t.evaluated, t.infeasible, t.seconds, t.evaluated / t.seconds, 1e3 * t.seconds / t.evaluated,
                peak_rss_mib());
    if (t.engine_seconds >= 0)
        std::printf("%-40s of which make_plan %.2f ms/point (all points), AnalyticEngine::run %.2f ms/point (feasible)\n",
                    "", 1e3 * (t.seconds - t.engine_seconds) / t.evaluated,
                    1e3 * t.engine_seconds / std::max(1, t.evaluated - t.infeasible));
}

// make_plan + AnalyticEngine::run per point.
Tally bench_engine(const run::ResolvedRun& base, int n, bool forced) {
    const engines::AnalyticEngine engine;
    Tally t;
    t.engine_seconds = 0;
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
        const Point p = point(base, i, forced);
        mapping::MappingOptions opts = base.mapping;
        opts.grid_rows = p.grid_rows;
        opts.grid_cols = p.grid_cols;
        const mapping::Workload& w = p.workload;
        mapping::PlanScorer scorer = [&](const mapping::ExecutionPlan& plan) {
            const std::int64_t mid = w.input_tokens + (w.output_tokens + 1) / 2;
            return engines::analytic_decode_step_seconds(plan, base.graph, base.wafer, mid, w.batch);
        };
        ++t.evaluated;
        try {
            const mapping::ExecutionPlan plan =
                mapping::make_plan(base.model, base.graph, base.wafer, opts, w, base.precision, scorer);
            const engines::EngineInput in{base.model, base.graph, base.wafer, plan, base.request.seed};
            const auto r0 = Clock::now();
            const engines::EngineResult r = engine.run(in);
            t.engine_seconds += std::chrono::duration<double>(Clock::now() - r0).count();
            t.checksum += r.decode.tokens_per_s + r.prefill.tokens_per_s;
        } catch (const PlanError&) {
            ++t.infeasible;
        }
    }
    t.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return t;
}

// execute() + summary_json() per point: the `wafersim run -q` path once inputs are resolved, no files.
// ResolvedRun is not copyable (the model graph owns its layers): the points are set on `r` in turn and
// its mapping options and workload restored at the end.
Tally bench_cli_path(run::ResolvedRun& r, int n, bool forced) {
    Tally t;
    const mapping::MappingOptions saved_mapping = r.mapping;
    const mapping::Workload saved_workload = r.workload;
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
        const Point p = point(r, i, forced);
        r.mapping.grid_rows = p.grid_rows;
        r.mapping.grid_cols = p.grid_cols;
        r.workload = p.workload;
        ++t.evaluated;
        try {
            const run::RunResult result = run::execute(r);
            t.checksum += static_cast<double>(run::summary_json(r, result).size());
        } catch (const PlanError&) {
            ++t.infeasible;
        }
    }
    t.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    r.mapping = saved_mapping;
    r.workload = saved_workload;
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"wafersim_bench: design points per second of the analytic engine and of the run path"};
    int points = 256;
    bool forced = false;
    run::RunRequest req;
    app.add_option("--points", points, "design points per measurement")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_flag("--forced-grid", forced, "give the grid (engine alone); default: automatic grid search included");
    app.add_option("--wafer", req.wafer, "wafer preset or YAML path")->capture_default_str();
    app.add_option("--model", req.model, "model preset or config.json path")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    try {
        const auto t0 = Clock::now();
        run::ResolvedRun base = run::resolve_run(req);
        const double resolve_s = std::chrono::duration<double>(Clock::now() - t0).count();
        std::printf("wafersim_bench %s: %s on %s, %s, %d points (batch 1..8 x prompt 1K..8K%s)\n", WAFERSIM_VERSION,
                    base.model.name.c_str(), base.wafer.name.c_str(),
                    forced ? "forced grid" : "automatic grid search", points,
                    forced ? " x 8 grids 106x377..994x750" : "");
        std::printf("resolve_run once: %.2f ms\n", 1e3 * resolve_s);
        const Tally e = bench_engine(base, points, forced);
        report(forced ? "engine (make_plan, forced grid + run)" : "engine (make_plan + grid search + run)", e);
        const Tally c = bench_cli_path(base, points, forced);
        report("CLI path (execute + summary_json)", c);
        std::printf("checksum %.6g\n", e.checksum + c.checksum);
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "error: %s\n", ex.what());
        return 1;
    }
    return 0;
}
