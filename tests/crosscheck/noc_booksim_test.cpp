// The network mode against BookSim2 (../shared/reference/noc/): the 8x8 uniform latency curve below
// saturation, the saturation throughput, and zero-load latency against hops for 1-, 2- and 4-flit packets.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "fabric/noc/noc_sim.hpp"
#include "sim/base/yaml_tree.hpp"
#include "tests/test_support.hpp"

namespace wafersim::fabric::noc {
namespace {

const std::string kRefDir = std::string(WAFERSIM_SOURCE_DIR) + "/../shared/reference/noc/";

// CSV rows as column -> text maps.
std::vector<std::map<std::string, std::string>> read_csv(const std::string& path) {
    std::vector<std::map<std::string, std::string>> rows;
    std::ifstream in(path);
    if (!in) return rows;
    std::string line;
    std::vector<std::string> header;
    auto split = [](const std::string& l) {
        std::vector<std::string> out;
        std::stringstream ss(l);
        std::string cell;
        while (std::getline(ss, cell, ',')) out.push_back(cell);
        return out;
    };
    if (std::getline(in, line)) header = split(line);
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        const auto cells = split(line);
        std::map<std::string, std::string> row;
        for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i) row[header[i]] = cells[i];
        rows.push_back(row);
    }
    return rows;
}

NocRouterSpec booksim_spec() {
    const std::string path = test::source_path("configs/noc/booksim-iq.yaml");
    return load_noc_config(read_yaml_flat(path), path);
}

struct RefPoint {
    double latency = 0, accepted = 0;
    int seeds = 0;
    bool saturated = false;
};

// BookSim's mean over its seeds at each injection rate (8x8, uniform, 1-flit packets).
std::map<double, RefPoint> booksim_curve(const std::vector<std::map<std::string, std::string>>& rows) {
    std::map<double, RefPoint> out;
    for (const auto& r : rows) {
        if (r.at("traffic") != "uniform" || r.at("packet_flits") != "1") continue;
        const double rate = std::round(std::stod(r.at("injection_rate")) * 1000) / 1000;
        RefPoint& p = out[rate];
        p.saturated = r.at("status").find("saturated") != std::string::npos;
        if (!p.saturated) p.latency += std::stod(r.at("avg_packet_latency"));
        p.accepted += std::stod(r.at("accepted_throughput"));
        ++p.seeds;
    }
    for (auto& [rate, p] : out) {
        p.latency /= p.seeds;
        p.accepted /= p.seeds;
    }
    return out;
}

NocResult run8x8(double rate, bool systemc = false) {
    NocRunOptions o;
    o.cols = o.rows = 8;
    o.injection_rate = rate;
    o.warmup_cycles = 3000;   // BookSim: 3 x 10000; the 8x8 mesh settles within a few hundred cycles
    o.measure_cycles = 10000; // BookSim: 3 x 10000 (>= 200k packets per point here at 0.3)
    NocSim sim(booksim_spec(), o);
    return systemc ? run_with_systemc(sim) : sim.run_plain();
}

TEST(NocBooksim, UniformLatencyWithinFivePercent) {
    const auto rows = read_csv(kRefDir + "booksim2_mesh8x8.csv");
    if (rows.empty()) GTEST_SKIP() << "reference " << kRefDir << "booksim2_mesh8x8.csv not found";
    const auto ref = booksim_curve(rows);
    for (double rate : {0.05, 0.2, 0.3, 0.36}) {
        ASSERT_TRUE(ref.count(rate)) << rate;
        const RefPoint& b = ref.at(rate);
        ASSERT_FALSE(b.saturated);
        const NocResult r = run8x8(rate, /*systemc=*/rate == 0.3);
        const double err = 100.0 * (r.avg_packet_latency - b.latency) / b.latency;
        const double aerr = 100.0 * (r.accepted_throughput - b.accepted) / b.accepted;
        std::printf("8x8 uniform %.2f: latency %.3f vs BookSim %.3f (%+.2f%%), accepted %.4f vs %.4f (%+.2f%%) [%s]\n", rate,
                    r.avg_packet_latency, b.latency, err, r.accepted_throughput, b.accepted, aerr, r.kernel.c_str());
        EXPECT_FALSE(r.saturated) << rate << ": " << r.saturation_reason;
        EXPECT_LE(std::abs(err), 5.0) << "injection rate " << rate;
        EXPECT_LE(std::abs(aerr), 5.0) << "injection rate " << rate;
    }
}

TEST(NocBooksim, SaturatesWhereBooksimDoes) {
    const auto rows = read_csv(kRefDir + "booksim2_mesh8x8.csv");
    if (rows.empty()) GTEST_SKIP() << "reference " << kRefDir << "booksim2_mesh8x8.csv not found";
    const auto ref = booksim_curve(rows);
    ASSERT_TRUE(ref.count(0.42) && ref.at(0.42).saturated);
    const NocResult sat = run8x8(0.42);
    const double b = ref.at(0.42).accepted;
    const double err = 100.0 * (sat.accepted_throughput - b) / b;
    std::printf("8x8 uniform 0.42: saturated=%d accepted %.4f vs BookSim %.4f (%+.2f%%) [%s]\n", sat.saturated,
                sat.accepted_throughput, b, err, sat.saturation_reason.c_str());
    EXPECT_TRUE(sat.saturated);
    EXPECT_LE(std::abs(err), 5.0);
    const NocResult ok = run8x8(0.36);
    EXPECT_FALSE(ok.saturated) << ok.saturation_reason;
}

// BookSim's near-zero-load latency (0.01 flits/node/cycle) binned by Manhattan distance, for 1-, 2- and
// 4-flit packets, against the same run here (bins with enough packets, within 1%).
TEST(NocBooksim, ZeroLoadLatencyVersusHops) {
    const auto rows = read_csv(kRefDir + "booksim2_mesh8x8_zero_load_vs_hops.csv");
    if (rows.empty()) GTEST_SKIP() << "reference " << kRefDir << "booksim2_mesh8x8_zero_load_vs_hops.csv not found";
    for (int flits : {1, 2, 4}) {
        NocRunOptions o;
        o.cols = o.rows = 8;
        o.injection_rate = 0.01;
        o.packet_flits = flits;
        o.warmup_cycles = 1000;
        o.measure_cycles = 30000;
        o.keep_packet_log = true;
        NocSim sim(booksim_spec(), o);
        const NocResult res = sim.run_plain();
        ASSERT_FALSE(res.saturated);
        std::map<int, std::pair<double, int>> bins;
        for (const auto& p : sim.packet_log()) {
            if (p.created < 1000 || p.created >= 31000) continue;
            const int hops = std::abs(p.src % 8 - p.dst % 8) + std::abs(p.src / 8 - p.dst / 8);
            bins[hops].first += static_cast<double>(p.latency());
            bins[hops].second += 1;
        }
        int compared = 0;
        for (const auto& r : rows) {
            if (std::stoi(r.at("packet_flits")) != flits) continue;
            const int hops = std::stoi(r.at("manhattan_hops"));
            const double want = std::stod(r.at("avg_packet_latency"));
            if (std::stoi(r.at("packets")) < 100 || bins[hops].second < 20) continue;
            const double got = bins[hops].first / bins[hops].second;
            const double err = 100.0 * (got - want) / want;
            EXPECT_LE(std::abs(err), 1.0) << flits << " flits, " << hops << " hops: " << got << " vs " << want;
            ++compared;
            if (hops % 4 == 0 || hops == 1)
                std::printf("%d-flit, %2d hops: %.3f vs BookSim %.3f (%+.2f%%)\n", flits, hops, got, want, err);
        }
        EXPECT_GE(compared, 10) << flits << " flits";
    }
}

}  // namespace
}  // namespace wafersim::fabric::noc
