// Smoke tests of `wafersim report` through the real binary: a run folder (analytic, and a tiny SystemC run for
// the per-core and per-link heat maps), a sweep folder and a validate folder each render to HTML + Markdown +
// PNG figures; every expected figure is a valid PNG, embedded in the HTML (base64 of the same bytes, named in
// data-file) and linked from the Markdown; missing, foreign or garbage folders and bad options exit 2.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "tests/test_support.hpp"

namespace wafersim::test {
namespace {

namespace fs = std::filesystem;

const char* kTinyLlama = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 256, "intermediate_size": 512,
  "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 1024,
  "max_position_embeddings": 4096, "torch_dtype": "bfloat16", "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
  "hidden_act": "silu", "tie_word_embeddings": false
})";

const char* kSweep =
    "base: {wafer: wse3, model: llama-3.1-8b, phase: decode, engine: analytic, gpu: h100, set: {workload.batch: 1}}\n"
    "axes:\n"
    "  mapping.allreduce: [ring, tree]\n"
    "  workload.batch: [1, 4]\n"
    "combine: grid\n";

std::string read_binary(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string base64(const std::string& in) {
    static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
        for (int s = 18; s >= 0; s -= 6) out += tbl[(v >> s) & 63];
    }
    if (i < in.size()) {
        const unsigned v = (unsigned char)in[i] << 16 | (i + 1 < in.size() ? (unsigned char)in[i + 1] << 8 : 0);
        out += tbl[(v >> 18) & 63];
        out += tbl[(v >> 12) & 63];
        out += i + 1 < in.size() ? tbl[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::uint32_t be32(const std::string& s, std::size_t at) {
    return (std::uint32_t)(unsigned char)s[at] << 24 | (std::uint32_t)(unsigned char)s[at + 1] << 16 |
           (std::uint32_t)(unsigned char)s[at + 2] << 8 | (std::uint32_t)(unsigned char)s[at + 3];
}

// A PNG: signature, an IHDR chunk first with a nonzero size, an IEND chunk last.
void expect_png(const std::string& path) {
    const std::string b = read_binary(path);
    ASSERT_GT(b.size(), 100u) << path;
    EXPECT_EQ(b.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << path;
    EXPECT_EQ(b.substr(12, 4), "IHDR") << path;
    EXPECT_GT(be32(b, 16), 50u) << path << ": width";
    EXPECT_GT(be32(b, 20), 50u) << path << ": height";
    EXPECT_EQ(b.substr(b.size() - 8, 4), "IEND") << path;
}

// Point numbers ("0, 3") of the points of sweep.csv that no other point beats on both columns (`up` higher is
// better, `down` lower is better), by brute force.
std::string pareto_front_from_csv(const std::string& csv, const std::string& up, const std::string& down) {
    std::vector<std::vector<std::string>> rows;
    std::istringstream in(csv);
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> cells;
        std::istringstream ls(line);
        for (std::string c; std::getline(ls, c, ',');) cells.push_back(c);
        rows.push_back(cells);
    }
    if (rows.empty()) return "";
    const auto col = [&](const std::string& name) {
        for (std::size_t i = 0; i < rows[0].size(); ++i)
            if (rows[0][i] == name) return i;
        return rows[0].size();
    };
    const std::size_t a = col(up), b = col(down);
    if (a == rows[0].size() || b == rows[0].size()) return "";
    std::vector<std::pair<double, double>> pts;
    for (std::size_t r = 1; r < rows.size(); ++r) pts.emplace_back(std::stod(rows[r][a]), std::stod(rows[r][b]));
    std::string out;
    for (std::size_t i = 0; i < pts.size(); ++i) {
        bool dominated = false;
        for (const auto& q : pts)
            dominated |= q.first >= pts[i].first && q.second <= pts[i].second &&
                         (q.first > pts[i].first || q.second < pts[i].second);
        if (!dominated) out += (out.empty() ? "" : ", ") + rows[i + 1][0];
    }
    return out;
}

// Renders `dir` into out/<name>.html and checks the three outputs for `figures` (file names without .png).
void check_report(const std::string& dir, const std::string& out, const std::vector<std::string>& figures,
                  const std::string& extra = "") {
    const std::string html_path = out + "/report.html";
    const CliResult r = run_cli("report " + quote(dir) + " -o " + quote(html_path) + " " + extra);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    const std::string html = read_file(html_path), md = read_file(out + "/report.md");
    ASSERT_FALSE(html.empty());
    ASSERT_FALSE(md.empty());
    EXPECT_NE(html.find("<title>"), std::string::npos);
    int files = 0;
    for (const auto& e : fs::directory_iterator(out + "/report_files")) {
        ++files;
        EXPECT_EQ(e.path().extension(), ".png") << e.path();
    }
    EXPECT_EQ(files, static_cast<int>(figures.size())) << html_path;
    for (const auto& f : figures) {
        const std::string rel = "report_files/" + f + ".png", path = out + "/" + rel;
        ASSERT_TRUE(fs::exists(path)) << path << "\n" << r.out;
        expect_png(path);
        EXPECT_NE(html.find("data-file=\"" + rel + "\""), std::string::npos) << rel;
        EXPECT_NE(html.find("data:image/png;base64," + base64(read_binary(path)) + "\""), std::string::npos)
            << rel << " is not embedded byte for byte";
        EXPECT_NE(md.find("](" + rel + ")"), std::string::npos) << rel;
    }
    // Self-contained: no image or script is loaded from elsewhere.
    EXPECT_EQ(html.find("src=\"report_files"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    for (const auto& e : fs::directory_iterator(out))
        EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << "left behind: " << e.path();
}

TEST(ReportSmoke, AnalyticRunFolder) {
    TempDir t;
    const std::string run = t.path + "/run";
    const CliResult r = run_cli("run --engine analytic --gpu h100 --gpu h200 --out " + quote(run) + " -q");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    check_report(run, t.path + "/rep", {"throughput", "layers_decode", "layers_prefill", "sram_map"});
    const std::string html = read_file(t.path + "/rep/report.html");
    // Heat maps that need the SystemC engine are skipped with a note, and the config is in the appendix.
    EXPECT_NE(html.find("results.h5 has no /systemc group"), std::string::npos);
    EXPECT_NE(html.find(read_file(run + "/config.resolved.yaml").substr(0, 60)), std::string::npos);
    EXPECT_NE(html.find("llama-3.1-8b on wse3, engine analytic"), std::string::npos) << "caption names the run";
    // Default output: DIR/report.html.
    const CliResult d = run_cli("report " + quote(run));
    ASSERT_EQ(d.exit_code, 0) << d.err;
    EXPECT_TRUE(fs::exists(run + "/report.html"));
    EXPECT_TRUE(fs::exists(run + "/report.md"));
    EXPECT_TRUE(fs::exists(run + "/report_files/throughput.png"));
}

TEST(ReportSmoke, DecodeOnlyRunSkipsPrefillWithANote) {
    TempDir t;
    const std::string run = t.path + "/run";
    ASSERT_EQ(run_cli("run --engine analytic --phase decode --gpu h100 --out " + quote(run) + " -q").exit_code, 0);
    check_report(run, t.path + "/rep", {"throughput", "layers_decode", "sram_map"});
    EXPECT_NE(read_file(t.path + "/rep/report.html").find("has no /prefill/layers"), std::string::npos);
}

TEST(ReportSmoke, SystemcRunFolderHasHeatMaps) {
    TempDir t;
    const std::string model = t.write("config.json", kTinyLlama), run = t.path + "/run";
    const CliResult r = run_cli("run --model " + quote(model) + " --wafer wse3 --gpu h100 --engine systemc --phase decode"
                                " --set mapping.grid=97x62 --out " + quote(run) + " -q");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    check_report(run, t.path + "/rep",
                 {"throughput", "layers_decode", "sram_map", "core_utilization", "link_utilization_wafer0"});
    const std::string html = read_file(t.path + "/rep/report.html");
    EXPECT_NE(html.find("engine systemc"), std::string::npos);
    EXPECT_NE(html.find("rows 1-97, columns 4-65 of the 1176x762 mesh"), std::string::npos)
        << "the heat maps are cropped to the 97x62 grid placed at the usable area's corner";
}

TEST(ReportSmoke, SweepFolderWithCurvesAndPareto) {
    TempDir t;
    const std::string exp = t.write("exp.yaml", kSweep), sweep = t.path + "/sweep";
    const CliResult r = run_cli("sweep " + quote(exp) + " --out " + quote(sweep));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    check_report(sweep, t.path + "/rep", {"sweep_0_mapping_allreduce", "sweep_1_workload_batch", "pareto"},
                 "--pareto decode.tokens_per_s,cores_used");
    const std::string html = read_file(t.path + "/rep/report.html");
    EXPECT_NE(html.find("Pareto front of decode.tokens_per_s (max) and mapping.cores_used (min)"), std::string::npos);
    // The front named in the caption is the one computed here from sweep.csv, by brute force.
    const std::string front = pareto_front_from_csv(read_file(sweep + "/sweep.csv"), "decode.tokens_per_s", "mapping.cores_used");
    ASSERT_FALSE(front.empty());
    EXPECT_NE(html.find("Front: point(s) " + front + "."), std::string::npos) << "expected front " << front;
    EXPECT_NE(html.find("a line per value of workload.batch"), std::string::npos);
    EXPECT_NE(html.find("combine: grid"), std::string::npos) << "experiment.yaml in the appendix";

    const CliResult bad = run_cli("report " + quote(sweep) + " -o " + quote(t.path + "/bad/r.html") + " --pareto nope,wafers");
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("--pareto: unknown metric \"nope\""), std::string::npos) << bad.err;
    EXPECT_FALSE(fs::exists(t.path + "/bad/r.html"));
}

TEST(ReportSmoke, SweepWithAFailedPointListsIt) {
    TempDir t;
    const std::string exp = t.write("exp.yaml",
        "base: {wafer: wse3, phase: decode, engine: analytic, gpu: none, set: {mapping.max_wafers: 1}}\n"
        "axes:\n  model: [llama-3.1-8b, llama-3.1-405b]\n"), sweep = t.path + "/sweep";
    ASSERT_EQ(run_cli("sweep " + quote(exp) + " --out " + quote(sweep)).exit_code, 0);
    check_report(sweep, t.path + "/rep", {"sweep_0_model", "pareto"});
    const std::string md = read_file(t.path + "/rep/report.md");
    EXPECT_NE(md.find("1 point(s) failed and are not drawn"), std::string::npos) << md;
    EXPECT_NE(md.find("| 1 | llama-3.1-405b | impossible plan: llama-3.1-405b needs"), std::string::npos) << md;
    EXPECT_NE(md.find("The axis values are not numbers"), std::string::npos) << md;
}

TEST(ReportSmoke, ValidateFolder) {
    TempDir t;
    const std::string val = t.path + "/val";
    const CliResult r = run_cli("validate --cases sglang_a100 --out " + quote(val));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    check_report(val, t.path + "/rep", {"validation_scatter"});
    EXPECT_NE(read_file(t.path + "/rep/report.html").find("sglang-llama3-8b-decode-1xa100"), std::string::npos);
}

TEST(ReportSmoke, BadFoldersAndOptionsExitTwo) {
    TempDir t;
    const CliResult missing = run_cli("report " + quote(t.path + "/nope"));
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_NE(missing.err.find(t.path + "/nope: no such folder"), std::string::npos) << missing.err;

    const CliResult foreign = run_cli("report " + quote(t.path));
    EXPECT_EQ(foreign.exit_code, 2);
    EXPECT_NE(foreign.err.find("not a wafersim output folder"), std::string::npos) << foreign.err;

    const std::string file = t.write("summary.json", "not json");
    const CliResult not_dir = run_cli("report " + quote(file));
    EXPECT_EQ(not_dir.exit_code, 2);
    EXPECT_NE(not_dir.err.find("not a folder"), std::string::npos) << not_dir.err;

    t.write("results.h5", "not hdf5");
    const CliResult garbage = run_cli("report " + quote(t.path) + " -o " + quote(t.path + "/out/r.html"));
    EXPECT_EQ(garbage.exit_code, 2);
    EXPECT_NE(garbage.err.find(t.path + "/summary.json: not valid JSON"), std::string::npos) << garbage.err;
    EXPECT_FALSE(fs::exists(t.path + "/out/r.html"));

    t.write("summary.json", "{\"model\": {}, \"wafer\": {}, \"mapping\": {}}");
    const CliResult bad_h5 = run_cli("report " + quote(t.path) + " -o " + quote(t.path + "/out/r.html"));
    EXPECT_EQ(bad_h5.exit_code, 2);
    EXPECT_NE(bad_h5.err.find("results.h5: not a readable HDF5 file"), std::string::npos) << bad_h5.err;

    const CliResult md = run_cli("report " + quote(t.path) + " -o " + quote(t.path + "/r.md"));
    EXPECT_EQ(md.exit_code, 2);
    EXPECT_NE(md.err.find("must end in .html"), std::string::npos) << md.err;
}

TEST(ReportSmoke, PythonWithoutMatplotlibExitsTwo) {
    // An interpreter that cannot see the Debian packages: python3 -S skips site (no dist-packages).
    if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
    TempDir t;
    const std::string run = t.path + "/run";
    ASSERT_EQ(run_cli("run --engine analytic --phase decode --gpu none --out " + quote(run) + " -q").exit_code, 0);
    const std::string wrapper = t.write("python3", "#!/bin/sh\nexec /usr/bin/python3 -S \"$@\"\n");
    fs::permissions(wrapper, fs::perms::owner_all);
    ::setenv("WAFERSIM_PYTHON", wrapper.c_str(), 1);
    const CliResult r = run_cli("report " + quote(run));
    ::setenv("WAFERSIM_PYTHON", (t.path + "/absent").c_str(), 1);
    const CliResult absent = run_cli("report " + quote(run));
    ::unsetenv("WAFERSIM_PYTHON");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("needs Python 3 with matplotlib and h5py"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("apt install python3-matplotlib python3-h5py"), std::string::npos) << r.err;
    EXPECT_EQ(absent.exit_code, 2);
    EXPECT_NE(absent.err.find("$WAFERSIM_PYTHON"), std::string::npos) << absent.err;
    EXPECT_FALSE(fs::exists(run + "/report.html"));
}

}  // namespace
}  // namespace wafersim::test
