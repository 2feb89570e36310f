// `wafersim noc`: the synthetic-traffic network mode (BookSim2-style mesh of VC routers).
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace wafersim::run {

// The command line of `wafersim noc`, as CLI11 fills it in (cli.cpp).
struct NocOptions {
    std::string config = "booksim-iq";  // preset name (configs/noc/<name>.yaml) or YAML path
    std::string mesh = "8x8";           // KxK (rows x cols)
    std::string traffic = "uniform";    // uniform | transpose | bitcomplement | hotspot
    double injection_rate = 0.1;        // flits/node/cycle
    int packet_flits = 1;
    bool json = false;
    std::uint64_t seed = 0;
    std::int64_t warmup = -1;           // cycles; -1 = sim.warmup_periods x sim.sample_period
    std::int64_t measure = -1;          // cycles; -1 = sim.measure_periods x sim.sample_period
    int hotspot_node = -1;              // -1 = the centre node (hotspot traffic only)
    double hotspot_fraction = -1;       // -1 = 0.1 (hotspot traffic only)
    std::string kernel = "systemc";     // systemc | plain (same results; plain runs without SystemC)
    std::vector<std::string> sets;      // router overrides "key.path=value" (e.g. router.vcs=4)
    std::string command_line;           // echoed in the JSON output
};

// Validates, runs and prints (a table, or one JSON object with --json) to `out`. Returns 0. Throws
// InputError for bad input (file, key and problem in the message; the CLI exits 2) and PlanError when
// the run cannot be carried out in this process (exit 3).
int run_noc_command(const NocOptions& opt, std::ostream& out);
int run_noc_command(const NocOptions& opt);  // prints to std::cout

}  // namespace wafersim::run
