// SystemC fabric kernel: regions of cores as event-driven processes (struct-of-arrays state, no
// process per core, no sc_signal on the data path); packets cross links with cut-through timing.
#include "fabric/sc/fabric_kernel.hpp"

#include <systemc>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <queue>

#include "sim/base/errors.hpp"

namespace wafersim::fabric::sc {

struct FabricKernel::Event {
    Cycle time = 0;
    std::uint32_t slot = 0;  // message slot (kind 0) or action slot (kind 1)
    std::uint16_t row = 0, col = 0, wafer = 0;
    std::uint8_t kind = 0;   // 0 = head of a message at router (row, col); 1 = timed action
    std::uint8_t moving_x = 0;
};

namespace {

constexpr std::uint64_t kNoLink = ~std::uint64_t(0);

// Per-region calendar queue: buckets for the next kWindow cycles (events in a bucket keep their
// insertion order, which is deterministic), a bitmap to find the next non-empty bucket, and a heap for
// events further ahead.
class EventQueue {
public:
    static constexpr Cycle kWindow = 1024;
    using Event = FabricKernel::Event;

    EventQueue() : m_buckets(kWindow), m_bits(kWindow / 64, 0) {}

    void clear() {
        for (auto& b : m_buckets) b.clear();
        std::fill(m_bits.begin(), m_bits.end(), 0);
        m_far = {};
        m_size = 0;
    }
    bool empty() const { return m_size == 0; }

    // `now` is the region's current time; e.time >= now.
    void push(const Event& e, Cycle now) {
        ++m_size;
        if (e.time - now < kWindow) {
            const std::size_t b = static_cast<std::size_t>(e.time & (kWindow - 1));
            m_buckets[b].push_back(e);
            m_bits[b >> 6] |= (std::uint64_t(1) << (b & 63));
        } else {
            m_far.push(e);
        }
    }

    // Earliest event time (queue not empty). Buckets hold only times in [now, now + kWindow).
    Cycle next_time(Cycle now) {
        refill(now);
        Cycle best = kNever;
        const std::size_t start = static_cast<std::size_t>(now & (kWindow - 1));
        for (std::size_t k = 0; k < kWindow / 64 + 1 && best == kNever; ++k) {
            const std::size_t word = ((start >> 6) + k) % (kWindow / 64);
            std::uint64_t bits = m_bits[word];
            if (k == 0) bits &= ~std::uint64_t(0) << (start & 63);
            if (k == kWindow / 64) bits &= (start & 63) ? ((std::uint64_t(1) << (start & 63)) - 1) : 0;
            if (bits) {
                const std::size_t b = word * 64 + static_cast<std::size_t>(__builtin_ctzll(bits));
                best = now + ((b - start) & (kWindow - 1));
            }
        }
        if (best == kNever && !m_far.empty()) best = m_far.top().time;
        return best;
    }

    // Moves the bucket of time `t` out (events pushed for `t` meanwhile go to a fresh bucket).
    void take(Cycle t, std::vector<Event>& out) {
        refill(t);  // far events that are now within the window (possibly due at t)
        const std::size_t b = static_cast<std::size_t>(t & (kWindow - 1));
        out.clear();
        out.swap(m_buckets[b]);
        m_bits[b >> 6] &= ~(std::uint64_t(1) << (b & 63));
        m_size -= out.size();
    }

private:
    void refill(Cycle now) {
        while (!m_far.empty() && m_far.top().time - now < kWindow) {
            Event e = m_far.top();
            m_far.pop();
            --m_size;
            push(e, now);
        }
    }
    struct Later {
        bool operator()(const Event& a, const Event& b) const { return a.time > b.time; }
    };
    std::vector<std::vector<Event>> m_buckets;
    std::vector<std::uint64_t> m_bits;
    std::priority_queue<Event, std::vector<Event>, Later> m_far;
    std::size_t m_size = 0;
};

// One region of cores: a single event-driven SystemC process over its event queue.
class Region : public sc_core::sc_module {
public:
    SC_HAS_PROCESS(Region);
    Region(const sc_core::sc_module_name& name, FabricKernel* k) : sc_core::sc_module(name), m_kernel(k) {
        SC_METHOD(run);
        sensitive << m_wake;
        dont_initialize();
    }

    void push(const FabricKernel::Event& e, Cycle now) {
        m_queue.push(e, now);
        if (!m_running && e.time < m_next) {
            m_next = e.time;
            m_wake.notify(sc_core::sc_time(static_cast<double>(e.time - now), sc_core::SC_NS));
        }
    }

    void set_quantum(Cycle q) { m_quantum = q; }
    bool empty() const { return m_queue.empty(); }
    Cycle next_wake() const { return m_queue.empty() ? kNever : m_next; }
    void clear() {
        m_queue.clear();
        m_next = kNever;
        m_wake.cancel();
    }

private:
    void run() {
        const Cycle now = sc_core::sc_time_stamp().value();
        m_next = kNever;
        m_running = true;
        // Temporal decoupling: every cycle within the quantum is processed now (the quantum is at most
        // the smallest latency between regions, so nothing from elsewhere can arrive inside it).
        for (Cycle t = now; t < now + m_quantum && !m_queue.empty(); ++t) {
            // Events for `t` pushed while handling are picked up by the next take of the same bucket.
            while (true) {
                m_queue.take(t, m_batch);
                if (m_batch.empty()) break;
                for (const auto& e : m_batch) m_kernel->handle(e);
            }
        }
        m_running = false;
        if (!m_queue.empty()) {
            m_next = m_queue.next_time(now + m_quantum);
            m_wake.notify(sc_core::sc_time(static_cast<double>(m_next - now), sc_core::SC_NS));
        }
    }

    FabricKernel* m_kernel;
    sc_core::sc_event m_wake;
    EventQueue m_queue;
    std::vector<FabricKernel::Event> m_batch;
    Cycle m_next = kNever;
    Cycle m_quantum = 1;
    bool m_running = false;
};

struct MsgState {
    Message m;
    std::uint16_t dst_row = 0, dst_col = 0, dst_wafer = 0;
    // The link the message last crossed (kNoLink at the source and after a wafer crossing) and the end
    // of its reservation there (exclusive: the last wavelet left that router at end - 1).
    std::uint64_t prev_link = kNoLink;
    Cycle prev_end = 0;
};

struct Action {
    std::uint32_t owner = 0;
    std::uint64_t core = 0;
    std::uint64_t tag = 0;
};

}  // namespace

struct FabricKernel::Impl {
    std::vector<std::unique_ptr<Region>> regions;
    std::vector<MsgState> msgs;
    std::vector<std::uint32_t> free_slots;
    std::vector<Action> actions;
    std::vector<std::uint32_t> free_actions;
};

FabricKernel& FabricKernel::instance() {
    static FabricKernel k;
    return k;
}

double FabricKernel::estimate_bytes(const WaferSpec& wafer, const KernelConfig& cfg) {
    const double cores = static_cast<double>(wafer.mesh_rows * wafer.mesh_cols) * cfg.wafers;
    const double side = std::max(1, cfg.region_side);
    const double regions = std::ceil(wafer.mesh_rows / side) * std::ceil(wafer.mesh_cols / side) * cfg.wafers;
    // links: free time (8) + color (2) + wavelets (4) + peak queue (2), 4 per core; core busy (8);
    // region ~2 KiB.
    return cores * (4.0 * (8 + 2 + 4 + 2) + 8) + regions * 2048.0;
}

void FabricKernel::configure(const WaferSpec& wafer, const KernelConfig& cfg) {
    if (cfg.quantum < 1) throw InternalError("fabric kernel: quantum must be at least 1 cycle");
    // The kernel moves messages in whole cycles; a fractional latency would be truncated silently.
    for (const auto& [key, v] : {std::pair<const char*, double>{"link.hop_latency", wafer.hop_latency_cycles},
                                 {"link.turn_latency", wafer.turn_latency_cycles}})
        if (v != std::floor(v))
            throw InputError(wafer.source_file, 0, key,
                             "the SystemC engine simulates whole cycles; found " + std::to_string(v) +
                                 " cycles (round it, or use --engine analytic)");
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
    m_shift = -1;
    for (int b = 0; b < 30; ++b)
        if ((1 << b) == m_side) m_shift = b;
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
    m_link_color.assign(cores * 4, 0);
    m_w2w_free.assign(static_cast<std::size_t>(m_wafers), 0);
    m_stats.core_busy.assign(cores, 0);
    m_stats.link_wavelets.assign(cores * 4, 0);
    m_stats.link_peak_queue.assign(cores * 4, 0);
    m_impl->msgs.clear();
    m_impl->free_slots.clear();
    m_impl->actions.clear();
    m_impl->free_actions.clear();
    m_receivers.clear();
    m_bound_hit = m_wall_hit = false;
    m_events = m_messages = 0;
}

std::uint32_t FabricKernel::add_receiver(IReceiver* r) {
    m_receivers.push_back(r);
    return static_cast<std::uint32_t>(m_receivers.size() - 1);
}

void FabricKernel::clear_receivers() { m_receivers.clear(); }

Cycle FabricKernel::now() const { return sc_core::sc_time_stamp().value(); }

void FabricKernel::push(std::uint32_t region, const Event& e) {
    // A time this far out is an overflow in a caller, not a simulation: fail loudly.
    if (e.time > (Cycle(1) << 56)) throw InternalError("fabric kernel: event scheduled at cycle " + std::to_string(e.time));
    m_impl->regions[region]->push(e, now());
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
    MsgState& st = m_impl->msgs[slot];
    st.m = m;
    st.dst_row = static_cast<std::uint16_t>(row_of(m.dst));
    st.dst_col = static_cast<std::uint16_t>(col_of(m.dst));
    st.dst_wafer = static_cast<std::uint16_t>(wafer_of(m.dst));
    st.prev_link = kNoLink;
    st.prev_end = 0;
    ++m_messages;
    Event e;
    e.time = std::max(t, now());
    e.kind = 0;
    e.slot = slot;
    e.row = static_cast<std::uint16_t>(row_of(m.src));
    e.col = static_cast<std::uint16_t>(col_of(m.src));
    e.wafer = static_cast<std::uint16_t>(wafer_of(m.src));
    e.moving_x = 0;
    push(region_of(e.wafer, e.row, e.col), e);
}

void FabricKernel::at(std::uint64_t core, Cycle t, std::uint32_t owner, std::uint64_t tag) {
    std::uint32_t slot;
    if (!m_impl->free_actions.empty()) {
        slot = m_impl->free_actions.back();
        m_impl->free_actions.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(m_impl->actions.size());
        m_impl->actions.emplace_back();
    }
    m_impl->actions[slot] = Action{owner, core, tag};
    Event e;
    e.time = std::max(t, now());
    e.kind = 1;
    e.slot = slot;
    e.row = static_cast<std::uint16_t>(row_of(core));
    e.col = static_cast<std::uint16_t>(col_of(core));
    e.wafer = static_cast<std::uint16_t>(wafer_of(core));
    push(region_of(e.wafer, e.row, e.col), e);
}

void FabricKernel::handle(const Event& e) {
    ++m_events;
    if (e.kind == 1) {
        const Action a = m_impl->actions[e.slot];
        m_impl->free_actions.push_back(e.slot);
        m_receivers[a.owner]->on_action(a.tag, a.core, e.time);
        return;
    }
    route(e);
}

void FabricKernel::route(const Event& e) {
    MsgState& st = m_impl->msgs[e.slot];
    const Cycle t = e.time;
    const std::int64_t r = e.row, c = e.col;
    const int w = e.wafer;
    const std::uint64_t node = core_id(w, r, c);
    const std::uint32_t wavelets = st.m.wavelets;
    const Cycle tail_delay = wavelets > 0 ? wavelets - 1 : 0;
    const WaferSpec& ws = *m_wafer;
    const Cycle hop = static_cast<Cycle>(ws.hop_latency_cycles);
    // The last wavelet reaches this router no earlier than `wavelets - 1` cycles after the head, nor
    // before it left the previous router (end - 1) plus the hop (a stretched message, see below).
    const Cycle tail = std::max(t + tail_delay, st.prev_link == kNoLink ? Cycle(0) : st.prev_end - 1 + hop);
    if (node == st.m.dst) {
        const Message m = st.m;  // the slot is reused by sends from the callback
        m_impl->free_slots.push_back(e.slot);
        m_receivers[m.owner]->on_head(m, node, r, c, t, tail);
        return;
    }
    if (st.m.multicast && node != st.m.src) {
        const Message m = st.m;
        m_receivers[m.owner]->on_head(m, node, r, c, t, tail);
    }
    MsgState& ms = m_impl->msgs[e.slot];  // the pool may have grown during the callback
    std::int64_t tr = ms.dst_row, tc = ms.dst_col;
    if (w != ms.dst_wafer) {
        // Head for the east border of this wafer, then cross to the next wafer.
        tr = r;
        tc = m_cols - 1;
        if (c == tc) {
            const double bytes = static_cast<double>(wavelets) * ws.link_bytes_per_cycle();
            const Cycle dur = static_cast<Cycle>(std::ceil(bytes / (ws.wafer_link_bandwidth / ws.clock_hz)));
            Cycle& free = m_w2w_free[static_cast<std::size_t>(w)];
            const Cycle start = std::max(t, free);
            free = start + dur;
            // The wafer link stores the message and injects it whole on the next wafer (a fresh start).
            ms.prev_link = kNoLink;
            Event n;
            n.time = start + dur + static_cast<Cycle>(std::ceil(ws.wafer_link_latency_s * ws.clock_hz));
            n.kind = 0;
            n.slot = e.slot;
            n.row = static_cast<std::uint16_t>(r);
            n.col = 0;
            n.wafer = static_cast<std::uint16_t>(w + 1);
            n.moving_x = 0;
            push(region_of(n.wafer, n.row, n.col), n);
            return;
        }
    }
    Dir d;
    if (c != tc) d = tc > c ? East : West;
    else d = tr > r ? South : North;
    const bool dir_x = d == East || d == West;
    const Cycle turn = (e.moving_x && !dir_x) ? static_cast<Cycle>(ws.turn_latency_cycles) : 0;
    const std::uint64_t link = node * 4 + d;
    const Cycle ready = t + turn;
    Cycle& lf = m_link_free[link];
    std::uint16_t& lc = m_link_color[link];
    const std::uint16_t color = ms.m.color;
    // Output arbitration per color. The link is a sequence of reservations; `lf` is when the last one
    // ends and `lc` its color. Idle link: the head leaves when ready. Same color (one input queue per
    // color, FIFO): the head waits for the previous message's tail. Another color: round-robin
    // interleaving lets the head out on the next cycle, but the link's bandwidth is shared, so the
    // message's last wavelet leaves no earlier than if it had queued behind (lf + wavelets).
    Cycle start, end;
    if (lf <= ready) {
        start = ready;
        end = ready + wavelets;
    } else if (color == lc) {
        start = lf;
        end = lf + wavelets;
    } else {
        start = ready + 1;
        end = lf + wavelets;
    }
    // Cut-through: a wavelet leaves only after it arrived (a message stretched upstream stays stretched).
    if (ms.prev_link != kNoLink) end = std::max(end, ms.prev_end + hop);
    if (end > ready + wavelets) {
        const Cycle waited = std::min<Cycle>(end - ready - wavelets, wavelets);
        std::uint16_t& pk = m_stats.link_peak_queue[link];
        pk = static_cast<std::uint16_t>(std::min<Cycle>(65535, std::max<Cycle>(pk, waited)));
    }
    // Back-pressure: this color's input queue here holds queue_depth wavelets, so while the message
    // waits, the upstream link can run at most that far ahead of this one: its reservation (when it is
    // still this color's) lasts until the last wavelet fits into the queue.
    if (ms.prev_link != kNoLink && m_link_color[ms.prev_link] == color) {
        const Cycle q = static_cast<Cycle>(std::max<std::int64_t>(1, ws.queue_depth_wavelets));
        if (end > q + hop) {
            Cycle& up = m_link_free[ms.prev_link];
            up = std::max(up, end - q - hop + 1);
        }
    }
    lf = std::max(lf, end);
    lc = color;
    ms.prev_link = link;
    ms.prev_end = end;
    m_stats.link_wavelets[link] += wavelets;
    Event n;
    n.time = start + hop;
    n.kind = 0;
    n.slot = e.slot;
    n.wafer = static_cast<std::uint16_t>(w);
    n.row = static_cast<std::uint16_t>(r + (d == South ? 1 : d == North ? -1 : 0));
    n.col = static_cast<std::uint16_t>(c + (d == East ? 1 : d == West ? -1 : 0));
    n.moving_x = dir_x ? 1 : 0;
    push(region_of(n.wafer, n.row, n.col), n);
}

Cycle FabricKernel::run() {
    const Cycle before = now();
    auto pending = [&] {
        for (auto& r : m_impl->regions)
            if (!r->empty()) return true;
        return false;
    };
    if (!pending()) return before;
    if (m_cfg.max_cycles > 0 || m_cfg.max_wall_s > 0) {
        // Bounded: run in slices (time stays at the last event when the events end earlier) and stop
        // at the cycle or wall-clock bound; sc_stop would end the kernel for good, a bounded sc_start
        // keeps it usable.
        const auto wall0 = std::chrono::steady_clock::now();
        const Cycle slice = m_cfg.max_wall_s > 0 ? 4096 : (1 << 16);  // how often the wall clock is read
        while (pending()) {
            Cycle step = slice;
            if (m_cfg.max_cycles > 0) {
                const Cycle used = now() - before;
                if (used >= m_cfg.max_cycles) {
                    m_bound_hit = true;
                    break;
                }
                step = std::min(step, m_cfg.max_cycles - used);
            }
            Cycle next = kNever;
            for (auto& r : m_impl->regions) next = std::min(next, r->next_wake());
            // No event inside this slice: just move time on (exit-on-starvation would not advance it).
            const auto policy = next != kNever && next < now() + step ? sc_core::SC_EXIT_ON_STARVATION : sc_core::SC_RUN_TO_TIME;
            sc_core::sc_start(sc_core::sc_time(static_cast<double>(step), sc_core::SC_NS), policy);
            if (m_cfg.max_wall_s > 0 && pending() &&
                std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count() > m_cfg.max_wall_s) {
                m_bound_hit = m_wall_hit = true;
                break;
            }
        }
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

