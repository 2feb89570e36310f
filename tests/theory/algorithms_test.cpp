// Closed forms of the selectable algorithms (mapping.allreduce=ktree, mapping.gemm, mapping.kv_layout)
// against cycle counts derived by hand on small lines and meshes. The analytic-vs-SystemC agreement of
// the same algorithms on contention-free cases is in tests/crosscheck/systemc_crosscheck_test.cpp (the
// SystemC kernel elaborates once per process, so it runs through the CLI there).
#include <gtest/gtest.h>

#include <cmath>

#include "sim/engines/analytic_model.hpp"
#include "tests/test_support.hpp"

using namespace wafersim;
using mapping::AllReduceAlgo;
using mapping::CollectiveKind;

namespace {

double allreduce(AllReduceAlgo a, double n, double bytes, const fabric::WaferSpec& w) {
    return engines::collective_cycles(CollectiveKind::AllReduce, a, n, bytes, w);
}

}  // namespace

// WSE-2 preset: hop 1, relay 16 + 1 per wavelet, so one link of a chain costs hop + relay + pw = 18 cycles.
TEST(KTreeTheory, HandDerivedCycleCounts) {
    auto w = test::load_wafer_preset("wse2");
    ASSERT_EQ(w.hop_latency_cycles, 1);
    ASSERT_EQ(w.relay_latency_cycles, 16);
    ASSERT_EQ(w.relay_per_wavelet_cycles, 1);
    // n = 16: k = round(sqrt(16)) = 4, 4 groups [0,4) [4,8) [8,12) [12,16), roots 1, 5, 9, 13.
    //  level 1: the east half of a group has 2 links: 2*18 = 36.
    //  level 2: root 1 -> root 5 (4 hops): 36 + 4 + 17 = 57; root 13 -> root 9 likewise 57.
    //  exchange 5 <-> 9 (4 hops): 57 + 4 + 17 = 78.
    //  multicasts: 5 -> 0 (5 hops), 9 -> 15 (6 hops), 9 -> 6 (3 hops): 78 + 6 + 1 = 85.
    EXPECT_DOUBLE_EQ(allreduce(AllReduceAlgo::KTree, 16, 4, w), 85);
    // m = 8 wavelets (32 B): every level ends with the tail of 7 cycles.
    //  level 1: 36 + 7 = 43; level 2: 43 + 21 = 64, + 7 = 71; exchange 71 + 21 + 7 = 99; cast 99 + 6 + 8 = 113.
    EXPECT_DOUBLE_EQ(allreduce(AllReduceAlgo::KTree, 16, 32, w), 113);
    // A reduce stops after the exchange.
    EXPECT_DOUBLE_EQ(engines::collective_cycles(CollectiveKind::Reduce, AllReduceAlgo::KTree, 16, 32, w), 99);
    // n = 10: k = 3, 4 balanced groups [0,3) [3,6) [6,8) [8,10), roots 1, 4, 6, 8; left roots end at 4,
    // right roots at 6.
    //  level 1: every group has at most one link on a side: 18.
    //  level 2: left 1 -> 4: 18 + 3 + 17 = 38; right 8 -> 6: 18 + 2 + 17 = 37.
    //  exchange 4 <-> 6 (2 hops, 19): left max(38, 37 + 19) = 56, right max(37, 38 + 19) = 57.
    //  multicasts: 4 -> 0: 56 + 4 + 1 = 61; 6 -> 9: 57 + 3 + 1 = 61; 6 -> 5: 57 + 1 + 1 = 59.
    EXPECT_DOUBLE_EQ(allreduce(AllReduceAlgo::KTree, 10, 4, w), 61);
    // n = 2 (two groups of one core): the exchange alone, one link of a chain.
    EXPECT_DOUBLE_EQ(allreduce(AllReduceAlgo::KTree, 2, 4, w), engines::chain_cycles(2, 1, 1, w));
    EXPECT_EQ(allreduce(AllReduceAlgo::KTree, 1, 4, w), 0);
}

TEST(KTreeTheory, FullGroupsFollowTheClosedForm) {
    // n = k*G with G even: chain(ceil((k-1)/2) + 1, m, 1) + chain(G/2, m, k) + chain(2, m, k) + mc(n - r, m).
    for (const char* preset : {"wse2", "wse3"}) {
        auto w = test::load_wafer_preset(preset);
        for (int k : {3, 4, 6, 20, 21}) {
            for (double bytes : {4.0, 32.0, 400.0}) {
                const int G = k;  // round(sqrt(k*k)) = k
                if (G % 2) continue;
                const double n = static_cast<double>(k) * G, m = engines::wavelets(bytes, w);
                const double r = (G / 2) * k + (k - 1) / 2;
                const double ref = engines::chain_cycles(std::ceil((k - 1) / 2.0) + 1, m, 1, w) +
                                   engines::chain_cycles(G / 2, m, k, w) + engines::chain_cycles(2, m, k, w) +
                                   engines::multicast_cycles(n - r, m, w);
                EXPECT_NEAR(allreduce(AllReduceAlgo::KTree, n, bytes, w), ref, 1e-9)
                    << preset << " k=" << k << " bytes=" << bytes;
            }
        }
    }
}

TEST(KTreeTheory, TwoWayTreeBeatsTheOneWayTreeOnLongLines) {
    // Decode all-reduces on WSE-2 lines of 420..660 cores carry a few dozen bytes: the two-way tree
    // halves every chain and the multicast, so it is faster than the one-way tree, which is faster
    // than the chain.
    auto w = test::load_wafer_preset("wse2");
    for (double n : {64.0, 420.0, 540.0, 660.0}) {
        for (double bytes : {4.0, 32.0, 64.0}) {
            const double kt = allreduce(AllReduceAlgo::KTree, n, bytes, w);
            const double tr = allreduce(AllReduceAlgo::Tree, n, bytes, w);
            const double pi = allreduce(AllReduceAlgo::Pipeline, n, bytes, w);
            EXPECT_LT(kt, tr) << "n=" << n << " bytes=" << bytes;
            EXPECT_LT(tr, pi) << "n=" << n << " bytes=" << bytes;
            // ... but not by more than the halving can give: at least 40% of the one-way tree.
            EXPECT_GT(kt, 0.4 * tr) << "n=" << n << " bytes=" << bytes;
        }
    }
}
