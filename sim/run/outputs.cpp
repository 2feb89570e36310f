// Writing run results: summary.json, results.h5, config.resolved.yaml, and the comparison table.
#include "sim/run/outputs.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <sstream>
#include <unistd.h>

#include "sim/base/atomic_file.hpp"
#include "sim/base/units.hpp"
#include "sim/mapping/mapper.hpp"
#include "sim/run/h5_writer.hpp"

namespace wafersim::run {

using nlohmann::ordered_json;

namespace {

ordered_json phase_json(const engines::PhaseResult& p, bool decode) {
    ordered_json j;
    if (decode) {
        j["tokens_per_s"] = p.tokens_per_s;
        j["seconds_per_token"] = p.seconds;
        j["batch"] = p.batch;
        j["aggregate_tokens_per_s"] = p.aggregate_tokens_per_s;
        j["output_tokens"] = p.tokens;
    } else {
        j["tokens_per_s"] = p.tokens_per_s;
        j["ttft_s"] = p.seconds;
        j["input_tokens"] = p.tokens;
    }
    j["compute_s"] = p.compute_s();
    j["collective_s"] = p.collective_s();
    j["transfer_s"] = p.transfer_s();
    j["overhead_s"] = p.overhead_s();
    j["flops"] = p.flops;
    j["utilization"] = p.utilization;
    j[decode ? "energy_per_step_j" : "energy_j"] = p.energy_j;
    return j;
}

const char* phase_name(mapping::PhaseSel p) {
    return p == mapping::PhaseSel::Decode ? "decode" : p == mapping::PhaseSel::Prefill ? "prefill" : "both";
}

}  // namespace

std::string summary_json(const ResolvedRun& run, const RunResult& r) {
    ordered_json j;
    j["schema_version"] = 1;
    j["engine"] = r.wafer.engine;
    j["seed"] = run.request.seed;
    j["model"] = {{"name", run.model.name},
                  {"parameters", run.model.parameters()},
                  {"active_parameters", run.model.active_parameters()},
                  {"layers", run.model.layers},
                  {"moe", run.model.is_moe()}};
    j["wafer"] = {{"name", run.wafer.name},
                  {"usable_cores", run.wafer.usable_cores()},
                  {"sram_per_core_bytes", run.wafer.sram_bytes},
                  {"clock_hz", run.wafer.clock_hz}};
    j["workload"] = {{"phase", phase_name(run.workload.phase)},
                     {"batch", run.workload.batch},
                     {"input_tokens", run.workload.input_tokens},
                     {"output_tokens", run.workload.output_tokens}};
    j["precision"] = {{"dense_weight_bits", run.precision.dense_weight_bits},
                      {"expert_weight_bits", run.precision.expert_weight_bits},
                      {"kv_bits", run.precision.kv_bits}};
    ordered_json grid = ordered_json::array(), layers = ordered_json::array(), wafers = ordered_json::array();
    for (const auto& s : r.plan.stages) {
        grid.push_back({s.region.rows, s.region.cols});
        layers.push_back({s.first_layer, s.end_layer});
        wafers.push_back(s.wafer);
    }
    j["mapping"] = {{"wafers", r.plan.wafers},
                    {"stages", r.plan.stages.size()},
                    {"cores_used", r.plan.cores_used()},
                    {"grid", grid},
                    {"stage_layers", layers},
                    {"stage_wafer", wafers},
                    {"allreduce", mapping::to_string(r.plan.allreduce)},
                    {"gemm", mapping::to_string(r.plan.gemm)},
                    {"kv_layout", mapping::to_string(r.plan.kv_layout)}};
    if (r.wafer.decode.ran) {
        ordered_json d = phase_json(r.wafer.decode, true);
        d["batch1_tokens_per_s"] = r.wafer.decode_batch1.tokens_per_s;
        d["max_context_tokens"] = r.wafer.max_context_tokens;
        j["decode"] = d;
    }
    if (r.wafer.prefill.ran) j["prefill"] = phase_json(r.wafer.prefill, false);
    ordered_json bl = ordered_json::array();
    for (const auto& b : r.baselines) {
        ordered_json e;
        e["device"] = b.device;
        e["count"] = b.count;
        e["fits"] = b.fits;
        if (b.fits) {
            e["decode_tokens_per_s"] = b.result.decode.ran ? ordered_json(b.result.decode.tokens_per_s) : ordered_json();
            e["decode_seconds_per_token"] = b.result.decode.ran ? ordered_json(b.result.decode.seconds) : ordered_json();
            e["prefill_tokens_per_s"] = b.result.prefill.ran ? ordered_json(b.result.prefill.tokens_per_s) : ordered_json();
            e["ttft_s"] = b.result.prefill.ran ? ordered_json(b.result.prefill.seconds) : ordered_json();
            e["max_context_tokens"] = b.result.max_context_tokens;
        } else {
            e["decode_tokens_per_s"] = nullptr;
            e["prefill_tokens_per_s"] = nullptr;
            e["error"] = b.error;
        }
        bl.push_back(e);
    }
    j["baselines"] = bl;
    ordered_json notes = ordered_json::array();
    for (const auto& n : r.plan.notes) notes.push_back(n);
    for (const auto& n : r.wafer.notes) notes.push_back(n);
    for (const auto& n : run.model.warnings) notes.push_back("model: " + n);
    j["notes"] = notes;
    return j.dump(2) + "\n";
}

namespace {

void write_phase_h5(H5Writer& h5, const std::string& g, const engines::PhaseResult& p, bool decode) {
    h5.group(g);
    std::vector<std::string> names;
    std::vector<std::int64_t> stage;
    std::vector<double> comp, coll, xfer, ovh, tot;
    for (const auto& l : p.layers) {
        names.push_back(l.name);
        stage.push_back(l.stage);
        comp.push_back(l.compute_s);
        coll.push_back(l.collective_s);
        xfer.push_back(l.transfer_s);
        ovh.push_back(l.overhead_s);
        tot.push_back(l.total());
    }
    h5.strings(g + "/layers/name", names, "layer (or embedding, LM head, stage hand-off) in execution order");
    h5.dataset(g + "/layers/stage", stage, "", "pipeline stage of the layer");
    h5.dataset(g + "/layers/compute_s", comp, "s", "local compute on the critical path");
    h5.dataset(g + "/layers/collective_s", coll, "s", "collectives on the mesh on the critical path");
    h5.dataset(g + "/layers/transfer_s", xfer, "s", "stage and wafer hand-offs");
    h5.dataset(g + "/layers/overhead_s", ovh, "s", "fixed per-step software costs");
    h5.dataset(g + "/layers/total_s", tot, "s", "time the layer adds to the phase");
    if (decode) {
        h5.scalar(g + "/seconds_per_token", p.seconds, "s", "decode step time, averaged over generated tokens");
        h5.scalar(g + "/tokens_per_s", p.tokens_per_s, "tokens/s", "decode tokens per second per request");
        h5.scalar(g + "/batch", static_cast<double>(p.batch), "", "sequences decoded together");
    } else {
        h5.scalar(g + "/ttft_s", p.seconds, "s", "time to first token (prefill of the prompt)");
        h5.scalar(g + "/tokens_per_s", p.tokens_per_s, "tokens/s", "prompt tokens processed per second");
    }
    h5.scalar(g + "/utilization", p.utilization, "", "achieved FLOP/s over peak FLOP/s of the wafers used");
}

}  // namespace

std::string trace_json(const RunResult& r) {
    // Chrome trace-event format (opens in ui.perfetto.dev): one complete ("X") event per layer span;
    // pid = wafer, tid = stage.
    ordered_json events = ordered_json::array();
    std::vector<std::pair<int, int>> lanes;
    for (const auto& s : r.wafer.trace) {
        events.push_back({{"name", s.name}, {"cat", s.phase}, {"ph", "X"}, {"ts", s.start_us}, {"dur", s.dur_us},
                          {"pid", s.wafer}, {"tid", s.stage}, {"args", {{"phase", s.phase}}}});
        if (std::find(lanes.begin(), lanes.end(), std::make_pair(s.wafer, s.stage)) == lanes.end())
            lanes.emplace_back(s.wafer, s.stage);
    }
    for (const auto& l : lanes) {
        events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", l.first}, {"args", {{"name", "wafer " + std::to_string(l.first)}}}});
        events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", l.first}, {"tid", l.second},
                          {"args", {{"name", "stage " + std::to_string(l.second)}}}});
    }
    ordered_json j;
    j["traceEvents"] = events;
    j["displayTimeUnit"] = "ns";
    return j.dump() + "\n";
}

void write_outputs(const std::string& dir, const ResolvedRun& run, const RunResult& r, const std::string& command_line) {
    make_dirs(dir);
    // A run killed while writing here left NAME.tmp.PID files; they were never complete results.
    for (const char* name : {"trace.json", "summary.json", "config.resolved.yaml", "results.h5"})
        remove_stale_tmps(dir + "/" + name);
    if (!r.wafer.trace.empty()) write_file_atomic(dir + "/trace.json", trace_json(r));
    write_file_atomic(dir + "/summary.json", summary_json(run, r));
    write_file_atomic(dir + "/config.resolved.yaml", resolved_config_yaml(run, command_line));
    with_atomic_path(dir + "/results.h5", [&](const std::string& tmp) {
        H5Writer h5(tmp);
        // Run metadata that varies between identical runs lives here, not in summary.json.
        char host[256] = {0};
        ::gethostname(host, sizeof host - 1);
        std::time_t now = std::time(nullptr);
        char ts[64];
        std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
        h5.attr("/", "wafersim_version", WAFERSIM_VERSION);
        h5.attr("/", "command_line", command_line);
        h5.attr("/", "created", ts);
        h5.attr("/", "host", host);
        h5.group("/config");
        h5.attr("/config", "resolved_yaml", resolved_config_yaml(run, command_line));
        h5.attr("/config", "engine", r.wafer.engine);
        h5.attr("/config", "seed", static_cast<double>(run.request.seed));

        h5.group("/model");
        h5.attr("/model", "name", run.model.name);
        h5.scalar("/model/parameters", static_cast<double>(run.model.parameters()), "parameters", "stored parameters");
        h5.scalar("/model/active_parameters", static_cast<double>(run.model.active_parameters()), "parameters",
                  "parameters touched per token");
        h5.scalar("/model/layers", static_cast<double>(run.model.layers), "", "decoder layers");
        h5.scalar("/model/kv_bytes_per_token", run.model.kv_bytes_per_token(run.precision.kv_bits), "B",
                  "KV-cache bytes one token adds (all layers at full size)");

        const auto& plan = r.plan;
        h5.group("/mapping");
        h5.attr("/mapping", "allreduce", mapping::to_string(plan.allreduce));
        h5.attr("/mapping", "gemm", mapping::to_string(plan.gemm));
        h5.attr("/mapping", "kv_layout", mapping::to_string(plan.kv_layout));
        h5.attr("/mapping", "wafer", run.wafer.name);
        std::vector<std::int64_t> wafer_of, row0, col0, rows, cols, first, end;
        std::vector<double> wb, kvb, ab, rb, kvcap;
        for (const auto& s : plan.stages) {
            wafer_of.push_back(s.wafer);
            row0.push_back(s.region.row0);
            col0.push_back(s.region.col0);
            rows.push_back(s.region.rows);
            cols.push_back(s.region.cols);
            first.push_back(s.first_layer);
            end.push_back(s.end_layer);
            wb.push_back(s.weight_bytes_per_core);
            kvb.push_back(s.kv_bytes_per_core);
            ab.push_back(s.activation_bytes_per_core);
            rb.push_back(s.reserve_bytes_per_core);
            kvcap.push_back(std::isfinite(s.kv_token_capacity) ? s.kv_token_capacity : -1.0);
        }
        h5.dataset("/mapping/stages/wafer", wafer_of, "", "wafer index of each stage");
        h5.dataset("/mapping/stages/row0", row0, "cores", "first row of the stage's rectangle");
        h5.dataset("/mapping/stages/col0", col0, "cores", "first column of the stage's rectangle");
        h5.dataset("/mapping/stages/rows", rows, "cores", "rows of the stage's rectangle");
        h5.dataset("/mapping/stages/cols", cols, "cores", "columns of the stage's rectangle");
        h5.dataset("/mapping/stages/first_layer", first, "", "first decoder layer of the stage");
        h5.dataset("/mapping/stages/end_layer", end, "", "one past the last decoder layer of the stage");
        h5.dataset("/mapping/stages/weight_bytes_per_core", wb, "B", "weights on the busiest core");
        h5.dataset("/mapping/stages/kv_bytes_per_core", kvb, "B", "KV cache on the busiest core at the longest context");
        h5.dataset("/mapping/stages/activation_bytes_per_core", ab, "B", "working activations on the busiest core");
        h5.dataset("/mapping/stages/reserve_bytes_per_core", rb, "B", "SRAM taken by the runtime");
        h5.dataset("/mapping/stages/kv_token_capacity", kvcap, "tokens", "context the stage's free SRAM holds (-1: unbounded)");
        for (int wi = 0; wi < plan.wafers; ++wi) {
            h5.dataset2d("/mapping/sram_bytes/wafer" + std::to_string(wi), mapping::sram_map(plan, run.wafer, wi),
                         static_cast<std::size_t>(run.wafer.mesh_rows), static_cast<std::size_t>(run.wafer.mesh_cols), "B",
                         "SRAM in use per core [row][col] (busiest core of each stage; 0 outside stages)");
        }
        if (r.wafer.decode.ran) write_phase_h5(h5, "/decode", r.wafer.decode, true);
        if (r.wafer.prefill.ran) write_phase_h5(h5, "/prefill", r.wafer.prefill, false);
        if (!r.wafer.heatmaps.empty()) {
            h5.group("/" + r.wafer.engine);
            h5.attr("/" + r.wafer.engine, "description", "per-core and per-link statistics of the simulated fabric ([row][col] of the mesh)");
            for (const auto& m : r.wafer.heatmaps)
                h5.dataset2d("/" + r.wafer.engine + "/wafer" + std::to_string(m.wafer) + "/" + m.name, m.data, m.rows, m.cols, m.unit,
                             m.description);
        }
        h5.group("/baselines");
        for (std::size_t i = 0; i < r.baselines.size(); ++i) {
            const auto& b = r.baselines[i];
            const std::string g = "/baselines/" + std::to_string(i) + "_" + b.device;
            h5.group(g);
            h5.attr(g, "device", b.device);
            h5.attr(g, "count", static_cast<double>(b.count));
            h5.attr(g, "fits", b.fits ? "true" : "false");
            if (!b.fits) {
                h5.attr(g, "error", b.error);
                continue;
            }
            if (b.result.decode.ran) write_phase_h5(h5, g + "/decode", b.result.decode, true);
            if (b.result.prefill.ran) write_phase_h5(h5, g + "/prefill", b.result.prefill, false);
        }
        h5.close();
    });
}

namespace {
std::string fmt(double v, int prec = 1) {
    if (!std::isfinite(v) || v < 0) return "-";
    std::ostringstream os;
    os.setf(std::ios::fixed);
    os.precision(prec);
    os << v;
    return os.str();
}
std::string fmt_time(double s) { return s > 0 ? format_quantity(s, UnitKind::Time) : "-"; }
}  // namespace

void print_table(std::ostream& os, const ResolvedRun& run, const RunResult& r) {
    const auto& plan = r.plan;
    os << run.model.name << " (" << fmt(run.model.parameters() / 1e9, 2) << " B parameters) on " << run.wafer.name
       << ", engine " << r.wafer.engine << "\n";
    os << "mapping: " << plan.wafers << " wafer(s), " << plan.stages.size() << " stage(s) of " << plan.grid_rows << "x"
       << plan.grid_cols << " cores, " << plan.cores_used() << " cores used, all-reduce " << mapping::to_string(plan.allreduce)
       << "; KV holds " << plan.max_context_tokens << " tokens\n";
    os << "workload: batch " << run.workload.batch << ", " << run.workload.input_tokens << " input tokens, "
       << run.workload.output_tokens << " output tokens\n\n";
    os << std::left << std::setw(22) << "device" << std::right << std::setw(16) << "decode tok/s" << std::setw(14)
       << "s/token" << std::setw(18) << "prefill tok/s" << std::setw(12) << "TTFT" << "\n";
    auto row = [&](const std::string& name, const engines::EngineResult& e) {
        os << std::left << std::setw(22) << name << std::right << std::setw(16)
           << (e.decode.ran ? fmt(e.decode.tokens_per_s) : "-") << std::setw(14)
           << (e.decode.ran ? fmt_time(e.decode.seconds) : "-") << std::setw(18)
           << (e.prefill.ran ? fmt(e.prefill.tokens_per_s) : "-") << std::setw(12)
           << (e.prefill.ran ? fmt_time(e.prefill.seconds) : "-") << "\n";
    };
    row(run.wafer.name + " x" + std::to_string(plan.wafers), r.wafer);
    for (const auto& b : r.baselines) {
        const std::string name = b.device + " x" + std::to_string(b.count);
        if (b.fits) row(name, b.result);
        else os << std::left << std::setw(22) << name << "  does not fit: " << b.error << "\n";
    }
    if (r.wafer.decode.ran) {
        const auto& d = r.wafer.decode;
        const double t = d.seconds;
        os << "\n" << run.wafer.name << " decode step: compute " << fmt(100 * d.compute_s() / t) << "%, collectives "
           << fmt(100 * d.collective_s() / t) << "%, hand-offs " << fmt(100 * d.transfer_s() / t) << "%, overhead "
           << fmt(100 * d.overhead_s() / t) << "%\n";
        for (const auto& b : r.baselines)
            if (b.fits && b.result.decode.ran)
                os << "decode speed-up over " << b.device << " x" << b.count << ": "
                   << fmt(d.tokens_per_s / b.result.decode.tokens_per_s, 1) << "x\n";
    }
}

}  // namespace wafersim::run
