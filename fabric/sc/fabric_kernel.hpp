// The SystemC fabric kernel: one process per region of cores, messages as packets of wavelets moving
// router to router with cut-through timing and per-link contention, timed actions at cores.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fabric/wafer_spec.hpp"

namespace wafersim::fabric::sc {

using Cycle = std::uint64_t;
constexpr Cycle kNever = ~Cycle(0);

// Directions of a router's mesh ports.
enum Dir : std::uint8_t { East = 0, West = 1, South = 2, North = 3 };

// A message: a packet of `wavelets` wavelets from core `src` to core `dst` (global core ids), routed
// X first then Y (dimension order). A `multicast` message is delivered at every router on its path
// (a line multicast: routers forward and copy to their core). `wafer_hop` marks a message whose
// destination is on another wafer: it goes to the east border of its wafer, crosses the wafer-to-wafer
// link, and continues from the west border of the next wafer.
struct Message {
    std::uint64_t src = 0, dst = 0;
    std::uint32_t wavelets = 1;
    std::uint16_t color = 0;
    bool multicast = false;
    std::uint32_t owner = 0;  // receiver id (add_receiver)
    std::uint64_t tag = 0;    // owner's data, returned in callbacks
};

// Contract: callbacks run inside the SystemC process of the region of `core`, at simulated time `head`
// (on_head) or `t` (on_action); they may call send()/at() with times >= the current time.
class IReceiver {
public:
    virtual ~IReceiver() = default;
    // The message's head reached the router of `core` (at `row`, `col` of its wafer) at `head`; its
    // tail arrives at `tail`.
    virtual void on_head(const Message& m, std::uint64_t core, std::int64_t row, std::int64_t col, Cycle head,
                         Cycle tail) = 0;
    virtual void on_action(std::uint64_t tag, std::uint64_t core, Cycle t) = 0;
};

struct KernelConfig {
    int wafers = 1;
    int region_side = 64;     // cores per region side
    Cycle quantum = 1;        // temporal decoupling window; <= smallest inter-region latency
    Cycle max_cycles = 0;     // 0 = unbounded; otherwise each run() stops this many cycles after it starts
    double max_wall_s = 0;    // 0 = unbounded; otherwise each run() stops after this much wall-clock time
};

// Per-core and per-link statistics, struct-of-arrays, indexed by global core id (wafer-major,
// row-major) and link id = core * 4 + Dir.
struct FabricStats {
    std::vector<std::uint64_t> core_busy;     // cycles a core computed or relayed
    std::vector<std::uint32_t> link_wavelets; // wavelets that crossed each link
    std::vector<std::uint16_t> link_peak_queue;  // most wavelets waiting for a link at once (estimate)
};

class FabricKernel {
public:
    // SystemC elaborates once per process: the kernel is a singleton whose region processes are
    // created on first configure() and reused by later runs of the same or a smaller fabric.
    static FabricKernel& instance();

    // Prepares state for `cfg.wafers` wafers of `wafer`'s mesh. Throws PlanError if the region
    // processes already created cannot cover it (run in a new process) or the quantum is too large.
    void configure(const WaferSpec& wafer, const KernelConfig& cfg);
    // Bytes configure() would allocate (for the memory check before allocating).
    static double estimate_bytes(const WaferSpec& wafer, const KernelConfig& cfg);

    std::uint32_t add_receiver(IReceiver* r);
    void clear_receivers();

    // Head leaves the router of m.src at `t` (>= now).
    void send(const Message& m, Cycle t);
    // Calls receiver `owner`'s on_action(tag, core, t) at time t in core's region.
    void at(std::uint64_t core, Cycle t, std::uint32_t owner, std::uint64_t tag);

    // Runs until no events remain (or max_cycles). Returns the time of the last event processed.
    Cycle run();
    Cycle now() const;
    bool stopped_by_bound() const { return m_bound_hit; }
    bool stopped_by_wall() const { return m_wall_hit; }
    std::uint64_t events_processed() const { return m_events; }
    std::uint64_t messages_sent() const { return m_messages; }

    // Geometry helpers.
    std::int64_t cols() const { return m_cols; }
    std::int64_t rows() const { return m_rows; }
    std::uint64_t core_id(int wafer, std::int64_t row, std::int64_t col) const {
        return (static_cast<std::uint64_t>(wafer) * static_cast<std::uint64_t>(m_rows) + static_cast<std::uint64_t>(row)) *
                   static_cast<std::uint64_t>(m_cols) + static_cast<std::uint64_t>(col);
    }
    int wafer_of(std::uint64_t core) const { return static_cast<int>(core / m_cores_per_wafer); }
    std::int64_t row_of(std::uint64_t core) const { return static_cast<std::int64_t>((core % m_cores_per_wafer) / static_cast<std::uint64_t>(m_cols)); }
    std::int64_t col_of(std::uint64_t core) const { return static_cast<std::int64_t>(core % static_cast<std::uint64_t>(m_cols)); }

    FabricStats& stats() { return m_stats; }
    const FabricStats& stats() const { return m_stats; }
    void add_busy(std::uint64_t core, Cycle c) { m_stats.core_busy[core] += c; }
    // Links whose last reservation ends after `t` (for the watchdog's report).
    std::vector<std::uint64_t> links_busy_after(Cycle t, std::size_t max_links) const;

    // Internal: called by region processes.
    struct Event;
    void handle(const Event& e);
    std::uint32_t region_of(int wafer, std::int64_t row, std::int64_t col) const {
        const std::int64_t rr = m_shift >= 0 ? row >> m_shift : row / m_side;
        const std::int64_t rc = m_shift >= 0 ? col >> m_shift : col / m_side;
        return static_cast<std::uint32_t>((static_cast<std::int64_t>(wafer) * m_region_rows + rr) * m_region_cols + rc);
    }

private:
    FabricKernel() = default;
    void route(const Event& e);
    void push(std::uint32_t region, const Event& e);

    struct Impl;
    std::shared_ptr<Impl> m_impl;
    std::int64_t m_rows = 0, m_cols = 0;
    std::uint64_t m_cores_per_wafer = 0;
    int m_wafers = 0;
    int m_side = 64;
    std::int64_t m_region_rows = 0, m_region_cols = 0;
    KernelConfig m_cfg;
    const WaferSpec* m_wafer = nullptr;
    FabricStats m_stats;
    int m_shift = -1;  // log2(region side) when it is a power of two
    std::vector<Cycle> m_link_free;
    std::vector<std::uint16_t> m_link_color;  // color of each link's last reservation
    std::vector<Cycle> m_w2w_free;  // per wafer: the link to the next wafer
    std::vector<IReceiver*> m_receivers;
    bool m_bound_hit = false;
    bool m_wall_hit = false;
    std::uint64_t m_events = 0, m_messages = 0;
};

}  // namespace wafersim::fabric::sc
