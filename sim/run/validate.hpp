// `wafersim validate`: runs validation cases (published measurements) and reports simulated against
// published, the signed relative error, whether it is within the case's tolerance, and the MAPE.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "fabric/wafer_spec.hpp"
#include "sim/mapping/plan.hpp"

namespace wafersim::run {

// The command line of `wafersim validate`, as CLI11 fills it in (cli.cpp).
struct ValidateOptions {
    std::vector<std::string> case_files;  // validation preset names or YAML paths; empty = every configs/validation/*.yaml
    std::string engine = "analytic";      // analytic | systemc (model cases; gemv cases use the closed form either way)
    bool json = false;                    // print one JSON object instead of the table
    std::string out;                      // folder for validation.h5 and validation.json; "" = none
    std::string command_line;             // stored in the outputs
};

enum class CaseKind { Run, Gemv, Noc };
const char* to_string(CaseKind k);  // "run", "gemv", "noc"

// One `set:` override of a case, with the line it was written on (for messages).
struct CaseSet {
    std::string key, value;
    int line = 0;
};

// One validation case as written in a case file (parsed and checked; see docs/validation.md).
struct ValidationCase {
    std::string file;  // where it was read from (path or "<embedded>/validation/x.yaml")
    int line = 0;      // line of the case's first key
    int index = 0;     // position in the file's `cases:` list
    std::string name, source, metric;
    CaseKind kind = CaseKind::Run;
    double published = 0;
    double tolerance = 0;  // relative
    std::vector<CaseSet> sets;
    std::vector<std::pair<std::string, int>> key_lines;  // key -> line, for messages about a key

    // kind: run
    std::string wafer, model, gpu, phase = "both";
    // kind: gemv ([1,K] x [K,N] over R x C cores; R = C = 0 means the whole usable area)
    std::int64_t k = 0, n = 0, grid_rows = 0, grid_cols = 0;
    mapping::AllReduceAlgo allreduce = mapping::AllReduceAlgo::Tree;
    // kind: noc
    std::string mesh, traffic, noc_config = "booksim-iq";
    double injection_rate = 0;
    int packet_flits = 1;
    std::int64_t warmup = -1, measure = -1;
    std::uint64_t seed = 0;

    int line_of(const std::string& key) const;  // the case's line when the key is absent
};

// Parses one case file. Throws InputError with every problem found (file, line, key path, what was
// expected and what was found); unknown keys get a did-you-mean.
std::vector<ValidationCase> parse_validation_cases(const std::string& text, const std::string& file);

// Latency of one distributed GEMV [1,K] x [K,N] on a rows x cols grid, in seconds, with the analytic
// engine's formulas (see validate.cpp for the formula).
double gemv_seconds(std::int64_t k, std::int64_t n, std::int64_t rows, std::int64_t cols,
                    mapping::AllReduceAlgo algo, const fabric::WaferSpec& w);

// What one case produced.
struct CaseOutcome {
    bool ran = false;      // false: the case could not be run (message says why); simulated is NaN
    double simulated = 0;  // NaN when !ran
    double error = 0;      // (simulated - published) / published; NaN when !ran
    bool within = false;
    std::string message;   // why the case failed
};

// Runs every case and prints the table (or JSON) to `out`. Returns 0 whether or not cases miss.
// Throws InputError for a bad case file (the CLI exits 2).
int run_validate_command(const ValidateOptions& opt, std::ostream& out);
int run_validate_command(const ValidateOptions& opt);  // prints to std::cout

}  // namespace wafersim::run
