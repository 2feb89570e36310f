// Closed-form costs of plan steps on a wafer: local compute, collectives on a line of cores, hand-offs.
// Shared by the analytic engine and by theory tests (zero-contention formulas).
#pragma once
#include "fabric/wafer_spec.hpp"
#include "sim/engines/result.hpp"
#include "sim/mapping/plan.hpp"

namespace wafersim::engines {

// Wavelets needed to carry `bytes` over one link (at least one).
double wavelets(double bytes, const fabric::WaferSpec& w);
// Software chain over n cores spaced `spacing` hops apart: each core receives, combines its own vector
// and forwards (relay cost), the vector streams behind the first wavelet.
double chain_cycles(double n, double m_wavelets, double spacing, const fabric::WaferSpec& w);
// Router multicast along a line of n cores (no software on the way).
double multicast_cycles(double n, double m_wavelets, const fabric::WaferSpec& w);
// Two-way K-tree all-reduce (or reduce) on a line of n cores (mapping::KTreeShape), m wavelets: the exact
// contention-free schedule of the messages the SystemC engine sends, computed group by group (O(sqrt n)).
// For n = k*G with G even (all groups full): chain(ceil((k-1)/2) + 1, m, 1) + chain(G/2, m, k)
// + chain(2, m, k) + mc(n - r, m), r = the root of group G/2 (G/2*k + floor((k-1)/2)).
double ktree_cycles(mapping::CollectiveKind kind, double n, double m_wavelets, const fabric::WaferSpec& w);
// One collective instance (all groups run in parallel on disjoint links) — cycles, zero contention.
double collective_cycles(mapping::CollectiveKind kind, mapping::AllReduceAlgo algo, double n, double bytes,
                         const fabric::WaferSpec& w);
double compute_cycles(double macs, double elementwise, double weight_bits, const fabric::WaferSpec& w);

// Cycles of one step split by cause.
struct StepCost {
    double compute = 0, collective = 0, transfer = 0, overhead = 0;
    double total() const { return compute + collective + transfer + overhead; }
};
StepCost step_cost(const mapping::Step& s, const fabric::WaferSpec& w);

// Critical path of a layer program (dataflow over deps), in seconds, split by cause.
LayerTime layer_time(const mapping::LayerProgram& prog, int stage, const fabric::WaferSpec& w);

}  // namespace wafersim::engines
