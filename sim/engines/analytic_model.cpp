// Closed-form, contention-free costs of computation and communication on a 2D mesh of cores.
#include "sim/engines/analytic_model.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace wafersim::engines {

using mapping::AllReduceAlgo;
using mapping::CollectiveKind;
using mapping::Step;
using mapping::StepKind;

double wavelets(double bytes, const fabric::WaferSpec& w) {
    return std::max(1.0, std::ceil(bytes / w.link_bytes_per_cycle()));
}

double chain_cycles(double n, double m, double spacing, const fabric::WaferSpec& w) {
    if (n <= 1) return 0;
    const double per_wavelet = std::max(1.0, w.relay_per_wavelet_cycles);
    return (n - 1) * (spacing * w.hop_latency_cycles + w.relay_latency_cycles + w.relay_per_wavelet_cycles) +
           (m - 1) * per_wavelet;
}

double multicast_cycles(double n, double m, const fabric::WaferSpec& w) {
    if (n <= 1) return 0;
    return (n - 1) * w.hop_latency_cycles + m;
}

double ktree_cycles(CollectiveKind kind, double n_cores, double m, const fabric::WaferSpec& w) {
    const mapping::KTreeShape kt(static_cast<std::int64_t>(std::llround(n_cores)));
    const std::int64_t n = kt.n, G = kt.groups;
    if (n <= 1) return 0;
    const double hop = w.hop_latency_cycles;
    const double rc = w.relay_latency_cycles + w.relay_per_wavelet_cycles;  // relay of one forwarded message
    const double tail = (m - 1) * std::max(1.0, w.relay_per_wavelet_cycles);
    // Level 1: in each group, the two halves chain toward the root at the same time; the root is done
    // when the longer half has arrived (it combines the two streams as they come in).
    std::vector<double> t1(static_cast<std::size_t>(G));
    for (std::int64_t g = 0; g < G; ++g) {
        const std::int64_t links = std::max(kt.root(g) - kt.lo(g), kt.hi(g) - 1 - kt.root(g));
        t1[static_cast<std::size_t>(g)] = links > 0 ? static_cast<double>(links) * (hop + rc) + tail : 0.0;
    }
    const std::int64_t hl = kt.left_root_group(), hr = kt.right_root_group();
    const std::int64_t rl = kt.root(hl), rr = kt.root(hr);
    double fl = t1[0], fr = t1[0];
    if (G > 1) {
        // Level 2: the left roots chain east toward group hl's root, the right roots west toward hr's.
        double s = t1[0];
        for (std::int64_t g = 1; g <= hl; ++g)
            s = std::max(t1[static_cast<std::size_t>(g)], s + static_cast<double>(kt.root(g) - kt.root(g - 1)) * hop + rc);
        const double cl = hl > 0 ? s + tail : t1[0];
        s = t1[static_cast<std::size_t>(G - 1)];
        for (std::int64_t g = G - 2; g >= hr; --g)
            s = std::max(t1[static_cast<std::size_t>(g)], s + static_cast<double>(kt.root(g + 1) - kt.root(g)) * hop + rc);
        const double cr = hr < G - 1 ? s + tail : t1[static_cast<std::size_t>(G - 1)];
        // The two roots exchange their partial sums (one message each way, rr - rl hops).
        const double x = static_cast<double>(rr - rl) * hop + rc;
        fl = std::max(cl, cr + x) + tail;
        fr = std::max(cr, cl + x) + tail;
    }
    if (kind != CollectiveKind::AllReduce) return std::max(fl, fr);
    // Multicasts back: left root west to position 0; right root east to n-1 and west to rl+1.
    double done = std::max(fl, fr);
    if (rl > 0) done = std::max(done, fl + multicast_cycles(static_cast<double>(rl + 1), m, w));
    if (rr < n - 1) done = std::max(done, fr + multicast_cycles(static_cast<double>(n - rr), m, w));
    if (rr - rl > 1) done = std::max(done, fr + multicast_cycles(static_cast<double>(rr - rl), m, w));
    return done;
}

double collective_cycles(CollectiveKind kind, AllReduceAlgo algo, double n, double bytes, const fabric::WaferSpec& w) {
    if (n <= 1) return 0;
    const double m = wavelets(bytes, w);
    switch (kind) {
        case CollectiveKind::Broadcast:
            return multicast_cycles(n, m, w);
        case CollectiveKind::Shift:
            return w.hop_latency_cycles + m;
        case CollectiveKind::Panel:
            return multicast_cycles(n, m, w);
        case CollectiveKind::Reduce:
        case CollectiveKind::AllReduce: {
            const double bcast = kind == CollectiveKind::AllReduce ? multicast_cycles(n, m, w) : 0.0;
            switch (algo) {
                case AllReduceAlgo::Pipeline:
                    return chain_cycles(n, m, 1, w) + bcast;
                case AllReduceAlgo::Tree: {
                    // Two levels: chains inside groups of g cores, then a chain over the K group leaders
                    // spaced g hops apart; the root multicasts the result back.
                    const double g = std::max(1.0, std::round(std::sqrt(n)));
                    const double k = std::ceil(n / g);
                    return chain_cycles(g, m, 1, w) + chain_cycles(k, m, g, w) + bcast;
                }
                case AllReduceAlgo::KTree:
                    return ktree_cycles(kind, n, m, w);
                case AllReduceAlgo::Ring: {
                    // Reduce-scatter then all-gather on a folded ring (neighbours 2 hops apart), n-1 steps
                    // each, chunks of m/n wavelets. A plain reduce is the reduce-scatter plus a gather.
                    const double chunk = std::ceil(m / n);
                    const double step = 2 * w.hop_latency_cycles + w.relay_latency_cycles +
                                        std::max(1.0, w.relay_per_wavelet_cycles) * chunk;
                    return 2 * (n - 1) * step;
                }
            }
        }
    }
    return 0;
}

double compute_cycles(double macs, double elementwise, double weight_bits, const fabric::WaferSpec& w) {
    double c = 0;
    if (macs > 0) c += macs / w.achieved_macs_per_cycle(weight_bits);
    if (elementwise > 0) c += elementwise / w.achieved_macs_per_cycle(16);
    return c;
}

StepCost step_cost(const Step& s, const fabric::WaferSpec& w) {
    StepCost c;
    switch (s.kind) {
        case StepKind::Compute:
            c.compute = compute_cycles(s.macs_per_core, s.elementwise_per_core, s.weight_bits, w);
            c.overhead = (s.macs_per_core > 0 || s.elementwise_per_core > 0) ? w.task_overhead_cycles : 0;
            break;
        case StepKind::Collective: {
            const double reps = static_cast<double>(std::max<std::int64_t>(1, s.repeats));
            if (s.collective == CollectiveKind::Shift || s.collective == CollectiveKind::Panel) {
                // Each repeat: compute on the tiles in hand while the next tiles arrive (double
                // buffering), then a software step to switch buffers. Shift: one message of
                // `shift_hops` hops (`serial_messages` of them share the busiest link). Panel (SUMMA):
                // a multicast along the line and one down the column, at the same time.
                const double comm =
                    s.collective == CollectiveKind::Shift
                        ? s.shift_hops * w.hop_latency_cycles + s.serial_messages * wavelets(s.bytes_per_core, w)
                        : std::max(multicast_cycles(static_cast<double>(s.group_cores), wavelets(s.bytes_per_core, w), w),
                                   multicast_cycles(static_cast<double>(s.groups), wavelets(s.bytes2_per_core, w), w));
                const double comp = compute_cycles(s.macs_per_core, s.elementwise_per_core, s.weight_bits, w);
                const double per = std::max(comm, comp);
                c.compute = reps * comp;
                c.collective = reps * (per - comp);
                c.overhead = reps * (w.relay_latency_cycles + w.task_overhead_cycles);
            } else {
                c.collective = reps * collective_cycles(s.collective, s.algo, static_cast<double>(s.group_cores),
                                                        s.bytes_per_core, w);
            }
            break;
        }
        case StepKind::Handoff: {
            const double lanes = static_cast<double>(std::max<std::int64_t>(1, s.lanes));
            const double serial = wavelets(s.bytes / lanes, w);
            if (s.crosses_wafer) {
                c.transfer = static_cast<double>(s.edge_hops) * w.hop_latency_cycles + serial +
                             w.clock_hz * (w.wafer_link_latency_s + s.bytes / w.wafer_link_bandwidth);
            } else {
                c.transfer = static_cast<double>(s.hops) * w.hop_latency_cycles + (s.turns ? w.turn_latency_cycles : 0) + serial;
            }
            break;
        }
    }
    return c;
}

LayerTime layer_time(const mapping::LayerProgram& prog, int stage, const fabric::WaferSpec& w) {
    const std::size_t n = prog.steps.size();
    std::vector<double> finish(n, 0);
    std::vector<int> via(n, -1);
    std::vector<StepCost> cost(n);
    int last = -1;
    for (std::size_t i = 0; i < n; ++i) {
        const Step& s = prog.steps[i];
        double start = 0;
        for (int d : s.deps) {
            if (d >= 0 && static_cast<std::size_t>(d) < i && finish[static_cast<std::size_t>(d)] >= start) {
                start = finish[static_cast<std::size_t>(d)];
                via[i] = d;
            }
        }
        cost[i] = step_cost(s, w);
        finish[i] = start + cost[i].total();
        if (last < 0 || finish[i] >= finish[static_cast<std::size_t>(last)]) last = static_cast<int>(i);
    }
    LayerTime t;
    t.name = prog.name;
    t.stage = stage;
    const double cyc = w.cycle_s();
    for (int i = last; i >= 0; i = via[static_cast<std::size_t>(i)]) {
        const StepCost& c = cost[static_cast<std::size_t>(i)];
        t.compute_s += c.compute * cyc;
        t.collective_s += c.collective * cyc;
        t.transfer_s += c.transfer * cyc;
        t.overhead_s += c.overhead * cyc;
    }
    return t;
}

}  // namespace wafersim::engines
