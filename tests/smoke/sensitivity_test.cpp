// Smoke tests of `wafersim sensitivity` through the real binary: signs that follow from the model (a
// faster clock, wider links, more SRAM or more wafer-link bandwidth never slow decode), the ranking is
// sorted, the JSON, CSV and HDF5 tables agree, bad options exit 2 with a did-you-mean, two runs print the
// same JSON, a point that cannot be mapped is reported in its row, integer parameters are rounded, and
// the SystemC engine runs its points in child processes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_support.hpp"

namespace wafersim::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json parse_ok(const CliResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    try {
        return json::parse(r.out);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "not JSON: " << e.what() << "\n" << r.out;
        return json::object();
    }
}

const json& row_of(const json& doc, const std::string& key) {
    for (const auto& r : doc["parameters"])
        if (r["parameter"] == key) return r;
    static const json none;
    ADD_FAILURE() << "no row " << key << " in " << doc.dump();
    return none;
}

// Decode low <= base <= high (the parameter helps or does nothing), and elasticity >= 0.
void expect_never_slows(const json& doc, const std::string& key) {
    const json& r = row_of(doc, key);
    ASSERT_EQ(r["status"], "ok") << r.dump();
    const json& m = r["decode.tokens_per_s"];
    const double lo = m["low"], base = m["base"], hi = m["high"];
    const double tol = 1e-12 * base;
    EXPECT_LE(lo, base + tol) << key << ": -10% made decode faster: " << r.dump();
    EXPECT_GE(hi, base - tol) << key << ": +10% made decode slower: " << r.dump();
    EXPECT_GE(m["elasticity"].get<double>(), -1e-12) << r.dump();
    EXPECT_LT(r["low"].get<double>(), r["base"].get<double>());
    EXPECT_GT(r["high"].get<double>(), r["base"].get<double>());
}

TEST(SensitivitySmoke, SignsFollowFromTheModel) {
    const json doc = parse_ok(run_cli("sensitivity --json --phase decode --params clock,link.width,wafer.core.sram,link.hop_latency"));
    ASSERT_EQ(doc["parameters"].size(), 4u) << doc.dump();
    for (const char* k : {"clock", "link.width", "core.sram"}) expect_never_slows(doc, k);
    // Everything on the wafer is counted in cycles: decode time scales with the clock period.
    EXPECT_GT(row_of(doc, "clock")["decode.tokens_per_s"]["elasticity"].get<double>(), 0.5);
    // A longer hop never speeds decode.
    EXPECT_LE(row_of(doc, "link.hop_latency")["decode.tokens_per_s"]["elasticity"].get<double>(), 1e-12);
    EXPECT_EQ(doc["metrics"], json::array({"decode.tokens_per_s"})) << "decode only: no prefill metric";
    EXPECT_EQ(doc["rank_by"], "decode.tokens_per_s");

    // Across wafers (wse2, 420x420 stages: two wafers), more wafer-link bandwidth never slows decode.
    const json two = parse_ok(run_cli("sensitivity --json --wafer wse2 --model llama-3-8b --set mapping.grid=420x420 "
                                      "--phase decode --params wafer_link.bandwidth,clock"));
    EXPECT_NE(two["base"]["plan"].get<std::string>().find("2 wafers"), std::string::npos) << two["base"].dump();
    expect_never_slows(two, "wafer_link.bandwidth");
    expect_never_slows(two, "clock");
}

TEST(SensitivitySmoke, DefaultRunIsRankedAndDeterministic) {
    const CliResult a = run_cli("sensitivity --json");
    const CliResult b = run_cli("sensitivity --json");
    const json doc = parse_ok(a);
    EXPECT_EQ(a.out, b.out) << "two runs with the same inputs give different JSON";
    EXPECT_EQ(doc["metrics"], json::array({"decode.tokens_per_s", "prefill.tokens_per_s"}));
    const json& rows = doc["parameters"];
    ASSERT_GE(rows.size(), 10u);
    double prev = INFINITY;
    bool finite_part = true;
    int rank = 0;
    for (const auto& r : rows) {
        EXPECT_EQ(r["rank"], ++rank);
        const json& e = r["decode.tokens_per_s"]["elasticity"];
        if (e.is_number()) {
            EXPECT_TRUE(finite_part) << "a ranked row after a row without elasticity: " << r.dump();
            EXPECT_LE(std::fabs(e.get<double>()), prev) << "not sorted at " << r["parameter"];
            prev = std::fabs(e.get<double>());
        } else {
            finite_part = false;
        }
    }
    EXPECT_EQ(rows[0]["parameter"], "clock") << "the clock scales every cycle count: " << rows.dump();
    // Every quantity and real number of the wafer table is a row; integers are listed as not varied.
    for (const char* k : {"clock", "core.sram", "core.sram_port_width", "core.fmac.fp16", "core.fmac_efficiency",
                          "link.width", "link.hop_latency", "relay.latency", "wafer_link.bandwidth", "power.system"})
        (void)row_of(doc, k);
    const auto& nv = doc["not_varied"];
    EXPECT_NE(std::find(nv.begin(), nv.end(), "mesh.cols"), nv.end()) << nv.dump();
    // A parameter whose base is 0 (wse3: core.fmac.fp8, no FP8 datapath) is skipped, with the reason.
    const json& t = row_of(doc, "core.fmac.fp8");
    EXPECT_EQ(t["status"], "skipped");
    EXPECT_NE(t["error"].get<std::string>().find("base value is 0"), std::string::npos) << t.dump();
}

std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (char c : line) {
        if (c == '"') quoted = !quoted;
        else if (c == ',' && !quoted) {
            out.push_back(cur);
            cur.clear();
        } else cur += c;
    }
    out.push_back(cur);
    return out;
}

TEST(SensitivitySmoke, JsonCsvAndH5Agree) {
    TempDir dir;
    const std::string out = dir.path + "/out";
    const CliResult r = run_cli("sensitivity --json --params clock,core.sram,link.width,core.task_overhead --out " + quote(out));
    const json doc = parse_ok(r);
    EXPECT_EQ(read_file(out + "/sensitivity.json"), r.out);
    int files = 0;
    for (const auto& e : fs::directory_iterator(out)) {
        ++files;
        EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << "left behind: " << e.path();
    }
    EXPECT_EQ(files, 3) << "expected sensitivity.csv, sensitivity.h5 and sensitivity.json";

    // CSV: same rows in the same order, same numbers (written to round-trip).
    std::istringstream csv(read_file(out + "/sensitivity.csv"));
    std::string line;
    ASSERT_TRUE(std::getline(csv, line));
    const auto head = split(line);
    auto col = [&](const std::string& name) {
        const auto it = std::find(head.begin(), head.end(), name);
        EXPECT_NE(it, head.end()) << "no column " << name << " in " << line;
        return static_cast<std::size_t>(it - head.begin());
    };
    const std::size_t c_param = col("parameter"), c_base = col("base"), c_unit = col("unit"), c_status = col("status"),
                      c_e = col("decode.tokens_per_s.elasticity"), c_lo = col("prefill.tokens_per_s.low");
    std::size_t i = 0;
    while (std::getline(csv, line)) {
        ASSERT_LT(i, doc["parameters"].size());
        const json& jr = doc["parameters"][i++];
        const auto c = split(line);
        ASSERT_EQ(c.size(), head.size()) << line;
        EXPECT_EQ(c[c_param], jr["parameter"].get<std::string>());
        EXPECT_EQ(c[c_unit], jr["unit"].get<std::string>());
        EXPECT_EQ(c[c_status], jr["status"].get<std::string>());
        EXPECT_EQ(std::strtod(c[c_base].c_str(), nullptr), jr["base"].get<double>());
        const json& e = jr["decode.tokens_per_s"]["elasticity"];
        if (e.is_number()) {
            EXPECT_EQ(std::strtod(c[c_e].c_str(), nullptr), e.get<double>());
        } else {
            EXPECT_EQ(c[c_e], "");
        }
        const json& pl = jr["prefill.tokens_per_s"]["low"];
        if (pl.is_number()) {
            EXPECT_EQ(std::strtod(c[c_lo].c_str(), nullptr), pl.get<double>());
        }
    }
    EXPECT_EQ(i, doc["parameters"].size());

    // HDF5: the same columns, with units as attributes (skipped when h5py is missing on a build host).
    const std::string script = dir.write("check.py", R"PY(
import json, math, sys
try:
    import h5py
except ImportError:
    sys.exit(0)
f = h5py.File(sys.argv[1], 'r')
doc = json.load(open(sys.argv[2]))
g = f['/sensitivity']
rows = doc['parameters']
def s(x): return x.decode() if isinstance(x, bytes) else str(x)
def same(a, b): return (b is None and math.isnan(a)) or (b is not None and a == b)
bad = []
if [s(x) for x in g['parameter'][()]] != [r['parameter'] for r in rows]: bad.append('parameter')
if [s(x) for x in g['unit'][()]] != [r['unit'] for r in rows]: bad.append('unit')
if [s(x) for x in g['status'][()]] != [r['status'] for r in rows]: bad.append('status')
for col, key in (('base_value', 'base'), ('low_value', 'low'), ('high_value', 'high')):
    if not all(same(a, r[key]) for a, r in zip(g[col][()], rows)): bad.append(col)
for m in doc['metrics']:
    for c in ('low', 'base', 'high', 'rel_low', 'rel_high', 'elasticity'):
        d = g[m + '/' + c]
        if not all(same(a, r[m][c]) for a, r in zip(d[()], rows)): bad.append(m + '/' + c)
        if 'unit' not in d.attrs or 'description' not in d.attrs: bad.append(m + '/' + c + ' attrs')
    if s(g[m + '/low'].attrs['unit']) != 'tokens/s': bad.append(m + ' unit')
    if s(g[m + '/elasticity'].attrs['unit']) != '1': bad.append(m + ' elasticity unit')
if bad: print('mismatch:', bad); sys.exit(1)
)PY");
    const CliResult py = run_python(script, quote(out + "/sensitivity.h5") + " " + quote(out + "/sensitivity.json"));
    EXPECT_EQ(py.exit_code, 0) << py.out << py.err;
}

TEST(SensitivitySmoke, BadOptionsExit2) {
    const CliResult r = run_cli("sensitivity --params clok,link.width");
    EXPECT_EQ(r.exit_code, 2) << r.err << r.out;
    EXPECT_NE(r.err.find("--params"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("clok"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("did you mean \"clock\""), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << "nothing runs before the options are checked: " << r.out;

    const CliResult d = run_cli("sensitivity --delta 1.5");
    EXPECT_EQ(d.exit_code, 2) << d.err;
    EXPECT_NE(d.err.find("--delta"), std::string::npos) << d.err;

    const CliResult s = run_cli("sensitivity --set wafer.clok=1GHz --params clock");
    EXPECT_EQ(s.exit_code, 2) << s.err;
    EXPECT_NE(s.err.find("did you mean"), std::string::npos) << s.err;

    const CliResult p = run_cli("sensitivity --phase decode --rank-by prefill");
    EXPECT_EQ(p.exit_code, 2) << p.err;
}

TEST(SensitivitySmoke, FailedPointsAreReportedInTheirRow) {
    // -90% SRAM leaves ~700 B per core after the runtime's 4176 B: the model cannot be mapped (a plan
    // error), +90% runs; +50% FMAC efficiency is above its maximum of 1 (an input error), -50% runs.
    const json doc = parse_ok(run_cli("sensitivity --json --phase decode --delta 0.9 --params core.sram"));
    const json& s = row_of(doc, "core.sram");
    EXPECT_EQ(s["status"], "low failed") << s.dump();
    EXPECT_NE(s["error"].get<std::string>().find("low: impossible plan:"), std::string::npos) << s.dump();
    EXPECT_TRUE(s["decode.tokens_per_s"]["low"].is_null());
    EXPECT_EQ(s["decode.tokens_per_s"]["method"], "high only");
    EXPECT_GE(s["decode.tokens_per_s"]["elasticity"].get<double>(), 0.0);

    const json e = parse_ok(run_cli("sensitivity --json --phase decode --delta 0.5 --params core.fmac_efficiency"));
    const json& f = row_of(e, "core.fmac_efficiency");
    EXPECT_EQ(f["status"], "high failed") << f.dump();
    EXPECT_NE(f["error"].get<std::string>().find("high: input:"), std::string::npos) << f.dump();
    EXPECT_EQ(f["decode.tokens_per_s"]["method"], "low only");
}

TEST(SensitivitySmoke, IntegerParametersAreRounded) {
    const json doc = parse_ok(run_cli("sensitivity --json --phase decode --params router.queue_depth,usable.rows"));
    const json& q = row_of(doc, "router.queue_depth");  // 4 -> 3.6 and 4.4 both round to 4
    EXPECT_EQ(q["status"], "skipped") << q.dump();
    EXPECT_NE(q["error"].get<std::string>().find("rounds to 4"), std::string::npos) << q.dump();
    const json& u = row_of(doc, "usable.rows");  // 1174 -> 1056.6 -> 1057; 1291.4 -> 1291 (beyond the mesh)
    EXPECT_EQ(u["integer"], true);
    EXPECT_EQ(u["low"], 1057.0) << u.dump();
    EXPECT_EQ(u["high"], 1291.0) << u.dump();
    EXPECT_EQ(u["status"], "high failed") << u.dump();
    EXPECT_NE(u["error"].get<std::string>().find("exceed the mesh height"), std::string::npos) << u.dump();
}

TEST(SensitivitySmoke, SystemcPointsRunInChildProcesses) {
    const json doc = parse_ok(run_cli("sensitivity --json --engine systemc --phase decode --params clock,link.hop_latency --jobs 2"));
    EXPECT_EQ(doc["engine"], "systemc");
    // The SystemC engine counts whole cycles: 2 cycles ±10 % rounds back to 2, so the row says so
    // instead of simulating 1.8 cycles as 1 (the fabric kernel truncates).
    const json& h = row_of(doc, "link.hop_latency");
    EXPECT_EQ(h["status"], "skipped") << h.dump();
    EXPECT_EQ(h["integer"], true);
    EXPECT_NE(h["error"].get<std::string>().find("whole cycles"), std::string::npos) << h.dump();
    const json& c = row_of(doc, "clock");
    ASSERT_EQ(c["status"], "ok") << c.dump();
    expect_never_slows(doc, "clock");
    EXPECT_GT(c["decode.tokens_per_s"]["elasticity"].get<double>(), 0.5) << c.dump();
}

}  // namespace
}  // namespace wafersim::test
