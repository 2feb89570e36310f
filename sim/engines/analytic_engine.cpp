// Analytic engine: decode and prefill times from closed-form step costs over the ExecutionPlan.
#include "sim/engines/analytic_engine.hpp"

#include <cmath>

#include "sim/engines/analytic_model.hpp"
#include "sim/mapping/mapper.hpp"

namespace wafersim::engines {

namespace {

std::vector<LayerTime> program_times(const mapping::PhaseProgram& prog, const fabric::WaferSpec& w) {
    std::vector<LayerTime> out;
    out.reserve(prog.layers.size());
    for (std::size_t i = 0; i < prog.layers.size(); ++i) out.push_back(layer_time(prog.layers[i], prog.stage_of[i], w));
    return out;
}

double total(const std::vector<LayerTime>& v) {
    double s = 0;
    for (const auto& l : v) s += l.total();
    return s;
}

PhaseResult run_decode(const EngineInput& in, std::int64_t batch) {
    PhaseResult r;
    const auto ctxs = decode_sample_contexts(in.plan.workload);
    std::vector<LayerTime> acc;
    double sum = 0;
    for (std::int64_t ctx : ctxs) {
        auto prog = mapping::build_decode_program(in.plan, in.graph, in.wafer, ctx, batch);
        auto times = program_times(prog, in.wafer);
        sum += total(times);
        if (acc.empty()) {
            acc = times;
        } else {
            for (std::size_t i = 0; i < acc.size(); ++i) {
                acc[i].compute_s += times[i].compute_s;
                acc[i].collective_s += times[i].collective_s;
                acc[i].transfer_s += times[i].transfer_s;
                acc[i].overhead_s += times[i].overhead_s;
            }
        }
    }
    const double n = static_cast<double>(ctxs.size());
    for (auto& l : acc) {
        l.compute_s /= n;
        l.collective_s /= n;
        l.transfer_s /= n;
        l.overhead_s /= n;
    }
    r.layers = std::move(acc);
    r.seconds = sum / n;
    finish_wafer_phase(r, in, true, batch);
    return r;
}

// Prefill runs the prompt in chunks that pipeline through the stages: chunk c on stage s starts when
// stage s has finished chunk c-1 and chunk c has arrived from stage s-1. TTFT is the makespan; the
// per-layer breakdown is each layer's busy time summed over the chunks.
PhaseResult run_prefill(const EngineInput& in) {
    PhaseResult r;
    const auto chunks = mapping::prefill_chunks(in.plan);
    const std::size_t S = in.plan.stages.size();
    std::vector<double> stage_free(S, 0.0);  // when each stage finished its previous chunk
    std::int64_t prior = 0;
    double makespan = 0;
    for (std::size_t c = 0; c < chunks.size(); ++c) {
        const bool last = c + 1 == chunks.size();
        auto prog = mapping::build_prefill_program(in.plan, in.graph, in.wafer, chunks[c], prior);
        auto times = program_times(prog, in.wafer);
        std::vector<double> busy(S, 0.0), handoff(S, 0.0);
        for (std::size_t i = 0; i < times.size(); ++i) {
            const auto& name = prog.layers[i].name;
            if (!last && (name == "final_norm" || name == "lm_head")) {
                times[i] = LayerTime{name, times[i].stage};  // only the last chunk produces the first token
            }
            const std::size_t st = static_cast<std::size_t>(prog.stage_of[i]);
            if (name.rfind("handoff.", 0) == 0) handoff[st] += times[i].total();
            else busy[st] += times[i].total();
        }
        double arrive = 0;
        for (std::size_t s = 0; s < S; ++s) {
            const double start = std::max(stage_free[s], arrive);
            stage_free[s] = start + busy[s];
            arrive = stage_free[s] + handoff[s];
        }
        makespan = stage_free[S - 1];
        if (r.layers.empty()) {
            r.layers = times;
        } else {
            for (std::size_t i = 0; i < times.size(); ++i) {
                r.layers[i].compute_s += times[i].compute_s;
                r.layers[i].collective_s += times[i].collective_s;
                r.layers[i].transfer_s += times[i].transfer_s;
                r.layers[i].overhead_s += times[i].overhead_s;
            }
        }
        prior += chunks[c];
    }
    r.seconds = makespan;
    finish_wafer_phase(r, in, false, 1);
    return r;
}

}  // namespace

void finish_wafer_phase(PhaseResult& r, const EngineInput& in, bool decode, std::int64_t batch) {
    const auto& w = in.plan.workload;
    r.ran = true;
    r.batch = batch;
    r.tokens = decode ? w.output_tokens : w.input_tokens;
    if (decode) {
        r.tokens_per_s = 1.0 / r.seconds;
        r.aggregate_tokens_per_s = static_cast<double>(batch) / r.seconds;
        r.flops = models::decode_step_cost(in.graph, batch, w.input_tokens + (w.output_tokens + 1) / 2, in.plan.precision).flops;
    } else {
        r.tokens_per_s = static_cast<double>(w.input_tokens) / r.seconds;
        r.aggregate_tokens_per_s = r.tokens_per_s;
        r.flops = models::prefill_total_cost(in.graph, w.input_tokens, in.plan.precision).flops;
    }
    const double peak = in.wafer.peak_flops(in.plan.precision.dense_weight_bits) * in.plan.wafers;
    r.utilization = peak > 0 ? r.flops / r.seconds / peak : 0;
    r.energy_j = in.wafer.system_power_w * in.plan.wafers * r.seconds;
}

std::vector<std::int64_t> decode_sample_contexts(const mapping::Workload& w, int max_samples) {
    std::vector<std::int64_t> out;
    const std::int64_t T = w.output_tokens;
    if (T <= max_samples) {
        for (std::int64_t k = 0; k < T; ++k) out.push_back(w.context_of(k));
    } else {
        for (int i = 0; i < max_samples; ++i) {
            const std::int64_t k = static_cast<std::int64_t>(std::llround(static_cast<double>(i) * (T - 1) / (max_samples - 1)));
            out.push_back(w.context_of(k));
        }
    }
    return out;
}

double analytic_decode_step_seconds(const mapping::ExecutionPlan& plan, const models::ModelGraph& graph,
                                    const fabric::WaferSpec& wafer, std::int64_t context, std::int64_t batch) {
    auto prog = mapping::build_decode_program(plan, graph, wafer, context, batch);
    return total(program_times(prog, wafer));
}

EngineResult AnalyticEngine::run(const EngineInput& in) const {
    EngineResult res;
    res.engine = name();
    res.device = in.wafer.name;
    res.device_count = in.plan.wafers;
    const auto& w = in.plan.workload;
    if (w.runs_decode()) {
        res.decode = run_decode(in, w.batch);
        res.decode_batch1 = w.batch == 1 ? res.decode : run_decode(in, 1);
    }
    if (w.runs_prefill()) res.prefill = run_prefill(in);
    res.max_context_tokens = in.plan.max_context_tokens;
    if (w.runs_decode() && w.output_tokens > 16)
        res.notes.push_back("decode averaged over 16 evenly spaced contexts of the " + std::to_string(w.output_tokens) +
                            " generated tokens");
    return res;
}

}  // namespace wafersim::engines
