// The SystemC fabric kernel on a small 8x8 mesh, cycle-exact: zero-load head and tail times over one
// link, a straight line and a turn; FIFO reservation of a shared link; disjoint paths; line multicast;
// timed actions; the wafer-to-wafer crossing; the max_cycles bound; the quantum check.
//
// SystemC elaborates once per process and ctest runs every case in its own process
// (gtest_discover_tests), so each TEST configures the kernel itself. Simulated time keeps running
// across runs in one process: every case schedules relative to k.now(). The two-wafer case comes first
// so that running the whole binary in one process (regions only reused, never added) also works.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "fabric/sc/fabric_kernel.hpp"
#include "sim/base/errors.hpp"
#include "sim/base/yaml_tree.hpp"
#include "tests/test_support.hpp"

namespace wafersim::fabric::sc {
namespace {

// 8x8 mesh, all usable; hop 2 cycles, turn 20 cycles, 32-bit links; 1 GHz and an 8 GB/s, 1 us
// wafer-to-wafer link, so the crossing costs exactly 8 bytes per cycle and 1000 cycles of latency.
const char* kWaferYaml = R"(name: test8x8
description: "8x8 test mesh"
mesh:
  cols: 8
  rows: 8
usable:
  col0: 0
  row0: 0
  cols: 8
  rows: 8
clock: 1GHz
core:
  sram: 48KiB
  fmac:
    fp16: 8
link:
  width: 32bit
  hop_latency: 2cycles
  turn_latency: 20cycles
relay:
  latency: 16cycles
  per_wavelet: 1cycles
wafer_link:
  bandwidth: 8GB/s
  latency: 1us
)";

constexpr Cycle kHop = 2, kTurn = 20;

const WaferSpec& wafer() {
    static const WaferSpec w = load_wafer(parse_yaml_flat(kWaferYaml, "test.yaml"), "test.yaml");
    return w;
}

FabricKernel& kernel(int wafers = 1, Cycle max_cycles = 0) {
    KernelConfig cfg;
    cfg.wafers = wafers;
    cfg.region_side = 4;
    cfg.quantum = 1;
    cfg.max_cycles = max_cycles;
    FabricKernel& k = FabricKernel::instance();
    k.configure(wafer(), cfg);
    return k;
}

struct Head {
    std::uint64_t tag = 0, core = 0;
    std::int64_t row = 0, col = 0;
    Cycle head = 0, tail = 0, now = 0;
};
struct Fired {
    std::uint64_t tag = 0, core = 0;
    Cycle t = 0, now = 0;
    std::size_t heads_seen = 0;  // on_head calls before this action (probe for "not yet delivered")
};

// Records every callback with the kernel time at which it ran.
class Recorder : public IReceiver {
public:
    explicit Recorder(FabricKernel& k) : m_k(k) { id = k.add_receiver(this); }
    void on_head(const Message& m, std::uint64_t core, std::int64_t row, std::int64_t col, Cycle head, Cycle tail) override {
        heads.push_back({m.tag, core, row, col, head, tail, m_k.now()});
    }
    void on_action(std::uint64_t tag, std::uint64_t core, Cycle t) override {
        actions.push_back({tag, core, t, m_k.now(), heads.size()});
    }
    const Head* find(std::uint64_t tag) const {
        for (const auto& h : heads)
            if (h.tag == tag) return &h;
        return nullptr;
    }
    std::uint32_t id = 0;
    std::vector<Head> heads;
    std::vector<Fired> actions;

private:
    FabricKernel& m_k;
};

Message msg(FabricKernel& k, std::uint32_t owner, std::int64_t r0, std::int64_t c0, std::int64_t r1, std::int64_t c1,
            std::uint32_t wavelets, std::uint64_t tag, int w0 = 0, int w1 = 0, std::uint16_t color = 0) {
    Message m;
    m.color = color;
    m.src = k.core_id(w0, r0, c0);
    m.dst = k.core_id(w1, r1, c1);
    m.wavelets = wavelets;
    m.owner = owner;
    m.tag = tag;
    return m;
}

constexpr std::uint64_t kProbe = 1000;

// ---- wafer-to-wafer crossing (two wafers: the largest fabric of this file, so it comes first) ----

TEST(FabricKernel, WaferCrossingGoesViaEastBorderAndWaferLink) {
    FabricKernel& k = kernel(2);
    Recorder rec(k);
    const Cycle t0 = k.now() + 10;
    const std::uint32_t m = 40;  // 160 bytes
    // (3,2) on wafer 0 -> (3,5) on wafer 1: 5 hops east to the border (3,7), the crossing, then 5 hops
    // east from the west border (3,0); same row, so no turn.
    k.send(msg(k, rec.id, 3, 2, 3, 5, m, 1, 0, 1), t0);
    k.run();
    ASSERT_EQ(rec.heads.size(), 1u);
    const Head& h = rec.heads[0];
    EXPECT_EQ(h.core, k.core_id(1, 3, 5));
    EXPECT_EQ(k.wafer_of(h.core), 1);
    const double bytes = m * wafer().link_bytes_per_cycle();
    const Cycle serial = static_cast<Cycle>(std::ceil(bytes / (wafer().wafer_link_bandwidth / wafer().clock_hz)));
    const Cycle latency = static_cast<Cycle>(std::ceil(wafer().wafer_link_latency_s * wafer().clock_hz));
    EXPECT_EQ(serial, 20u);     // 160 B at 8 B/cycle
    EXPECT_EQ(latency, 1000u);  // 1 us at 1 GHz
    const Cycle expect = t0 + 5 * kHop + serial + latency + 5 * kHop;
    EXPECT_EQ(h.head, expect) << "head " << h.head - t0 << " cycles after send, expected " << expect - t0;
    EXPECT_EQ(h.tail, expect + m - 1);
    // The wafer-0 part used the east links of row 3 from column 2 to 6; wafer 1 from column 0 to 4.
    const auto& lw = k.stats().link_wavelets;
    for (std::int64_t c = 2; c < 7; ++c) EXPECT_EQ(lw[k.core_id(0, 3, c) * 4 + East], m) << "wafer 0 col " << c;
    for (std::int64_t c = 0; c < 5; ++c) EXPECT_EQ(lw[k.core_id(1, 3, c) * 4 + East], m) << "wafer 1 col " << c;
}

// ---- one link ----

TEST(FabricKernel, OneLinkHeadAfterHopTailAfterSerialisation) {
    FabricKernel& k = kernel();
    Recorder rec(k);
    const Cycle t0 = k.now() + 10;
    const std::vector<std::uint32_t> sizes = {1, 4, 40};
    // Three messages on three separate rows, so they do not share links.
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        const std::int64_t row = static_cast<std::int64_t>(2 * i);
        k.send(msg(k, rec.id, row, 0, row, 1, sizes[i], i), t0);
        // Probes at the destination one cycle before and at the expected head time.
        k.at(k.core_id(0, row, 1), t0 + kHop - 1, rec.id, kProbe + 10 * i);
    }
    k.run();
    ASSERT_EQ(rec.heads.size(), sizes.size());
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        const Head* h = rec.find(i);
        ASSERT_NE(h, nullptr);
        EXPECT_EQ(h->head, t0 + kHop) << "m=" << sizes[i];
        EXPECT_EQ(h->now, t0 + kHop) << "callback runs at the head time, m=" << sizes[i];
        EXPECT_EQ(h->tail, t0 + kHop + sizes[i] - 1) << "m=" << sizes[i];
        EXPECT_EQ(k.stats().link_wavelets[k.core_id(0, h->row, 0) * 4 + East], sizes[i]);
    }
    // At head - 1 none of the messages had arrived.
    ASSERT_EQ(rec.actions.size(), sizes.size());
    for (const auto& a : rec.actions) {
        EXPECT_EQ(a.now, t0 + kHop - 1);
        EXPECT_EQ(a.heads_seen, 0u) << "a head was delivered before t0 + hop";
    }
}

// ---- a straight line ----

TEST(FabricKernel, StraightLineHeadAfterKHops) {
    FabricKernel& k = kernel();
    Recorder rec(k);
    const Cycle t0 = k.now() + 10;
    // East along row 1 (k = 1..7), south along column 6 (k = 1..7): no turn in either.
    for (std::int64_t hops = 1; hops <= 7; ++hops) {
        k.send(msg(k, rec.id, 1, 0, 1, hops, 4, static_cast<std::uint64_t>(hops)), t0 + 100 * static_cast<Cycle>(hops));
        k.send(msg(k, rec.id, 0, 6, hops, 6, 4, 100 + static_cast<std::uint64_t>(hops)), t0 + 100 * static_cast<Cycle>(hops));
    }
    k.run();
    ASSERT_EQ(rec.heads.size(), 14u);
    for (std::int64_t hops = 1; hops <= 7; ++hops) {
        const Cycle sent = t0 + 100 * static_cast<Cycle>(hops);
        const Head* x = rec.find(static_cast<std::uint64_t>(hops));
        const Head* y = rec.find(100 + static_cast<std::uint64_t>(hops));
        ASSERT_TRUE(x && y);
        EXPECT_EQ(x->head, sent + static_cast<Cycle>(hops) * kHop) << "east, " << hops << " hops";
        EXPECT_EQ(y->head, sent + static_cast<Cycle>(hops) * kHop) << "south, " << hops << " hops";
        EXPECT_EQ(x->core, k.core_id(0, 1, hops));
        EXPECT_EQ(y->core, k.core_id(0, hops, 6));
    }
}

// ---- a turn ----

TEST(FabricKernel, XThenYTurnCostsTurnLatencyOnce) {
    FabricKernel& k = kernel();
    Recorder rec(k);
    const Cycle t0 = k.now() + 10;
    const std::uint32_t m = 4;
    k.send(msg(k, rec.id, 0, 0, 2, 3, m, 1), t0);
    k.at(k.core_id(0, 2, 3), t0 + 5 * kHop + kTurn - 1, rec.id, kProbe);
    k.run();
    ASSERT_EQ(rec.heads.size(), 1u);
    EXPECT_EQ(rec.heads[0].head, t0 + 5 * kHop + kTurn);
    EXPECT_EQ(rec.heads[0].tail, t0 + 5 * kHop + kTurn + m - 1);
    ASSERT_EQ(rec.actions.size(), 1u);
    EXPECT_EQ(rec.actions[0].heads_seen, 0u) << "delivered before t0 + 5 hops + turn";
    // Dimension order: X first (row 0, columns 0..2 east), then Y (column 3, rows 0..1 south).
    const auto& lw = k.stats().link_wavelets;
    for (std::int64_t c = 0; c < 3; ++c) EXPECT_EQ(lw[k.core_id(0, 0, c) * 4 + East], m);
    for (std::int64_t r = 0; r < 2; ++r) EXPECT_EQ(lw[k.core_id(0, r, 3) * 4 + South], m);
    EXPECT_EQ(lw[k.core_id(0, 0, 0) * 4 + South], 0u) << "Y before X";
}

// ---- contention on one link ----

TEST(FabricKernel, SharedLinkDelaysSecondMessageByItsLength) {
    for (std::uint32_t m : {1u, 4u, 40u}) {
        FabricKernel& k = kernel();
        Recorder rec(k);
        const Cycle t0 = k.now() + 10;
        // A: (0,0) -> (0,2), at router (0,1) at t0 + hop. B: (0,1) -> (0,3), leaves (0,1) at t0 + hop.
        // Both need link (0,1)->East at the same cycle.
        k.send(msg(k, rec.id, 0, 0, 0, 2, m, 1), t0);
        k.send(msg(k, rec.id, 0, 1, 0, 3, m, 2), t0 + kHop);
        k.run();
        ASSERT_EQ(rec.heads.size(), 2u);
        const Head* a = rec.find(1);
        const Head* b = rec.find(2);
        ASSERT_TRUE(a && b);
        const Cycle zero_a = t0 + 2 * kHop, zero_b = t0 + kHop + 2 * kHop;
        const Cycle da = a->head - zero_a, db = b->head - zero_b;
        // One goes first at zero-load time; the other waits exactly m cycles (FIFO reservation).
        EXPECT_EQ(std::min(da, db), 0u) << "m=" << m;
        EXPECT_EQ(std::max(da, db), m) << "m=" << m << ": delays " << da << " and " << db;
        const std::uint64_t link = k.core_id(0, 0, 1) * 4 + East;
        EXPECT_EQ(k.stats().link_wavelets[link], 2 * m);
        EXPECT_GT(k.stats().link_peak_queue[link], 0u);
        // The link the second message takes alone is not marked congested.
        EXPECT_EQ(k.stats().link_peak_queue[k.core_id(0, 0, 0) * 4 + East], 0u);
    }
}

TEST(FabricKernel, OtherColorInterleavesHeadButSharesBandwidth) {
    // A (color 1, 40 wavelets) holds link (0,1)->East from t0 + hop; B joins that link 5 cycles later.
    // Same color: B's head waits for A's tail (FIFO queue of one color). Other color: round-robin lets
    // B's head out the next cycle, but its last wavelet still leaves only after A's 40 and its own 40.
    for (std::uint16_t color_b : {std::uint16_t(1), std::uint16_t(2)}) {
        FabricKernel& k = kernel();
        Recorder rec(k);
        const Cycle t0 = k.now() + 10, m = 40;
        k.send(msg(k, rec.id, 0, 0, 0, 2, m, 1, 0, 0, 1), t0);
        k.send(msg(k, rec.id, 0, 1, 0, 3, m, 2, 0, 0, color_b), t0 + kHop + 5);
        k.run();
        const Head* a = rec.find(1);
        const Head* b = rec.find(2);
        ASSERT_TRUE(a && b);
        EXPECT_EQ(a->head, t0 + 2 * kHop);
        EXPECT_EQ(a->tail, t0 + 2 * kHop + m - 1);
        const Cycle b_start = color_b == 1 ? t0 + kHop + m : t0 + kHop + 5 + 1;
        EXPECT_EQ(b->head, b_start + 2 * kHop) << "color " << color_b;
        // Either way B's tail leaves (0,1) at t0 + hop + 2m - 1 and arrives two hops later.
        EXPECT_EQ(b->tail, t0 + kHop + 2 * m - 1 + 2 * kHop) << "color " << color_b;
    }
}

TEST(FabricKernel, StalledMessageBackPressuresItsColorUpstream) {
    // X (color 1) holds link (0,2)->East for 40 cycles from t0. A (color 1, 40 wavelets, from (0,0))
    // reaches (0,2) at t0 + 2 hops and waits for X's tail at t0 + 40; the input queue of color 1 at
    // (0,2) holds queue_depth (4) wavelets, so A keeps link (0,1)->East until its last wavelet fits:
    // A leaves (0,2) during [t0 + 40, t0 + 80), so (0,1)->East is A's until t0 + 80 - 4 - hop + 1.
    // C (color 1, from (0,1)) must wait for that; D (color 2) is not held back.
    FabricKernel& k = kernel();
    Recorder rec(k);
    const Cycle t0 = k.now() + 10, m = 40, q = 4;
    k.send(msg(k, rec.id, 0, 2, 0, 4, m, 9, 0, 0, 1), t0);
    k.send(msg(k, rec.id, 0, 0, 0, 3, m, 1, 0, 0, 1), t0);
    k.send(msg(k, rec.id, 0, 1, 0, 2, 1, 3, 0, 0, 1), t0 + 10);
    k.send(msg(k, rec.id, 0, 1, 0, 2, 1, 4, 0, 0, 2), t0 + 10);
    k.run();
    const Head* a = rec.find(1);
    const Head* c = rec.find(3);
    const Head* d = rec.find(4);
    ASSERT_TRUE(a && c && d);
    EXPECT_EQ(a->head, t0 + m + kHop) << "A leaves (0,2) when X's tail has";
    EXPECT_EQ(a->tail, t0 + 2 * m - 1 + kHop);
    EXPECT_EQ(c->head, t0 + 2 * m - q - kHop + 1 + kHop) << "C waits for A's back-pressured reservation";
    EXPECT_EQ(d->head, t0 + 10 + 1 + kHop) << "another color interleaves";
}

TEST(FabricKernel, DisjointPathsKeepZeroLoadTimes) {
    FabricKernel& k = kernel();
    Recorder rec(k);
    const Cycle t0 = k.now() + 10;
    const std::uint32_t m = 40;
    // Same cycle, same length, parallel rows; and two opposite directions on one row (distinct links).
    k.send(msg(k, rec.id, 0, 0, 0, 7, m, 1), t0);
    k.send(msg(k, rec.id, 1, 0, 1, 7, m, 2), t0);
    k.send(msg(k, rec.id, 2, 0, 2, 7, m, 3), t0);
    k.send(msg(k, rec.id, 2, 7, 2, 0, m, 4), t0);
    k.run();
    ASSERT_EQ(rec.heads.size(), 4u);
    for (std::uint64_t tag = 1; tag <= 4; ++tag) {
        const Head* h = rec.find(tag);
        ASSERT_NE(h, nullptr);
        EXPECT_EQ(h->head, t0 + 7 * kHop) << "message " << tag;
    }
    for (auto q : k.stats().link_peak_queue) EXPECT_EQ(q, 0u);
}

// ---- multicast ----

TEST(FabricKernel, RowMulticastDeliversAtEveryRouterAfterSource) {
    FabricKernel& k = kernel();
    Recorder rec(k);
    const Cycle t0 = k.now() + 10;
    const std::uint32_t m = 10;
    Message mc = msg(k, rec.id, 5, 1, 5, 7, m, 9);
    mc.multicast = true;
    k.send(mc, t0);
    k.run();
    ASSERT_EQ(rec.heads.size(), 6u) << "one delivery per router from (5,2) to (5,7), none at the source";
    for (const auto& h : rec.heads) {
        EXPECT_EQ(h.row, 5);
        const Cycle d = static_cast<Cycle>(h.col - 1);
        EXPECT_GE(d, 1u);
        EXPECT_EQ(h.head, t0 + d * kHop) << "distance " << d;
        EXPECT_EQ(h.now, h.head);
        EXPECT_EQ(h.tail, h.head + m - 1);
    }
    // Each link of the line carries the message once.
    for (std::int64_t c = 1; c < 7; ++c) EXPECT_EQ(k.stats().link_wavelets[k.core_id(0, 5, c) * 4 + East], m);
}

// ---- timed actions ----

TEST(FabricKernel, TimedActionFiresAtItsCycle) {
    FabricKernel& k = kernel();
    Recorder rec(k);
    const Cycle t0 = k.now() + 10;
    // Several cores, several regions, out of order; one beyond the calendar window (1024 cycles).
    const std::vector<std::pair<std::int64_t, Cycle>> plan = {{63, 7}, {0, 3}, {27, 3}, {36, 5000}, {9, 1}};
    for (std::size_t i = 0; i < plan.size(); ++i)
        k.at(static_cast<std::uint64_t>(plan[i].first), t0 + plan[i].second, rec.id, 50 + i);
    const Cycle end = k.run();
    ASSERT_EQ(rec.actions.size(), plan.size());
    for (const auto& a : rec.actions) {
        const auto& p = plan[a.tag - 50];
        EXPECT_EQ(a.core, static_cast<std::uint64_t>(p.first));
        EXPECT_EQ(a.t, t0 + p.second);
        EXPECT_EQ(a.now, t0 + p.second) << "action on core " << p.first;
    }
    for (std::size_t i = 1; i < rec.actions.size(); ++i) EXPECT_LE(rec.actions[i - 1].now, rec.actions[i].now);
    EXPECT_EQ(end, t0 + 5000) << "run() returns the time of the last event";
    EXPECT_FALSE(k.stopped_by_bound());
}

// ---- bound ----

TEST(FabricKernel, MaxCyclesStopsRun) {
    // Fresh process: now() = 0, so the bound at 100 is 100 cycles after the start either way.
    FabricKernel& k = kernel(1, 100);
    Recorder rec(k);
    const Cycle t0 = k.now();
    k.at(0, t0 + 50, rec.id, 1);
    k.at(0, t0 + 1000, rec.id, 2);
    k.send(msg(k, rec.id, 0, 0, 7, 7, 4, 3), t0 + 95);  // head would arrive at 95 + 14 hops + turn
    k.run();
    EXPECT_TRUE(k.stopped_by_bound());
    ASSERT_EQ(rec.actions.size(), 1u) << "the action before the bound runs, the one after does not";
    EXPECT_EQ(rec.actions[0].tag, 1u);
    EXPECT_TRUE(rec.heads.empty());
    EXPECT_LE(k.now(), t0 + 100);
}

TEST(FabricKernel, BoundNotReachedLeavesTimeAtLastEvent) {
    // A bounded run whose events all finish early is not flagged, ends at its last event, and a second
    // bounded run in the same process simulates normally.
    FabricKernel& k = kernel(1, 100);
    Recorder rec(k);
    const Cycle t0 = k.now();
    k.at(0, t0 + 10, rec.id, 1);
    const Cycle end = k.run();
    EXPECT_FALSE(k.stopped_by_bound());
    ASSERT_EQ(rec.actions.size(), 1u);
    EXPECT_EQ(end, t0 + 10) << "run() should return the time of the last event processed, not the bound";
    EXPECT_EQ(k.now(), t0 + 10);

    FabricKernel& k2 = kernel(1, 100);
    Recorder rec2(k2);
    const Cycle t1 = k2.now();
    k2.at(0, t1 + 10, rec2.id, 2);
    k2.run();
    EXPECT_FALSE(k2.stopped_by_bound()) << "second bounded run stopped at once (time was left at " << t1 << ")";
    EXPECT_EQ(rec2.actions.size(), 1u);
}

// ---- one small collective on a 4x4 mesh ----

// A chain reduce along row 0 of a 4x4 mesh: core 0 sends its m-wavelet vector east; each core adds
// what arrives to its own and forwards it one cycle after each wavelet arrives (pipelined, as the
// Cerebras chain does); the reduction is complete when the tail reaches core 3.
class ChainReduce : public IReceiver {
public:
    ChainReduce(FabricKernel& k, std::uint32_t m, std::uint16_t color) : m_k(k), m_m(m), m_color(color) {
        id = k.add_receiver(this);
    }
    void start(Cycle t) { m_k.send(link_msg(0), t); }
    void on_head(const Message&, std::uint64_t, std::int64_t, std::int64_t col, Cycle head, Cycle tail) override {
        if (col < 3) m_k.send(link_msg(col), head + 1);
        else done = tail;
    }
    void on_action(std::uint64_t, std::uint64_t, Cycle) override {}
    std::uint32_t id = 0;
    Cycle done = kNever;

private:
    Message link_msg(std::int64_t col) const {
        Message m;
        m.src = m_k.core_id(0, 0, col);
        m.dst = m_k.core_id(0, 0, col + 1);
        m.wavelets = m_m;
        m.color = m_color;
        m.owner = id;
        return m;
    }
    FabricKernel& m_k;
    std::uint32_t m_m;
    std::uint16_t m_color;
};

FabricKernel& kernel4x4() {
    static const WaferSpec w = [] {
        std::string y = kWaferYaml;
        for (const char* key : {"  cols: 8", "  rows: 8", "  cols: 8", "  rows: 8"}) {
            const auto at = y.find(key);
            y.replace(at, std::string(key).size(), std::string(key).replace(std::string(key).size() - 1, 1, "4"));
        }
        return load_wafer(parse_yaml_flat(y, "test4x4.yaml"), "test4x4.yaml");
    }();
    KernelConfig cfg;
    cfg.region_side = 4;
    FabricKernel& k = FabricKernel::instance();
    k.configure(w, cfg);
    return k;
}

TEST(FabricKernel, ChainReduceOnFourByFourMeshExactCycles) {
    FabricKernel& k = kernel4x4();
    ASSERT_EQ(k.cols(), 4);
    ASSERT_EQ(k.rows(), 4);
    const std::uint32_t m = 16;
    ChainReduce a(k, m, 1);
    const Cycle t0 = k.now() + 10;
    a.start(t0);
    k.run();
    // Three hops, one cycle of add-and-forward at cores 1 and 2, then m - 1 cycles of serialisation.
    EXPECT_EQ(a.done, t0 + 3 * kHop + 2 + (m - 1));
    EXPECT_EQ(k.stats().link_wavelets[k.core_id(0, 0, 2) * 4 + East], m);
}

TEST(FabricKernel, TwoCollectivesSharingLinksFinishLaterThanOne) {
    // The same chain reduce twice at once on the same row (two collectives sharing every link): the
    // second finishes exactly m cycles after the first, whether both use one color (FIFO) or two
    // (interleaved heads, shared bandwidth); the first is not delayed.
    for (std::uint16_t color_b : {std::uint16_t(1), std::uint16_t(2)}) {
        FabricKernel& k = kernel4x4();
        const std::uint32_t m = 16;
        ChainReduce a(k, m, 1), b(k, m, color_b);
        const Cycle t0 = k.now() + 10;
        a.start(t0);
        b.start(t0);
        k.run();
        const Cycle alone = t0 + 3 * kHop + 2 + (m - 1);
        EXPECT_EQ(a.done, alone) << "color " << color_b;
        EXPECT_EQ(b.done, alone + m) << "color " << color_b;
        EXPECT_EQ(k.stats().link_wavelets[k.core_id(0, 0, 1) * 4 + East], 2 * m);
    }
}

// ---- quantum ----

TEST(FabricKernel, QuantumAboveHopLatencyIsRejected) {
    KernelConfig cfg;
    cfg.region_side = 4;
    cfg.quantum = kHop + 1;
    try {
        FabricKernel::instance().configure(wafer(), cfg);
        FAIL() << "quantum of " << cfg.quantum << " cycles accepted with a " << kHop << "-cycle hop";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("systemc.quantum"), std::string::npos) << e.what();
    }
    // Equal to the hop latency is allowed.
    cfg.quantum = kHop;
    EXPECT_NO_THROW(FabricKernel::instance().configure(wafer(), cfg));
}

}  // namespace
}  // namespace wafersim::fabric::sc
