// `wafersim sensitivity`: one-at-a-time sensitivity of decode (and prefill) tokens/s to the numeric
// hardware constants of the wafer preset: each parameter at -X% and +X%, the relative changes of the
// metric, the elasticity (central difference), ranked by |elasticity|.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/run/run_config.hpp"

namespace wafersim::run {

// The command line of `wafersim sensitivity`, as CLI11 fills it in (cli.cpp).
struct SensitivityOptions {
    RunRequest base;                  // the base run (same options as `wafersim run`)
    std::vector<std::string> params;  // wafer keys to vary ("clock" or "wafer.clock"); empty = every numeric one
    double delta = 0.1;               // relative step X: points at base*(1-X) and base*(1+X)
    std::string rank_by;              // decode | prefill; "" = decode when the phase runs it, else prefill
    bool json = false;                // print one JSON object instead of the table
    std::string out;                  // also write sensitivity.{h5,csv,json} into this folder ("" = none)
    int jobs = 1;                     // child processes at once (SystemC engine, or --jobs > 1)
    std::string command_line;         // stored in sensitivity.h5
};

// Elasticity of a metric m to a parameter p from a base point and two perturbed points.
// Contract: pure. NaN stands for a point that failed. Both perturbed points valid: the central
// difference ((m_hi - m_lo) / m0) / ((p_hi - p_lo) / p0), method "central". One of them valid: the
// one-sided difference from the base, method "high only" or "low only". Otherwise (or when p0, m0 or the
// parameter step is 0 or not finite) NaN with method "none".
struct Elasticity {
    double value;
    std::string method;
};
Elasticity elasticity(double p_lo, double p0, double p_hi, double m_lo, double m0, double m_hi);

// The perturbed value base*(1+signed_delta); for an integer parameter rounded to the nearest integer
// (halves away from zero), so that the reported low/high values are those actually simulated.
double perturb(double base, double signed_delta, bool integer);

// One metric of one parameter row.
struct MetricSensitivity {
    double low = 0, base = 0, high = 0;  // NaN when that point failed or the phase was not run
    double rel_low = 0, rel_high = 0;    // (m - m0) / m0; NaN when that point failed
    Elasticity e{0, "none"};
};

// One row of the result: one wafer parameter.
struct SensitivityRow {
    std::string key;        // relative to the wafer table ("core.sram")
    std::string unit;       // base-unit symbol ("B", "Hz", "cycles"; "" for plain numbers)
    bool integer = false;   // values rounded: an Int parameter, or a cycle count under the SystemC engine
    double base = 0, low = 0, high = 0;  // in base units
    std::string status;     // ok | low failed | high failed | failed | skipped
    std::string error;      // why a point failed or the parameter was skipped ("" when ok)
    std::string plan_low, plan_high;  // plan of each point in one line ("" when it failed)
    MetricSensitivity decode, prefill;
    int rank = 0;           // 1-based, after ranking
};

// Sorts rows by |elasticity of the ranked metric| (decode or prefill), largest first; rows with no
// finite elasticity follow (failed, then skipped), each group by key. Sets `rank`. Deterministic.
void rank_rows(std::vector<SensitivityRow>& rows, bool by_prefill);

// Runs the command and prints the table (or the JSON) to `out`. Throws InputError for bad options or
// a bad base run (exit 2) and PlanError when the base run itself cannot be mapped (exit 3). A perturbed
// point that fails is reported in its row.
int run_sensitivity_command(const SensitivityOptions& opt, std::ostream& out);
int run_sensitivity_command(const SensitivityOptions& opt);  // prints to std::cout

}  // namespace wafersim::run
