// Router parameters of the synthetic-traffic network mode: the declared table and its validation.
#include "fabric/noc/noc_config.hpp"

#include <cmath>

namespace wafersim::fabric::noc {

namespace {

// Cycle counts are quantities with the `cycles` unit.
ParamDef cyc(std::string key, std::string def, double lo, double hi, std::string doc, std::string src) {
    return param_quantity(std::move(key), UnitKind::Cycles, std::move(def), lo, hi, std::move(doc), std::move(src));
}

constexpr const char* kBooksim = "BookSim2 iq_router (reference/noc/booksim2_mesh8x8.cfg)";

}  // namespace

const ParamTable& noc_param_table() {
    static const ParamTable t("noc", {
        cyc("router.pipeline.routing", "0cycles", 0, 16, "route computation stage (0 = lookahead routing)", kBooksim),
        cyc("router.pipeline.vc_alloc", "1cycles", 0, 16, "VC allocation stage (0 = folded into switch allocation)", kBooksim),
        cyc("router.pipeline.sw_alloc", "1cycles", 1, 16, "switch allocation stage", kBooksim),
        cyc("router.pipeline.st_final", "1cycles", 0, 16, "switch traversal to the output channel", kBooksim),
        param_int("router.vcs", "2", 1, 24, "virtual channels per input port", kBooksim),
        param_int("router.vc_buffer", "8", 1, 1024, "buffer per virtual channel, in flits", kBooksim),
        cyc("router.credit_delay", "2cycles", 0, 64, "cycles from a credit's arrival to its use", kBooksim),
        param_bool("router.wait_for_tail_credit", "false", "release an output VC only when the tail's credit returns", kBooksim),
        cyc("link.latency", "1cycles", 0, 64, "router-to-router channel latency", kBooksim),
        cyc("link.ramp_latency", "1cycles", 0, 64, "injection and ejection channel latency", kBooksim),
        param_enum("allocator", "islip", {"islip"}, "VC and switch allocator (separable iSLIP, round-robin pointers)", kBooksim),
        param_int("alloc_iters", "2", 1, 8, "iSLIP iterations per allocation", kBooksim),
        cyc("latency_threshold", "500cycles", 1, 1e9, "average packet latency above which a run is saturated", kBooksim),
        param_int("sim.warmup_periods", "3", 0, 1000, "warm-up sample periods before measuring", kBooksim),
        cyc("sim.sample_period", "10000cycles", 1, 1e9, "length of one sample period", kBooksim),
        param_int("sim.measure_periods", "3", 1, 1000, "measured sample periods (BookSim: >= 3 converged)", kBooksim),
        cyc("sim.drain_limit", "20000cycles", 0, 1e9, "most cycles spent draining measured packets before declaring saturation", "design"),
        param_real("sim.backlog_growth_threshold", "0.005", 1e-6, 1,
             "saturated when the mean source backlog grows by more than this fraction of the measured window", "design"),
        param_int("sim.region_side", "8", 1, 1024, "routers per side of one simulation region (one process each)", "style.md §8"),
    });
    return t;
}

NocRouterSpec load_noc_config(const FlatConfig& flat, const std::string& source_file) {
    const std::vector<std::string> ignored = {"name", "description", "sources", "notes"};
    DiagnosticSink sink;
    ParamSet p = noc_param_table().resolve(flat, sink, ignored);
    // Cycle counts must be whole.
    for (const auto& d : noc_param_table().defs()) {
        if (d.type != ParamType::Quantity || !p.has(d.key)) continue;
        const ParamValue& v = p.value(d.key);
        if (std::floor(v.number) != v.number)
            sink.add(v.file == "<default>" ? source_file : v.file, v.line, v.file == "--set" ? "noc." + d.key : d.key,
                     "\"" + v.text + "\" is not a whole number of cycles");
    }
    sink.throw_if_any();

    NocRouterSpec s;
    s.source_file = source_file;
    for (const auto& e : flat) {
        if (e.key == "name") s.name = e.value;
        if (e.key == "description") s.description = e.value;
    }
    s.params = p;
    auto ci = [&](const char* k) { return static_cast<int>(p.num(k)); };
    s.routing_delay = ci("router.pipeline.routing");
    s.vc_alloc_delay = ci("router.pipeline.vc_alloc");
    s.sw_alloc_delay = ci("router.pipeline.sw_alloc");
    s.st_final_delay = ci("router.pipeline.st_final");
    s.vcs = static_cast<int>(p.integer("router.vcs"));
    s.vc_buffer_flits = static_cast<int>(p.integer("router.vc_buffer"));
    s.credit_delay = ci("router.credit_delay");
    s.wait_for_tail_credit = p.flag("router.wait_for_tail_credit");
    s.link_latency = ci("link.latency");
    s.ramp_latency = ci("link.ramp_latency");
    s.allocator = p.str("allocator");
    s.alloc_iters = static_cast<int>(p.integer("alloc_iters"));
    s.latency_threshold_cycles = p.num("latency_threshold");
    s.warmup_periods = static_cast<int>(p.integer("sim.warmup_periods"));
    s.sample_period_cycles = static_cast<std::int64_t>(p.num("sim.sample_period"));
    s.measure_periods = static_cast<int>(p.integer("sim.measure_periods"));
    s.drain_limit_cycles = static_cast<std::int64_t>(p.num("sim.drain_limit"));
    s.backlog_growth_threshold = p.num("sim.backlog_growth_threshold");
    s.region_side = static_cast<int>(p.integer("sim.region_side"));
    return s;
}

}  // namespace wafersim::fabric::noc
