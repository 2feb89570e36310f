// Smoke tests of `wafersim validate` through the real binary: the default cases (configs/validation/)
// run and print valid JSON with every documented key; bad case files exit 2 naming file, line and key;
// --out writes validation.h5 (and validation.json) atomically; a case whose plan is impossible becomes an
// error row and the command still exits 0. The default set takes about two seconds.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/test_support.hpp"

namespace wafersim::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// One run case with the given extra lines; every required key present unless `drop` names it.
std::string run_case(const std::string& name, const std::string& extra, const std::string& drop = "") {
    std::string s = "  - name: " + name + "\n";
    auto add = [&](const std::string& k, const std::string& v) {
        if (k != drop) s += "    " + k + ": " + v + "\n";
    };
    add("source", "\"test\"");
    add("wafer", "wse2");
    add("model", "llama-3-8b");
    add("gpu", "a100");
    add("phase", "decode");
    add("metric", "baselines.0.decode_tokens_per_s");
    add("published", "80");
    add("tolerance", "0.1");
    return s + extra;
}

TEST(ValidateSmoke, DefaultCasesRunAndPrintJson) {
    const CliResult r = run_cli("validate --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    ASSERT_TRUE(j.contains("cases"));
    ASSERT_TRUE(j["cases"].is_array());
    ASSERT_GE(j["cases"].size(), 10u) << "every configs/validation/*.yaml case";
    for (const auto& c : j["cases"]) {
        for (const char* k : {"name", "published", "simulated", "error", "within_tolerance", "source", "metric"})
            EXPECT_TRUE(c.contains(k)) << "case " << c.dump() << " lacks " << k;
        EXPECT_TRUE(c["published"].is_number());
        EXPECT_TRUE(c["within_tolerance"].is_boolean());
        // The shipped cases all run (a miss is fine; a failure to run is not).
        EXPECT_TRUE(c["simulated"].is_number()) << c.dump();
        if (c["simulated"].is_number() && c["error"].is_number()) {
            const double pub = c["published"], sim = c["simulated"], err = c["error"];
            EXPECT_NEAR(err, (sim - pub) / pub, 1e-12) << c["name"];
        }
    }
    ASSERT_TRUE(j.contains("mape"));
    EXPECT_TRUE(j["mape"].is_number());
    EXPECT_GE(j["mape"].get<double>(), 0);

    // Every calibration.md §A point is there, each with a tolerance of 10%.
    int waferllm = 0;
    for (const auto& c : j["cases"])
        if (c["name"].get<std::string>().rfind("waferllm-", 0) == 0) {
            ++waferllm;
            EXPECT_DOUBLE_EQ(c["tolerance"].get<double>(), 0.10);
        }
    EXPECT_EQ(waferllm, 5);
}

TEST(ValidateSmoke, TablePrintsEveryCaseAndTheMape) {
    const CliResult r = run_cli("validate --cases sglang_a100");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("sglang-llama3-8b-decode-1xa100"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("sglang-llama3-8b-decode-8xa100"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("MAPE"), std::string::npos) << r.out;
}

TEST(ValidateSmoke, UnknownKeyExits2NamingIt) {
    TempDir dir;
    const std::string f = dir.write("bad.yaml", "cases:\n" + run_case("a", "    publishd: 80\n", "published"));
    const CliResult r = run_cli("validate --cases " + quote(f));
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find(f + ":10: cases.0.publishd"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("did you mean \"published\""), std::string::npos) << r.err;
}

TEST(ValidateSmoke, MissingPublishedExits2NamingIt) {
    TempDir dir;
    const std::string f = dir.write("bad.yaml", "cases:\n" + run_case("a", "", "published"));
    const CliResult r = run_cli("validate --cases " + quote(f));
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find(f + ":2: cases.0.published: missing"), std::string::npos) << r.err;
}

TEST(ValidateSmoke, MalformedYamlExits2NamingFileAndLine) {
    TempDir dir;
    const std::string f = dir.write("bad.yaml", "cases:\n  - name: a\n    source: x\n   wafer: wse2\n");
    const CliResult r = run_cli("validate --cases " + quote(f));
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find(f + ":4: malformed YAML"), std::string::npos) << r.err;
}

TEST(ValidateSmoke, BadOverrideExits2AtTheCaseLine) {
    TempDir dir;
    const std::string f = dir.write("bad.yaml", "cases:\n" + run_case("a", "    set: {mapping.gird: 420x420}\n"));
    const CliResult r = run_cli("validate --cases " + quote(f));
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find(f + ":11: cases.0.set.mapping.gird"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("did you mean \"mapping.grid\""), std::string::npos) << r.err;
}

TEST(ValidateSmoke, MetricMissingFromTheSummaryExits2) {
    TempDir dir;
    const std::string f = dir.write(
        "bad.yaml", "cases:\n" + run_case("a", "    metric: baselines.0.decode_tokens_per_sec\n", "metric"));
    const CliResult r = run_cli("validate --cases " + quote(f));
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("cases.0.metric"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("did you mean \"decode_tokens_per_s\""), std::string::npos) << r.err;
}

TEST(ValidateSmoke, OutWritesValidationH5) {
    TempDir dir;
    const std::string out = dir.path + "/out";
    const CliResult r = run_cli("validate --cases sglang_a100 --cases waferllm_wse2 --out " + quote(out));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string h5 = read_file(out + "/validation.h5");
    ASSERT_GE(h5.size(), 8u);
    EXPECT_EQ(h5.substr(0, 8), std::string("\x89HDF\r\n\x1a\n", 8)) << "not an HDF5 file";
    for (const char* col : {"name", "published", "simulated", "error", "tolerance", "within"})
        EXPECT_NE(h5.find(col), std::string::npos) << "no column " << col;
    const json j = json::parse(read_file(out + "/validation.json"));
    EXPECT_EQ(j["cases"].size(), 7u);
    int files = 0;
    for (const auto& e : fs::directory_iterator(out)) {
        ++files;
        EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << "left behind: " << e.path();
    }
    EXPECT_EQ(files, 2) << "expected validation.h5 and validation.json";

    // With h5py, check the table row by row (it is optional on a build host).
    const std::string script = dir.write("check.py",
                                         "import sys\n"
                                         "try:\n"
                                         "    import h5py\n"
                                         "except ImportError:\n"
                                         "    sys.exit(0)\n"
                                         "f = h5py.File(sys.argv[1], 'r')\n"
                                         "cols = ('name', 'published', 'simulated', 'error', 'tolerance', 'within')\n"
                                         "n = {c: f['/cases/' + c].shape[0] for c in cols}\n"
                                         "if set(n.values()) != {7}: print(n); sys.exit(1)\n");
    const CliResult py = run_python(script, quote(out + "/validation.h5"));
    EXPECT_EQ(py.exit_code, 0) << py.out << py.err;
}

TEST(ValidateSmoke, ImpossiblePlanIsAnErrorRowAndTheCommandGoesOn) {
    TempDir dir;
    const std::string f =
        dir.write("cases.yaml", "cases:\n" + run_case("too-big", "    set: {mapping.grid: 9999x9999}\n") + run_case("fine", ""));
    const CliResult r = run_cli("validate --json --cases " + quote(f));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    ASSERT_EQ(j["cases"].size(), 2u);
    const json& bad = j["cases"][0];
    EXPECT_EQ(bad["name"], "too-big");
    EXPECT_TRUE(bad["simulated"].is_null());
    EXPECT_TRUE(bad["error"].is_null());
    EXPECT_EQ(bad["within_tolerance"], false);
    EXPECT_NE(bad["message"].get<std::string>().find("9999x9999"), std::string::npos) << bad.dump();
    EXPECT_TRUE(j["cases"][1]["simulated"].is_number());
    EXPECT_TRUE(j["mape"].is_number()) << "the MAPE is over the cases that ran";

    const CliResult t = run_cli("validate --cases " + quote(f));
    EXPECT_EQ(t.exit_code, 0) << t.err;
    EXPECT_NE(t.out.find("FAILED"), std::string::npos) << t.out;
}

}  // namespace
}  // namespace wafersim::test
