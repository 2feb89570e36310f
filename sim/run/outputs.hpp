// Run outputs: summary.json (small, stable keys), results.h5 (full detail, units as attributes),
// config.resolved.yaml, and the human-readable comparison table.
#pragma once
#include <ostream>
#include <string>

#include "sim/run/experiment.hpp"
#include "sim/run/run_config.hpp"

namespace wafersim::run {

// The summary as JSON text (deterministic: same inputs and seed -> same bytes; no time or host).
std::string summary_json(const ResolvedRun& run, const RunResult& result);

// Writes summary.json, results.h5 and config.resolved.yaml into `dir` (created), each atomically.
void write_outputs(const std::string& dir, const ResolvedRun& run, const RunResult& result,
                   const std::string& command_line);

// The terminal table: wafer vs each baseline, decode and prefill, and the mapping in one line.
void print_table(std::ostream& os, const ResolvedRun& run, const RunResult& result);

}  // namespace wafersim::run
