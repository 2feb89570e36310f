// Smoke tests through the real `wafersim` binary: every zoo model runs on WSE-3 and WSE-2, the default
// run works from any directory, runs are deterministic, --phase selects the phases written, `describe`
// lists every parameter and docs/params.md is its current output, results.h5 has its groups and units,
// no temporary file survives a run, and an impossible plan exits 3 with numbers. Each run takes well
// under a second.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "fabric/wafer_spec.hpp"
#include "sim/engines/gpu_spec.hpp"
#include "sim/mapping/mapper.hpp"
#include "sim/run/run_config.hpp"
#include "tests/test_support.hpp"

namespace wafersim::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json(const std::string& path) {
    const std::string text = read_file(path);
    if (text.empty()) throw std::runtime_error("cannot read " + path);
    return json::parse(text);
}

// Runs `wafersim run ARGS --out DIR/out -q` from the source tree; summary.json is DIR/out/summary.json.
// The analytic engine unless ARGS name one (the default of `wafersim run` is SystemC; these tests check
// the command, mapping and outputs, and the crosscheck tests compare the engines).
CliResult run_into(const TempDir& dir, const std::string& args) {
    const std::string engine = args.find("--engine") == std::string::npos ? " --engine analytic" : "";
    return run_cli("run " + args + engine + " --out " + quote(dir.path + "/out") + " -q");
}

// ---- (a) every zoo model on WSE-3 and WSE-2 ---------------------------------------------------------

struct ZooCase {
    std::string model, wafer;
};

void PrintTo(const ZooCase& c, std::ostream* os) { *os << c.model << " on " << c.wafer; }

std::vector<std::string> zoo_models() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(source_path("configs/models")))
        if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<ZooCase> zoo_cases() {
    std::vector<ZooCase> cases;
    for (const char* wafer : {"wse3", "wse2"})
        for (const auto& m : zoo_models()) cases.push_back({m, wafer});
    return cases;
}

class ZooModel : public ::testing::TestWithParam<ZooCase> {};

TEST_P(ZooModel, RunsAndReportsPositiveRates) {
    const ZooCase& c = GetParam();
    TempDir dir;
    const std::string args = "--wafer " + c.wafer + " --model " + c.model;
    const CliResult r = run_into(dir, args);
    ASSERT_EQ(r.exit_code, 0) << "wafersim run " << args << "\nstderr:\n" << r.err;
    const json s = read_json(dir.path + "/out/summary.json");
    EXPECT_GT(s.at("decode").at("tokens_per_s").get<double>(), 0) << args;
    EXPECT_GT(s.at("prefill").at("tokens_per_s").get<double>(), 0) << args;
    EXPECT_GE(s.at("mapping").at("wafers").get<int>(), 1) << args;
}

std::string zoo_name(const ::testing::TestParamInfo<ZooCase>& info) {
    std::string n = info.param.model + "_on_" + info.param.wafer;
    for (char& ch : n)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return n;
}

INSTANTIATE_TEST_SUITE_P(Zoo, ZooModel, ::testing::ValuesIn(zoo_cases()), zoo_name);

TEST(Zoo, HasTheDocumentedModels) {
    const auto names = zoo_models();
    for (const char* m : {"llama-3.1-8b", "llama-3-8b", "llama-2-13b", "llama-3.1-70b", "llama-3.3-70b", "llama-3.1-405b",
                          "qwen3-32b", "qwen3-235b-a22b", "gpt-oss-120b", "glm-4.6"})
        EXPECT_NE(std::find(names.begin(), names.end(), m), names.end()) << "configs/models/" << m << ".json is missing";
}

// ---- (b) the default run, from any working directory -------------------------------------------------

TEST(CliSmoke, DefaultRunFromAnyDirectoryWritesAFreshRunFolder) {
    TempDir dir;
    const std::string cmd = "cd " + quote(dir.path) + " && " + quote(WAFERSIM_BINARY) + " run >stdout 2>stderr";
    const int status = std::system(cmd.c_str());
    const std::string out = read_file(dir.path + "/stdout"), err = read_file(dir.path + "/stderr");
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << cmd << "\nstderr:\n" << err;
    for (const char* device : {"wse3", "h100", "h200"})
        EXPECT_NE(out.find(device), std::string::npos) << "the table does not mention " << device << ":\n" << out;
    std::vector<fs::path> runs;
    if (fs::is_directory(dir.path + "/runs"))
        for (const auto& e : fs::directory_iterator(dir.path + "/runs")) runs.push_back(e.path());
    ASSERT_EQ(runs.size(), 1u) << "expected one folder under " << dir.path << "/runs";
    EXPECT_TRUE(fs::is_regular_file(runs[0] / "summary.json")) << runs[0];
    EXPECT_NE(out.find(runs[0].filename().string()), std::string::npos) << "the run folder is not printed:\n" << out;
}

// ---- (c) determinism --------------------------------------------------------------------------------

TEST(CliSmoke, SameRunTwiceGivesIdenticalSummary) {
    TempDir a, b;
    const CliResult ra = run_into(a, "--seed 7"), rb = run_into(b, "--seed 7");
    ASSERT_EQ(ra.exit_code, 0) << ra.err;
    ASSERT_EQ(rb.exit_code, 0) << rb.err;
    const std::string sa = read_file(a.path + "/out/summary.json"), sb = read_file(b.path + "/out/summary.json");
    ASSERT_FALSE(sa.empty());
    EXPECT_EQ(sa, sb) << "two runs with --seed 7 wrote different summary.json";
    EXPECT_EQ(read_json(a.path + "/out/summary.json").at("seed").get<int>(), 7);
}

// ---- (d) --phase ------------------------------------------------------------------------------------

TEST(CliSmoke, PhaseSelectsWhatIsWritten) {
    TempDir d, p;
    const CliResult rd = run_into(d, "--phase decode"), rp = run_into(p, "--phase prefill");
    ASSERT_EQ(rd.exit_code, 0) << rd.err;
    ASSERT_EQ(rp.exit_code, 0) << rp.err;
    const json sd = read_json(d.path + "/out/summary.json"), sp = read_json(p.path + "/out/summary.json");
    EXPECT_TRUE(sd.contains("decode"));
    EXPECT_FALSE(sd.contains("prefill")) << "--phase decode wrote a prefill section";
    EXPECT_TRUE(sp.contains("prefill"));
    EXPECT_FALSE(sp.contains("decode")) << "--phase prefill wrote a decode section";
}

// ---- (e), (f) describe and docs/params.md ---------------------------------------------------------

TEST(CliSmoke, DescribeListsEveryParameter) {
    const CliResult r = run_cli("describe");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const ParamTable* tables[] = {&fabric::wafer_param_table(),    &engines::gpu_param_table(),
                                  &mapping::mapping_param_table(), &mapping::workload_param_table(),
                                  &mapping::precision_param_table(), &run::baseline_param_table()};
    int keys = 0;
    for (const ParamTable* t : tables)
        for (const ParamDef& d : t->defs()) {
            const std::string key = t->name() + "." + d.key;
            EXPECT_NE(r.out.find(key), std::string::npos) << "`wafersim describe` does not list " << key;
            ++keys;
        }
    EXPECT_GT(keys, 40);
    for (const char* key : {"wafer.core.sram", "wafer.link.hop_latency", "mapping.grid", "workload.batch",
                            "precision.weights", "baseline.count"})
        EXPECT_NE(r.out.find(key), std::string::npos) << "`wafersim describe` does not list " << key;
}

TEST(CliSmoke, ParamsDocIsTheCurrentDescribeOutput) {
    const CliResult r = run_cli("describe --markdown");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string doc = read_file(source_path("docs/params.md"));
    if (doc == r.out) return;
    // Report the first differing line rather than both texts.
    std::istringstream a(doc), b(r.out);
    std::string la, lb;
    int line = 1;
    for (;; ++line) {
        const bool ga = static_cast<bool>(std::getline(a, la)), gb = static_cast<bool>(std::getline(b, lb));
        if (!ga || !gb || la != lb) {
            if (!ga) la = "<end of file>";
            if (!gb) lb = "<end of output>";
            break;
        }
    }
    ADD_FAILURE() << "docs/params.md is stale; regenerate it: build/bin/wafersim describe --markdown > docs/params.md\n"
                  << "first difference at line " << line << ":\n  docs/params.md: " << la << "\n  describe:       " << lb;
}

// ---- (g), (h) results.h5 and atomic writes ----------------------------------------------------------

TEST(CliSmoke, ResultsH5HasGroupsAndUnits) {
    TempDir dir;
    const CliResult r = run_into(dir, "");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string h5 = dir.path + "/out/results.h5", script = dir.path + "/check.py";
    {
        std::ofstream py(script);
        py << "import sys\n"
              "try:\n"
              "    import h5py\n"
              "except ImportError:\n"
              "    print('python3-h5py is not installed (tools/setup.sh installs it)'); sys.exit(2)\n"
              "f = h5py.File(sys.argv[1], 'r')\n"
              "bad = [g for g in ('/config', '/model', '/mapping', '/decode', '/prefill', '/baselines')\n"
              "       if g not in f or not isinstance(f[g], h5py.Group)]\n"
              "if bad: print('missing groups:', ', '.join(bad)); sys.exit(1)\n"
              "d = f['/decode/layers/total_s']\n"
              "u = d.attrs.get('unit')\n"
              "u = u.decode() if isinstance(u, bytes) else u\n"
              "if u != 's': print('/decode/layers/total_s unit attribute:', repr(u)); sys.exit(1)\n"
              "if d.shape[0] < 1: print('/decode/layers/total_s is empty'); sys.exit(1)\n";
    }
    const CliResult py = run_python(script, quote(h5));
    EXPECT_EQ(py.exit_code, 0) << py.out << py.err;
}

TEST(CliSmoke, NoTemporaryFileRemainsAfterARun) {
    TempDir dir;
    const CliResult r = run_into(dir, "");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    int files = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir.path + "/out")) {
        ++files;
        EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << "left behind: " << e.path();
    }
    EXPECT_EQ(files, 3) << "expected summary.json, results.h5 and config.resolved.yaml";
}

// ---- (i) impossible plan ----------------------------------------------------------------------------

TEST(CliSmoke, ImpossiblePlanExits3WithNumbers) {
    TempDir dir;
    const CliResult r = run_into(dir, "--model llama-3.1-405b --set mapping.max_wafers=2");
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("max_wafers"), std::string::npos) << r.err;
    // The wafers needed (more than the 2 allowed) and the sizes that decide it.
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.err, m, std::regex(R"(([0-9]+) wafers)"))) << "no wafer count in:\n" << r.err;
    EXPECT_GT(std::stoi(m[1].str()), 2) << r.err;
    EXPECT_TRUE(std::regex_search(r.err, std::regex(R"([0-9.]+ ?[KMGT]i?B)"))) << "no byte figure in:\n" << r.err;
    EXPECT_FALSE(fs::exists(dir.path + "/out/summary.json")) << "an impossible plan wrote summary.json";
}

}  // namespace
}  // namespace wafersim::test
