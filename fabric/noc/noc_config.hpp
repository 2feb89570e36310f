// NocRouterSpec: the input-queued virtual-channel router of the synthetic-traffic network mode, as its
// YAML file (configs/noc/*.yaml) describes it. One ParamTable drives parsing, validation and describe.
#pragma once
#include <cstdint>
#include <string>

#include "sim/base/params.hpp"

namespace wafersim::fabric::noc {

// Immutable, validated router and measurement parameters. Cycle counts are whole cycles.
// Pipeline semantics (BookSim2 iq_router, see docs/noc.md): a flit buffered at cycle t may win VC
// allocation at t + routing + vc_alloc - 1 and switch allocation one sw_alloc later; it leaves on the
// output st_final cycles after its switch grant and is buffered downstream link.latency + 1 cycles after
// that. vc_alloc = 0 (an extension) folds VC and switch allocation into one cycle.
struct NocRouterSpec {
    std::string name;
    std::string description;
    std::string source_file;
    ParamSet params;  // every resolved parameter (printed with the results)

    int routing_delay = 0;   // router.pipeline.routing
    int vc_alloc_delay = 1;  // router.pipeline.vc_alloc
    int sw_alloc_delay = 1;  // router.pipeline.sw_alloc
    int st_final_delay = 1;  // router.pipeline.st_final
    int vcs = 2;             // router.vcs
    int vc_buffer_flits = 8; // router.vc_buffer
    int credit_delay = 2;    // router.credit_delay
    bool wait_for_tail_credit = false;
    int link_latency = 1;    // link.latency: router-to-router channel
    int ramp_latency = 1;    // link.ramp_latency: injection and ejection channels
    std::string allocator = "islip";
    int alloc_iters = 2;
    double latency_threshold_cycles = 500;

    // Measurement (BookSim's warmup_periods x sample_period, then measure_periods x sample_period).
    int warmup_periods = 3;
    std::int64_t sample_period_cycles = 10000;
    int measure_periods = 3;
    std::int64_t drain_limit_cycles = 20000;
    double backlog_growth_threshold = 0.005;
    int region_side = 8;

    // Derived: cycles a flit spends in one router with no contention (from buffering to leaving).
    int router_cycles() const { return routing_delay + vc_alloc_delay + sw_alloc_delay + st_final_delay; }
    // Zero-load cost of one hop: router pipeline plus link.
    int hop_cycles() const { return router_cycles() + link_latency; }
    // Zero-load packet latency (creation to tail arrival) over `hops` Manhattan hops for a packet of
    // `flits` flits: injection channel, (hops + 1) routers, hops links, ejection channel, serialisation.
    double zero_load_latency(int hops, int flits) const {
        return (ramp_latency + 1) + (router_cycles() - 1) + (ramp_latency + 1) + static_cast<double>(hops) * hop_cycles() +
               (flits - 1);
    }
};

const ParamTable& noc_param_table();

// Validates and builds a NocRouterSpec from a flattened YAML (keys relative to the file). Throws
// InputError with every problem found (file, line, key, expected vs found).
NocRouterSpec load_noc_config(const FlatConfig& flat, const std::string& source_file);

}  // namespace wafersim::fabric::noc
