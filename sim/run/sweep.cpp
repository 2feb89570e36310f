// `wafersim sweep`: expands an experiment file into points, runs each in a forked child (or in this
// process for the analytic engine with --jobs 1), and gathers the points into sweep.csv and sweep.h5.
// The MPI driver (sweep_mpi.cpp) reuses the pieces declared in sweep_internal.hpp.
#include "sim/run/sweep.hpp"
#include "sim/run/sweep_internal.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <poll.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/base/atomic_file.hpp"
#include "sim/base/errors.hpp"
#include "sim/run/child_process.hpp"
#include "sim/run/experiment.hpp"
#include "sim/run/h5_writer.hpp"
#include "sim/run/outputs.hpp"
#include "sim/run/presets.hpp"

namespace wafersim::run {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

const std::vector<std::string> kTopKeys = {"name", "description", "base", "axes", "combine", "points", "samples", "seed"};
const std::vector<std::string> kBaseKeys = {"wafer", "model", "gpu", "phase", "engine", "set", "seed"};
const std::vector<std::string> kPresetAxes = {"model", "wafer", "gpu", "phase", "engine", "seed"};
const std::vector<std::string> kSections = {"wafer", "gpu", "mapping", "workload", "precision", "baseline", "systemc"};
const std::vector<std::string> kCombine = {"grid", "zip", "list", "random"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

int line_of(const YAML::Node& n) { return n.Mark().line >= 0 ? n.Mark().line + 1 : 0; }

std::string with_near(std::string msg, const std::string& word, const std::vector<std::string>& choices) {
    const std::string near = did_you_mean(word, choices);
    if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
    return msg;
}

std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
    return s;
}

const char* shape(const YAML::Node& n) {
    return n.IsNull() ? "nothing" : n.IsMap() ? "a mapping" : n.IsSequence() ? "a list" : "a single value";
}

// Checks one axis (or point) key: a preset (model, wafer, ...) or a `--set` key with a known section.
void check_axis_key(const std::string& key, const std::string& at, int line, const std::string& file,
                    DiagnosticSink& sink) {
    if (contains(kPresetAxes, key)) return;
    const auto dot = key.find('.');
    if (dot == std::string::npos || dot == 0 || key.back() == '.') {
        sink.add(file, line, at,
                 with_near("\"" + key + "\" is not a sweep key; expected model, wafer, gpu, phase, engine, seed or a --set key such as workload.batch",
                           key, kPresetAxes));
        return;
    }
    const std::string section = key.substr(0, dot);
    if (!contains(kSections, section))
        sink.add(file, line, at,
                 with_near("unknown section \"" + section + "\"", section, kSections) + " (sections: " + join(kSections) + ")");
}

// base.set: a mapping of dotted keys (or nested mappings) to values.
void flatten_sets(const YAML::Node& n, const std::string& prefix, const std::string& file,
                  std::vector<std::pair<std::string, std::string>>& out, DiagnosticSink& sink) {
    for (const auto& kv : n) {
        const std::string k = prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
        if (kv.second.IsMap()) {
            flatten_sets(kv.second, k, file, out, sink);
        } else if (kv.second.IsScalar()) {
            check_axis_key(k, "base.set." + k, line_of(kv.first), file, sink);
            if (contains(kPresetAxes, k))
                sink.add(file, line_of(kv.first), "base.set." + k, "\"" + k + "\" is a preset; write it as base." + k);
            out.emplace_back(k, kv.second.Scalar());
        } else {
            sink.add(file, line_of(kv.second), "base.set." + k, std::string("expected a value, found ") + shape(kv.second));
        }
    }
}

// Uniform index in [0, n) from a 64-bit generator, by rejection (the same on every standard library;
// std::uniform_int_distribution is not).
std::size_t pick(std::mt19937_64& rng, std::size_t n) {
    const std::uint64_t range = n;
    const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % range;
    std::uint64_t x;
    do x = rng();
    while (x >= limit);
    return static_cast<std::size_t>(x % range);
}

bool is_number(const std::string& s, double* out = nullptr) {
    if (s.empty()) return false;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || *end != '\0' || !std::isfinite(v)) return false;
    if (out) *out = v;
    return true;
}

}  // namespace

RunRequest Experiment::request(const SweepPoint& p) const {
    RunRequest req = base;
    std::vector<std::pair<std::string, std::string>> sets = base_sets;
    for (const auto& [k, v] : p.axes) {
        if (k == "model") req.model = v;
        else if (k == "wafer") req.wafer = v;
        else if (k == "gpu") req.gpus = v == "none" ? std::vector<std::string>{} : std::vector<std::string>{v};
        else if (k == "phase") req.phase = v;
        else if (k == "engine") req.engine = v;
        else if (k == "seed") req.seed = std::strtoull(v.c_str(), nullptr, 10);
        else {
            auto it = std::find_if(sets.begin(), sets.end(), [&](const auto& s) { return s.first == k; });
            if (it != sets.end()) it->second = v;
            else sets.emplace_back(k, v);
        }
    }
    req.sets.clear();
    for (const auto& [k, v] : sets) req.sets.push_back(k + "=" + v);
    return req;
}

Experiment parse_experiment(const std::string& text, const std::string& file) {
    Experiment e;
    e.file = file;
    e.text = text;
    DiagnosticSink sink;
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& ex) {
        throw InputError(file, ex.mark.line >= 0 ? ex.mark.line + 1 : 0, "", "not valid YAML: " + ex.msg);
    }
    if (!root.IsMap())
        throw InputError(file, line_of(root), "", std::string("expected a mapping with base:, axes: and combine:, found ") + shape(root));

    // yaml-cpp: a default-constructed Node is defined (null) and operator= writes through, so the
    // top-level nodes are kept by copy in a map; an absent key is an undefined node.
    std::map<std::string, YAML::Node> top;
    std::vector<std::string> seen;
    for (const auto& kv : root) {
        const std::string k = kv.first.Scalar();
        const int line = line_of(kv.first);
        if (contains(seen, k)) {
            sink.add(file, line, k, "key appears more than once; only one value can be meant");
            continue;
        }
        seen.push_back(k);
        if (!contains(kTopKeys, k)) {
            sink.add(file, line, k, with_near("unknown key", k, kTopKeys) + " (keys: " + join(kTopKeys) + ")");
            continue;
        }
        top.emplace(k, kv.second);
    }
    const YAML::Node& croot = root;
    const YAML::Node undefined = croot["\x01" "absent"];  // an undefined node (a const lookup does not insert)
    auto get = [&](const char* k) { auto it = top.find(k); return it == top.end() ? undefined : it->second; };
    const YAML::Node base = get("base"), axes = get("axes"), points = get("points"), combine = get("combine"),
                     samples = get("samples"), seed = get("seed");

    // base:
    if (base && !base.IsNull()) {
        if (!base.IsMap()) {
            sink.add(file, line_of(base), "base", std::string("expected a mapping (wafer:, model:, ...), found ") + shape(base));
        } else {
            for (const auto& kv : base) {
                const std::string k = kv.first.Scalar();
                const std::string at = "base." + k;
                const int line = line_of(kv.first);
                const YAML::Node& v = kv.second;
                if (!contains(kBaseKeys, k)) {
                    sink.add(file, line, at, with_near("unknown key", k, kBaseKeys) + " (keys of base: " + join(kBaseKeys) + ")");
                    continue;
                }
                if (k == "set") {
                    if (!v.IsMap()) sink.add(file, line_of(v), at, std::string("expected a mapping key.path: value, found ") + shape(v));
                    else flatten_sets(v, "", file, e.base_sets, sink);
                    continue;
                }
                if (k == "gpu" && v.IsSequence()) {
                    e.base.gpus.clear();
                    for (const auto& g : v)
                        if (g.IsScalar() && g.Scalar() != "none") e.base.gpus.push_back(g.Scalar());
                    continue;
                }
                if (!v.IsScalar() || v.Scalar().empty()) {
                    sink.add(file, line_of(v), at, std::string("expected a single value, found ") + shape(v));
                    continue;
                }
                const std::string s = v.Scalar();
                if (k == "wafer") e.base.wafer = s;
                else if (k == "model") e.base.model = s;
                else if (k == "gpu") e.base.gpus = s == "none" ? std::vector<std::string>{} : std::vector<std::string>{s};
                else if (k == "phase") e.base.phase = s;
                else if (k == "engine") e.base.engine = s;
                else if (k == "seed") {
                    double x = 0;
                    if (!is_number(s, &x) || x < 0 || x != std::floor(x)) sink.add(file, line_of(v), at, "expected an integer >= 0, found \"" + s + "\"");
                    else e.base.seed = std::strtoull(s.c_str(), nullptr, 10);
                }
            }
        }
    }

    // combine:
    int combine_line = 0;
    if (combine) {
        combine_line = line_of(combine);
        if (!combine.IsScalar()) {
            sink.add(file, combine_line, "combine", std::string("expected grid, zip, list or random, found ") + shape(combine));
        } else {
            e.combine = combine.Scalar();
            if (!contains(kCombine, e.combine))
                sink.add(file, combine_line, "combine",
                         with_near("\"" + e.combine + "\" is not a way to combine axes; expected grid, zip, list or random", e.combine, kCombine));
        }
    } else if (points) {
        e.combine = "list";
    }
    const bool list = e.combine == "list";
    if (list && axes) sink.add(file, line_of(axes), "axes", "combine: list takes points:, not axes: (write each point as a mapping under points:)");
    if (!list && points) sink.add(file, line_of(points), "points", "is for combine: list; combine is " + e.combine);
    if (e.combine != "random") {
        if (samples) sink.add(file, line_of(samples), "samples", "is for combine: random; combine is " + e.combine);
        if (seed) sink.add(file, line_of(seed), "seed", "is for combine: random; combine is " + e.combine + " (the run seed is base.seed)");
    }

    // axes:
    std::vector<std::vector<std::string>> values;
    if (!list && contains(kCombine, e.combine)) {
        if (!axes || axes.IsNull()) {
            sink.add(file, 0, "axes", "missing: expected a mapping of sweep keys to lists of values (e.g. workload.batch: [1, 2, 4])");
        } else if (!axes.IsMap()) {
            sink.add(file, line_of(axes), "axes", std::string("expected a mapping of keys to lists of values, found ") + shape(axes));
        } else {
            for (const auto& kv : axes) {
                const std::string k = kv.first.Scalar();
                const std::string at = "axes." + k;
                const int line = line_of(kv.first);
                if (contains(e.axis_keys, k)) {
                    sink.add(file, line, at, "axis appears more than once");
                    continue;
                }
                check_axis_key(k, at, line, file, sink);
                e.axis_lines.push_back(line);
                std::vector<std::string> vals;
                if (kv.second.IsSequence()) {
                    for (const auto& x : kv.second) {
                        if (!x.IsScalar() || x.Scalar().empty()) sink.add(file, line_of(x), at, std::string("expected a single value, found ") + shape(x));
                        else vals.push_back(x.Scalar());
                    }
                    if (kv.second.size() == 0) sink.add(file, line, at, "empty axis: expected a list of at least one value");
                } else {
                    sink.add(file, line, at, std::string("expected a list of values such as [1, 2, 4], found ") + shape(kv.second));
                }
                e.axis_keys.push_back(k);
                values.push_back(vals);
            }
            if (e.axis_keys.empty()) sink.add(file, line_of(axes), "axes", "no axes: expected at least one key with a list of values");
        }
        if (e.combine == "zip" && !values.empty()) {
            for (std::size_t a = 1; a < values.size(); ++a)
                if (values[a].size() != values[0].size())
                    sink.add(file, combine_line, "axes." + e.axis_keys[a],
                             "combine: zip needs axes of equal length; " + e.axis_keys[a] + " has " + std::to_string(values[a].size()) +
                                 " value(s), " + e.axis_keys[0] + " has " + std::to_string(values[0].size()));
        }
    }
    std::int64_t n_samples = 0;
    std::uint64_t rseed = 0;
    if (e.combine == "random") {
        if (!samples) sink.add(file, combine_line, "samples", "combine: random needs samples: N (how many points to draw)");
        else {
            double x = 0;
            if (!samples.IsScalar() || !is_number(samples.Scalar(), &x) || x < 1 || x != std::floor(x))
                sink.add(file, line_of(samples), "samples", "expected an integer >= 1, found \"" + (samples.IsScalar() ? samples.Scalar() : std::string(shape(samples))) + "\"");
            else n_samples = static_cast<std::int64_t>(x);
        }
        if (seed) {
            double x = 0;
            if (!seed.IsScalar() || !is_number(seed.Scalar(), &x) || x < 0 || x != std::floor(x))
                sink.add(file, line_of(seed), "seed", "expected an integer >= 0, found \"" + (seed.IsScalar() ? seed.Scalar() : std::string(shape(seed))) + "\"");
            else rseed = std::strtoull(seed.Scalar().c_str(), nullptr, 10);
        }
    }

    // points: (combine: list)
    if (list) {
        if (!points || !points.IsSequence() || points.size() == 0) {
            sink.add(file, points ? line_of(points) : 0, "points", "combine: list needs points: a non-empty list of mappings such as {workload.batch: 4}");
        } else {
            std::size_t i = 0;
            for (const auto& p : points) {
                const std::string at = "points." + std::to_string(i);
                SweepPoint sp;
                sp.index = i++;
                if (!p.IsMap()) {
                    sink.add(file, line_of(p), at, std::string("expected a mapping key: value, found ") + shape(p));
                    continue;
                }
                for (const auto& kv : p) {
                    const std::string k = kv.first.Scalar();
                    check_axis_key(k, at + "." + k, line_of(kv.first), file, sink);
                    if (!kv.second.IsScalar() || kv.second.Scalar().empty()) {
                        sink.add(file, line_of(kv.second), at + "." + k, std::string("expected a single value, found ") + shape(kv.second));
                        continue;
                    }
                    if (!contains(e.axis_keys, k)) {
                        e.axis_keys.push_back(k);
                        e.axis_lines.push_back(line_of(kv.first));
                    }
                    sp.axes.emplace_back(k, kv.second.Scalar());
                }
                e.points.push_back(sp);
            }
        }
    }
    sink.throw_if_any();

    // Expand.
    if (e.combine == "grid") {
        std::size_t total = 1;
        for (const auto& v : values) total *= v.size();
        for (std::size_t i = 0; i < total; ++i) {
            SweepPoint p;
            p.index = i;
            std::size_t rest = i;
            std::vector<std::size_t> idx(values.size());
            for (std::size_t a = values.size(); a-- > 0;) {
                idx[a] = rest % values[a].size();
                rest /= values[a].size();
            }
            for (std::size_t a = 0; a < values.size(); ++a) p.axes.emplace_back(e.axis_keys[a], values[a][idx[a]]);
            e.points.push_back(p);
        }
    } else if (e.combine == "zip") {
        for (std::size_t i = 0; i < values[0].size(); ++i) {
            SweepPoint p;
            p.index = i;
            for (std::size_t a = 0; a < values.size(); ++a) p.axes.emplace_back(e.axis_keys[a], values[a][i]);
            e.points.push_back(p);
        }
    } else if (e.combine == "random") {
        std::mt19937_64 rng(rseed);
        for (std::int64_t i = 0; i < n_samples; ++i) {
            SweepPoint p;
            p.index = static_cast<std::size_t>(i);
            for (std::size_t a = 0; a < values.size(); ++a) p.axes.emplace_back(e.axis_keys[a], values[a][pick(rng, values[a].size())]);
            e.points.push_back(p);
        }
    }
    return e;
}

namespace {

bool exists(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

std::string point_path(const std::string& dir, std::size_t i) {
    char b[32];
    std::snprintf(b, sizeof b, "%06zu.json", i);
    return dir + "/points/" + b;
}

// A point file that parses and belongs to point `i`; null otherwise.
json read_point(const std::string& dir, std::size_t i) {
    const std::string p = point_path(dir, i);
    if (!exists(p)) return nullptr;
    try {
        json j = json::parse(read_text(p));
        if (j.is_object() && j.contains("index") && j["index"] == i && j.contains("status")) return j;
    } catch (const std::exception&) {
    }
    return nullptr;
}

ordered_json axes_json(const SweepPoint& p) {
    ordered_json a = ordered_json::object();
    for (const auto& [k, v] : p.axes) {
        double x = 0;
        if (is_number(v, &x)) {
            const bool integral = v.find_first_not_of("+-0123456789") == std::string::npos;
            if (integral) a[k] = std::strtoll(v.c_str(), nullptr, 10);
            else a[k] = x;
        } else {
            a[k] = v;
        }
    }
    return a;
}

// The point file text of one point. Every failure becomes a point with status "error".
std::string make_record(const Experiment& e, const SweepPoint& p) {
    ordered_json j;
    j["index"] = p.index;
    j["axes"] = axes_json(p);
    try {
        const ResolvedRun run = resolve_run(e.request(p));
        const std::string s = summary_json(run, execute(run));
        j["status"] = "ok";
        j["summary"] = ordered_json::parse(s);
    } catch (const InputError& ex) {
        j["status"] = "error";
        j["error"] = std::string("input: ") + ex.what();
    } catch (const PlanError& ex) {
        j["status"] = "error";
        j["error"] = std::string("impossible plan: ") + ex.what();
    } catch (const std::exception& ex) {
        j["status"] = "error";
        j["error"] = std::string("internal error (a bug in wafersim): ") + ex.what();
    }
    return j.dump(2) + "\n";
}

std::string make_error_record(const SweepPoint& p, const std::string& msg) {
    ordered_json j;
    j["index"] = p.index;
    j["axes"] = axes_json(p);
    j["status"] = "error";
    j["error"] = msg;
    return j.dump(2) + "\n";
}

// Removes the NAME.tmp.PID files killed writers left in DIR and DIR/points; returns how many.
std::size_t remove_leftover_tmps(const std::string& dir) {
    return static_cast<std::size_t>(remove_stale_tmps_in(dir) + remove_stale_tmps_in(dir + "/points"));
}

std::string one_line(std::string s) {
    for (char& c : s)
        if (c == '\n') c = ' ';
    return s;
}

std::string fmt_num(const json& v) {
    if (v.is_number()) return v.dump();
    if (v.is_string()) return v.get<std::string>();
    return "";
}

// The progress line of one finished point.
std::string progress(std::size_t k, std::size_t total, const json& j) {
    std::string s = "[" + std::to_string(k) + "/" + std::to_string(total) + "] point " + j["index"].dump() + ": ";
    if (j["status"] == "ok") {
        s += "ok";
        const json& sum = j["summary"];
        for (const char* ph : {"decode", "prefill"})
            if (sum.contains(ph) && sum[ph].is_object() && sum[ph].contains("tokens_per_s")) {
                s += std::string(" (") + ph + ".tokens_per_s=" + fmt_num(sum[ph]["tokens_per_s"]) + ")";
                break;
            }
    } else {
        s += "error: " + one_line(j.value("error", std::string("?")));
    }
    return s;
}

// Looks up a dotted path ("baselines.0.decode_tokens_per_s") in a summary; null when absent.
json lookup(const json& doc, const std::string& path) {
    const json* cur = &doc;
    std::size_t pos = 0;
    while (pos <= path.size()) {
        const std::size_t dot = path.find('.', pos);
        const std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
        if (cur->is_object()) {
            if (!cur->contains(part)) return nullptr;
            cur = &(*cur)[part];
        } else if (cur->is_array()) {
            const std::size_t i = std::strtoul(part.c_str(), nullptr, 10);
            if (i >= cur->size()) return nullptr;
            cur = &(*cur)[i];
        } else {
            return nullptr;
        }
        if (dot == std::string::npos) break;
        pos = dot + 1;
    }
    return *cur;
}

struct Metric {
    std::string key, unit, description;
};

std::vector<Metric> metric_columns(const std::vector<json>& pts) {
    std::vector<Metric> m = {
        {"decode.tokens_per_s", "tokens/s", "decode throughput of one sequence on the wafer(s)"},
        {"decode.seconds_per_token", "s", "decode time per generated token"},
        {"decode.max_context_tokens", "tokens", "longest context whose KV cache fits"},
        {"prefill.tokens_per_s", "tokens/s", "prefill throughput"},
        {"prefill.ttft_s", "s", "time to first token"},
        {"mapping.wafers", "wafers", "wafers the model is pipelined across"},
        {"mapping.stages", "stages", "pipeline stages"},
        {"mapping.cores_used", "cores", "cores holding a part of the model"},
    };
    std::size_t nb = 0;
    for (const auto& j : pts)
        if (j.contains("summary") && j["summary"].contains("baselines") && j["summary"]["baselines"].is_array())
            nb = std::max(nb, j["summary"]["baselines"].size());
    for (std::size_t i = 0; i < nb; ++i)
        m.push_back({"baselines." + std::to_string(i) + ".decode_tokens_per_s", "tokens/s",
                     "decode throughput of HBM baseline " + std::to_string(i)});
    return m;
}

std::string csv_cell(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

void write_tables(const std::string& dir, const Experiment& e, const std::vector<json>& pts) {
    const std::vector<Metric> metrics = metric_columns(pts);
    const std::size_t n = pts.size();
    // Axis text as written (from the experiment, not the JSON, so "48KiB" and "1.0" survive as written).
    std::vector<std::vector<std::string>> axis(e.axis_keys.size(), std::vector<std::string>(n));
    for (std::size_t i = 0; i < n; ++i)
        for (const auto& [k, v] : e.points[i].axes)
            axis[std::find(e.axis_keys.begin(), e.axis_keys.end(), k) - e.axis_keys.begin()][i] = v;

    std::string csv = "index";
    for (const auto& k : e.axis_keys) csv += "," + csv_cell(k);
    csv += ",status";
    for (const auto& m : metrics) csv += "," + m.key;
    csv += "\n";
    for (std::size_t i = 0; i < n; ++i) {
        csv += std::to_string(i);
        for (const auto& col : axis) csv += "," + csv_cell(col[i]);
        csv += "," + pts[i]["status"].get<std::string>();
        for (const auto& m : metrics) {
            csv += ",";
            if (pts[i].contains("summary")) {
                const json v = lookup(pts[i]["summary"], m.key);
                if (v.is_number()) csv += v.dump();
            }
        }
        csv += "\n";
    }
    write_file_atomic(dir + "/sweep.csv", csv);

    with_atomic_path(dir + "/sweep.h5", [&](const std::string& tmp) {
        H5Writer w(tmp);
        w.group("/points");
        w.attr("/points", "description", "one row per sweep point (index order); one dataset per column of sweep.csv");
        std::vector<std::string> cols = {"index"};
        std::vector<double> idx(n);
        for (std::size_t i = 0; i < n; ++i) idx[i] = static_cast<double>(i);
        w.dataset("/points/index", idx, "", "point number");
        for (std::size_t a = 0; a < e.axis_keys.size(); ++a) {
            const std::string path = "/points/" + e.axis_keys[a];
            bool numeric = true;
            std::vector<double> num(n, std::numeric_limits<double>::quiet_NaN());
            for (std::size_t i = 0; i < n && numeric; ++i)
                if (!axis[a][i].empty() && !is_number(axis[a][i], &num[i])) numeric = false;
            if (numeric) w.dataset(path, num, "", "sweep axis " + e.axis_keys[a] + " (NaN: the base value)");
            else w.strings(path, axis[a], "sweep axis " + e.axis_keys[a] + " (empty: the base value)");
            cols.push_back(e.axis_keys[a]);
        }
        std::vector<std::string> status(n), error(n);
        for (std::size_t i = 0; i < n; ++i) {
            status[i] = pts[i]["status"].get<std::string>();
            error[i] = pts[i].value("error", std::string());
        }
        w.strings("/points/status", status, "ok, or error (the point could not be run; see error)");
        cols.push_back("status");
        for (const auto& m : metrics) {
            std::vector<double> v(n, std::numeric_limits<double>::quiet_NaN());
            for (std::size_t i = 0; i < n; ++i)
                if (pts[i].contains("summary")) {
                    const json x = lookup(pts[i]["summary"], m.key);
                    if (x.is_number()) v[i] = x.get<double>();
                }
            w.dataset("/points/" + m.key, v, m.unit, m.description + " (NaN: absent)");
            cols.push_back(m.key);
        }
        w.strings("/points/error", error, "why the point failed (empty when ok)");
        w.attr("/points", "columns", join(cols, ","));
        w.attr("/", "experiment", e.file);
        w.attr("/", "combine", e.combine);
        w.attr("/", "version", WAFERSIM_VERSION);
        w.close();
    });
}

std::string fresh_sweep_dir(const Experiment& e) {
    std::time_t now = std::time(nullptr);
    char ts[32];
    std::strftime(ts, sizeof ts, "%Y%m%d-%H%M%S", std::localtime(&now));
    std::string stem = e.file.substr(e.file.find_last_of('/') + 1);
    if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".yaml") == 0) stem.resize(stem.size() - 5);
    std::string base = "runs/" + std::string(ts) + "-sweep-" + stem;
    for (char& c : base)
        if (c == ' ') c = '_';
    std::string dir = base;
    for (int i = 2; exists(dir); ++i) dir = base + "-" + std::to_string(i);
    return dir;
}

bool dir_has_entries(const std::string& dir) {
    if (!exists(dir)) return false;
    std::error_code ec;
    for (const auto& ent : std::filesystem::directory_iterator(dir, ec)) {
        (void)ent;
        return true;
    }
    return false;
}

bool needs_fork(const Experiment& e, const std::vector<std::size_t>& todo) {
    for (std::size_t i : todo)
        if (e.request(e.points[i]).engine != "analytic") return true;
    return false;
}

}  // namespace


namespace sweep_detail {

std::string point_record(const Experiment& e, const SweepPoint& p) { return make_record(e, p); }

std::string error_record(const SweepPoint& p, const std::string& message) { return make_error_record(p, message); }

long record_index(const Experiment& e, const std::string& text) {
    try {
        const json j = json::parse(text);
        if (!j.is_object() || !j.contains("status") || !j.contains("index") || !j["index"].is_number_unsigned()) return -1;
        const std::size_t i = j["index"].get<std::size_t>();
        return i < e.points.size() ? static_cast<long>(i) : -1;
    } catch (const std::exception&) {
        return -1;
    }
}

Plan prepare_sweep(const SweepOptions& opt, std::ostream& out, int ranks) {
    if (opt.jobs < 1) throw InputError("--jobs", 0, "", "expected an integer >= 1, found " + std::to_string(opt.jobs));
    std::size_t shard_i = 0, shard_n = 1;
    if (!opt.shard.empty()) {
        const auto slash = opt.shard.find('/');
        char* e1 = nullptr;
        char* e2 = nullptr;
        const std::string a = opt.shard.substr(0, slash), b = slash == std::string::npos ? "" : opt.shard.substr(slash + 1);
        const long i = std::strtol(a.c_str(), &e1, 10), n = std::strtol(b.c_str(), &e2, 10);
        if (slash == std::string::npos || a.empty() || b.empty() || *e1 || *e2 || n < 1 || i < 0 || i >= n)
            throw InputError("--shard", 0, "", "expected I/N with 0 <= I < N (e.g. 0/4), found \"" + opt.shard + "\"");
        shard_i = static_cast<std::size_t>(i);
        shard_n = static_cast<std::size_t>(n);
    }
    const PresetText t = load_preset(PresetKind::Experiment, opt.experiment, "EXPERIMENT");
    Plan plan;
    plan.e = parse_experiment(t.text, t.origin);
    const Experiment& e = plan.e;
    // The base must resolve on its own: a wrong preset or --set key there would fail every point.
    {
        SweepPoint none;
        try {
            (void)resolve_run(e.request(none));
        } catch (const InputError& ex) {
            std::vector<Diagnostic> d;
            for (auto x : ex.diagnostics()) {
                x.message = "in base: " + x.message;
                if (x.file == "--set" || x.file.empty()) x.file = e.file;
                d.push_back(x);
            }
            throw InputError(d);
        }
    }
    // An axis key the parameter tables do not know would fail every point: report it now. (A value
    // that is wrong only for some points is that point's error.)
    {
        SweepPoint first;
        for (const auto& k : e.axis_keys)
            for (const auto& p : e.points) {
                const auto it = std::find_if(p.axes.begin(), p.axes.end(), [&](const auto& a) { return a.first == k; });
                if (it != p.axes.end()) {
                    first.axes.push_back(*it);
                    break;
                }
            }
        try {
            (void)resolve_run(e.request(first));
        } catch (const InputError& ex) {
            DiagnosticSink sink;
            for (const auto& x : ex.diagnostics())
                for (std::size_t a = 0; a < e.axis_keys.size(); ++a)
                    if (x.key == e.axis_keys[a] && x.message.rfind("unknown key", 0) == 0)
                        sink.add(e.file, e.axis_lines[a], (e.combine == "list" ? "points.*." : "axes.") + x.key, x.message);
            sink.throw_if_any();
        } catch (const PlanError&) {
        }
    }

    plan.dir = opt.out.empty() ? fresh_sweep_dir(e) : opt.out;
    const std::string& dir = plan.dir;
    if (!opt.resume && dir_has_entries(dir + "/points"))
        throw InputError("--out", 0, "", dir + "/points already holds point files; pass --resume to continue that sweep, or choose a fresh --out");
    if (opt.resume && exists(dir + "/experiment.yaml") && read_text(dir + "/experiment.yaml") != e.text)
        throw InputError("--resume", 0, "", dir + "/experiment.yaml differs from " + e.file +
                                                 "; the points there belong to another experiment (choose a fresh --out)");
    make_dirs(dir + "/points");
    // A sweep killed while writing leaves NAME.tmp.PID files; they are never read. A whole-sweep resume
    // owns the folder and removes them; a shard leaves them (another shard may be writing right now).
    const std::size_t cleaned = opt.resume && shard_n == 1 ? remove_leftover_tmps(dir) : 0;
    write_file_atomic(dir + "/experiment.yaml", e.text);

    const std::size_t total = e.points.size();
    std::size_t mine = 0;
    for (std::size_t i = 0; i < total; ++i) {
        if (i % shard_n != shard_i) continue;
        ++mine;
        if (opt.resume && !read_point(dir, i).is_null()) ++plan.skipped;
        else plan.todo.push_back(i);
    }
    out << "wafersim sweep: " << e.file << ": " << total << " point(s), combine " << e.combine;
    if (shard_n > 1) out << ", shard " << shard_i << "/" << shard_n << " (" << mine << " point(s))";
    out << "; " << plan.todo.size() << " to run, " << plan.skipped << " already done; " << opt.jobs << " job(s)";
    if (ranks > 0) out << " on each of " << ranks << " MPI rank(s)";
    out << "\n";
    if (cleaned > 0) out << "removed " << cleaned << " temporary file(s) left by an interrupted run\n";
    out << std::flush;
    return plan;
}

Recorder::Recorder(const Plan& plan, std::ostream& out)
    : m_plan(plan), m_out(out), m_tty(&out == &std::cout && ::isatty(STDOUT_FILENO)), m_start(std::chrono::steady_clock::now()) {}

namespace {
std::string eta_text(double s) {
    if (!(s >= 0) || s > 1e7) return "?";
    const long t = std::lround(s);
    char buf[32];
    if (t >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
    return buf;
}
}  // namespace

void Recorder::record(std::size_t index, const std::string& text) {
    if (record_index(m_plan.e, text) != static_cast<long>(index))
        throw InternalError("sweep: the record of point " + std::to_string(index) + " does not parse or names another point");
    write_file_atomic(point_path(m_plan.dir, index), text);
    const json j = json::parse(text);
    ++m_done;
    if (j["status"] == "ok") ++m_ok;
    else ++m_failed;
    const std::size_t total = m_plan.todo.size();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    const double eta = elapsed / static_cast<double>(m_done) * static_cast<double>(total - m_done);
    const std::string counts = std::to_string(m_failed) + " failed, ETA " + (m_done == total ? "0:00" : eta_text(eta));
    if (!m_tty) {
        m_out << progress(m_done, total, j) << "; " << counts << "\n" << std::flush;
        return;
    }
    if (j["status"] != "ok") m_out << "\r\033[K" << progress(m_done, total, j) << "\n";
    const std::size_t width = 30, filled = total ? width * m_done / total : width;
    m_out << "\r\033[K[" << std::string(filled, '#') << std::string(width - filled, '.') << "] " << m_done << "/" << total
          << " points, " << counts << (m_done == total ? "\n" : "") << std::flush;
}

ChildPool::~ChildPool() {
    for (const Child& c : m_children) {
        ::kill(c.pid, SIGKILL);
        ::close(c.fd);
        int status = 0;
        while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
}

void ChildPool::start(std::size_t index) {
    // The child runs the point and sends its text; it leaves without unwinding into the caller.
    const Spawned sp = spawn_child([&] { return make_record(m_e, m_e.points[index]); },
                                   "sweep point " + std::to_string(index));
    m_children.push_back({sp.pid, sp.fd, index, {}});
}

std::vector<std::pair<std::size_t, std::string>> ChildPool::poll(int timeout_ms) {
    std::vector<std::pair<std::size_t, std::string>> done;
    if (m_children.empty()) {
        if (timeout_ms > 0) ::poll(nullptr, 0, timeout_ms);
        return done;
    }
    std::vector<pollfd> pfds;
    for (const Child& c : m_children) pfds.push_back({c.fd, POLLIN, 0});
    const int n = ::poll(pfds.data(), pfds.size(), timeout_ms);
    if (n < 0) {
        if (errno == EINTR) return done;
        throw InternalError(std::string("sweep: poll failed: ") + std::strerror(errno));
    }
    std::vector<Child> still;
    for (std::size_t k = 0; k < m_children.size(); ++k) {
        Child& c = m_children[k];
        bool eof = false;
        if (pfds[k].revents & (POLLIN | POLLHUP | POLLERR)) {
            char buf[65536];
            const ssize_t r = ::read(c.fd, buf, sizeof buf);
            if (r > 0) c.text.append(buf, static_cast<std::size_t>(r));
            else if (r == 0 || errno != EINTR) eof = true;
        }
        if (!eof) {
            still.push_back(std::move(c));
            continue;
        }
        ::close(c.fd);
        int status = 0;
        while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
        }
        const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (clean && record_index(m_e, c.text) == static_cast<long>(c.index)) {
            done.emplace_back(c.index, std::move(c.text));
        } else {
            const std::string how = WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                                        : "exit status " + std::to_string(WEXITSTATUS(status));
            done.emplace_back(c.index, make_error_record(m_e.points[c.index],
                                                         "internal error: the point's process ended abnormally (" + how + ")"));
        }
    }
    m_children = std::move(still);
    return done;
}

int finish_sweep(const Plan& plan, const Recorder& rec, std::ostream& out) {
    const std::size_t total = plan.e.points.size();
    std::vector<json> pts(total);
    std::size_t missing = 0, all_ok = 0;
    for (std::size_t i = 0; i < total; ++i) {
        pts[i] = read_point(plan.dir, i);
        if (pts[i].is_null()) ++missing;
        else if (pts[i]["status"] == "ok") ++all_ok;
    }
    out << "sweep: " << plan.todo.size() << " run (" << rec.ok() << " ok, " << rec.failed() << " error), " << plan.skipped
        << " skipped";
    if (missing == 0) {
        write_tables(plan.dir, plan.e, pts);
        out << "; " << all_ok << " of " << total << " point(s) ok; results in " << plan.dir << "/ (sweep.csv, sweep.h5, points/)\n";
    } else {
        out << "; " << missing << " of " << total << " point(s) not done yet (other shards?); sweep.csv and sweep.h5 are written "
            << "when all are: rerun with --resume\n";
    }
    return 0;
}

bool launched_by_mpi() {
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
        if (std::getenv(v)) return true;
    return false;
}

}  // namespace sweep_detail

int run_sweep_command(const SweepOptions& opt, std::ostream& out) {
    using namespace sweep_detail;
    if (launched_by_mpi()) return run_sweep_mpi(opt, out);
    const Plan plan = prepare_sweep(opt, out);
    Recorder rec(plan, out);
    if (opt.jobs == 1 && !needs_fork(plan.e, plan.todo)) {
        for (std::size_t i : plan.todo) rec.record(i, make_record(plan.e, plan.e.points[i]));
    } else {
        // One child per point, at most `jobs` at once (style.md §8: SystemC elaborates once per process,
        // so runs are parallelized across processes). Children send their text; this process writes it.
        ChildPool pool(plan.e);
        std::size_t next = 0;
        while (next < plan.todo.size() || pool.running() > 0) {
            while (next < plan.todo.size() && pool.running() < static_cast<std::size_t>(opt.jobs)) {
                out.flush();
                pool.start(plan.todo[next++]);
            }
            for (const auto& [i, text] : pool.poll(1000)) rec.record(i, text);
        }
    }
    return finish_sweep(plan, rec, out);
}

int run_sweep_command(const SweepOptions& opt) { return run_sweep_command(opt, std::cout); }

}  // namespace wafersim::run
