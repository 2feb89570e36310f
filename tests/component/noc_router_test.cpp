// One router and a few links of the synthetic-traffic network mode, cycle-exact: zero-load pipeline,
// serialisation of multi-flit packets, contention for one output, credit back-pressure; and the
// SystemC region driver against the plain driver.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "fabric/noc/noc_sim.hpp"
#include "sim/base/yaml_tree.hpp"
#include "tests/test_support.hpp"

namespace wafersim::fabric::noc {
namespace {

NocRouterSpec load_spec(const std::string& name, const std::vector<std::pair<std::string, std::string>>& sets = {}) {
    const std::string path = test::source_path("configs/noc/" + name + ".yaml");
    FlatConfig flat = read_yaml_flat(path);
    for (const auto& [k, v] : sets) set_flat(flat, k, v, "--set");
    return load_noc_config(flat, path);
}

NocRunOptions scripted(int k) {
    NocRunOptions o;
    o.cols = o.rows = k;
    o.traffic = Traffic::Scripted;
    o.keep_packet_log = true;
    return o;
}

int node(int k, int x, int y) { return x + k * y; }

// A single 1-flit packet over h hops takes exactly 6 + 4h cycles from creation to arrival: not delivered
// at cycle created + latency - 1, delivered at created + latency.
TEST(NocRouter, ZeroLoadOneFlitExactCycles) {
    const NocRouterSpec spec = load_spec("booksim-iq");
    struct Case {
        int sx, sy, dx, dy, hops;
    };
    for (const Case& c : {Case{2, 2, 2, 2, 0}, Case{2, 2, 3, 2, 1}, Case{2, 2, 4, 3, 3}, Case{5, 5, 3, 4, 3}}) {
        NocSim sim(spec, scripted(8));
        const Cycle created = 10;
        sim.add_packet(node(8, c.sx, c.sy), node(8, c.dx, c.dy), 1, created);
        const Cycle expect = 6 + 4 * static_cast<Cycle>(c.hops);
        sim.advance_plain(created + expect);  // cycles < created + expect
        EXPECT_EQ(sim.packets_outstanding(), 1u) << "hops " << c.hops << ": delivered before cycle " << created + expect;
        sim.advance_plain(created + expect + 1);
        ASSERT_EQ(sim.packets_outstanding(), 0u) << "hops " << c.hops << ": not delivered at cycle " << created + expect;
        ASSERT_EQ(sim.packet_log().size(), 1u);
        const PacketRecord& p = sim.packet_log()[0];
        EXPECT_EQ(p.latency(), expect) << "hops " << c.hops;
        EXPECT_EQ(p.injected, created);  // no source queueing at zero load
        EXPECT_EQ(static_cast<double>(expect), spec.zero_load_latency(c.hops, 1));
    }
}

// A P-flit packet adds exactly P - 1 cycles (one flit per cycle behind the head).
TEST(NocRouter, MultiFlitPacketAddsSerialisation) {
    const NocRouterSpec spec = load_spec("booksim-iq");
    for (int flits : {2, 4, 16}) {
        for (int hops : {0, 1, 3}) {
            NocSim sim(spec, scripted(8));
            sim.add_packet(node(8, 1, 1), node(8, 1 + (hops > 0 ? 1 : 0), 1 + (hops > 1 ? hops - 1 : 0)), flits, 3);
            sim.run_scripted(1000);
            ASSERT_EQ(sim.packet_log().size(), 1u);
            EXPECT_EQ(sim.packet_log()[0].latency(), static_cast<Cycle>(6 + 4 * hops + flits - 1))
                << flits << " flits, " << hops << " hops";
        }
    }
}

// Two 1-flit packets whose heads reach router (1,0) in the same cycle, both for its +x output. With two
// VCs both win VC allocation; switch allocation serialises them: one leaves a cycle later.
TEST(NocRouter, ContentionForOneOutputSerialisesByOneCycle) {
    const NocRouterSpec spec = load_spec("booksim-iq");
    NocSim sim(spec, scripted(8));
    // A: (0,0) -> (2,0), created at 0, buffered at (1,0) at cycle 6. B: (1,0) -> (2,0), created at 4,
    // buffered at (1,0) at cycle 6 (injection channel: 2 cycles).
    sim.add_packet(node(8, 0, 0), node(8, 2, 0), 1, 0);
    sim.add_packet(node(8, 1, 0), node(8, 2, 0), 1, 4);
    sim.run_scripted(500);
    ASSERT_EQ(sim.packet_log().size(), 2u);
    Cycle lat_a = 0, lat_b = 0;
    for (const auto& p : sim.packet_log()) (p.src == node(8, 0, 0) ? lat_a : lat_b) = p.latency();
    const Cycle free_a = 6 + 4 * 2, free_b = 6 + 4 * 1;
    EXPECT_EQ((lat_a - free_a) + (lat_b - free_b), 1u) << "A " << lat_a << " B " << lat_b;
    EXPECT_TRUE((lat_a == free_a && lat_b == free_b + 1) || (lat_a == free_a + 1 && lat_b == free_b));
}

// With one VC per port, the loser of the output VC waits for the winner's tail: the tail's switch
// grant releases the VC (wait_for_tail_credit = 0), the loser wins VC allocation the next cycle and the
// switch one cycle later: P + 1 cycles after its unobstructed time.
TEST(NocRouter, ContentionWithOneVcWaitsForTheTail) {
    const NocRouterSpec spec = load_spec("booksim-iq", {{"router.vcs", "1"}});
    for (int flits : {1, 4}) {
        NocSim sim(spec, scripted(8));
        sim.add_packet(node(8, 0, 0), node(8, 2, 0), flits, 0);
        sim.add_packet(node(8, 1, 0), node(8, 2, 0), flits, 4);
        sim.run_scripted(500);
        ASSERT_EQ(sim.packet_log().size(), 2u);
        Cycle lat_a = 0, lat_b = 0;
        for (const auto& p : sim.packet_log()) (p.src == node(8, 0, 0) ? lat_a : lat_b) = p.latency();
        const Cycle free_a = 6 + 8 + flits - 1, free_b = 6 + 4 + flits - 1;
        const Cycle extra = static_cast<Cycle>(flits) + 1;
        EXPECT_TRUE((lat_a == free_a && lat_b == free_b + extra) || (lat_a == free_a + extra && lat_b == free_b))
            << flits << " flits: A " << lat_a << " (free " << free_a << "), B " << lat_b << " (free " << free_b << ")";
    }
}

// Credit flow control: with 2-flit buffers and a destination that never consumes, exactly 2 flits
// enter the destination's ejection buffer, 2 more fill the router's input buffer, the link upstream
// carried 4, the source injected 6 (2 more wait in the first router) and everything then stops.
TEST(NocRouter, CreditsStopUpstreamAtBufferDepth) {
    const NocRouterSpec spec = load_spec("booksim-iq", {{"router.vcs", "1"}, {"router.vc_buffer", "2"}});
    NocSim sim(spec, scripted(4));
    const int src = node(4, 0, 0), dst = node(4, 1, 0);
    sim.block_ejection(dst);
    sim.add_packet(src, dst, 10, 0);
    sim.advance_plain(100);
    EXPECT_EQ(sim.flits_sent(dst, kLocalPort), 2u);  // router (1,0) -> its blocked node: vc_buffer flits
    EXPECT_EQ(sim.flits_held(dst), 2u);
    EXPECT_EQ(sim.flits_sent(src, 0), 4u);            // link (0,0) -> (1,0)
    EXPECT_EQ(sim.flits_injected(src), 6u);
    sim.advance_plain(1000);  // nothing moves any more
    EXPECT_EQ(sim.flits_sent(dst, kLocalPort), 2u);
    EXPECT_EQ(sim.flits_sent(src, 0), 4u);
    EXPECT_EQ(sim.flits_injected(src), 6u);
    EXPECT_EQ(sim.packets_outstanding(), 1u);
}

// The same with 8-flit buffers: the sink's buffer takes 8 flits.
TEST(NocRouter, CreditsFollowBufferDepth) {
    const NocRouterSpec spec = load_spec("booksim-iq", {{"router.vcs", "1"}});
    NocSim sim(spec, scripted(4));
    sim.block_ejection(node(4, 1, 0));
    sim.add_packet(node(4, 0, 0), node(4, 1, 0), 40, 0);
    sim.advance_plain(500);
    EXPECT_EQ(sim.flits_held(node(4, 1, 0)), 8u);
    EXPECT_EQ(sim.flits_sent(node(4, 0, 0), 0), 16u);
    EXPECT_EQ(sim.flits_injected(node(4, 0, 0)), 24u);
}

void expect_same_number(double a, double b, const char* what) {
    if (std::isnan(a) || std::isnan(b)) EXPECT_TRUE(std::isnan(a) && std::isnan(b)) << what;
    else EXPECT_EQ(a, b) << what;
}

void expect_same(const NocResult& a, const NocResult& b) {
    expect_same_number(a.avg_packet_latency, b.avg_packet_latency, "avg_packet_latency");
    expect_same_number(a.avg_network_latency, b.avg_network_latency, "avg_network_latency");
    EXPECT_EQ(a.accepted_throughput, b.accepted_throughput);
    EXPECT_EQ(a.injected_throughput, b.injected_throughput);
    EXPECT_EQ(a.packets_measured, b.packets_measured);
    EXPECT_EQ(a.sim_cycles, b.sim_cycles);
    EXPECT_EQ(a.saturated, b.saturated);
}

// Regions are a simulation device: any region size gives the same cycles (temporal decoupling with a
// quantum no larger than the region-to-region latency).
TEST(NocRegions, RegionSizeDoesNotChangeResults) {
    for (const char* cfg : {"booksim-iq", "wse-fabric"}) {
        const NocRouterSpec spec = load_spec(cfg);
        NocRunOptions o;
        o.cols = 12;
        o.rows = 10;
        o.injection_rate = 0.25;
        o.packet_flits = 3;
        o.warmup_cycles = 300;
        o.measure_cycles = 700;
        NocResult ref;
        for (int side : {12, 5, 3, 1}) {
            o.region_side = side;
            NocSim sim(spec, o);
            const NocResult r = sim.run_plain();
            if (side == 12) {
                ref = r;
            } else {
                expect_same(ref, r);
            }
            EXPECT_GT(r.packets_measured, 500u);
        }
    }
}

// The SystemC driver (one SC_METHOD per region, sleeping when idle) gives exactly the plain driver's
// results; its processes are reused by a second run in the same process.
TEST(NocSystemC, SameResultsAsPlainDriver) {
    struct Case {
        const char* cfg;
        int k, side;
        double rate;
        Traffic traffic;
    };
    for (const Case& c : {Case{"booksim-iq", 16, 4, 0.2, Traffic::Uniform}, Case{"wse-fabric", 12, 5, 0.15, Traffic::Transpose},
                          Case{"booksim-iq", 24, 8, 0.002, Traffic::Uniform}}) {
        const NocRouterSpec spec = load_spec(c.cfg);
        NocRunOptions o;
        o.cols = o.rows = c.k;
        o.region_side = c.side;
        o.injection_rate = c.rate;
        o.traffic = c.traffic;
        o.warmup_cycles = 200;
        o.measure_cycles = 600;
        NocSim plain(spec, o), sc(spec, o);
        const NocResult a = plain.run_plain();
        const NocResult b = run_with_systemc(sc);
        EXPECT_EQ(b.kernel, "systemc");
        expect_same(a, b);
        EXPECT_EQ(a.region_cycles_stepped + a.region_cycles_skipped, b.region_cycles_stepped + b.region_cycles_skipped);
        if (c.rate < 0.01) {
            EXPECT_GT(b.region_cycles_skipped, 0u) << "idle regions should sleep at low load";
        }
    }
}

#ifdef WAFERSIM_BINARY
bool noc_registered() {
    const auto r = test::run_cli("noc --help");
    return r.exit_code == 0 && r.out.find("--injection-rate") != std::string::npos;
}

TEST(NocCli, JsonHasTheDocumentedKeys) {
    if (!noc_registered()) GTEST_SKIP() << "`wafersim noc` is not registered in sim/run/cli.cpp yet";
    const auto r = test::run_cli("noc --mesh 4x4 --injection-rate 0.1 --warmup 100 --measure 300 --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const char* key : {"avg_packet_latency", "avg_network_latency", "accepted_throughput", "injected_throughput",
                            "avg_hops", "sim_cycles", "packets_measured", "saturated", "wall_s", "router_cycles_per_s",
                            "mesh", "traffic", "injection_rate", "packet_flits", "seed", "router"})
        EXPECT_NE(r.out.find(std::string("\"") + key + "\""), std::string::npos) << key;
}

TEST(NocCli, BadInputExitsTwoWithTheKey) {
    if (!noc_registered()) GTEST_SKIP() << "`wafersim noc` is not registered in sim/run/cli.cpp yet";
    struct Case {
        const char* args;
        const char* needle;
    };
    for (const Case& c : {Case{"--mesh 8by8", "--mesh"}, Case{"--traffic unifrom", "did you mean \"uniform\""},
                          Case{"--injection-rate 1.5", "--injection-rate"}, Case{"--packet-flits 0", "--packet-flits"},
                          Case{"--config nope", "unknown noc preset"}, Case{"--set router.vcz=2", "did you mean"},
                          Case{"--traffic hotspot --hotspot-node 99", "--hotspot-node"}}) {
        const auto r = test::run_cli(std::string("noc --warmup 10 --measure 10 ") + c.args);
        EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
        EXPECT_NE(r.err.find(c.needle), std::string::npos) << c.args << "\n" << r.err;
    }
}

TEST(NocCli, SaturatedRunStopsAndSaysSo) {
    if (!noc_registered()) GTEST_SKIP() << "`wafersim noc` is not registered in sim/run/cli.cpp yet";
    const auto r = test::run_cli("noc --mesh 8x8 --injection-rate 0.9 --warmup 500 --measure 1000 --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("\"saturated\": true"), std::string::npos) << r.out;
}
#endif

}  // namespace
}  // namespace wafersim::fabric::noc
