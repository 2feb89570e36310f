// SystemC fabric kernel: regions of cores as event-driven processes (struct-of-arrays state, no
// process per core, no sc_signal on the data path); packets cross links with cut-through timing.
#include "fabric/sc/fabric_kernel.hpp"

#include <systemc>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <queue>

#include "sim/base/errors.hpp"

namespace wafersim::fabric::sc {

struct FabricKernel::Event {
    Cycle time = 0;
    std::uint64_t seq = 0;
    std::uint32_t kind = 0;  // 0 = head of message `id` at router `node`; 1 = action
    std::uint32_t id = 0;    // message slot or receiver
    std::uint64_t node = 0;
    std::uint64_t tag = 0;
    bool moving_x = false;
};

namespace {

struct Later {
    bool operator()(const FabricKernel::Event& a, const FabricKernel::Event& b) const {
        return a.time != b.time ? a.time > b.time : a.seq > b.seq;
    }
};

// One region of cores: a single event-driven SystemC process over its event heap.
class Region : public sc_core::sc_module {
public:
    SC_HAS_PROCESS(Region);
    Region(const sc_core::sc_module_name& name, FabricKernel* k) : sc_core::sc_module(name), m_kernel(k) {
        SC_METHOD(run);
        sensitive << m_wake;
        dont_initialize();
    }

    void push(const FabricKernel::Event& e, Cycle now) {
        m_heap.push(e);
        if (!m_running && e.time < m_next) {
            m_next = e.time;
            m_wake.notify(sc_core::sc_time(static_cast<double>(e.time - now), sc_core::SC_NS));
        }
    }

    void set_quantum(Cycle q) { m_quantum = q; }
    bool empty() const { return m_heap.empty(); }
    void clear() {
        m_heap = {};
        m_next = kNever;
        m_wake.cancel();
    }

private:
    void run() {
        const Cycle now = sc_core::sc_time_stamp().value();
        m_next = kNever;
        m_running = true;
        // Temporal decoupling: everything within the quantum is processed now (the quantum is at most
        // the smallest latency between regions, so nothing from elsewhere can arrive inside it).
        while (!m_heap.empty() && m_heap.top().time < now + m_quantum) {
            FabricKernel::Event e = m_heap.top();
            m_heap.pop();
            m_kernel->handle(e);
        }
        m_running = false;
        if (!m_heap.empty()) {
            m_next = m_heap.top().time;
            m_wake.notify(sc_core::sc_time(static_cast<double>(m_next - now), sc_core::SC_NS));
        }
    }

    FabricKernel* m_kernel;
    sc_core::sc_event m_wake;
    std::priority_queue<FabricKernel::Event, std::vector<FabricKernel::Event>, Later> m_heap;
    Cycle m_next = kNever;
    Cycle m_quantum = 1;
    bool m_running = false;
};

struct MsgState {
    Message m;
    bool live = false;
};

}  // namespace

struct FabricKernel::Impl {
    std::vector<std::unique_ptr<Region>> regions;
    std::vector<MsgState> msgs;
    std::vector<std::uint32_t> free_slots;
    std::uint64_t seq = 0;
};

FabricKernel& FabricKernel::instance() {
    static FabricKernel k;
    return k;
}

double FabricKernel::estimate_bytes(const WaferSpec& wafer, const KernelConfig& cfg) {
    const double cores = static_cast<double>(wafer.mesh_rows * wafer.mesh_cols) * cfg.wafers;
    const double side = std::max(1, cfg.region_side);
    const double regions = std::ceil(wafer.mesh_rows / side) * std::ceil(wafer.mesh_cols / side) * cfg.wafers;
    // links: free time (8) + wavelets (4) + peak queue (2), 4 per core; core busy (8); region ~2 KiB.
    return cores * (4.0 * (8 + 4 + 2) + 8) + regions * 2048.0;
}

void FabricKernel::configure(const WaferSpec& wafer, const KernelConfig& cfg) {
    if (cfg.quantum < 1) throw InternalError("fabric kernel: quantum must be at least 1 cycle");
    const Cycle min_latency = static_cast<Cycle>(std::max(1.0, wafer.hop_latency_cycles));
    if (cfg.quantum > min_latency)
        throw InputError("--set", 0, "systemc.quantum",
                         "quantum of " + std::to_string(cfg.quantum) + " cycles exceeds the smallest latency between regions (" +
                             std::to_string(min_latency) + " cycles per hop); messages could arrive in a region's past");
    if (!m_impl) {
        // No banner on stdout (it would corrupt --json output); time unit: one cycle = 1 ns of SystemC
        // time (integer cycles everywhere).
        ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
        sc_core::sc_set_time_resolution(1, sc_core::SC_NS);
        m_impl = std::make_shared<Impl>();
    }
    m_wafer = &wafer;
    m_cfg = cfg;
    m_rows = wafer.mesh_rows;
    m_cols = wafer.mesh_cols;
    m_wafers = cfg.wafers;
    m_side = std::max(1, cfg.region_side);
    m_cores_per_wafer = static_cast<std::uint64_t>(m_rows * m_cols);
    m_region_rows = (m_rows + m_side - 1) / m_side;
    m_region_cols = (m_cols + m_side - 1) / m_side;
    const std::size_t needed = static_cast<std::size_t>(m_region_rows * m_region_cols * m_wafers);
    auto& regs = m_impl->regions;
    if (regs.size() < needed) {
        if (sc_core::sc_is_running() || sc_core::sc_time_stamp() > sc_core::SC_ZERO_TIME || !regs.empty())
            throw PlanError("the SystemC kernel was elaborated for " + std::to_string(regs.size()) +
                            " regions; this fabric needs " + std::to_string(needed) + " (run it in a new process)");
        regs.reserve(needed);
        for (std::size_t i = 0; i < needed; ++i)
            regs.push_back(std::make_unique<Region>(("region_" + std::to_string(i)).c_str(), this));
    }
    for (auto& r : regs) {
        r->clear();
        r->set_quantum(cfg.quantum);
    }
    const std::size_t cores = static_cast<std::size_t>(m_cores_per_wafer) * static_cast<std::size_t>(m_wafers);
    m_link_free.assign(cores * 4, 0);
    m_w2w_free.assign(static_cast<std::size_t>(m_wafers), 0);
    m_stats.core_busy.assign(cores, 0);
    m_stats.link_wavelets.assign(cores * 4, 0);
    m_stats.link_peak_queue.assign(cores * 4, 0);
    m_impl->msgs.clear();
    m_impl->free_slots.clear();
    m_receivers.clear();
    m_bound_hit = false;
    m_events = m_messages = 0;
}

std::uint32_t FabricKernel::add_receiver(IReceiver* r) {
    m_receivers.push_back(r);
    return static_cast<std::uint32_t>(m_receivers.size() - 1);
}

void FabricKernel::clear_receivers() { m_receivers.clear(); }

Cycle FabricKernel::now() const { return sc_core::sc_time_stamp().value(); }

std::uint32_t FabricKernel::region_of(std::uint64_t core) const {
    const std::uint64_t w = core / m_cores_per_wafer;
    const std::int64_t r = row_of(core) / m_side, c = col_of(core) / m_side;
    return static_cast<std::uint32_t>((static_cast<std::int64_t>(w) * m_region_rows + r) * m_region_cols + c);
}

void FabricKernel::push(std::uint32_t region, const Event& e) {
    Event ev = e;
    ev.seq = m_impl->seq++;
    m_impl->regions[region]->push(ev, now());
}

void FabricKernel::send(const Message& m, Cycle t) {
    std::uint32_t slot;
    if (!m_impl->free_slots.empty()) {
        slot = m_impl->free_slots.back();
        m_impl->free_slots.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(m_impl->msgs.size());
        m_impl->msgs.emplace_back();
    }
    m_impl->msgs[slot].m = m;
    m_impl->msgs[slot].live = true;
    ++m_messages;
    Event e;
    e.time = std::max(t, now());
    e.kind = 0;
    e.id = slot;
    e.node = m.src;
    e.moving_x = false;
    push(region_of(m.src), e);
}

void FabricKernel::at(std::uint64_t core, Cycle t, std::uint32_t owner, std::uint64_t tag) {
    Event e;
    e.time = std::max(t, now());
    e.kind = 1;
    e.id = owner;
    e.node = core;
    e.tag = tag;
    push(region_of(core), e);
}

void FabricKernel::handle(const Event& e) {
    ++m_events;
    if (e.kind == 1) {
        m_receivers[e.id]->on_action(e.tag, e.node, e.time);
        return;
    }
    route(e.id, e.node, e.time, e.moving_x);
}

void FabricKernel::route(std::uint32_t slot, std::uint64_t node, Cycle t, bool moving_x) {
    MsgState& st = m_impl->msgs[slot];
    const Message m = st.m;  // copy: callbacks may send and grow the pool
    const Cycle tail_delay = m.wavelets > 0 ? m.wavelets - 1 : 0;
    if (node == m.dst) {
        st.live = false;
        m_impl->free_slots.push_back(slot);
        m_receivers[m.owner]->on_head(m, node, t, t + tail_delay);
        return;
    }
    if (m.multicast && node != m.src) m_receivers[m.owner]->on_head(m, node, t, t + tail_delay);

    const int w = wafer_of(node), wd = wafer_of(m.dst);
    const std::int64_t r = row_of(node), c = col_of(node);
    std::int64_t tr = row_of(m.dst), tc = col_of(m.dst);
    const WaferSpec& ws = *m_wafer;
    if (w != wd) {
        // Head for the east border of this wafer, then cross to the next wafer.
        tr = r;
        tc = m_cols - 1;
        if (c == tc) {
            const double bytes = static_cast<double>(m.wavelets) * ws.link_bytes_per_cycle();
            const Cycle dur = static_cast<Cycle>(std::ceil(bytes / (ws.wafer_link_bandwidth / ws.clock_hz)));
            Cycle& free = m_w2w_free[static_cast<std::size_t>(w)];
            const Cycle start = std::max(t, free);
            free = start + dur;
            Event e;
            e.time = start + dur + static_cast<Cycle>(std::ceil(ws.wafer_link_latency_s * ws.clock_hz));
            e.kind = 0;
            e.id = slot;
            e.node = core_id(w + 1, r, 0);
            e.moving_x = false;
            push(region_of(e.node), e);
            return;
        }
    }
    Dir d;
    if (c != tc) d = tc > c ? East : West;
    else d = tr > r ? South : North;
    const bool dir_x = d == East || d == West;
    const Cycle turn = (moving_x && !dir_x) ? static_cast<Cycle>(ws.turn_latency_cycles) : 0;
    const std::uint64_t link = node * 4 + d;
    const Cycle ready = t + turn;
    const Cycle start = std::max(ready, m_link_free[link]);
    if (start > ready) {
        const Cycle waited = std::min<Cycle>(start - ready, m.wavelets);
        std::uint16_t& pk = m_stats.link_peak_queue[link];
        pk = static_cast<std::uint16_t>(std::min<Cycle>(65535, std::max<Cycle>(pk, waited)));
    }
    m_link_free[link] = start + m.wavelets;
    m_stats.link_wavelets[link] += m.wavelets;
    std::uint64_t next = node;
    switch (d) {
        case East: next = node + 1; break;
        case West: next = node - 1; break;
        case South: next = node + static_cast<std::uint64_t>(m_cols); break;
        case North: next = node - static_cast<std::uint64_t>(m_cols); break;
    }
    Event e;
    e.time = start + static_cast<Cycle>(ws.hop_latency_cycles);
    e.kind = 0;
    e.id = slot;
    e.node = next;
    e.moving_x = dir_x;
    push(region_of(next), e);
}

Cycle FabricKernel::run() {
    const Cycle before = now();
    auto pending = [&] {
        for (auto& r : m_impl->regions)
            if (!r->empty()) return true;
        return false;
    };
    if (!pending()) return before;
    if (m_cfg.max_cycles > 0) {
        // Bounded: stop at the bound and report it rather than run on (sc_stop would end the kernel
        // for good; a bounded sc_start keeps it usable).
        if (before < m_cfg.max_cycles)
            sc_core::sc_start(sc_core::sc_time(static_cast<double>(m_cfg.max_cycles - before), sc_core::SC_NS));
        if (pending()) m_bound_hit = true;
    } else {
        sc_core::sc_start();
    }
    return now();
}

std::vector<std::uint64_t> FabricKernel::links_busy_after(Cycle t, std::size_t max_links) const {
    std::vector<std::uint64_t> out;
    for (std::size_t i = 0; i < m_link_free.size() && out.size() < max_links; ++i)
        if (m_link_free[i] > t) out.push_back(i);
    return out;
}

}  // namespace wafersim::fabric::sc

// libsystemc's own main() (unused: wafersim has its own entry point and drives sc_start directly)
// refers to sc_main; define it so executables link.
int sc_main(int, char**) { return 0; }
