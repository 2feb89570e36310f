// The calibration tolerance with the SystemC engine on one point: WaferLLM's Llama-3-8B decode at
// P = 420 on WSE-2 (calibration.md §A), the case of configs/validation/waferllm_wse2.yaml, run through
// `wafersim validate --engine systemc` (about 15 s on an idle 2-core machine), and the whole-wafer GEMV
// point, which the SystemC engine runs as a one-layer plan; small GEMVs with each all-reduce agree with
// the closed form. The prefill and the other decode points are measured in docs/validation.md (they
// take minutes); tests/smoke/calibration_test.cpp checks all five with the analytic engine.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "tests/test_support.hpp"

namespace wafersim::test {
namespace {

TEST(CalibrationSystemc, WaferLlmDecodeP420WithinTolerance) {
    TempDir t;
    const std::string cases = t.write("p420.yaml",
                                      "cases:\n"
                                      "  - name: waferllm-llama3-8b-decode-p420\n"
                                      "    source: \"calibration.md §A\"\n"
                                      "    wafer: wse2\n"
                                      "    model: llama-3-8b\n"
                                      "    phase: decode\n"
                                      "    set: {mapping.allreduce: ktree, mapping.grid: 420x420, workload.input_tokens: 4096, "
                                      "workload.output_tokens: 16}\n"
                                      "    metric: decode.tokens_per_s\n"
                                      "    published: 2699.9\n"
                                      "    tolerance: 0.10\n");
    const CliResult r = run_cli("validate --cases " + quote(cases) + " --engine systemc --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["cases"].size(), 1u);
    const auto& c = j["cases"][0];
    ASSERT_TRUE(c["simulated"].is_number()) << c.dump();
    EXPECT_LE(std::abs(c["error"].get<double>()), 0.10) << "SystemC decode at P = 420: " << c["simulated"];
}

TEST(CalibrationSystemc, GemvOnTheFabricMatchesThePointAndTheClosedForm) {
    TempDir t;
    std::string text = "cases:\n"
                       "  - name: waferllm-gemv\n    source: \"calibration.md §A\"\n    kind: gemv\n    wafer: wse2\n"
                       "    k: 16384\n    n: 16384\n    allreduce: ktree\n    metric: gemv.seconds\n"
                       "    published: 1.2us\n    tolerance: 0.10\n";
    for (const char* algo : {"pipeline", "tree", "ktree", "ring"})
        text += std::string("  - name: small-") + algo + "\n    source: \"test\"\n    kind: gemv\n    wafer: wse2\n"
                "    grid: 24x12\n    k: 2048\n    n: 1024\n    allreduce: " + algo +
                "\n    metric: gemv.seconds\n    published: 1us\n    tolerance: 0.5\n";
    const std::string cases = t.write("gemv.yaml", text);
    auto sims = [&](const std::string& engine) {
        const CliResult r = run_cli("validate --cases " + quote(cases) + " --engine " + engine + " --json");
        EXPECT_EQ(r.exit_code, 0) << r.err;
        std::map<std::string, double> out;
        const auto doc = nlohmann::json::parse(r.out);
        for (const auto& c : doc["cases"]) {
            EXPECT_TRUE(c["simulated"].is_number()) << c.dump();
            if (c["simulated"].is_number()) out[c["name"]] = c["simulated"];
        }
        return out;
    };
    const auto sc = sims("systemc"), an = sims("analytic");
    ASSERT_EQ(sc.size(), 5u);
    EXPECT_NEAR(sc.at("waferllm-gemv"), 1.2e-6, 0.12e-6) << "calibration point within 10%";
    // Disjoint reduction lines, no contention: the fabric and the closed form count the same cycles, up
    // to the per-core skew the closed form does not have (within 3%).
    for (const auto& [name, a] : an) EXPECT_NEAR(sc.at(name) / a, 1.0, 0.03) << name << ": systemc " << sc.at(name) << " s, analytic " << a << " s";
}

}  // namespace
}  // namespace wafersim::test
