// `wafersim sensitivity`: one-at-a-time perturbation of the wafer's numeric hardware constants (±X%),
// the elasticity of decode/prefill tokens/s to each, ranked; points in this process (analytic) or in
// forked children (SystemC elaborates once per process).
#include "sim/run/sensitivity.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>

#include "fabric/wafer_spec.hpp"
#include "sim/base/atomic_file.hpp"
#include "sim/base/errors.hpp"
#include "sim/engines/i_engine.hpp"
#include "sim/run/child_process.hpp"
#include "sim/run/experiment.hpp"
#include "sim/run/h5_writer.hpp"

namespace wafersim::run {

using nlohmann::ordered_json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The shortest decimal text that reads back as exactly `v` (so `--set` reproduces the point).
std::string shortest(double v) {
    char buf[64];
    for (int prec = 1; prec <= 17; ++prec) {
        std::snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    return buf;
}

// Which wafer parameters are varied by default: the quantities and real numbers. Integers (mesh size,
// ports, colors, queue depth) are structural; they are varied only when named in --params, rounded.
bool is_varied_by_default(const ParamDef& d) { return d.type == ParamType::Quantity || d.type == ParamType::Real; }
bool is_numeric(const ParamDef& d) { return is_varied_by_default(d) || d.type == ParamType::Int; }

// What one run produced, or why it did not.
struct PointOutcome {
    enum Kind { Ok, Input, Plan, Internal } kind = Ok;
    std::string error;
    double decode = kNaN, prefill = kNaN;  // tokens/s (per request for decode); NaN when the phase did not run
    std::string plan;
};

std::string plan_line(const mapping::ExecutionPlan& p) {
    std::ostringstream os;
    os << p.wafers << (p.wafers == 1 ? " wafer, " : " wafers, ") << p.stages.size()
       << (p.stages.size() == 1 ? " stage of " : " stages of ") << p.grid_rows << "x" << p.grid_cols;
    return os.str();
}

PointOutcome run_in_process(const RunRequest& req) {
    PointOutcome o;
    try {
        const ResolvedRun run = resolve_run(req);
        const RunResult r = execute(run);
        if (r.wafer.decode.ran) o.decode = r.wafer.decode.tokens_per_s;
        if (r.wafer.prefill.ran) o.prefill = r.wafer.prefill.tokens_per_s;
        o.plan = plan_line(r.plan);
    } catch (const InputError& e) {
        o.kind = PointOutcome::Input;
        o.error = e.what();
    } catch (const PlanError& e) {
        o.kind = PointOutcome::Plan;
        o.error = e.what();
    } catch (const std::exception& e) {
        o.kind = PointOutcome::Internal;
        o.error = e.what();
    }
    return o;
}

std::string encode(const PointOutcome& o) {
    ordered_json j;
    j["kind"] = static_cast<int>(o.kind);
    // Messages are bounded so that the whole reply fits a pipe buffer (the parent reads after the child ends).
    j["error"] = o.error.size() > 8192 ? o.error.substr(0, 8192) + "..." : o.error;
    j["decode"] = std::isfinite(o.decode) ? ordered_json(o.decode) : ordered_json(nullptr);
    j["prefill"] = std::isfinite(o.prefill) ? ordered_json(o.prefill) : ordered_json(nullptr);
    j["plan"] = o.plan;
    return j.dump();
}

PointOutcome decode_reply(const std::string& text) {
    PointOutcome o;
    const ordered_json j = ordered_json::parse(text);
    o.kind = static_cast<PointOutcome::Kind>(j.at("kind").get<int>());
    o.error = j.at("error").get<std::string>();
    o.decode = j.at("decode").is_number() ? j.at("decode").get<double>() : kNaN;
    o.prefill = j.at("prefill").is_number() ? j.at("prefill").get<double>() : kNaN;
    o.plan = j.at("plan").get<std::string>();
    return o;
}

// Runs every request: in this process one after the other, or each in a forked child (at most `jobs` at
// once) that sends its outcome back through a pipe, with one progress line per finished child on stderr
// (SystemC points take seconds to minutes each). Outcomes are in request order.
std::vector<PointOutcome> run_points(const std::vector<RunRequest>& reqs, const std::vector<std::string>& labels,
                                     bool fork_each, int jobs) {
    std::vector<PointOutcome> out(reqs.size());
    if (!fork_each) {
        for (std::size_t i = 0; i < reqs.size(); ++i) out[i] = run_in_process(reqs[i]);
        return out;
    }
    std::size_t finished = 0;
    run_forked(
        reqs.size(), jobs, [&](std::size_t i) { return encode(run_in_process(reqs[i])); },
        [&](std::size_t i, const ChildResult& r) {
            PointOutcome o;
            bool ok = r.ok && !r.text.empty();
            if (ok) {
                try {
                    o = decode_reply(r.text);
                } catch (const std::exception&) {
                    ok = false;
                }
            }
            if (!ok) {
                o = PointOutcome{};
                o.kind = PointOutcome::Internal;
                o.error = r.ok ? "the point's process sent an unreadable reply" : "the point's " + r.text.substr(4);
            }
            out[i] = o;
            ++finished;
            std::cerr << "[" << finished << "/" << reqs.size() << "] " << labels[i] << ": "
                      << (o.kind == PointOutcome::Ok ? "ok" : "failed") << "\n" << std::flush;
        });
    return out;
}

std::string describe_failure(const PointOutcome& o) {
    switch (o.kind) {
        case PointOutcome::Ok: return "";
        case PointOutcome::Input: return "input: " + o.error;
        case PointOutcome::Plan: return "impossible plan: " + o.error;
        case PointOutcome::Internal: return "internal error (a bug in wafersim): " + o.error;
    }
    return o.error;
}

// "10" for a delta of 0.1 (rounded to 10 significant digits: 0.1 * 100 is 10.000000000000002).
std::string percent_text(double delta) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10g", delta * 100);
    return buf;
}

std::string one_line(std::string s) {
    for (char& c : s)
        if (c == '\n') c = ' ';
    return s;
}

MetricSensitivity metric_of(double p_lo, double p0, double p_hi, double m_lo, double m0, double m_hi) {
    MetricSensitivity m;
    m.low = m_lo;
    m.base = m0;
    m.high = m_hi;
    m.rel_low = (m_lo - m0) / m0;
    m.rel_high = (m_hi - m0) / m0;
    m.e = elasticity(p_lo, p0, p_hi, m_lo, m0, m_hi);
    return m;
}

ordered_json num(double v) { return std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr); }

ordered_json metric_json(const MetricSensitivity& m) {
    ordered_json j;
    j["low"] = num(m.low);
    j["base"] = num(m.base);
    j["high"] = num(m.high);
    j["rel_low"] = num(m.rel_low);
    j["rel_high"] = num(m.rel_high);
    j["elasticity"] = num(m.e.value);
    j["method"] = m.e.method;
    return j;
}

struct Report {
    std::string wafer, model, engine, phase, rank_by;
    std::vector<std::string> sets;
    std::uint64_t seed = 0;
    double delta = 0;
    bool has_decode = false, has_prefill = false;
    PointOutcome base;
    std::vector<SensitivityRow> rows;
    std::vector<std::string> not_varied;  // integer parameters left out of the default set
};

std::string report_json(const Report& r) {
    ordered_json j;
    j["schema_version"] = 1;
    j["wafer"] = r.wafer;
    j["model"] = r.model;
    j["engine"] = r.engine;
    j["phase"] = r.phase;
    j["seed"] = r.seed;
    j["sets"] = r.sets;
    j["delta"] = r.delta;
    j["rank_by"] = r.rank_by;
    std::vector<std::string> metrics;
    if (r.has_decode) metrics.push_back("decode.tokens_per_s");
    if (r.has_prefill) metrics.push_back("prefill.tokens_per_s");
    j["metrics"] = metrics;
    ordered_json b;
    if (r.has_decode) b["decode.tokens_per_s"] = num(r.base.decode);
    if (r.has_prefill) b["prefill.tokens_per_s"] = num(r.base.prefill);
    b["plan"] = r.base.plan;
    j["base"] = b;
    ordered_json rows = ordered_json::array();
    for (const auto& row : r.rows) {
        ordered_json x;
        x["rank"] = row.rank;
        x["parameter"] = row.key;
        x["unit"] = row.unit;
        x["integer"] = row.integer;
        x["base"] = num(row.base);
        x["low"] = num(row.low);
        x["high"] = num(row.high);
        x["status"] = row.status;
        x["error"] = row.error;
        x["plan_low"] = row.plan_low;
        x["plan_high"] = row.plan_high;
        if (r.has_decode) x["decode.tokens_per_s"] = metric_json(row.decode);
        if (r.has_prefill) x["prefill.tokens_per_s"] = metric_json(row.prefill);
        rows.push_back(x);
    }
    j["parameters"] = rows;
    j["not_varied"] = r.not_varied;
    return j.dump(2) + "\n";
}

std::string csv_cell(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::string csv_num(double v) { return std::isfinite(v) ? shortest(v) : ""; }

std::string report_csv(const Report& r) {
    std::vector<std::pair<std::string, const MetricSensitivity SensitivityRow::*>> ms;
    if (r.has_decode) ms.emplace_back("decode.tokens_per_s", &SensitivityRow::decode);
    if (r.has_prefill) ms.emplace_back("prefill.tokens_per_s", &SensitivityRow::prefill);
    std::string s = "rank,parameter,unit,base,low,high,status";
    for (const auto& [name, _] : ms)
        for (const char* c : {"low", "base", "high", "rel_low", "rel_high", "elasticity", "method"}) s += "," + name + "." + c;
    s += ",plan_low,plan_high,error\n";
    for (const auto& row : r.rows) {
        s += std::to_string(row.rank) + "," + csv_cell(row.key) + "," + csv_cell(row.unit) + "," + csv_num(row.base) + "," +
             csv_num(row.low) + "," + csv_num(row.high) + "," + csv_cell(row.status);
        for (const auto& [name, mp] : ms) {
            const MetricSensitivity& m = row.*mp;
            s += "," + csv_num(m.low) + "," + csv_num(m.base) + "," + csv_num(m.high) + "," + csv_num(m.rel_low) + "," +
                 csv_num(m.rel_high) + "," + csv_num(m.e.value) + "," + csv_cell(m.e.method);
        }
        s += "," + csv_cell(row.plan_low) + "," + csv_cell(row.plan_high) + "," + csv_cell(one_line(row.error)) + "\n";
    }
    return s;
}

void write_h5(const std::string& path, const Report& r, const std::string& command_line) {
    with_atomic_path(path, [&](const std::string& tmp) {
        H5Writer w(tmp);
        const std::string g = "/sensitivity";
        w.group(g);
        w.attr(g, "description",
               "one row per wafer parameter, in rank order (|elasticity| of the ranked metric, largest first); "
               "every column has one entry per parameter");
        const std::size_t n = r.rows.size();
        std::vector<std::string> key(n), unit(n), status(n), error(n), plan_low(n), plan_high(n);
        std::vector<double> base(n), low(n), high(n);
        std::vector<std::int64_t> rank(n);
        for (std::size_t i = 0; i < n; ++i) {
            const auto& row = r.rows[i];
            rank[i] = row.rank;
            key[i] = row.key;
            unit[i] = row.unit;
            status[i] = row.status;
            error[i] = row.error;
            plan_low[i] = row.plan_low;
            plan_high[i] = row.plan_high;
            base[i] = row.base;
            low[i] = std::isfinite(row.low) ? row.low : kNaN;
            high[i] = std::isfinite(row.high) ? row.high : kNaN;
        }
        w.dataset(g + "/rank", rank, "", "rank by |elasticity| of the ranked metric (1 = largest)");
        w.strings(g + "/parameter", key, "wafer parameter (key of the wafer table; --set wafer.<key>)");
        w.strings(g + "/unit", unit, "base unit of base_value, low_value and high_value on the same row (empty: a plain number)");
        w.dataset(g + "/base_value", base, "see unit column", "value of the parameter in the base run, in base units");
        w.dataset(g + "/low_value", low, "see unit column", "value at -delta (rounded for integer parameters); NaN when skipped");
        w.dataset(g + "/high_value", high, "see unit column", "value at +delta (rounded for integer parameters); NaN when skipped");
        w.strings(g + "/status", status, "ok, low failed, high failed, failed or skipped");
        w.strings(g + "/error", error, "why a point failed or the parameter was skipped (empty when ok)");
        w.strings(g + "/plan_low", plan_low, "plan of the low point in one line (empty when it failed)");
        w.strings(g + "/plan_high", plan_high, "plan of the high point in one line (empty when it failed)");
        auto metric = [&](const std::string& name, const std::string& what, const MetricSensitivity SensitivityRow::*mp) {
            const std::string mg = g + "/" + name;
            w.group(mg);
            w.attr(mg, "description", what);
            std::vector<double> lo(n), b(n), hi(n), rl(n), rh(n), e(n);
            std::vector<std::string> method(n);
            for (std::size_t i = 0; i < n; ++i) {
                const MetricSensitivity& m = r.rows[i].*mp;
                auto nan_if = [](double v) { return std::isfinite(v) ? v : kNaN; };
                lo[i] = nan_if(m.low);
                b[i] = nan_if(m.base);
                hi[i] = nan_if(m.high);
                rl[i] = nan_if(m.rel_low);
                rh[i] = nan_if(m.rel_high);
                e[i] = nan_if(m.e.value);
                method[i] = m.e.method;
            }
            w.dataset(mg + "/low", lo, "tokens/s", what + " at -delta (NaN: the point failed)");
            w.dataset(mg + "/base", b, "tokens/s", what + " of the base run");
            w.dataset(mg + "/high", hi, "tokens/s", what + " at +delta (NaN: the point failed)");
            w.dataset(mg + "/rel_low", rl, "1", "(low - base) / base");
            w.dataset(mg + "/rel_high", rh, "1", "(high - base) / base");
            w.dataset(mg + "/elasticity", e, "1", "(dm/m) / (dp/p): central difference, or one-sided when a point failed (see method)");
            w.strings(mg + "/method", method, "central, high only, low only or none");
        };
        if (r.has_decode) metric("decode.tokens_per_s", "decode tokens/s per request", &SensitivityRow::decode);
        if (r.has_prefill) metric("prefill.tokens_per_s", "prefill tokens/s", &SensitivityRow::prefill);
        w.attr("/", "wafer", r.wafer);
        w.attr("/", "model", r.model);
        w.attr("/", "engine", r.engine);
        w.attr("/", "phase", r.phase);
        w.attr("/", "delta", r.delta);
        w.attr("/", "rank_by", r.rank_by);
        w.attr("/", "base_plan", r.base.plan);
        w.attr("/", "command_line", command_line);
        w.attr("/", "version", WAFERSIM_VERSION);
        w.close();
    });
}

// Terminal rendering of a parameter value: quantities with a readable prefix.
std::string show_value(const SensitivityRow& row, double v, const ParamTable& table) {
    if (!std::isfinite(v)) return "-";
    const ParamDef* d = table.find(row.key);
    if (d && d->type == ParamType::Quantity) return format_quantity(v, d->unit);
    return shortest(v);
}

std::string fixed(double v, int prec) {
    if (!std::isfinite(v)) return "-";
    std::ostringstream os;
    os << std::fixed << std::setprecision(prec) << v;
    return os.str();
}

std::string pct(double v) {
    if (!std::isfinite(v)) return "-";
    std::ostringstream os;
    os << std::showpos << std::fixed << std::setprecision(2) << v * 100 << "%";
    return os.str();
}

void print_report(std::ostream& os, const Report& r, double wall_s, std::size_t runs) {
    const ParamTable& table = fabric::wafer_param_table();
    os << "wafersim sensitivity: " << r.model << " on " << r.wafer << ", " << r.engine << " engine, phase " << r.phase
       << ", each parameter at -" << percent_text(r.delta) << "% and +" << percent_text(r.delta) << "%\n";
    os << "base:";
    if (r.has_decode) os << " decode " << fixed(r.base.decode, 1) << " tokens/s per request;";
    if (r.has_prefill) os << " prefill " << fixed(r.base.prefill, 0) << " tokens/s;";
    os << " plan " << r.base.plan << "\n";
    os << "ranked by |elasticity| of " << r.rank_by << " (elasticity = (dm/m)/(dp/p), central difference)\n\n";
    std::vector<std::string> head = {"rank", "parameter", "base", "low", "high"};
    if (r.has_decode) for (const char* c : {"decode low", "decode high", "d low", "d high", "elasticity"}) head.push_back(c);
    if (r.has_prefill) for (const char* c : {"prefill low", "prefill high", "p low", "p high", "elasticity"}) head.push_back(c);
    head.push_back("note");
    std::vector<std::vector<std::string>> cells = {head};
    for (const auto& row : r.rows) {
        std::vector<std::string> c = {row.status == "skipped" ? "-" : std::to_string(row.rank), row.key, show_value(row, row.base, table),
                                      show_value(row, row.low, table), show_value(row, row.high, table)};
        auto add = [&](const MetricSensitivity& m, int prec) {
            c.push_back(fixed(m.low, prec));
            c.push_back(fixed(m.high, prec));
            c.push_back(pct(m.rel_low));
            c.push_back(pct(m.rel_high));
            c.push_back(std::isfinite(m.e.value) ? fixed(m.e.value, 3) + (m.e.method == "central" ? "" : " (" + m.e.method + ")") : "-");
        };
        if (r.has_decode) add(row.decode, 1);
        if (r.has_prefill) add(row.prefill, 0);
        std::string note;
        if (row.status != "ok") note = row.status + ": " + one_line(row.error);
        else if (row.plan_low != r.base.plan || row.plan_high != r.base.plan) {
            note = "plan changes:";
            if (row.plan_low != r.base.plan) note += " low " + row.plan_low + ";";
            if (row.plan_high != r.base.plan) note += " high " + row.plan_high + ";";
            note.pop_back();
        }
        if (note.size() > 160) note = note.substr(0, 157) + "...";
        c.push_back(note);
        cells.push_back(c);
    }
    std::vector<std::size_t> width(head.size(), 0);
    for (const auto& c : cells)
        for (std::size_t i = 0; i < c.size(); ++i) width[i] = std::max(width[i], c[i].size());
    for (const auto& c : cells) {
        std::string line;
        for (std::size_t i = 0; i < c.size(); ++i) {
            const bool left = i == 1 || i + 1 == c.size();
            const std::string pad(width[i] - c[i].size(), ' ');
            line += (i ? "  " : "") + (left ? c[i] + (i + 1 == c.size() ? "" : pad) : pad + c[i]);
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        os << line << "\n";
    }
    if (!r.not_varied.empty()) {
        os << "\nnot varied (integer, structural; name them in --params to vary them, rounded):";
        for (const auto& k : r.not_varied) os << " " << k;
        os << "\n";
    }
    os << "\n" << runs << " run(s) in " << fixed(wall_s, 2) << " s\n";
}

}  // namespace

Elasticity elasticity(double p_lo, double p0, double p_hi, double m_lo, double m0, double m_hi) {
    if (!std::isfinite(p0) || p0 == 0 || !std::isfinite(m0) || m0 == 0) return {kNaN, "none"};
    const bool lo = std::isfinite(m_lo) && std::isfinite(p_lo) && p_lo != p0;
    const bool hi = std::isfinite(m_hi) && std::isfinite(p_hi) && p_hi != p0;
    if (lo && hi) return {((m_hi - m_lo) / m0) / ((p_hi - p_lo) / p0), "central"};
    if (hi) return {((m_hi - m0) / m0) / ((p_hi - p0) / p0), "high only"};
    if (lo) return {((m_lo - m0) / m0) / ((p_lo - p0) / p0), "low only"};
    return {kNaN, "none"};
}

double perturb(double base, double signed_delta, bool integer) {
    const double v = base * (1.0 + signed_delta);
    return integer ? std::round(v) : v;
}

void rank_rows(std::vector<SensitivityRow>& rows, bool by_prefill) {
    auto group = [](const SensitivityRow& r, double e) { return r.status == "skipped" ? 2 : std::isfinite(e) ? 0 : 1; };
    std::stable_sort(rows.begin(), rows.end(), [&](const SensitivityRow& a, const SensitivityRow& b) {
        const double ea = (by_prefill ? a.prefill : a.decode).e.value, eb = (by_prefill ? b.prefill : b.decode).e.value;
        const int ga = group(a, ea), gb = group(b, eb);
        if (ga != gb) return ga < gb;
        if (ga == 0 && std::fabs(ea) != std::fabs(eb)) return std::fabs(ea) > std::fabs(eb);
        return a.key < b.key;
    });
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i].rank = static_cast<int>(i) + 1;
}

int run_sensitivity_command(const SensitivityOptions& opt, std::ostream& out) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!(opt.delta > 0 && opt.delta < 1))
        throw InputError("--delta", 0, "", "expected a relative step in (0, 1) such as 0.1 for ±10%, found " + shortest(opt.delta));
    if (opt.jobs < 1) throw InputError("--jobs", 0, "", "expected an integer >= 1, found " + std::to_string(opt.jobs));
    if (!opt.rank_by.empty() && opt.rank_by != "decode" && opt.rank_by != "prefill")
        throw InputError("--rank-by", 0, "", "\"" + opt.rank_by + "\" is not decode or prefill");
    const bool has_decode = opt.base.phase != "prefill", has_prefill = opt.base.phase != "decode";
    if (opt.rank_by == "decode" && !has_decode)
        throw InputError("--rank-by", 0, "", "decode is not run in phase " + opt.base.phase + "; rank by prefill or use --phase both");
    if (opt.rank_by == "prefill" && !has_prefill)
        throw InputError("--rank-by", 0, "", "prefill is not run in phase " + opt.base.phase + "; rank by decode or use --phase both");

    // The base run resolves here, so that bad input is reported once, with exit 2, before any point runs.
    const ResolvedRun base_run = resolve_run(opt.base);
    (void)engines::make_engine(opt.base.engine);  // an unknown engine: InputError with a did-you-mean
    const ParamTable& table = fabric::wafer_param_table();
    std::vector<std::string> numeric;
    for (const auto& d : table.defs())
        if (is_numeric(d)) numeric.push_back(d.key);

    // The parameters to vary.
    std::vector<std::string> keys;
    Report rep;
    if (opt.params.empty()) {
        for (const auto& d : table.defs()) {
            if (is_varied_by_default(d)) keys.push_back(d.key);
            else if (d.type == ParamType::Int) rep.not_varied.push_back(d.key);
        }
    } else {
        DiagnosticSink sink;
        for (std::string k : opt.params) {
            const std::string given = k;
            if (k.rfind("wafer.", 0) == 0) k = k.substr(6);
            const ParamDef* d = table.find(k);
            if (!d || !is_numeric(*d)) {
                std::string msg = "\"" + given + "\" is not a numeric wafer parameter";
                const std::string near = did_you_mean(k, numeric);
                if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
                msg += " (see `wafersim describe wafer`)";
                sink.add("--params", 0, given, msg);
                continue;
            }
            if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
        }
        sink.throw_if_any();
    }

    // Requests: the base, then low and high of each parameter. Baselines do not depend on the wafer: the
    // GPUs are resolved with the base (so a bad --gpu is still an error) but not run at the points.
    RunRequest base_req = opt.base;
    base_req.gpus.clear();
    std::vector<RunRequest> reqs = {base_req};
    std::vector<std::string> labels = {"base"};
    std::vector<SensitivityRow> rows;
    std::vector<std::size_t> first_req;  // index into reqs of each row's low point; 0 when skipped
    // The SystemC engine counts whole cycles (the fabric kernel truncates hop and turn latencies to
    // integers, the engine rounds the relay latency): a fractional cycle count would be simulated as
    // another value than the one reported, so under SystemC cycle parameters are rounded like integers.
    const bool whole_cycles = opt.base.engine == "systemc";
    for (const auto& k : keys) {
        const ParamDef& d = *table.find(k);
        SensitivityRow row;
        row.key = k;
        const bool cycles = d.type == ParamType::Quantity && d.unit == UnitKind::Cycles;
        row.integer = d.type == ParamType::Int || (whole_cycles && cycles);
        row.unit = d.type == ParamType::Quantity ? unit_kind_symbol(d.unit) : "";
        row.base = base_run.wafer.params.num(k);
        row.low = perturb(row.base, -opt.delta, row.integer);
        row.high = perturb(row.base, +opt.delta, row.integer);
        if (row.base == 0) {
            row.status = "skipped";
            row.error = "base value is 0, and ±" + percent_text(opt.delta) + "% of 0 is 0 (" + d.doc + ")";
            row.low = row.high = kNaN;
        } else if (row.integer && row.low == row.base && row.high == row.base) {
            row.status = "skipped";
            row.error = "±" + percent_text(opt.delta) + "% of " + shortest(row.base) + " rounds to " + shortest(row.base) +
                        (d.type == ParamType::Int ? " (integer parameter)" : " (the SystemC engine counts whole cycles)") +
                        "; use a larger --delta";
            row.low = row.high = kNaN;
        }
        if (row.status == "skipped") {
            first_req.push_back(0);
        } else {
            first_req.push_back(reqs.size());
            for (double v : {row.low, row.high}) {
                RunRequest r = base_req;
                r.sets.push_back("wafer." + k + "=" + shortest(v) + row.unit);
                reqs.push_back(r);
                labels.push_back(r.sets.back());
            }
        }
        rows.push_back(row);
    }

    const bool fork_each = opt.base.engine == "systemc" || opt.jobs > 1;
    const std::vector<PointOutcome> outs = run_points(reqs, labels, fork_each, opt.jobs);
    const PointOutcome& base = outs[0];
    if (base.kind == PointOutcome::Input) throw InputError("", 0, "", "base run: " + base.error);
    if (base.kind == PointOutcome::Plan) throw PlanError("base run: " + base.error);
    if (base.kind == PointOutcome::Internal) throw InternalError("base run: " + base.error);

    for (std::size_t i = 0; i < rows.size(); ++i) {
        SensitivityRow& row = rows[i];
        if (row.status == "skipped") {
            row.decode = metric_of(kNaN, row.base, kNaN, kNaN, base.decode, kNaN);
            row.prefill = metric_of(kNaN, row.base, kNaN, kNaN, base.prefill, kNaN);
            continue;
        }
        const PointOutcome& lo = outs[first_req[i]];
        const PointOutcome& hi = outs[first_req[i] + 1];
        const bool lo_ok = lo.kind == PointOutcome::Ok, hi_ok = hi.kind == PointOutcome::Ok;
        row.status = lo_ok && hi_ok ? "ok" : lo_ok ? "high failed" : hi_ok ? "low failed" : "failed";
        if (!lo_ok) row.error = "low: " + describe_failure(lo);
        if (!hi_ok) row.error += std::string(row.error.empty() ? "" : "; ") + "high: " + describe_failure(hi);
        row.plan_low = lo.plan;
        row.plan_high = hi.plan;
        row.decode = metric_of(row.low, row.base, row.high, lo_ok ? lo.decode : kNaN, base.decode, hi_ok ? hi.decode : kNaN);
        row.prefill = metric_of(row.low, row.base, row.high, lo_ok ? lo.prefill : kNaN, base.prefill, hi_ok ? hi.prefill : kNaN);
    }

    rep.wafer = base_run.wafer.name;
    rep.model = base_run.model.name;
    rep.engine = opt.base.engine;
    rep.phase = opt.base.phase;
    rep.sets = opt.base.sets;
    rep.seed = opt.base.seed;
    rep.delta = opt.delta;
    rep.has_decode = has_decode;
    rep.has_prefill = has_prefill;
    const bool by_prefill = opt.rank_by == "prefill" || (opt.rank_by.empty() && !has_decode);
    rep.rank_by = by_prefill ? "prefill.tokens_per_s" : "decode.tokens_per_s";
    rep.base = base;
    rank_rows(rows, by_prefill);
    rep.rows = std::move(rows);

    const std::string json_text = report_json(rep);
    if (!opt.out.empty()) {
        make_dirs(opt.out);
        write_file_atomic(opt.out + "/sensitivity.json", json_text);
        write_file_atomic(opt.out + "/sensitivity.csv", report_csv(rep));
        write_h5(opt.out + "/sensitivity.h5", rep, opt.command_line);
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (opt.json) {
        out << json_text;
    } else {
        print_report(out, rep, wall, reqs.size());
        if (!opt.out.empty()) out << "results in " << opt.out << "/ (sensitivity.csv, sensitivity.h5, sensitivity.json)\n";
    }
    return 0;
}

int run_sensitivity_command(const SensitivityOptions& opt) { return run_sensitivity_command(opt, std::cout); }

}  // namespace wafersim::run
