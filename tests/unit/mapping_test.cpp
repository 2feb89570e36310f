// Placement invariants: stages cover every layer once, regions fit the wafer, SRAM fits, reasons in numbers.
#include <gtest/gtest.h>

#include "sim/base/errors.hpp"
#include "sim/mapping/mapper.hpp"
#include "tests/test_support.hpp"

using namespace wafersim;

namespace {

struct Fixture {
    fabric::WaferSpec wafer;
    models::ModelSpec spec;
    models::ModelGraph graph;
    models::PrecisionPolicy precision;
    Fixture(const std::string& wafer_name, const std::string& model_name)
        : wafer(test::load_wafer_preset(wafer_name)), spec(test::load_model_preset(model_name)),
          graph(models::build_model_graph(spec)), precision(models::resolve_precision(spec, "auto", "auto")) {}
    mapping::ExecutionPlan plan(mapping::MappingOptions o = {}, mapping::Workload w = {}) const {
        return mapping::make_plan(spec, graph, wafer, o, w, precision);
    }
};

void check_invariants(const Fixture& f, const mapping::ExecutionPlan& p) {
    ASSERT_FALSE(p.stages.empty());
    EXPECT_TRUE(p.stages.front().has_embedding);
    EXPECT_TRUE(p.stages.back().has_lm_head);
    int next = 0;
    for (const auto& s : p.stages) {
        EXPECT_EQ(s.first_layer, next) << "stage " << s.index;
        EXPECT_GE(s.end_layer, s.first_layer);
        next = s.end_layer;
        // Inside the usable rectangle.
        EXPECT_GE(s.region.col0, f.wafer.usable_col0);
        EXPECT_GE(s.region.row0, f.wafer.usable_row0);
        EXPECT_LE(s.region.col0 + s.region.cols, f.wafer.usable_col0 + f.wafer.usable_cols);
        EXPECT_LE(s.region.row0 + s.region.rows, f.wafer.usable_row0 + f.wafer.usable_rows);
        // SRAM fits.
        const double used = s.weight_bytes_per_core + s.kv_bytes_per_core + s.activation_bytes_per_core;
        EXPECT_LE(used, f.wafer.sram_user_bytes()) << "stage " << s.index;
        EXPECT_GT(s.weight_bytes_per_core, 0);
        EXPECT_GE(s.wafer, 0);
        EXPECT_LT(s.wafer, p.wafers);
    }
    EXPECT_EQ(next, static_cast<int>(f.spec.layers));
    // Regions on the same wafer do not overlap.
    for (std::size_t i = 0; i < p.stages.size(); ++i)
        for (std::size_t j = i + 1; j < p.stages.size(); ++j) {
            const auto& a = p.stages[i];
            const auto& b = p.stages[j];
            if (a.wafer != b.wafer) continue;
            const bool apart = a.region.col0 + a.region.cols <= b.region.col0 || b.region.col0 + b.region.cols <= a.region.col0 ||
                               a.region.row0 + a.region.rows <= b.region.row0 || b.region.row0 + b.region.rows <= a.region.row0;
            EXPECT_TRUE(apart) << "stages " << i << " and " << j << " overlap";
        }
}

}  // namespace

TEST(Mapping, Llama8bFitsOneWse3WithAutomaticGrid) {
    Fixture f("wse3", "llama-3.1-8b");
    auto p = f.plan();
    check_invariants(f, p);
    EXPECT_EQ(p.wafers, 1);
    EXPECT_GE(p.max_context_tokens, 4096 + 128);
    EXPECT_LE(p.max_context_tokens, f.spec.max_position);
}

TEST(Mapping, ForcedGridIsUsedForEveryStage) {
    Fixture f("wse2", "llama-3-8b");
    mapping::MappingOptions o;
    o.grid_rows = o.grid_cols = 420;
    auto p = f.plan(o);
    check_invariants(f, p);
    for (const auto& s : p.stages) {
        EXPECT_EQ(s.region.rows, 420);
        EXPECT_EQ(s.region.cols, 420);
    }
    // 16 GB of weights do not fit one 420x420 grid (8.5 GB of SRAM): several stages (calibration.md §A).
    EXPECT_GE(p.stages.size(), 2u);
}

TEST(Mapping, Llama70bNeedsAtLeastFourWse3) {
    Fixture f("wse3", "llama-3.1-70b");
    auto p = f.plan();
    check_invariants(f, p);
    EXPECT_GE(p.wafers, 4);  // hardware.md §2: "70B on as few as four"
    EXPECT_LE(p.wafers, 6);
}

TEST(Mapping, Llama405bNeedsAboutTwentyWafersForDecode) {
    Fixture f("wse3", "llama-3.1-405b");
    mapping::Workload w;
    w.phase = mapping::PhaseSel::Decode;
    auto p = f.plan({}, w);
    check_invariants(f, p);
    // 812 GB of 16-bit weights over ~39.9 GB of user SRAM per wafer: at least 21.
    EXPECT_GE(p.wafers, 21);
    EXPECT_LE(p.wafers, 25);
}

TEST(Mapping, TooFewWafersIsAPlanErrorWithNumbers) {
    Fixture f("wse3", "llama-3.1-70b");
    mapping::MappingOptions o;
    o.max_wafers = 1;
    try {
        f.plan(o);
        FAIL() << "expected PlanError";
    } catch (const PlanError& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("wafers"), std::string::npos) << m;
        EXPECT_NE(m.find("max_wafers = 1"), std::string::npos) << m;
    }
}

TEST(Mapping, GridLargerThanTheWaferIsAPlanError) {
    Fixture f("wse3", "llama-3.1-8b");
    mapping::MappingOptions o;
    o.grid_rows = o.grid_cols = 2000;
    EXPECT_THROW(f.plan(o), PlanError);
}

TEST(Mapping, TinyGridExplainsThePerCoreShortfall) {
    Fixture f("wse3", "llama-3.1-8b");
    mapping::MappingOptions o;
    o.grid_rows = o.grid_cols = 8;
    try {
        f.plan(o);
        FAIL() << "expected PlanError";
    } catch (const PlanError& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("KiB per core"), std::string::npos) << m;
        EXPECT_NE(m.find("free"), std::string::npos) << m;
    }
}

TEST(Mapping, LargerBatchAndContextLeaveLessRoomForKv) {
    Fixture f("wse3", "llama-3.1-8b");
    mapping::MappingOptions o;
    o.grid_rows = 587;
    o.grid_cols = 755;
    mapping::Workload w1, w8;
    w8.batch = 8;
    auto p1 = f.plan(o, w1), p8 = f.plan(o, w8);
    EXPECT_GT(p1.max_context_tokens, p8.max_context_tokens);
    EXPECT_GE(p1.stages.front().kv_bytes_per_core * 8 * 0.9, p1.stages.front().kv_bytes_per_core);
    EXPECT_GT(p8.stages.front().kv_bytes_per_core, p1.stages.front().kv_bytes_per_core);
}

TEST(Mapping, MoreSramPerCoreNeedsFewerStages) {
    Fixture base("wse3", "qwen3-32b"), big("wse3-4xsram", "qwen3-32b");
    mapping::MappingOptions o;
    o.grid_rows = 587;
    o.grid_cols = 755;
    auto a = base.plan(o), b = big.plan(o);
    check_invariants(base, a);
    check_invariants(big, b);
    EXPECT_LT(b.stages.size(), a.stages.size());
}

TEST(Mapping, EveryZooModelMapsOntoWse3) {
    for (const char* m : {"llama-3.1-8b", "llama-3-8b", "llama-2-13b", "llama-3.1-70b", "llama-3.3-70b", "llama-3.1-405b",
                          "qwen3-32b", "qwen3-235b-a22b", "gpt-oss-120b", "glm-4.6"}) {
        SCOPED_TRACE(m);
        Fixture f("wse3", m);
        auto p = f.plan();
        check_invariants(f, p);
    }
}

TEST(Mapping, PrefillChunksCoverThePrompt) {
    Fixture f("wse3", "llama-3.1-8b");
    mapping::MappingOptions o;
    o.prefill_chunk = 1000;
    mapping::Workload w;
    w.input_tokens = 4096;
    auto p = f.plan(o, w);
    auto chunks = mapping::prefill_chunks(p);
    ASSERT_EQ(chunks.size(), 5u);
    std::int64_t sum = 0;
    for (auto c : chunks) sum += c;
    EXPECT_EQ(sum, 4096);
    EXPECT_EQ(chunks.back(), 96);
}

TEST(Mapping, SramMapHasTheStagesFootprint) {
    Fixture f("wse3", "llama-3.1-8b");
    auto p = f.plan();
    auto m = mapping::sram_map(p, f.wafer, 0);
    ASSERT_EQ(m.size(), static_cast<std::size_t>(f.wafer.mesh_rows * f.wafer.mesh_cols));
    double nonzero = 0;
    for (float v : m)
        if (v > 0) ++nonzero;
    EXPECT_EQ(static_cast<std::int64_t>(nonzero), p.cores_used());
}
