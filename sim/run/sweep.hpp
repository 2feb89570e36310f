// `wafersim sweep`: an experiment file (a base run and axes) expanded into numbered points, each run in
// its own process (or in this one for the analytic engine), one JSON file per point, then one table
// (sweep.csv, sweep.h5) of every point.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "sim/run/run_config.hpp"

namespace wafersim::run {

// The command line of `wafersim sweep`, as CLI11 fills it in (cli.cpp).
struct SweepOptions {
    std::string experiment;    // experiment preset name (configs/experiments/) or YAML path
    int jobs = 1;              // child processes at once
    std::string out;           // output folder; "" = a fresh folder under runs/
    bool resume = false;       // skip points whose DIR/points/NNNNNN.json exists and is valid JSON
    std::string shard;         // "I/N": run only points with index % N == I; "" = all
    std::string command_line;  // stored nowhere yet; kept for symmetry with the other commands
};

// One point of a sweep: its number and the axis values that differ from the base (as written).
struct SweepPoint {
    std::size_t index = 0;
    std::vector<std::pair<std::string, std::string>> axes;  // key -> value, in axis order
};

// An experiment file, parsed and checked.
// Contract: `points` are numbered 0..P-1 in a deterministic order (grid: cartesian product in the order
// the axes are written, last axis fastest; zip: i-th value of every axis; list: as written; random: one
// value per axis per sample, picked with std::mt19937_64 seeded from `seed:`).
struct Experiment {
    std::string file;  // where it was read from
    std::string text;  // the file as read (copied to DIR/experiment.yaml)
    std::string combine = "grid";
    RunRequest base;                                       // wafer, model, gpus, phase, engine, seed
    std::vector<std::pair<std::string, std::string>> base_sets;  // base.set, flattened to dotted keys
    std::vector<std::string> axis_keys;                    // the CSV columns between index and status
    std::vector<int> axis_lines;                           // line of each axis key (for messages)
    std::vector<SweepPoint> points;

    // The run request of one point: the base with the point's axis values applied (a `--set` key
    // replaces the base's value of the same key; model/wafer/gpu/phase/engine/seed replace the preset).
    RunRequest request(const SweepPoint& p) const;
};

// Parses an experiment file. Throws InputError with every problem found (file, line, key, what was
// expected and what was found); unknown keys get a did-you-mean.
Experiment parse_experiment(const std::string& text, const std::string& file);

// Runs the sweep and prints one line per finished point and a final count to `out`. Returns 0 when the
// sweep ran (failed points included). Throws InputError for a bad experiment file or options (exit 2).
int run_sweep_command(const SweepOptions& opt, std::ostream& out);
int run_sweep_command(const SweepOptions& opt);  // prints to std::cout

}  // namespace wafersim::run
