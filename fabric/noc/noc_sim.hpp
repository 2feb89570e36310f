// NocSim: cycle-accurate synthetic-traffic simulator of a k x k mesh of input-queued virtual-channel
// routers, mirroring BookSim2's iq_router (dimension-order routing, credit flow control, iSLIP VC and
// switch allocation, Bernoulli injection with an infinite source queue, warm-up/measure/drain).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fabric/noc/noc_config.hpp"

namespace wafersim::fabric::noc {

using Cycle = std::uint64_t;
constexpr Cycle kNever = ~Cycle(0);

enum class Traffic { Uniform, Transpose, BitComplement, Hotspot, Scripted };
const char* traffic_name(Traffic t);
// "uniform" | "transpose" | "bitcomplement" | "hotspot"; false when unknown.
bool parse_traffic(const std::string& text, Traffic& out);

// Router ports, numbered as BookSim's KNCube: 0 = +x, 1 = -x, 2 = +y, 3 = -y, 4 = local (inject/eject).
// Input port p receives from the neighbour in direction p (input 0 comes from the +x neighbour).
constexpr int kPorts = 5;
constexpr int kLocalPort = 4;

// One run. Nodes are numbered as BookSim numbers them: node = x + cols * y.
struct NocRunOptions {
    int cols = 8, rows = 8;
    Traffic traffic = Traffic::Uniform;
    double injection_rate = 0.1;  // flits per node per cycle (Bernoulli packets with p = rate / packet_flits)
    int packet_flits = 1;
    std::uint64_t seed = 0;
    std::int64_t warmup_cycles = -1;   // -1: sim.warmup_periods x sim.sample_period
    std::int64_t measure_cycles = -1;  // -1: sim.measure_periods x sim.sample_period
    int hotspot_node = 0;
    double hotspot_fraction = 0;       // share of packets sent to hotspot_node (the rest uniform)
    int region_side = 0;               // 0: sim.region_side of the router spec
    bool keep_packet_log = false;      // record every delivered packet (tests)
};

// Throws InputError (key = the option name, e.g. "--mesh") listing every problem in `o`.
void validate_run_options(const NocRunOptions& o);

// A delivered packet (packet log). Cycles are absolute simulation cycles.
struct PacketRecord {
    int src = 0, dst = 0, flits = 0;
    Cycle created = 0, injected = 0, arrived = 0;  // head injected into the network; tail arrived
    Cycle latency() const { return arrived - created; }
};

struct NocResult {
    double avg_packet_latency = 0;   // creation -> tail arrival, packets created in the window (NaN if saturated)
    double avg_network_latency = 0;  // head injection -> tail arrival (NaN if saturated)
    double max_packet_latency = 0;
    double accepted_throughput = 0;  // flits ejected in the window / node / cycle
    double injected_throughput = 0;  // flits injected into the network in the window / node / cycle
    double avg_hops = 0;             // routers traversed per packet, as BookSim counts (Manhattan + 1)
    std::uint64_t packets_measured = 0;
    Cycle warmup_cycles = 0, measure_cycles = 0, sim_cycles = 0;
    bool saturated = false;
    std::string saturation_reason;   // "" when not saturated
    double wall_s = 0;
    double router_cycles_per_s = 0;  // routers x sim_cycles / wall_s
    std::uint64_t region_cycles_stepped = 0, region_cycles_skipped = 0;  // idle regions skip cycles
    int regions = 0;
    std::string kernel;              // "systemc" or "plain"
};

// Contract: set by a driver on a region it puts to sleep; called (from any region's processing) when an
// event for the sleeping region is scheduled at cycle `c`, earlier than the region's wake-up time.
class IRegionWaker {
public:
    virtual ~IRegionWaker() = default;
    virtual void wake_at(Cycle c) = 0;
};

// The simulator core: plain C++, struct-of-arrays state, integer cycles. Routers are grouped into
// square regions; a driver advances each region over a window of cycles (run_region). Events that cross
// regions take at least quantum() cycles, so regions may run a quantum in any order. Two drivers:
// advance_plain (a loop, several runs per process) and run_with_systemc (one SC_METHOD per region).
class NocSim {
public:
    NocSim(const NocRouterSpec& spec, const NocRunOptions& opt);  // throws InputError on bad options
    ~NocSim();
    NocSim(const NocSim&) = delete;
    NocSim& operator=(const NocSim&) = delete;

    const NocRouterSpec& spec() const;
    const NocRunOptions& options() const;
    int nodes() const;

    // Scripted traffic (options().traffic == Scripted): a packet of `flits` flits from `src` to `dst`
    // created at cycle `create` (it waits in the source queue behind earlier packets of `src`).
    void add_packet(int src, int dst, int flits, Cycle create);
    // The node at `node` never consumes flits: they stay in its ejection buffer, no credit returns.
    void block_ejection(int node);

    // Warm-up, measurement window and drain, as BookSim's latency mode; saturation is reported, not
    // thrown. `advance(h)` must process every cycle < h of every region.
    using Advance = std::function<void(Cycle horizon)>;
    NocResult run_experiment(const Advance& advance, const std::string& kernel_name);
    NocResult run_plain();              // run_experiment on the plain driver
    void advance_plain(Cycle horizon);  // processes every cycle < horizon
    // Scripted traffic on the plain driver: runs until every packet is delivered or `limit`; returns
    // the cycle reached.
    Cycle run_scripted(Cycle limit);

    // Driver interface.
    int region_count() const;
    Cycle quantum() const;  // <= the smallest region-to-region latency (asserted at construction)
    // Processes cycles [from, to) of region `r` (skipping cycles without work); returns the first
    // cycle >= to with work, or kNever. `from` must not precede the region's last processed cycle.
    Cycle run_region(int r, Cycle from, Cycle to);
    // Marks region `r` as sleeping until `until`; `waker` is told of earlier events.
    void sleep_region(int r, Cycle until, IRegionWaker* waker);
    Cycle horizon() const;        // every cycle below has been processed
    void set_horizon(Cycle h);    // drivers record progress

    // Statistics (level 3 arrays; node ids as BookSim numbers them).
    std::uint64_t flits_sent(int node, int port) const;  // through output `port` of the node's router
    std::uint64_t flits_injected(int node) const;        // from the node into its router
    std::uint64_t flits_ejected(int node) const;         // consumed by the node
    std::uint64_t flits_held(int node) const;            // arrived at a blocked node
    std::uint64_t packets_outstanding() const;           // created or scripted, not yet delivered
    const std::vector<PacketRecord>& packet_log() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

// Runs `sim` with one SystemC process (SC_METHOD) per region. SystemC elaborates once per process: the
// region processes are created on the first call and reused by later calls; a later run needing more
// regions than were created throws PlanError. Defined in noc_systemc.cpp (the only file that includes
// SystemC).
NocResult run_with_systemc(NocSim& sim);

}  // namespace wafersim::fabric::noc
