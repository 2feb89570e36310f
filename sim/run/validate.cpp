// `wafersim validate`: published measurements (WaferLLM on WSE-2, SGLang on A100, BookSim2 mesh, vendor
// service figures) against what the simulator predicts for the same configuration.
#include "sim/run/validate.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>

#include "sim/base/atomic_file.hpp"
#include "sim/base/errors.hpp"
#include "sim/base/params.hpp"
#include "sim/base/units.hpp"
#include "sim/base/yaml_tree.hpp"
#include "sim/engines/analytic_model.hpp"
#include "sim/engines/systemc_engine.hpp"
#include "sim/run/child_process.hpp"
#include "sim/run/experiment.hpp"
#include "sim/run/h5_writer.hpp"
#include "sim/run/noc_command.hpp"
#include "sim/run/outputs.hpp"
#include "sim/run/presets.hpp"
#include "sim/run/run_config.hpp"

namespace wafersim::run {

using nlohmann::json;
using nlohmann::ordered_json;

const char* to_string(CaseKind k) {
    switch (k) {
        case CaseKind::Run: return "run";
        case CaseKind::Gemv: return "gemv";
        case CaseKind::Noc: return "noc";
    }
    return "";
}

int ValidationCase::line_of(const std::string& key) const {
    for (const auto& kl : key_lines)
        if (kl.first == key) return kl.second;
    return line;
}

// ---- the GEMV closed form --------------------------------------------------------------------------

// y[1,N] = x[1,K] · W[K,N] on an R x C grid of cores (R rows split K, C columns split N), the input
// vector already distributed, as in WaferLLM's GEMV micro-benchmark. Core (r, c) holds a weight tile of
// ceil(K/R) x ceil(N/C) and multiplies it by its slice of x; then each column of R cores reduces its
// ceil(N/C) 16-bit partial sums to one core. All columns reduce at once on disjoint links, so
//
//   cycles = ceil(K/R)·ceil(N/C) / achieved_MACs_per_cycle(16-bit)      (compute_cycles)
//          + task_overhead                                               (per op, as the engines charge)
//          + reduce(algorithm, R cores, 2·ceil(N/C) bytes)              (collective_cycles, Reduce)
//   seconds = cycles / clock
//
// These are the functions the analytic engine prices a decode projection with (step_cost), so a miss
// here is a miss of the engine's model, not of a separate formula.
// K along `k_side` cores (reduced along them), N along `n_side`.
double gemv_orientation_seconds(std::int64_t k, std::int64_t n, std::int64_t k_side, std::int64_t n_side,
                                mapping::AllReduceAlgo algo, const fabric::WaferSpec& w) {
    const double k_per_core = std::ceil(static_cast<double>(k) / static_cast<double>(k_side));
    const double n_per_core = std::ceil(static_cast<double>(n) / static_cast<double>(n_side));
    const double compute = engines::compute_cycles(k_per_core * n_per_core, 0, 16, w) + w.task_overhead_cycles;
    const double reduce = engines::collective_cycles(mapping::CollectiveKind::Reduce, algo, static_cast<double>(k_side),
                                                     2.0 * n_per_core, w);
    return (compute + reduce) / w.clock_hz;
}

double gemv_seconds(std::int64_t k, std::int64_t n, std::int64_t rows, std::int64_t cols, mapping::AllReduceAlgo algo,
                    const fabric::WaferSpec& w) {
    // K along one side of the rectangle, N along the other; the mapper would lay the matrix out
    // whichever way round is faster, so both orientations are timed and the faster is kept.
    return std::min(gemv_orientation_seconds(k, n, rows, cols, algo, w), gemv_orientation_seconds(k, n, cols, rows, algo, w));
}

namespace {

// ---- parsing case files -----------------------------------------------------------------------------

const std::vector<std::string> kCommonKeys = {"name", "source", "kind", "metric", "published", "tolerance"};
const std::vector<std::string> kRunKeys = {"wafer", "model", "gpu", "phase", "set"};
const std::vector<std::string> kGemvKeys = {"wafer", "k", "n", "grid", "allreduce", "set"};
const std::vector<std::string> kNocKeys = {"mesh", "traffic", "injection_rate", "packet_flits", "config",
                                           "warmup", "measure", "seed", "set"};
const std::vector<std::string> kTraffic = {"uniform", "transpose", "bitcomplement", "hotspot"};
const std::vector<std::string> kNocMetrics = {"avg_packet_latency", "avg_network_latency", "max_packet_latency",
                                              "accepted_throughput", "injected_throughput", "avg_hops"};

const std::vector<std::string>& kind_keys(CaseKind k) {
    return k == CaseKind::Gemv ? kGemvKeys : k == CaseKind::Noc ? kNocKeys : kRunKeys;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
    return s;
}

int line_of(const YAML::Node& n) { return n.Mark().line >= 0 ? n.Mark().line + 1 : 0; }

bool ends_with(const std::string& s, const std::string& suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

// A metric measured in seconds: its published value may be written with a time unit ("1.2us").
// ("gemv.seconds", "prefill.ttft_s", "decode.seconds_per_token"; not "decode.tokens_per_s").
bool metric_is_seconds(const std::string& metric) {
    return ends_with(metric, "seconds") || ends_with(metric, "seconds_per_token") ||
           (ends_with(metric, "_s") && !ends_with(metric, "per_s"));
}

// Reads the scalars of one case, checking each as it goes; problems go to `sink`.
class CaseReader {
public:
    CaseReader(const std::string& file, DiagnosticSink& sink) : m_file(file), m_sink(sink) {}

    bool scalar(const YAML::Node& v, const std::string& key, std::string& out) {
        if (!v.IsScalar()) {
            error(line_of(v), key, std::string("expected a single value, found ") + (v.IsNull() ? "nothing" : v.IsMap() ? "a mapping" : "a list"));
            return false;
        }
        out = v.Scalar();
        if (out.empty()) {
            error(line_of(v), key, "expected a value, found an empty string");
            return false;
        }
        return true;
    }
    bool number(const YAML::Node& v, const std::string& key, double& out) {
        std::string s;
        if (!scalar(v, key, s)) return false;
        char* end = nullptr;
        out = std::strtod(s.c_str(), &end);
        if (end == s.c_str() || *end != '\0' || !std::isfinite(out)) {
            error(line_of(v), key, "\"" + s + "\" is not a number");
            return false;
        }
        return true;
    }
    bool integer(const YAML::Node& v, const std::string& key, std::int64_t min, std::int64_t& out) {
        std::string s;
        if (!scalar(v, key, s)) return false;
        char* end = nullptr;
        const long long x = std::strtoll(s.c_str(), &end, 10);
        if (end == s.c_str() || *end != '\0') {
            error(line_of(v), key, "\"" + s + "\" is not an integer");
            return false;
        }
        if (x < min) {
            error(line_of(v), key, "expected an integer >= " + std::to_string(min) + ", found " + s);
            return false;
        }
        out = x;
        return true;
    }
    void error(int line, const std::string& key, const std::string& msg) { m_sink.add(m_file, line, key, msg); }

private:
    std::string m_file;
    DiagnosticSink& m_sink;
};

std::string unknown_key_message(const std::string& k, CaseKind kind) {
    for (CaseKind other : {CaseKind::Run, CaseKind::Gemv, CaseKind::Noc})
        if (other != kind && contains(kind_keys(other), k))
            return std::string("is a key of ") + to_string(other) + " cases, not of " + to_string(kind) +
                   " cases (set `kind: " + to_string(other) + "` or remove it)";
    std::vector<std::string> allowed = kCommonKeys;
    for (const auto& x : kind_keys(kind)) allowed.push_back(x);
    std::string msg = "unknown key";
    const std::string near = did_you_mean(k, allowed);
    if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
    return msg + " (keys of a " + to_string(kind) + " case: " + join(allowed) + ")";
}

ValidationCase parse_case(const YAML::Node& node, int index, const std::string& file, DiagnosticSink& sink) {
    ValidationCase c;
    c.file = file;
    c.index = index;
    c.line = line_of(node);
    const std::string at = "cases." + std::to_string(index);
    CaseReader rd(file, sink);
    if (!node.IsMap()) {
        rd.error(c.line, at, "expected a mapping (name:, source:, metric:, published:, tolerance:, ...)");
        return c;
    }
    // The kind decides which keys are allowed.
    for (const auto& kv : node) {
        if (kv.first.IsScalar() && kv.first.Scalar() == "kind") {
            std::string s;
            if (rd.scalar(kv.second, at + ".kind", s)) {
                if (s == "run") c.kind = CaseKind::Run;
                else if (s == "gemv") c.kind = CaseKind::Gemv;
                else if (s == "noc") c.kind = CaseKind::Noc;
                else {
                    std::string msg = "\"" + s + "\" is not a case kind; expected run (the default), gemv or noc";
                    const std::string near = did_you_mean(s, {"run", "gemv", "noc"});
                    if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
                    rd.error(line_of(kv.second), at + ".kind", msg);
                }
            }
        }
    }
    std::vector<std::string> seen;
    bool has_published = false, has_tolerance = false;
    std::string published_text;
    int published_line = c.line;
    for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
            rd.error(line_of(kv.first), at, "mapping keys must be plain names");
            continue;
        }
        const std::string k = kv.first.Scalar();
        const std::string key = at + "." + k;
        const int kline = line_of(kv.first);
        const YAML::Node& v = kv.second;
        if (contains(seen, k)) {
            rd.error(kline, key, "key appears more than once in this case; only one value can be meant");
            continue;
        }
        seen.push_back(k);
        c.key_lines.emplace_back(k, kline);
        if (!contains(kCommonKeys, k) && !contains(kind_keys(c.kind), k)) {
            rd.error(kline, key, unknown_key_message(k, c.kind));
            continue;
        }
        std::string s;
        if (k == "kind") {
            continue;
        } else if (k == "name") {
            rd.scalar(v, key, c.name);
        } else if (k == "source") {
            rd.scalar(v, key, c.source);
        } else if (k == "metric") {
            rd.scalar(v, key, c.metric);
        } else if (k == "published") {
            if (rd.scalar(v, key, published_text)) {
                has_published = true;
                published_line = line_of(v);
            }
        } else if (k == "tolerance") {
            if (rd.number(v, key, c.tolerance)) {
                has_tolerance = true;
                if (c.tolerance <= 0)
                    rd.error(line_of(v), key, "expected a relative tolerance > 0 (e.g. 0.10 for 10%), found " + v.Scalar());
            }
        } else if (k == "wafer") {
            rd.scalar(v, key, c.wafer);
        } else if (k == "model") {
            rd.scalar(v, key, c.model);
        } else if (k == "gpu") {
            rd.scalar(v, key, c.gpu);
        } else if (k == "phase") {
            if (rd.scalar(v, key, c.phase) && c.phase != "decode" && c.phase != "prefill" && c.phase != "both") {
                std::string msg = "\"" + c.phase + "\" is not a phase; expected decode, prefill or both";
                const std::string near = did_you_mean(c.phase, {"decode", "prefill", "both"});
                if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
                rd.error(line_of(v), key, msg);
            }
        } else if (k == "k") {
            rd.integer(v, key, 1, c.k);
        } else if (k == "n") {
            rd.integer(v, key, 1, c.n);
        } else if (k == "grid") {
            if (rd.scalar(v, key, s) && !parse_grid(s, c.grid_rows, c.grid_cols))
                rd.error(line_of(v), key, "\"" + s + "\" is not a grid; write RxC with positive integers (e.g. 420x420)");
        } else if (k == "allreduce") {
            if (rd.scalar(v, key, s)) {
                if (s == "pipeline") c.allreduce = mapping::AllReduceAlgo::Pipeline;
                else if (s == "ring") c.allreduce = mapping::AllReduceAlgo::Ring;
                else if (s == "tree") c.allreduce = mapping::AllReduceAlgo::Tree;
                else if (s == "ktree") c.allreduce = mapping::AllReduceAlgo::KTree;
                else {
                    std::string msg = "\"" + s + "\" is not an all-reduce algorithm; expected pipeline, ring, tree or ktree";
                    const std::string near = did_you_mean(s, {"pipeline", "ring", "tree", "ktree"});
                    if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
                    rd.error(line_of(v), key, msg);
                }
            }
        } else if (k == "mesh") {
            std::int64_t r = 0, cc = 0;
            if (rd.scalar(v, key, c.mesh) && !parse_grid(c.mesh, r, cc))
                rd.error(line_of(v), key, "\"" + c.mesh + "\" is not a mesh size; write KxK with positive integers (e.g. 8x8)");
        } else if (k == "traffic") {
            if (rd.scalar(v, key, c.traffic) && !contains(kTraffic, c.traffic)) {
                std::string msg = "\"" + c.traffic + "\" is not a traffic pattern; expected " + join(kTraffic);
                const std::string near = did_you_mean(c.traffic, kTraffic);
                if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
                rd.error(line_of(v), key, msg);
            }
        } else if (k == "config") {
            rd.scalar(v, key, c.noc_config);
        } else if (k == "injection_rate") {
            if (rd.number(v, key, c.injection_rate) && (c.injection_rate <= 0 || c.injection_rate > 1))
                rd.error(line_of(v), key, "expected an offered load in (0, 1] flits/node/cycle, found " + v.Scalar());
        } else if (k == "packet_flits") {
            std::int64_t x = 0;
            if (rd.integer(v, key, 1, x)) c.packet_flits = static_cast<int>(x);
        } else if (k == "warmup") {
            rd.integer(v, key, 0, c.warmup);
        } else if (k == "measure") {
            rd.integer(v, key, 1, c.measure);
        } else if (k == "seed") {
            std::int64_t x = 0;
            if (rd.integer(v, key, 0, x)) c.seed = static_cast<std::uint64_t>(x);
        } else if (k == "set") {
            if (!v.IsMap()) {
                rd.error(line_of(v), key, "expected a mapping of key.path: value (e.g. {mapping.grid: 420x420})");
                continue;
            }
            for (const auto& sv : v) {
                const std::string sk = sv.first.IsScalar() ? sv.first.Scalar() : "";
                const std::string skey = key + "." + sk;
                if (sk.empty() || sk.find('.') == std::string::npos || sk.front() == '.' || sk.back() == '.') {
                    rd.error(line_of(sv.first), skey, "expected a dotted key such as mapping.grid or workload.input_tokens");
                    continue;
                }
                std::string val;
                if (!rd.scalar(sv.second, skey, val)) continue;
                if (c.kind == CaseKind::Gemv && sk.compare(0, 6, "wafer.") != 0) {
                    rd.error(line_of(sv.first), skey, "a gemv case takes only wafer.* overrides");
                    continue;
                }
                c.sets.push_back({sk, val, line_of(sv.first)});
            }
        }
    }

    // Required keys.
    auto require = [&](bool present, const std::string& k, const std::string& what) {
        if (!present) rd.error(c.line, at + "." + k, "missing; " + what);
    };
    require(!c.name.empty() || contains(seen, "name"), "name", "every case needs a unique name");
    require(!c.source.empty() || contains(seen, "source"), "source", "cite where the published value comes from");
    require(!c.metric.empty() || contains(seen, "metric"), "metric", "which simulated value to compare (e.g. decode.tokens_per_s)");
    require(has_published || contains(seen, "published"), "published", "the published value to compare against");
    require(has_tolerance || contains(seen, "tolerance"), "tolerance", "the accepted relative error (e.g. 0.10)");
    if (c.kind == CaseKind::Run) {
        require(contains(seen, "wafer"), "wafer", "a wafer preset name or path (e.g. wse2)");
        require(contains(seen, "model"), "model", "a model preset name or path (e.g. llama-3-8b)");
    } else if (c.kind == CaseKind::Gemv) {
        require(contains(seen, "wafer"), "wafer", "a wafer preset name or path (e.g. wse2)");
        require(contains(seen, "k"), "k", "the GEMV's inner dimension K of [1,K]x[K,N]");
        require(contains(seen, "n"), "n", "the GEMV's output dimension N of [1,K]x[K,N]");
    } else {
        require(contains(seen, "mesh"), "mesh", "the mesh size KxK (e.g. 8x8)");
        require(contains(seen, "traffic"), "traffic", "the traffic pattern (e.g. uniform)");
        require(contains(seen, "injection_rate"), "injection_rate", "the offered load in flits/node/cycle");
        require(contains(seen, "packet_flits"), "packet_flits", "flits per packet");
    }

    // The metric must exist for the case's kind (run cases: checked against summary.json when run).
    if (!c.metric.empty()) {
        const std::string mkey = at + ".metric";
        const int mline = c.line_of("metric");
        if (c.kind == CaseKind::Gemv && c.metric != "gemv.seconds") {
            rd.error(mline, mkey, "\"" + c.metric + "\": a gemv case measures gemv.seconds");
        } else if (c.kind == CaseKind::Noc && !contains(kNocMetrics, c.metric)) {
            std::string msg = "\"" + c.metric + "\" is not a noc result";
            const std::string near = did_you_mean(c.metric, kNocMetrics);
            if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
            rd.error(mline, mkey, msg + " (expected one of " + join(kNocMetrics) + ")");
        } else if (c.kind == CaseKind::Run) {
            const std::string head = c.metric.substr(0, c.metric.find('.'));
            if (c.metric.front() == '.' || c.metric.back() == '.' || c.metric.find("..") != std::string::npos)
                rd.error(mline, mkey, "\"" + c.metric + "\" is not a key path; write dotted keys of summary.json such as decode.tokens_per_s");
            else if (head == "decode" && c.phase == "prefill")
                rd.error(mline, mkey, "\"" + c.metric + "\" is a decode result but the case's phase is prefill");
            else if (head == "prefill" && c.phase == "decode")
                rd.error(mline, mkey, "\"" + c.metric + "\" is a prefill result but the case's phase is decode");
            else if (head == "baselines" && c.gpu.empty())
                rd.error(mline, mkey, "\"" + c.metric + "\" is a baseline result but the case has no `gpu:`");
        }
    }

    // Published value: a number, or a time ("1.2us") when the metric is in seconds.
    if (has_published) {
        char* end = nullptr;
        c.published = std::strtod(published_text.c_str(), &end);
        if (end == published_text.c_str() || *end != '\0' || !std::isfinite(c.published)) {
            bool ok = false;
            if (metric_is_seconds(c.metric)) {
                try {
                    c.published = parse_quantity(published_text, UnitKind::Time);
                    ok = true;
                } catch (const std::invalid_argument&) {
                }
            }
            if (!ok)
                rd.error(published_line, at + ".published",
                         "\"" + published_text + "\" is not a number" +
                             (metric_is_seconds(c.metric) ? " or a time (e.g. 1.2us)" : ""));
        } else if (c.published <= 0) {
            rd.error(published_line, at + ".published", "expected a value > 0 (errors are relative to it), found " + published_text);
        }
    }
    return c;
}

}  // namespace

std::vector<ValidationCase> parse_validation_cases(const std::string& text, const std::string& file) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw InputError(file, e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "malformed YAML: " + e.msg);
    }
    if (!root.IsMap())
        throw InputError(file, line_of(root), "",
                         root.IsNull() ? "empty file; expected a mapping with a `cases:` list"
                                       : "expected a mapping with a `cases:` list at the top level");
    DiagnosticSink sink;
    std::vector<ValidationCase> cases;
    bool has_cases = false;
    for (const auto& kv : root) {
        const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "";
        if (k == "description") continue;
        if (k != "cases") {
            std::string msg = "unknown key";
            const std::string near = did_you_mean(k, {"cases", "description"});
            if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
            sink.add(file, line_of(kv.first), k, msg + " (a case file has `cases:` and an optional `description:`)");
            continue;
        }
        if (has_cases) {
            sink.add(file, line_of(kv.first), "cases", "key appears more than once; only one list can be meant");
            continue;
        }
        has_cases = true;
        if (!kv.second.IsSequence() || kv.second.size() == 0) {
            sink.add(file, line_of(kv.second), "cases", "expected a non-empty list of cases");
            continue;
        }
        int i = 0;
        for (const auto& node : kv.second) cases.push_back(parse_case(node, i++, file, sink));
    }
    if (!has_cases) sink.add(file, line_of(root), "cases", "missing; a case file holds a `cases:` list");
    // Names are unique within a file (and across files: checked by the command).
    for (std::size_t i = 0; i < cases.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (!cases[i].name.empty() && cases[i].name == cases[j].name)
                sink.add(file, cases[i].line_of("name"), "cases." + std::to_string(i) + ".name",
                         "\"" + cases[i].name + "\" is already the name of case " + std::to_string(j) + " (line " +
                             std::to_string(cases[j].line) + "); names must be unique");
    sink.throw_if_any();
    return cases;
}

namespace {

// ---- running cases ----------------------------------------------------------------------------------

// What a case needs before it runs (resolved once, so input errors surface before any simulation).
struct Prepared {
    std::unique_ptr<ResolvedRun> run;     // kind run
    std::unique_ptr<fabric::WaferSpec> wafer;  // kind gemv
};

std::string case_key(const ValidationCase& c, const std::string& k) {
    return "cases." + std::to_string(c.index) + (k.empty() ? "" : "." + k);
}

// Re-points a diagnostic about a command-line option ("--set", "--wafer", ...) at the case file.
Diagnostic locate(const Diagnostic& d, const ValidationCase& c) {
    static const std::vector<std::pair<std::string, std::string>> kOptionKey = {
        {"--wafer", "wafer"}, {"--model", "model"}, {"--gpu", "gpu"}, {"--phase", "phase"},
        {"--mesh", "mesh"}, {"--traffic", "traffic"}, {"--config", "config"}, {"--injection-rate", "injection_rate"},
        {"--packet-flits", "packet_flits"}, {"--warmup", "warmup"}, {"--measure", "measure"}, {"--seed", "seed"}};
    if (d.file == "--set") {
        for (const auto& s : c.sets)
            if (s.key == d.key || ends_with(s.key, "." + d.key) || d.key.empty())
                return {c.file, s.line, case_key(c, "set." + s.key), d.message};
        return {c.file, c.line_of("set"), case_key(c, "set" + (d.key.empty() ? "" : "." + d.key)), d.message};
    }
    for (const auto& ok : kOptionKey)
        if (d.file == ok.first || d.key == ok.first)
            return {c.file, c.line_of(ok.second), case_key(c, ok.second), d.message};
    if (d.file.empty() || d.file == "<default>")
        return {c.file, c.line, case_key(c, ""), d.to_string()};
    return d;  // a problem inside a preset file the case names: its own file and line say where
}

void add_located(DiagnosticSink& sink, const InputError& e, const ValidationCase& c) {
    for (const auto& d : e.diagnostics()) sink.add(locate(d, c));
}

std::vector<std::string> set_strings(const ValidationCase& c) {
    std::vector<std::string> v;
    for (const auto& s : c.sets) v.push_back(s.key + "=" + s.value);
    return v;
}

// Looks up a dotted path ("baselines.0.decode_tokens_per_s") in a JSON document. On a miss, `why` says
// which component was not found and what was there instead.
const json* lookup(const json& root, const std::string& path, std::string& why) {
    const json* cur = &root;
    std::string done;
    std::size_t pos = 0;
    while (pos <= path.size()) {
        const std::size_t dot = path.find('.', pos);
        const std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
        const std::string here = done.empty() ? "the top level" : "\"" + done + "\"";
        if (cur->is_object()) {
            auto it = cur->find(part);
            if (it == cur->end()) {
                std::vector<std::string> keys;
                for (auto k = cur->begin(); k != cur->end(); ++k) keys.push_back(k.key());
                why = "\"" + part + "\" is not a key of " + here;
                const std::string near = did_you_mean(part, keys);
                if (!near.empty()) why += "; did you mean \"" + near + "\"?";
                why += " (keys: " + join(keys) + ")";
                return nullptr;
            }
            cur = &*it;
        } else if (cur->is_array()) {
            char* end = nullptr;
            const long idx = std::strtol(part.c_str(), &end, 10);
            if (part.empty() || *end != '\0' || idx < 0 || static_cast<std::size_t>(idx) >= cur->size()) {
                why = here + " is a list of " + std::to_string(cur->size()) + "; \"" + part + "\" is not an index of it";
                return nullptr;
            }
            cur = &(*cur)[static_cast<std::size_t>(idx)];
        } else {
            why = here + " is a single value; it has no \"" + part + "\"";
            return nullptr;
        }
        done += (done.empty() ? "" : ".") + part;
        if (dot == std::string::npos) break;
        pos = dot + 1;
    }
    return cur;
}

// The metric of a finished run, or an outcome that says why it has none.
CaseOutcome take_metric(const ValidationCase& c, const json& doc, const std::string& what) {
    CaseOutcome o;
    std::string why;
    const json* v = lookup(doc, c.metric, why);
    if (!v)
        throw InputError(c.file, c.line_of("metric"), case_key(c, "metric"),
                         "\"" + c.metric + "\" is not in the " + what + ": " + why);
    if (v->is_number()) {
        o.ran = true;
        o.simulated = v->get<double>();
        return o;
    }
    o.message = c.metric + " is " + (v->is_null() ? "null" : "not a number (" + v->dump() + ")");
    return o;
}

// Runs `work` in a forked child (run_forked) and returns the text it produced. SystemC elaborates once
// per process and a later, larger fabric cannot be added to it (PlanError "elaborated for N regions"),
// so under --engine systemc each case runs in a child with a fresh kernel. The child's PlanError,
// InputError and other exceptions are thrown again here.
std::string run_in_child(const ValidationCase& c, const std::function<std::string()>& work) {
    // The child's first line says how it went (ok, plan, input, internal), the rest is the payload.
    ChildResult result;
    run_forked(1, 1,
               [&](std::size_t) {
                   try {
                       return "ok\n" + work();
                   } catch (const PlanError& e) {
                       return std::string("plan\n") + e.what();
                   } catch (const InputError& e) {
                       return std::string("input\n") + e.what();
                   } catch (const std::exception& e) {
                       return std::string("internal\n") + e.what();
                   }
               },
               [&](std::size_t, const ChildResult& r) { result = r; });
    const std::size_t nl = result.text.find('\n');
    if (!result.ok || nl == std::string::npos)
        throw InternalError("validate: the SystemC run of case " + c.name + " failed: " +
                            (result.ok ? std::string("no reply") : result.text));
    const std::string head = result.text.substr(0, nl), body = result.text.substr(nl + 1);
    if (head == "plan") throw PlanError(body);
    if (head == "input") throw InputError(c.file, c.line, case_key(c, ""), body);
    if (head == "internal") throw InternalError(body);
    return body;
}

// summary.json of one run (in a child process under --engine systemc).
std::string run_summary(const ValidationCase& c, const ResolvedRun& run) {
    if (run.request.engine != "systemc") return summary_json(run, execute(run));
    return run_in_child(c, [&] { return summary_json(run, execute(run)); });
}

CaseOutcome run_model_case(const ValidationCase& c, const ResolvedRun& run) {
    const json doc = json::parse(run_summary(c, run));
    CaseOutcome o = take_metric(c, doc, "summary.json");
    if (!o.ran) {
        // A baseline that does not fit has a null metric and an error saying why.
        std::string why;
        const std::string head = c.metric.substr(0, c.metric.rfind('.'));
        if (const json* parent = lookup(doc, head, why); parent && parent->is_object() && parent->contains("error"))
            o.message += ": " + (*parent)["error"].get<std::string>();
    }
    return o;
}

// The GEMV of a gemv case as a one-layer plan for the SystemC engine: the rectangle at the usable
// origin, K along its rows when `k_on_rows` (reduced down every column) or along its columns (reduced
// along every row); one compute step, then the reduction.
double gemv_systemc_seconds(const ValidationCase& c, std::int64_t rows, std::int64_t cols, bool k_on_rows,
                            const fabric::WaferSpec& w) {
    mapping::ExecutionPlan plan;
    plan.model_name = "gemv";
    plan.wafer_name = w.name;
    plan.grid_rows = rows;
    plan.grid_cols = cols;
    plan.allreduce = c.allreduce;
    mapping::Stage st;
    st.region = mapping::Rect{w.usable_col0, w.usable_row0, cols, rows};
    plan.stages.push_back(st);
    const double k_side = static_cast<double>(k_on_rows ? rows : cols);
    const double n_side = static_cast<double>(k_on_rows ? cols : rows);
    const double k_per_core = std::ceil(static_cast<double>(c.k) / k_side);
    const double n_per_core = std::ceil(static_cast<double>(c.n) / n_side);
    mapping::Step mul;
    mul.kind = mapping::StepKind::Compute;
    mul.op = "gemv";
    mul.macs_per_core = k_per_core * n_per_core;
    mapping::Step red;
    red.kind = mapping::StepKind::Collective;
    red.op = "gemv.reduce";
    red.collective = mapping::CollectiveKind::Reduce;
    red.along = k_on_rows ? mapping::Along::Col : mapping::Along::Row;
    red.algo = c.allreduce;
    red.group_cores = k_on_rows ? rows : cols;
    red.groups = k_on_rows ? cols : rows;
    red.bytes_per_core = 2.0 * n_per_core;
    red.deps = {0};
    mapping::PhaseProgram prog;
    prog.layers.push_back(mapping::LayerProgram{"gemv", -1, {mul, red}});
    prog.stage_of.push_back(0);
    return engines::systemc_program_seconds(w, plan, prog, nullptr);
}

CaseOutcome run_gemv_case(const ValidationCase& c, const fabric::WaferSpec& w, bool systemc) {
    const std::int64_t rows = c.grid_rows ? c.grid_rows : w.usable_rows;
    const std::int64_t cols = c.grid_cols ? c.grid_cols : w.usable_cols;
    if (rows > w.usable_rows || cols > w.usable_cols)
        throw PlanError("grid " + std::to_string(rows) + "x" + std::to_string(cols) + " does not fit the usable area of " +
                        w.name + " (" + std::to_string(w.usable_rows) + " rows x " + std::to_string(w.usable_cols) +
                        " columns)");
    // The closed form of both orientations; the faster is the mapper's choice (gemv_seconds).
    const double k_rows = gemv_orientation_seconds(c.k, c.n, rows, cols, c.allreduce, w);
    const double k_cols = gemv_orientation_seconds(c.k, c.n, cols, rows, c.allreduce, w);
    const bool k_on_rows = k_rows <= k_cols;
    CaseOutcome o;
    o.ran = true;
    o.simulated = std::min(k_rows, k_cols);
    if (systemc) {
        // That orientation, simulated on the fabric.
        const std::string text = run_in_child(c, [&] {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.17g", gemv_systemc_seconds(c, rows, cols, k_on_rows, w));
            return std::string(buf);
        });
        o.simulated = std::stod(text);
    }
    return o;
}

CaseOutcome run_noc_case(const ValidationCase& c, DiagnosticSink& sink) {
    NocOptions n;
    n.config = c.noc_config;
    n.mesh = c.mesh;
    n.traffic = c.traffic;
    n.injection_rate = c.injection_rate;
    n.packet_flits = c.packet_flits;
    n.seed = c.seed;
    n.warmup = c.warmup;
    n.measure = c.measure;
    // The plain kernel gives the same cycles as the SystemC one; SystemC elaborates once per process and a
    // validation run may also need it for --engine systemc.
    n.kernel = "plain";
    n.sets = set_strings(c);
    n.json = true;
    n.command_line = "wafersim validate (case " + c.name + ")";
    std::ostringstream os;
    try {
        run_noc_command(n, os);
    } catch (const InputError& e) {
        add_located(sink, e, c);
        sink.throw_if_any();
    }
    const json doc = json::parse(os.str());
    CaseOutcome o = take_metric(c, doc, "noc result");
    if (!o.ran && doc.value("saturated", false))
        o.message = c.metric + " is undefined: the network saturated (" + doc.value("saturation_reason", std::string()) + ")";
    return o;
}

// ---- reporting -------------------------------------------------------------------------------------

std::string fmt_value(double v, const std::string& metric) {
    if (std::isnan(v)) return "-";
    if (metric_is_seconds(metric)) return format_quantity(v, UnitKind::Time);
    char b[64];
    std::snprintf(b, sizeof b, "%.6g", v);
    return b;
}

std::string fmt_percent(double v, bool sign) {
    if (std::isnan(v)) return "-";
    char b[64];
    std::snprintf(b, sizeof b, sign ? "%+.1f%%" : "%.1f%%", 100 * v);
    return b;
}

ordered_json number_or_null(double v) { return std::isnan(v) ? ordered_json() : ordered_json(v); }

void write_h5(const std::string& path, const std::vector<ValidationCase>& cases, const std::vector<CaseOutcome>& outs,
              double mape, const ValidateOptions& opt) {
    with_atomic_path(path, [&](const std::string& tmp) {
        H5Writer h5(tmp);
        std::vector<std::string> name, metric, source, kind, file, status, message;
        std::vector<double> published, simulated, error, tolerance;
        std::vector<std::int64_t> within;
        for (std::size_t i = 0; i < cases.size(); ++i) {
            name.push_back(cases[i].name);
            metric.push_back(cases[i].metric);
            source.push_back(cases[i].source);
            kind.push_back(to_string(cases[i].kind));
            file.push_back(cases[i].file);
            status.push_back(!outs[i].ran ? "failed" : outs[i].within ? "within" : "miss");
            message.push_back(outs[i].message);
            published.push_back(cases[i].published);
            simulated.push_back(outs[i].simulated);
            error.push_back(outs[i].error);
            tolerance.push_back(cases[i].tolerance);
            within.push_back(outs[i].within ? 1 : 0);
        }
        const std::string g = "/cases";
        h5.group(g);
        h5.attr(g, "description", "one row per validation case; every column has one entry per case");
        h5.strings(g + "/name", name, "case name");
        h5.dataset(g + "/published", published, "metric", "published value, in the unit of the case's metric");
        h5.dataset(g + "/simulated", simulated, "metric", "simulated value (NaN when the case failed to run)");
        h5.dataset(g + "/error", error, "1", "signed relative error (simulated - published) / published (NaN when failed)");
        h5.dataset(g + "/tolerance", tolerance, "1", "accepted relative error");
        h5.dataset(g + "/within", within, "", "1 when |error| <= tolerance, else 0 (0 when failed)");
        h5.strings(g + "/metric", metric, "compared key: summary.json path, gemv.seconds or a noc result");
        h5.strings(g + "/kind", kind, "run, gemv or noc");
        h5.strings(g + "/status", status, "within, miss or failed");
        h5.strings(g + "/message", message, "why a failed case did not run (empty otherwise)");
        h5.strings(g + "/source", source, "where the published value comes from");
        h5.strings(g + "/file", file, "case file");
        h5.attr("/", "engine", opt.engine);
        h5.attr("/", "mape_percent", mape);
        h5.attr("/", "version", WAFERSIM_VERSION);
        h5.attr("/", "command", opt.command_line);
        h5.close();
    });
}

}  // namespace

int run_validate_command(const ValidateOptions& opt, std::ostream& out) {
    if (opt.engine != "analytic" && opt.engine != "systemc")
        throw InputError("--engine", 0, "", "\"" + opt.engine + "\" is not an engine; expected analytic or systemc");

    // 1. Read every case file; report every problem in every file at once.
    std::vector<std::string> files = opt.case_files;
    if (files.empty()) files = list_presets(PresetKind::Validation);
    if (files.empty())
        throw InputError("--cases", 0, "", "no validation cases: configs/validation/ holds no .yaml file; give --cases FILE");
    DiagnosticSink sink;
    std::vector<ValidationCase> cases;
    std::vector<std::string> origins;
    for (const auto& f : files) {
        try {
            const PresetText t = load_preset(PresetKind::Validation, f, "--cases");
            origins.push_back(t.origin);
            for (auto& c : parse_validation_cases(t.text, t.origin)) cases.push_back(std::move(c));
        } catch (const InputError& e) {
            for (const auto& d : e.diagnostics()) sink.add(d);
        }
    }
    for (std::size_t i = 0; i < cases.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (cases[i].name == cases[j].name && cases[i].file != cases[j].file)
                sink.add(cases[i].file, cases[i].line_of("name"), case_key(cases[i], "name"),
                         "\"" + cases[i].name + "\" is already the name of a case in " + cases[j].file + ":" +
                             std::to_string(cases[j].line) + "; names must be unique");
    sink.throw_if_any();

    // 2. Resolve presets and overrides of every case before simulating anything.
    std::vector<Prepared> prep(cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const ValidationCase& c = cases[i];
        try {
            if (c.kind == CaseKind::Run) {
                RunRequest req;
                req.wafer = c.wafer;
                req.model = c.model;
                req.gpus.clear();
                if (!c.gpu.empty()) req.gpus.push_back(c.gpu);
                req.phase = c.phase;
                req.engine = opt.engine;
                req.sets = set_strings(c);
                prep[i].run = std::make_unique<ResolvedRun>(resolve_run(req));
            } else if (c.kind == CaseKind::Gemv) {
                const PresetText t = load_preset(PresetKind::Wafer, c.wafer, "--wafer");
                FlatConfig flat = parse_yaml_flat(t.text, t.origin);
                for (const auto& s : c.sets) set_flat(flat, s.key.substr(6), s.value, "--set");
                prep[i].wafer = std::make_unique<fabric::WaferSpec>(fabric::load_wafer(flat, t.origin));
            }
        } catch (const InputError& e) {
            add_located(sink, e, c);
        }
    }
    sink.throw_if_any();

    // 3. Run, printing each row as it finishes (SystemC cases take seconds each).
    std::size_t wname = 4, wmetric = 6;
    for (const auto& c : cases) {
        wname = std::max(wname, c.name.size());
        wmetric = std::max(wmetric, c.metric.size());
    }
    auto row = [&](const std::string& name, const std::string& metric, const std::string& pub, const std::string& sim,
                   const std::string& err, const std::string& tol, const std::string& result) {
        char b[512];
        std::snprintf(b, sizeof b, "%-*s  %-*s  %12s  %12s  %8s  %5s  %s\n", static_cast<int>(wname), name.c_str(),
                      static_cast<int>(wmetric), metric.c_str(), pub.c_str(), sim.c_str(), err.c_str(), tol.c_str(),
                      result.c_str());
        out << b << std::flush;
    };
    if (!opt.json) {
        out << "wafersim validate: " << cases.size() << " case(s), engine " << opt.engine << "\n";
        for (const auto& o : origins) out << "  " << o << "\n";
        out << "\n";
        row("case", "metric", "published", "simulated", "error", "tol", "result");
    }
    std::vector<CaseOutcome> outs(cases.size());
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const ValidationCase& c = cases[i];
        CaseOutcome o;
        try {
            if (c.kind == CaseKind::Run) o = run_model_case(c, *prep[i].run);
            else if (c.kind == CaseKind::Gemv) o = run_gemv_case(c, *prep[i].wafer, opt.engine == "systemc");
            else o = run_noc_case(c, sink);
        } catch (const PlanError& e) {
            o = CaseOutcome{};
            o.message = std::string("impossible plan: ") + e.what();
        }
        if (o.ran) {
            o.error = (o.simulated - c.published) / c.published;
            o.within = std::fabs(o.error) <= c.tolerance;
        } else {
            o.simulated = o.error = nan;
            o.within = false;
        }
        outs[i] = o;
        if (!opt.json)
            row(c.name, c.metric, fmt_value(c.published, c.metric), fmt_value(o.simulated, c.metric),
                fmt_percent(o.error, true), fmt_percent(c.tolerance, false),
                !o.ran ? "FAILED" : o.within ? "ok" : "MISS");
    }

    // 4. Summary.
    double sum = 0;
    std::size_t ran = 0, within = 0;
    for (const auto& o : outs) {
        if (!o.ran) continue;
        sum += std::fabs(o.error);
        ++ran;
        within += o.within ? 1 : 0;
    }
    const double mape = ran ? 100.0 * sum / static_cast<double>(ran) : nan;
    std::vector<std::string> notes;
    bool any_gemv = false, any_noc = false;
    for (const auto& c : cases) {
        any_gemv = any_gemv || c.kind == CaseKind::Gemv;
        any_noc = any_noc || c.kind == CaseKind::Noc;
    }
    if (any_gemv)
        notes.push_back(opt.engine == "systemc"
                            ? "gemv cases run as a one-layer plan (multiply, then reduce) on the SystemC fabric, in the orientation the closed form finds faster"
                            : "gemv cases use the analytic closed form (compute_cycles + collective_cycles)");
    if (any_noc)
        notes.push_back("noc cases run the cycle-level router model with the plain kernel (same cycles as the SystemC kernel); "
                        "--engine does not apply to them");
    notes.push_back("mape is the mean of |error| over the cases that ran, in percent; failed cases are not in it");

    if (opt.json || !opt.out.empty()) {
        ordered_json j;
        j["engine"] = opt.engine;
        ordered_json arr = ordered_json::array();
        for (std::size_t i = 0; i < cases.size(); ++i) {
            const ValidationCase& c = cases[i];
            const CaseOutcome& o = outs[i];
            ordered_json e;
            e["name"] = c.name;
            e["published"] = c.published;
            e["simulated"] = number_or_null(o.simulated);
            e["error"] = number_or_null(o.error);
            e["within_tolerance"] = o.within;
            e["source"] = c.source;
            e["metric"] = c.metric;
            e["tolerance"] = c.tolerance;
            e["kind"] = to_string(c.kind);
            e["status"] = !o.ran ? "failed" : o.within ? "within" : "miss";
            if (!o.ran) e["message"] = o.message;
            e["file"] = c.file;
            arr.push_back(e);
        }
        j["cases"] = arr;
        j["mape"] = number_or_null(mape);
        j["cases_ran"] = ran;
        j["cases_within"] = within;
        j["cases_failed"] = cases.size() - ran;
        j["notes"] = notes;
        j["version"] = WAFERSIM_VERSION;
        j["command"] = opt.command_line;
        const std::string text = j.dump(2) + "\n";
        if (opt.json) out << text;
        if (!opt.out.empty()) {
            make_dirs(opt.out);
            write_file_atomic(opt.out + "/validation.json", text);
            write_h5(opt.out + "/validation.h5", cases, outs, mape, opt);
        }
    }
    if (!opt.json) {
        bool header = false;
        for (std::size_t i = 0; i < cases.size(); ++i) {
            if (outs[i].ran) continue;
            if (!header) out << "\nfailed:\n";
            header = true;
            out << "  " << cases[i].name << ": " << outs[i].message << "\n";
        }
        out << "\n" << within << " of " << cases.size() << " case(s) within tolerance";
        if (ran < cases.size()) out << ", " << cases.size() - ran << " failed to run";
        out << "; MAPE " << (ran ? fmt_percent(mape / 100.0, false) : std::string("-")) << " over " << ran << " case(s)\n";
        for (const auto& n : notes) out << "note: " << n << "\n";
        if (!opt.out.empty()) out << "results in " << opt.out << "/ (validation.h5, validation.json)\n";
    }
    return 0;
}

int run_validate_command(const ValidateOptions& opt) { return run_validate_command(opt, std::cout); }

}  // namespace wafersim::run
