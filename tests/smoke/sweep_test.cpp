// Smoke tests of `wafersim sweep` through the real binary: a 3x3 grid in two processes writes nine point
// files and a nine-row table named by the axis keys; --resume runs nothing new; --jobs 1 and --jobs 2 give
// the same table; bad experiment files exit 2 naming file, line and key; a point that cannot be mapped is
// an error row and the sweep still exits 0; every configs/experiments/*.yaml runs and three show what
// their header says (WaferLLM's decode trend over grid size, wafer counts, hop latency).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_support.hpp"

namespace wafersim::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* kGrid =
    "base: {wafer: wse3, model: llama-3.1-8b, phase: decode, engine: analytic, gpu: h100, set: {workload.batch: 1}}\n"
    "axes:\n"
    "  mapping.allreduce: [pipeline, ring, tree]\n"
    "  workload.batch: [1, 2, 4]\n"
    "combine: grid\n";

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

std::vector<std::string> cells(const std::string& line) {
    std::vector<std::string> out;
    std::istringstream in(line);
    for (std::string c; std::getline(in, c, ',');) out.push_back(c);
    if (!line.empty() && line.back() == ',') out.push_back("");
    return out;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

int count_files(const std::string& dir) {
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << "left behind: " << e.path();
        ++n;
    }
    return n;
}

TEST(SweepSmoke, GridInTwoJobsResumeAndOneJobAgree) {
    TempDir dir;
    const std::string f = dir.write("grid.yaml", kGrid);
    const std::string a = dir.path + "/a", b = dir.path + "/b";

    const CliResult r = run_cli("sweep " + quote(f) + " --jobs 2 --out " + quote(a));
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_EQ(count_files(a + "/points"), 9);
    EXPECT_NE(r.out.find("[9/9] point "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(": ok (decode.tokens_per_s="), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("9 run (9 ok, 0 error), 0 skipped"), std::string::npos) << r.out;
    EXPECT_EQ(read_file(a + "/experiment.yaml"), kGrid);

    const std::string csv = read_file(a + "/sweep.csv");
    const auto rows = lines(csv);
    ASSERT_EQ(rows.size(), 10u) << csv;
    const auto head = cells(rows[0]);
    ASSERT_GE(head.size(), 4u);
    EXPECT_EQ(head[0], "index");
    EXPECT_EQ(head[1], "mapping.allreduce");
    EXPECT_EQ(head[2], "workload.batch");
    EXPECT_EQ(head[3], "status");
    for (const char* m : {"decode.tokens_per_s", "decode.seconds_per_token", "decode.max_context_tokens",
                          "prefill.tokens_per_s", "prefill.ttft_s", "mapping.wafers", "mapping.stages",
                          "mapping.cores_used", "baselines.0.decode_tokens_per_s"})
        EXPECT_NE(std::find(head.begin(), head.end(), m), head.end()) << "no column " << m << " in " << rows[0];
    // Last axis fastest.
    EXPECT_EQ(cells(rows[1])[1], "pipeline");
    EXPECT_EQ(cells(rows[1])[2], "1");
    EXPECT_EQ(cells(rows[2])[2], "2");
    EXPECT_EQ(cells(rows[4])[1], "ring");
    EXPECT_EQ(cells(rows[9])[1], "tree");
    EXPECT_EQ(cells(rows[9])[2], "4");
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto c = cells(rows[i]);
        ASSERT_EQ(c.size(), head.size()) << rows[i];
        EXPECT_EQ(c[0], std::to_string(i - 1));
        EXPECT_EQ(c[3], "ok");
    }

    // Point files: index, axes, status, summary.
    const json p4 = json::parse(read_file(a + "/points/000004.json"));
    EXPECT_EQ(p4["index"], 4);
    EXPECT_EQ(p4["axes"]["mapping.allreduce"], "ring");
    EXPECT_EQ(p4["axes"]["workload.batch"], 2);
    EXPECT_EQ(p4["status"], "ok");
    EXPECT_EQ(p4["summary"]["workload"]["batch"], 2);
    EXPECT_EQ(p4["summary"]["mapping"]["allreduce"], "ring");

    // The HDF5 table: a file with one dataset per column.
    const std::string h5 = read_file(a + "/sweep.h5");
    ASSERT_GE(h5.size(), 8u);
    EXPECT_EQ(h5.substr(0, 8), std::string("\x89HDF\r\n\x1a\n", 8));
    for (const char* col : {"mapping.allreduce", "workload.batch", "status", "decode.tokens_per_s"})
        EXPECT_NE(h5.find(col), std::string::npos) << "no column " << col;
    EXPECT_EQ(count_files(a), 4) << "points/, experiment.yaml, sweep.csv, sweep.h5";

    // Again without --resume: refused. With --resume: nothing new, same table.
    const CliResult again = run_cli("sweep " + quote(f) + " --out " + quote(a));
    EXPECT_EQ(again.exit_code, 2);
    EXPECT_NE(again.err.find("--resume"), std::string::npos) << again.err;
    const CliResult resumed = run_cli("sweep " + quote(f) + " --jobs 2 --resume --out " + quote(a));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_NE(resumed.out.find("0 run (0 ok, 0 error), 9 skipped"), std::string::npos) << resumed.out;
    EXPECT_EQ(read_file(a + "/sweep.csv"), csv);

    // One job, in this process: the same table and the same point files.
    const CliResult one = run_cli("sweep " + quote(f) + " --jobs 1 --out " + quote(b));
    ASSERT_EQ(one.exit_code, 0) << one.err;
    EXPECT_EQ(read_file(b + "/sweep.csv"), csv);
    EXPECT_EQ(read_file(b + "/points/000007.json"), read_file(a + "/points/000007.json"));
}

TEST(SweepSmoke, ResumeFinishesAnInterruptedSweepAndShardsAddUp) {
    TempDir dir;
    const std::string f = dir.write("grid.yaml", kGrid);
    const std::string full = dir.path + "/full", sh = dir.path + "/sh";
    ASSERT_EQ(run_cli("sweep " + quote(f) + " --out " + quote(full)).exit_code, 0);

    const CliResult s0 = run_cli("sweep " + quote(f) + " --shard 0/2 --out " + quote(sh));
    ASSERT_EQ(s0.exit_code, 0) << s0.err;
    EXPECT_EQ(count_files(sh + "/points"), 5) << "points 0, 2, 4, 6, 8";
    EXPECT_FALSE(fs::exists(sh + "/sweep.csv")) << "the table waits for every point";
    const CliResult s1 = run_cli("sweep " + quote(f) + " --shard 1/2 --resume --out " + quote(sh));
    ASSERT_EQ(s1.exit_code, 0) << s1.err;
    EXPECT_NE(s1.out.find("4 run (4 ok, 0 error), 0 skipped"), std::string::npos) << s1.out;
    EXPECT_EQ(read_file(sh + "/sweep.csv"), read_file(full + "/sweep.csv"));

    // A lost point file is run again by --resume, and only it.
    fs::remove(sh + "/points/000003.json");
    const CliResult r = run_cli("sweep " + quote(f) + " --resume --out " + quote(sh));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("1 run (1 ok, 0 error), 8 skipped"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("point 3: ok"), std::string::npos) << r.out;
    EXPECT_EQ(read_file(sh + "/sweep.csv"), read_file(full + "/sweep.csv"));

    EXPECT_EQ(run_cli("sweep " + quote(f) + " --shard 2/2 --out " + quote(dir.path + "/x")).exit_code, 2);
}

TEST(SweepSmoke, ZipListAndRandomExpandDeterministically) {
    TempDir dir;
    const std::string base = "base: {model: llama-3.1-8b, phase: decode, gpu: none}\n";
    const std::string zip = dir.write("zip.yaml", base +
                                                      "axes:\n  workload.batch: [1, 2]\n  mapping.allreduce: [ring, tree]\n"
                                                      "combine: zip\n");
    ASSERT_EQ(run_cli("sweep " + quote(zip) + " --out " + quote(dir.path + "/zip")).exit_code, 0);
    auto rows = lines(read_file(dir.path + "/zip/sweep.csv"));
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_TRUE(starts_with(rows[1], "0,1,ring,ok,")) << rows[1];
    EXPECT_TRUE(starts_with(rows[2], "1,2,tree,ok,")) << rows[2];

    const std::string list = dir.write("list.yaml", base +
                                                        "combine: list\npoints:\n  - {workload.batch: 4}\n"
                                                        "  - {model: llama-3-8b, mapping.allreduce: ring}\n");
    ASSERT_EQ(run_cli("sweep " + quote(list) + " --out " + quote(dir.path + "/list")).exit_code, 0);
    rows = lines(read_file(dir.path + "/list/sweep.csv"));
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_TRUE(starts_with(rows[0], "index,workload.batch,model,mapping.allreduce,status,")) << rows[0];
    EXPECT_TRUE(starts_with(rows[1], "0,4,,,ok,")) << rows[1];
    EXPECT_TRUE(starts_with(rows[2], "1,,llama-3-8b,ring,ok,")) << rows[2];

    const std::string rnd = dir.write("rnd.yaml", base +
                                                      "axes:\n  workload.batch: [1, 2, 4, 8]\n  mapping.allreduce: [pipeline, ring, tree]\n"
                                                      "combine: random\nsamples: 5\nseed: 7\n");
    ASSERT_EQ(run_cli("sweep " + quote(rnd) + " --out " + quote(dir.path + "/r1")).exit_code, 0);
    ASSERT_EQ(run_cli("sweep " + quote(rnd) + " --jobs 2 --out " + quote(dir.path + "/r2")).exit_code, 0);
    EXPECT_EQ(lines(read_file(dir.path + "/r1/sweep.csv")).size(), 6u);
    EXPECT_EQ(read_file(dir.path + "/r1/sweep.csv"), read_file(dir.path + "/r2/sweep.csv"));
}

TEST(SweepSmoke, BadExperimentsExit2NamingFileLineAndKey) {
    TempDir dir;
    struct Case {
        std::string text, expect_key, expect_msg;
    };
    const std::vector<Case> cases = {
        {"axes:\n  workload.batch: [1, 2]\ncombine: cartesian\n", ":3: combine:", "not a way to combine"},
        {"axes:\n  workload.batch: [1, 2]\n  mapping.allreduce: [ring]\ncombine: zip\n", "axes.mapping.allreduce", "equal length"},
        {"axis:\n  workload.batch: [1, 2]\n", ":1: axis:", "did you mean \"axes\"?"},
        {"axes:\n  workload.batch: []\n", ":2: axes.workload.batch:", "empty axis"},
        {"axes:\n  workload.bach: [1]\n  maping.grid: [8x8]\n", ":3: axes.maping.grid:", "did you mean \"mapping\"?"},
        {"axes:\n  workload.batch: [1]\n  workload.bach: [1, 2]\n", ":3: axes.workload.bach:", "did you mean \"workload.batch\"?"},
        {"base: {modle: llama-3.1-8b}\naxes:\n  workload.batch: [1]\n", "base.modle", "did you mean \"model\"?"},
        {"axes:\n  workload.batch: [1]\ncombine: random\n", "samples", "samples: N"},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const std::string f = dir.write("bad" + std::to_string(i) + ".yaml", cases[i].text);
        const CliResult r = run_cli("sweep " + quote(f) + " --out " + quote(dir.path + "/o" + std::to_string(i)));
        EXPECT_EQ(r.exit_code, 2) << cases[i].text << r.err;
        EXPECT_NE(r.err.find(f), std::string::npos) << "no file name: " << r.err;
        EXPECT_NE(r.err.find(cases[i].expect_key), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(cases[i].expect_msg), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(dir.path + "/o" + std::to_string(i) + "/points")) << "nothing written for a bad file";
    }
}

TEST(SweepSmoke, UnmappablePointIsAnErrorRowAndTheSweepGoesOn) {
    TempDir dir;
    const std::string f = dir.write("grid.yaml",
                                    "base: {model: llama-3.1-8b, phase: decode, gpu: h100}\n"
                                    "axes:\n  mapping.grid: [8x8, auto]\n");
    const std::string out = dir.path + "/o";
    const CliResult r = run_cli("sweep " + quote(f) + " --jobs 2 --out " + quote(out));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("point 0: error: impossible plan:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("2 run (1 ok, 1 error)"), std::string::npos) << r.out;
    const json p0 = json::parse(read_file(out + "/points/000000.json"));
    EXPECT_EQ(p0["status"], "error");
    EXPECT_NE(p0["error"].get<std::string>().find("8x8"), std::string::npos) << p0.dump();
    const auto rows = lines(read_file(out + "/sweep.csv"));
    ASSERT_EQ(rows.size(), 3u);
    const auto c0 = cells(rows[1]), c1 = cells(rows[2]);
    EXPECT_EQ(c0[2], "error");
    EXPECT_EQ(c0[3], "") << "no metric for a failed point";
    EXPECT_EQ(c1[2], "ok");
    EXPECT_NE(c1[3], "");
}

TEST(SweepSmoke, EveryShippedExperimentRuns) {
    TempDir dir;
    int n = 0;
    for (const auto& e : fs::directory_iterator(source_path("configs/experiments"))) {
        if (e.path().extension() != ".yaml") continue;
        ++n;
        const std::string out = dir.path + "/" + e.path().stem().string();
        const CliResult r = run_cli("sweep " + quote(e.path().string()) + " --jobs 2 --out " + quote(out));
        ASSERT_EQ(r.exit_code, 0) << e.path() << "\n" << r.err << r.out;
        const auto rows = lines(read_file(out + "/sweep.csv"));
        ASSERT_GE(rows.size(), 2u) << e.path();
        for (std::size_t i = 1; i < rows.size(); ++i)
            EXPECT_NE(rows[i].find(",ok,"), std::string::npos) << e.path() << ": " << rows[i];
    }
    EXPECT_GE(n, 6);

    // What three of them are meant to show, read from their tables.
    auto column = [&](const std::string& name, const std::string& key) {
        const auto rows = lines(read_file(dir.path + "/" + name + "/sweep.csv"));
        std::vector<double> v;
        if (rows.empty()) return v;
        const auto head = cells(rows[0]);
        const auto at = std::find(head.begin(), head.end(), key) - head.begin();
        for (std::size_t i = 1; i < rows.size(); ++i) v.push_back(std::stod(cells(rows[i]).at(at)));
        return v;
    };
    // WaferLLM's trend: for every all-reduce algorithm, decode is slower on a larger grid (420, 540, 660).
    const auto tps = column("allreduce_x_grid_waferllm", "decode.tokens_per_s");
    ASSERT_EQ(tps.size(), 9u);
    for (std::size_t a = 0; a < 3; ++a) {
        EXPECT_GT(tps[3 * a], tps[3 * a + 1]) << "algorithm row " << a;
        EXPECT_GT(tps[3 * a + 1], tps[3 * a + 2]) << "algorithm row " << a;
    }
    // Wafer counts: 405B needs more wafers than 70B on every wafer; 4x SRAM per core needs fewer than WSE-3.
    const auto wafers = column("wafers_for_70b_405b", "mapping.wafers");
    ASSERT_EQ(wafers.size(), 6u);  // (70b, 405b) x (wse2, wse3, wse3-4xsram)
    for (std::size_t w = 0; w < 3; ++w) EXPECT_GT(wafers[3 + w], wafers[w]);
    EXPECT_LT(wafers[2], wafers[1]);
    EXPECT_LT(wafers[5], wafers[4]);
    // Slower hops (1, 2, 4 cycles) mean slower decode at every link width.
    const auto hop = column("link_width_x_hop_latency", "decode.tokens_per_s");
    ASSERT_EQ(hop.size(), 9u);
    for (std::size_t w = 0; w < 3; ++w) {
        EXPECT_GT(hop[3 * w], hop[3 * w + 1]);
        EXPECT_GT(hop[3 * w + 1], hop[3 * w + 2]);
    }
    // By preset name, too.
    const CliResult r = run_cli("sweep sram_per_core --out " + quote(dir.path + "/by-name"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace wafersim::test
