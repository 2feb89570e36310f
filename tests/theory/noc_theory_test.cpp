// Network-mode theory checks, reported as % deviation against a tolerance: zero-load latency is the
// pipeline cost times hops for random pairs; low-load latency and hop counts match their closed forms
// for uniform traffic; saturation throughput stays under the bisection bound.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "fabric/noc/noc_sim.hpp"
#include "sim/base/yaml_tree.hpp"
#include "tests/test_support.hpp"

namespace wafersim::fabric::noc {
namespace {

NocRouterSpec load_spec(const std::string& name) {
    const std::string path = test::source_path("configs/noc/" + name + ".yaml");
    return load_noc_config(read_yaml_flat(path), path);
}

double pct(double got, double want) { return 100.0 * std::abs(got - want) / want; }

// Zero load: latency = injection + (hops + 1) routers + hops links + ejection + (flits - 1), i.e.
// 6 + 4 hops + (P - 1) for the BookSim configuration and 4 + 2 hops + (P - 1) for the WSE-style one.
TEST(NocTheory, ZeroLoadLatencyIsHopsTimesPerHopCost) {
    for (const char* cfg : {"booksim-iq", "wse-fabric"}) {
        const NocRouterSpec spec = load_spec(cfg);
        for (int k : {8, 16}) {
            NocRunOptions o;
            o.cols = o.rows = k;
            o.traffic = Traffic::Scripted;
            o.keep_packet_log = true;
            NocSim sim(spec, o);
            std::mt19937 rng(1234 + k);
            std::uniform_int_distribution<int> nd(0, k * k - 1);
            const int sizes[3] = {1, 2, 4};
            const int pairs = 300;
            const Cycle spacing = 400;  // > the longest zero-load latency: packets never meet
            for (int i = 0; i < pairs; ++i) sim.add_packet(nd(rng), nd(rng), sizes[i % 3], 10 + spacing * i);
            sim.run_scripted(20 + spacing * pairs);
            ASSERT_EQ(sim.packet_log().size(), static_cast<std::size_t>(pairs));
            double worst = 0;
            for (const auto& p : sim.packet_log()) {
                const int hops = std::abs(p.src % k - p.dst % k) + std::abs(p.src / k - p.dst / k);
                worst = std::max(worst, pct(static_cast<double>(p.latency()), spec.zero_load_latency(hops, p.flits)));
            }
            std::printf("zero-load %s %dx%d: %d pairs, per hop %d cycles, max deviation %.3f%%\n", cfg, k, k, pairs,
                        spec.hop_cycles(), worst);
            EXPECT_LE(worst, 0.0) << cfg << " " << k << "x" << k;  // exact
        }
    }
}

// Uniform traffic (self included) on a k x k mesh: mean Manhattan distance 2(k^2 - 1)/(3k); at 1% load
// the mean latency is the zero-load latency at that distance (within 1%), and BookSim's hop count is
// the distance + 1.
TEST(NocTheory, LowLoadUniformMatchesClosedForm) {
    const NocRouterSpec spec = load_spec("booksim-iq");
    for (int k : {4, 8, 12}) {
        NocRunOptions o;
        o.cols = o.rows = k;
        o.injection_rate = 0.01;
        o.warmup_cycles = 500;
        o.measure_cycles = 20000;
        NocSim sim(spec, o);
        const NocResult r = sim.run_plain();
        const double hops = 2.0 * (k * k - 1) / (3.0 * k);
        const double want = spec.zero_load_latency(0, 1) + spec.hop_cycles() * hops;
        std::printf("%dx%d uniform @0.01: latency %.3f vs %.3f (%.2f%%), hops %.3f vs %.3f (%.2f%%)\n", k, k,
                    r.avg_packet_latency, want, pct(r.avg_packet_latency, want), r.avg_hops, hops + 1,
                    pct(r.avg_hops, hops + 1));
        EXPECT_LE(pct(r.avg_packet_latency, want), 1.0);
        EXPECT_LE(pct(r.avg_hops, hops + 1), 1.0);
        EXPECT_LE(pct(r.accepted_throughput, 0.01), 3.0);
        EXPECT_FALSE(r.saturated);
    }
}

// Saturation: uniform traffic on a k x k mesh (k even) sends half of all traffic across the bisection,
// N R / 4 flits per cycle each way over k channels, so R <= 4/k flits/node/cycle. Offering 1.5x that, the
// run must report saturation and accept no more than the bound (1% statistical margin).
TEST(NocTheory, SaturationThroughputBelowBisectionBound) {
    const NocRouterSpec spec = load_spec("booksim-iq");
    for (int k : {6, 8, 10}) {
        const double bound = 4.0 / k;
        NocRunOptions o;
        o.cols = o.rows = k;
        o.injection_rate = std::min(1.0, 1.5 * bound);
        o.warmup_cycles = 2000;
        o.measure_cycles = 3000;
        NocSim sim(spec, o);
        const NocResult r = sim.run_plain();
        std::printf("%dx%d uniform offered %.3f: accepted %.4f, bisection bound 4/k = %.4f (%.1f%% of it)\n", k, k,
                    o.injection_rate, r.accepted_throughput, bound, 100 * r.accepted_throughput / bound);
        EXPECT_TRUE(r.saturated) << r.saturation_reason;
        EXPECT_LE(r.accepted_throughput, bound * 1.01);
        EXPECT_GE(r.accepted_throughput, bound * 0.5);
    }
}

// Below saturation the network accepts what is offered, for every pattern.
TEST(NocTheory, AcceptedEqualsOfferedBelowSaturation) {
    const NocRouterSpec spec = load_spec("booksim-iq");
    for (Traffic t : {Traffic::Uniform, Traffic::Transpose, Traffic::BitComplement, Traffic::Hotspot}) {
        NocRunOptions o;
        o.cols = o.rows = 8;
        o.traffic = t;
        o.injection_rate = 0.1;
        o.packet_flits = 2;
        o.hotspot_node = 27;
        o.hotspot_fraction = 0.05;
        o.warmup_cycles = 1000;
        o.measure_cycles = 5000;
        NocSim sim(spec, o);
        const NocResult r = sim.run_plain();
        std::printf("%s @0.1: accepted %.4f (%.2f%% off), latency %.2f\n", traffic_name(t), r.accepted_throughput,
                    pct(r.accepted_throughput, 0.1), r.avg_packet_latency);
        EXPECT_FALSE(r.saturated) << traffic_name(t) << ": " << r.saturation_reason;
        EXPECT_LE(pct(r.accepted_throughput, 0.1), 3.0) << traffic_name(t);
    }
}

}  // namespace
}  // namespace wafersim::fabric::noc
