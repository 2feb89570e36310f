// Golden summaries: the real `wafersim run` must reproduce tests/golden/*.json key by key. Every key path
// of the golden must exist in the new summary.json and vice versa (missing or extra keys fail, listed);
// integers, strings, booleans and nulls compare exactly; floating-point numbers within a relative
// tolerance from tests/golden/tolerances.json (its "default", 1%, unless a pattern in "keys" matches).
//
// The goldens are regenerated, after a change that is meant to move the results (say why in the commit
// message), from the repository root with the current binary:
//   d=$(mktemp -d) && build/bin/wafersim run --engine analytic --out $d -q && cp $d/summary.json tests/golden/default_summary.json
//   d=$(mktemp -d) && build/bin/wafersim run --engine analytic --wafer wse2 --model llama-3-8b --gpu a100 --set mapping.grid=420x420 --out $d -q && cp $d/summary.json tests/golden/wse2_llama3_8b_p420.json
// There is no automatic update.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_support.hpp"

namespace wafersim::test {
namespace {

using nlohmann::json;

// Key path -> leaf value. Paths read like "decode.tokens_per_s", "mapping.grid[3][1]",
// "baselines[0].device". Empty objects and arrays are leaves themselves.
void flatten(const json& j, const std::string& path, std::map<std::string, json>& out) {
    if (j.is_object() && !j.empty()) {
        for (auto it = j.begin(); it != j.end(); ++it) flatten(it.value(), path.empty() ? it.key() : path + "." + it.key(), out);
    } else if (j.is_array() && !j.empty()) {
        for (std::size_t i = 0; i < j.size(); ++i) flatten(j[i], path + "[" + std::to_string(i) + "]", out);
    } else {
        out[path] = j;
    }
}

// '*' matches any run of characters (dots and brackets included); everything else matches itself.
bool glob_match(const char* pat, const char* s) {
    if (*pat == '\0') return *s == '\0';
    if (*pat == '*') {
        for (const char* t = s;; ++t) {
            if (glob_match(pat + 1, t)) return true;
            if (*t == '\0') return false;
        }
    }
    return *pat == *s && glob_match(pat + 1, s + 1);
}

// tolerances.json: {"default": REL, "keys": {"pattern": REL, ...}}; REL is a fraction (0.01 = 1%).
// The longest matching pattern wins (an exact key path beats "decode.*", which beats "*").
struct Tolerances {
    double default_rel = 0.01;
    std::vector<std::pair<std::string, double>> patterns;

    double for_key(const std::string& key) const {
        double tol = default_rel;
        std::size_t best = 0;
        bool found = false;
        for (const auto& [pat, t] : patterns)
            if (glob_match(pat.c_str(), key.c_str()) && (!found || pat.size() > best)) {
                tol = t;
                best = pat.size();
                found = true;
            }
        return tol;
    }
};

Tolerances parse_tolerances(const json& j) {
    Tolerances t;
    if (j.contains("default")) t.default_rel = j.at("default").get<double>();
    if (j.contains("keys"))
        for (auto it = j.at("keys").begin(); it != j.at("keys").end(); ++it)
            t.patterns.emplace_back(it.key(), it.value().get<double>());
    return t;
}

std::string type_name(const json& v) {
    if (v.is_number_integer()) return "integer";
    if (v.is_number_float()) return "float";
    return v.type_name();
}

std::string percent(double golden, double now) {
    if (golden == 0) return now == 0 ? "0%" : "inf%";
    std::ostringstream os;
    os.setf(std::ios::showpos);
    os.precision(4);
    os << 100.0 * (now - golden) / std::fabs(golden) << "%";
    return os.str();
}

// One line per problem; empty when the summaries agree.
std::vector<std::string> diff_summaries(const json& golden, const json& now, const Tolerances& tol) {
    std::map<std::string, json> g, n;
    flatten(golden, "", g);
    flatten(now, "", n);
    std::vector<std::string> problems;
    for (const auto& [key, gv] : g)
        if (!n.count(key)) problems.push_back("missing from the new summary: " + key + " (golden " + gv.dump() + ")");
    for (const auto& [key, nv] : n)
        if (!g.count(key)) problems.push_back("not in the golden: " + key + " (new " + nv.dump() + ")");
    for (const auto& [key, gv] : g) {
        auto it = n.find(key);
        if (it == n.end()) continue;
        const json& nv = it->second;
        if (gv.is_number_float() && nv.is_number_float()) {
            const double a = gv.get<double>(), b = nv.get<double>(), rel = tol.for_key(key);
            if (std::fabs(b - a) > rel * std::fabs(a)) {
                std::ostringstream os;
                os << key << ": golden " << gv.dump() << ", new " << nv.dump() << ", deviation " << percent(a, b)
                   << " (tolerance " << 100 * rel << "%)";
                problems.push_back(os.str());
            }
        } else if (type_name(gv) != type_name(nv)) {
            problems.push_back(key + ": golden " + gv.dump() + " (" + type_name(gv) + "), new " + nv.dump() + " (" +
                               type_name(nv) + ")");
        } else if (gv != nv) {
            std::string line = key + ": golden " + gv.dump() + ", new " + nv.dump();
            if (gv.is_number()) line += ", deviation " + percent(gv.get<double>(), nv.get<double>()) + " (integers compare exactly)";
            problems.push_back(line);
        }
    }
    return problems;
}

json read_json(const std::string& path) {
    const std::string text = read_file(path);
    if (text.empty()) throw std::runtime_error("cannot read " + path);
    return json::parse(text);
}

std::string join_lines(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& l : v) s += "  " + l + "\n";
    return s;
}

// ---- the comparison itself -------------------------------------------------------------------------

TEST(GoldenDiff, IdenticalSummariesAgree) {
    const json j = json::parse(R"({"a": 1, "b": {"c": 2.5, "d": "x"}, "e": [[1, 2], [3, 4]], "f": [], "g": null})");
    EXPECT_TRUE(diff_summaries(j, j, Tolerances{}).empty());
}

TEST(GoldenDiff, MissingAndExtraKeysAreListed) {
    const json g = json::parse(R"({"a": 1, "b": {"c": 2.5}, "e": [1, 2]})");
    const json n = json::parse(R"({"a": 1, "b": {"z": 2.5}, "e": [1, 2, 3]})");
    const auto p = diff_summaries(g, n, Tolerances{});
    ASSERT_EQ(p.size(), 3u) << join_lines(p);
    EXPECT_NE(join_lines(p).find("missing from the new summary: b.c"), std::string::npos) << join_lines(p);
    EXPECT_NE(join_lines(p).find("not in the golden: b.z"), std::string::npos) << join_lines(p);
    EXPECT_NE(join_lines(p).find("not in the golden: e[2]"), std::string::npos) << join_lines(p);
}

TEST(GoldenDiff, FloatsWithinToleranceIntegersAndStringsExactly) {
    const json g = json::parse(R"({"x": 100.0, "y": 100.0, "i": 7, "s": "tree", "b": true})");
    EXPECT_TRUE(diff_summaries(g, json::parse(R"({"x": 100.9, "y": 99.1, "i": 7, "s": "tree", "b": true})"), Tolerances{}).empty());
    const auto p = diff_summaries(g, json::parse(R"({"x": 101.1, "y": 100.0, "i": 8, "s": "ring", "b": false})"), Tolerances{});
    ASSERT_EQ(p.size(), 4u) << join_lines(p);
    EXPECT_NE(join_lines(p).find("x: golden 100.0, new 101.1"), std::string::npos) << join_lines(p);
    EXPECT_NE(join_lines(p).find("+1.1%"), std::string::npos) << join_lines(p);
    // A number that changes type (integer <-> float) or a value that becomes null fails.
    EXPECT_EQ(diff_summaries(g, json::parse(R"({"x": 100, "y": 100.0, "i": 7.0, "s": "tree", "b": true})"), Tolerances{}).size(), 2u);
    EXPECT_EQ(diff_summaries(g, json::parse(R"({"x": null, "y": 100.0, "i": 7, "s": "tree", "b": true})"), Tolerances{}).size(), 1u);
}

TEST(GoldenDiff, LongestMatchingPatternGivesTheTolerance) {
    Tolerances t = parse_tolerances(json::parse(R"({"default": 0.01, "keys": {"decode.*": 0.05, "decode.flops": 0, "*.grid*": 0.2}})"));
    EXPECT_DOUBLE_EQ(t.for_key("prefill.flops"), 0.01);
    EXPECT_DOUBLE_EQ(t.for_key("decode.tokens_per_s"), 0.05);
    EXPECT_DOUBLE_EQ(t.for_key("decode.flops"), 0.0);
    EXPECT_DOUBLE_EQ(t.for_key("mapping.grid[0][1]"), 0.2);
    const json g = json::parse(R"({"decode": {"tokens_per_s": 100.0, "flops": 1.0}})");
    EXPECT_TRUE(diff_summaries(g, json::parse(R"({"decode": {"tokens_per_s": 104.0, "flops": 1.0}})"), t).empty());
    EXPECT_EQ(diff_summaries(g, json::parse(R"({"decode": {"tokens_per_s": 100.0, "flops": 1.0000001}})"), t).size(), 1u);
}

// ---- the goldens ---------------------------------------------------------------------------------

const char* const kTolerances = "tests/golden/tolerances.json";

struct Golden {
    const char* file;
    const char* args;  // `wafersim run` arguments, without --out
};

const Golden kGoldens[] = {
    {"tests/golden/default_summary.json", "--engine analytic"},
    {"tests/golden/wse2_llama3_8b_p420.json", "--engine analytic --wafer wse2 --model llama-3-8b --gpu a100 --set mapping.grid=420x420"},
};

void expect_matches_golden(const Golden& golden) {
    const Tolerances tol = parse_tolerances(read_json(source_path(kTolerances)));
    const std::string dir = temp_dir("golden");
    const std::string args = std::string("run ") + golden.args + (*golden.args ? " " : "") + "--out '" + dir + "/out' -q";
    const CliResult r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << "wafersim " << args << "\nstderr:\n" << r.err;
    const json now = read_json(dir + "/out/summary.json");
    std::system(("rm -rf '" + dir + "'").c_str());
    const auto problems = diff_summaries(read_json(source_path(golden.file)), now, tol);
    EXPECT_TRUE(problems.empty()) << "wafersim " << args << " differs from " << golden.file << " in " << problems.size()
                                  << " key(s):\n"
                                  << join_lines(problems)
                                  << "If the change is intended, regenerate the golden with the command at the top of "
                                     "tests/golden/summary_golden_test.cpp.";
}

TEST(GoldenSummary, DefaultExperiment) { expect_matches_golden(kGoldens[0]); }

TEST(GoldenSummary, Wse2Llama3_8bForcedGrid420) { expect_matches_golden(kGoldens[1]); }

// Every pattern in tolerances.json matches a key of some golden (no stale entries).
TEST(GoldenSummary, EveryTolerancePatternIsUsed) {
    const Tolerances tol = parse_tolerances(read_json(source_path(kTolerances)));
    std::map<std::string, json> keys;
    for (const auto& g : kGoldens) flatten(read_json(source_path(g.file)), "", keys);
    for (const auto& [pat, t] : tol.patterns) {
        EXPECT_GE(t, 0.0) << kTolerances << ": " << pat;
        bool used = false;
        for (const auto& kv : keys) used = used || glob_match(pat.c_str(), kv.first.c_str());
        EXPECT_TRUE(used) << kTolerances << ": pattern \"" << pat << "\" matches no key of the goldens";
    }
}

}  // namespace
}  // namespace wafersim::test
