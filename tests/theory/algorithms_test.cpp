// Closed forms of the selectable algorithms (mapping.allreduce=ktree, mapping.gemm, mapping.kv_layout)
// against cycle counts derived by hand on small lines and meshes. The analytic-vs-SystemC agreement of
// the same algorithms on contention-free cases is in tests/crosscheck/systemc_crosscheck_test.cpp (the
// SystemC kernel elaborates once per process, so it runs through the CLI there).
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <string>

#include "sim/engines/analytic_model.hpp"
#include "sim/mapping/mapper.hpp"
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

// ---- prefill GEMM (mapping.gemm) ----

namespace {

mapping::Step tiled(CollectiveKind kind, double bytes, double macs, std::int64_t repeats) {
    mapping::Step s;
    s.kind = mapping::StepKind::Collective;
    s.collective = kind;
    s.along = mapping::Along::Row;
    s.bytes_per_core = bytes;
    s.macs_per_core = macs;
    s.repeats = repeats;
    return s;
}

}  // namespace

TEST(GemmTheory, StepCostsOfTheThreeAlgorithms) {
    auto w = test::load_wafer_preset("wse2");  // hop 1, relay 16, 4 B per wavelet, 2.92 MAC/cycle
    const double task = w.task_overhead_cycles;  // fitted; checked separately below
    w.task_overhead_cycles = 0;
    // MeshGEMM: 2-hop folded-ring shift of 40 B (10 wavelets), 8 repeats, no compute:
    //   per repeat 2 + 10 = 12 exposed cycles + 16 to switch buffers.
    auto mesh = tiled(CollectiveKind::Shift, 40, 0, 8);
    mesh.shift_hops = 2;
    auto c = engines::step_cost(mesh, w);
    EXPECT_DOUBLE_EQ(c.collective, 8 * 12);
    EXPECT_DOUBLE_EQ(c.overhead, 8 * 16);
    // The per-task overhead (core.task_overhead) is paid once per repeat, on top of the buffer switch.
    w.task_overhead_cycles = task;
    EXPECT_DOUBLE_EQ(engines::step_cost(mesh, w).overhead, 8 * (16 + task));
    EXPECT_DOUBLE_EQ(engines::step_cost(mesh, w).collective, 8 * 12);
    w.task_overhead_cycles = 0;
    // Cannon on a line of 8: every repeat waits for the wrap-around, 7 hops + 10 wavelets = 17.
    auto cannon = mesh;
    cannon.pattern = mapping::ShiftPattern::Torus;
    cannon.shift_hops = 7;
    EXPECT_DOUBLE_EQ(engines::step_cost(cannon, w).collective, 8 * 17);
    // Its skew: one shift of up to 7 hops with 4 tiles sharing the busiest link: 7 + 4 * 10 = 47.
    auto skew = tiled(CollectiveKind::Shift, 40, 0, 1);
    skew.pattern = mapping::ShiftPattern::Skew;
    skew.shift_hops = 7;
    skew.serial_messages = 4;
    EXPECT_DOUBLE_EQ(engines::step_cost(skew, w).collective, 47);
    // SUMMA on 4 x 8: 10 wavelets multicast along 8 cores (7 + 10 = 17) while 2 wavelets go down 4 (3 + 2).
    auto summa = tiled(CollectiveKind::Panel, 40, 0, 8);
    summa.group_cores = 8;
    summa.groups = 4;
    summa.bytes2_per_core = 8;
    EXPECT_DOUBLE_EQ(engines::step_cost(summa, w).collective, 8 * 17);
    // ... and when the column multicast is the longer one: 40 wavelets down 4 cores = 3 + 40.
    summa.bytes2_per_core = 160;
    EXPECT_DOUBLE_EQ(engines::step_cost(summa, w).collective, 8 * 43);
    // Compute hides communication: 292 MACs = 100 cycles per repeat > 43, nothing exposed.
    summa.macs_per_core = 292;
    c = engines::step_cost(summa, w);
    EXPECT_NEAR(c.compute, 8 * 100, 1e-9);
    EXPECT_NEAR(c.collective, 0, 1e-9);
}

TEST(GemmTheory, MeshGemmIsTheFastestPrefillOnAWideGrid) {
    // Llama-3-8B on WSE-2 at 480x480 (analytic): MeshGEMM's 2-hop shifts beat Cannon, whose every step
    // waits for the 479-hop wrap-around, and SUMMA, whose every panel is multicast across 480 cores.
    // Without the per-task overhead (the same for all three), so that the comparison is of their traffic.
    auto ttft = [](const std::string& gemm) {
        test::TempDir d;
        const auto r = test::run_cli("run --engine analytic --wafer wse2 --model llama-3-8b --gpu none --phase prefill --set mapping.grid=480x480 "
                                     "--set wafer.core.task_overhead=0cycles --set mapping.gemm=" + gemm + " --out " + test::quote(d.path + "/o") + " -q");
        EXPECT_EQ(r.exit_code, 0) << r.err;
        const std::string s = test::read_file(d.path + "/o/summary.json");
        const auto k = s.find("\"ttft_s\":");
        EXPECT_NE(k, std::string::npos);
        return k == std::string::npos ? 0.0 : std::stod(s.substr(k + 9));
    };
    const double mesh = ttft("meshgemm"), cannon = ttft("cannon"), summa = ttft("summa");
    std::cout << "[ measured ] TTFT 480x480: meshgemm " << mesh << " s, cannon " << cannon << " s, summa " << summa << " s\n";
    EXPECT_LT(mesh, cannon);
    EXPECT_LT(mesh, summa);
    // The wrap-around costs Cannon at least 479 cycles per step against MeshGEMM's 2 + m.
    EXPECT_GT(cannon, 1.5 * mesh);
}

// ---- KV-cache layouts (mapping.kv_layout) ----

TEST(KvLayoutTheory, AttentionWorkFollowsWhereTheEntriesSit) {
    // Llama-3-8B on WSE-2 at 420x420: kv_heads*head_dim = 1024 -> kv_col = ceil(1024/420) = 3, gqa = 4.
    // Prompt 4096 tokens, decode at context 4196 (100 generated), batch 1.
    const auto wafer = test::load_wafer_preset("wse2");
    const auto spec = test::load_model_preset("llama-3-8b");
    const auto graph = models::build_model_graph(spec);
    const auto precision = models::resolve_precision(spec, "auto", "auto");
    mapping::Workload wl;
    wl.input_tokens = 4096;
    wl.output_tokens = 128;
    wl.phase = mapping::PhaseSel::Decode;
    auto step_of = [](const mapping::LayerProgram& p, const std::string& op) -> const mapping::Step* {
        for (const auto& s : p.steps)
            if (s.op == op) return &s;
        return nullptr;
    };
    auto layer0 = [&](mapping::KvLayout kv) {
        mapping::MappingOptions o;
        o.grid_rows = o.grid_cols = 420;
        o.kv_layout = kv;
        const auto plan = mapping::make_plan(spec, graph, wafer, o, wl, precision);
        const auto prog = mapping::build_decode_program(plan, graph, wafer, 4196, 1);
        for (const auto& lp : prog.layers)
            if (lp.name == "layer.0") return lp;
        ADD_FAILURE() << "no layer.0";
        return mapping::LayerProgram{};
    };
    // Balanced: ceil(4196/420) = 10 tokens per row -> 10 * 3 * 4 = 120 MACs for the scores.
    const auto bal = layer0(mapping::KvLayout::Balanced);
    ASSERT_NE(step_of(bal, "attention.scores"), nullptr);
    EXPECT_DOUBLE_EQ(step_of(bal, "attention.scores")->macs_per_core, 120);
    EXPECT_EQ(step_of(bal, "attention.kv_shift"), nullptr);
    // Append: the last row holds ceil(4096/420) = 10 prompt tokens + all 100 generated: 110 * 12 = 1320.
    const auto app = layer0(mapping::KvLayout::Append);
    ASSERT_NE(step_of(app, "attention.scores"), nullptr);
    EXPECT_DOUBLE_EQ(step_of(app, "attention.scores")->macs_per_core, 1320);
    EXPECT_DOUBLE_EQ(step_of(app, "attention.context")->macs_per_core, 1320);
    // Shift: balanced work, plus one 1-hop shift of K and V (2 * 3 values * 2 B = 12 B = 3 wavelets)
    // down every column before the scores: 1 + 3 = 4 cycles on the link + 16 to switch buffers + the
    // per-task overhead (core.task_overhead, fitted).
    const auto sh = layer0(mapping::KvLayout::Shift);
    const auto* kvs = step_of(sh, "attention.kv_shift");
    ASSERT_NE(kvs, nullptr);
    EXPECT_DOUBLE_EQ(step_of(sh, "attention.scores")->macs_per_core, 120);
    EXPECT_DOUBLE_EQ(kvs->bytes_per_core, 12);
    EXPECT_EQ(kvs->along, mapping::Along::Col);
    const auto c = engines::step_cost(*kvs, wafer);
    EXPECT_DOUBLE_EQ(c.collective, 4);
    EXPECT_DOUBLE_EQ(c.overhead, 16 + wafer.task_overhead_cycles);
    // The scores wait for the shift.
    const auto& scores = *step_of(sh, "attention.scores");
    ASSERT_EQ(scores.deps.size(), 1u);
    EXPECT_EQ(&sh.steps[static_cast<std::size_t>(scores.deps[0])], kvs);
}
