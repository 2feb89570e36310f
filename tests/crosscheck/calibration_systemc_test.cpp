// The calibration tolerance with the SystemC engine on one point: WaferLLM's Llama-3-8B decode at
// P = 420 on WSE-2 (calibration.md §A), the case of configs/validation/waferllm_wse2.yaml, run through
// `wafersim validate --engine systemc` (about 15 s on an idle 2-core machine). The other four points are
// measured in docs/validation.md (they take minutes); tests/smoke/calibration_test.cpp checks all five
// with the analytic engine.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace wafersim::test
