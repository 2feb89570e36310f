// Zero-contention latency of collectives and compute: closed forms against an independent cycle-by-cycle
// walk of the same schedule, reported as % deviation against a tolerance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/engines/analytic_model.hpp"
#include "tests/test_support.hpp"

using namespace wafersim;
using mapping::AllReduceAlgo;
using mapping::CollectiveKind;

namespace {

// Wavelet-by-wavelet walk of a software chain over n cores spaced `spacing` hops apart. Core 0 sends
// its vector one wavelet per cycle from t = 0. Core i forwards wavelet j (combined with its own) when
// it has arrived (hop latency per hop) and been processed (per-wavelet cost), not before its previous
// wavelet left (one wavelet per cycle per link); the first wavelet also pays the relay start-up cost.
double walk_chain(int n, int m, int spacing, double hop, double relay, double per_wavelet) {
    if (n <= 1) return 0;
    std::vector<double> leave(static_cast<std::size_t>(m));
    for (int j = 0; j < m; ++j) leave[static_cast<std::size_t>(j)] = j;
    for (int i = 1; i < n; ++i) {
        std::vector<double> next(static_cast<std::size_t>(m));
        for (int j = 0; j < m; ++j) {
            const double arrive = leave[static_cast<std::size_t>(j)] + spacing * hop;
            double t = arrive + per_wavelet + (j == 0 ? relay : 0.0);
            if (j > 0) t = std::max(t, next[static_cast<std::size_t>(j - 1)] + std::max(1.0, per_wavelet));
            next[static_cast<std::size_t>(j)] = t;
        }
        leave.swap(next);
    }
    return leave.back();
}

double pct(double model, double ref) { return 100.0 * (model - ref) / ref; }

}  // namespace

TEST(CollectiveTheory, ChainMatchesCycleWalk) {
    auto w = test::load_wafer_preset("wse3");
    for (int n : {2, 4, 16, 420}) {
        for (int m : {1, 4, 40}) {
            const double ref = walk_chain(n, m, 1, w.hop_latency_cycles, w.relay_latency_cycles, w.relay_per_wavelet_cycles);
            const double model = engines::chain_cycles(n, m, 1, w);
            EXPECT_LE(std::fabs(pct(model, ref)), 1.0) << "n=" << n << " m=" << m << " model " << model << " walk " << ref;
        }
    }
}

TEST(CollectiveTheory, MulticastIsHopsPlusSerialisation) {
    auto w = test::load_wafer_preset("wse3");
    // A router multicast: the first wavelet crosses n-1 hops, the rest follow one per cycle.
    for (int n : {2, 64, 755})
        for (int m : {1, 10}) {
            const double ref = (n - 1) * w.hop_latency_cycles + m;
            EXPECT_DOUBLE_EQ(engines::multicast_cycles(n, m, w), ref);
        }
}

TEST(CollectiveTheory, AllReduceAlgorithmsCompose) {
    auto w = test::load_wafer_preset("wse2");
    const double n = 420, bytes = 40;  // 10 wavelets
    const double m = engines::wavelets(bytes, w);
    EXPECT_EQ(m, 10);
    const double pipe = engines::collective_cycles(CollectiveKind::AllReduce, AllReduceAlgo::Pipeline, n, bytes, w);
    EXPECT_NEAR(pipe, engines::chain_cycles(n, m, 1, w) + engines::multicast_cycles(n, m, w), 1e-9);
    const double g = std::round(std::sqrt(n)), k = std::ceil(n / g);
    const double tree = engines::collective_cycles(CollectiveKind::AllReduce, AllReduceAlgo::Tree, n, bytes, w);
    EXPECT_NEAR(tree, engines::chain_cycles(g, m, 1, w) + engines::chain_cycles(k, m, g, w) + engines::multicast_cycles(n, m, w), 1e-9);
    const double ring = engines::collective_cycles(CollectiveKind::AllReduce, AllReduceAlgo::Ring, n, bytes, w);
    // On a long line with short vectors the two-level tree beats the chain, which beats the ring.
    EXPECT_LT(tree, pipe);
    EXPECT_LT(pipe, ring);
    // A reduce is an all-reduce without the multicast back.
    const double red = engines::collective_cycles(CollectiveKind::Reduce, AllReduceAlgo::Pipeline, n, bytes, w);
    EXPECT_NEAR(pipe - red, engines::multicast_cycles(n, m, w), 1e-9);
    // One core: nothing to do.
    EXPECT_EQ(engines::collective_cycles(CollectiveKind::AllReduce, AllReduceAlgo::Tree, 1, bytes, w), 0);
}

TEST(CollectiveTheory, RingWinsForLongVectorsOnShortLines) {
    auto w = test::load_wafer_preset("wse3");
    const double n = 8, bytes = 64 * 1024;
    const double ring = engines::collective_cycles(CollectiveKind::AllReduce, AllReduceAlgo::Ring, n, bytes, w);
    const double pipe = engines::collective_cycles(CollectiveKind::AllReduce, AllReduceAlgo::Pipeline, n, bytes, w);
    EXPECT_LT(ring, pipe);
}

TEST(ComputeTheory, ComputeBoundTimeIsMacsOverRate) {
    auto w = test::load_wafer_preset("wse3");
    // WSE-3: SIMD-8 but two 64-bit read ports feed 4 fp16 MACs per cycle; 73% achieved (hardware.md §1).
    EXPECT_DOUBLE_EQ(w.peak_macs_per_cycle(16), 4.0);
    const double macs = 1.0e6;
    const double ref = macs / (4.0 * 0.73);
    const double model = engines::compute_cycles(macs, 0, 16, w);
    EXPECT_LE(std::fabs(pct(model, ref)), 0.01);
    auto w2 = test::load_wafer_preset("wse2");
    EXPECT_DOUBLE_EQ(w2.peak_macs_per_cycle(16), 4.0);
}

TEST(ComputeTheory, LayerCriticalPathFollowsDependencies) {
    auto w = test::load_wafer_preset("wse3");
    w.task_overhead_cycles = 0;  // the hand count below is of MAC cycles only
    mapping::LayerProgram p;
    p.name = "test";
    mapping::Step a;
    a.kind = mapping::StepKind::Compute;
    a.macs_per_core = 2920;  // 1000 cycles
    mapping::Step b = a;     // independent of a: runs in parallel
    mapping::Step c = a;
    c.deps = {0, 1};         // waits for both
    p.steps = {a, b, c};
    auto t = engines::layer_time(p, 0, w);
    EXPECT_NEAR(t.total() * w.clock_hz, 2000.0, 1e-6);
}
