// `wafersim report`: renders a run, sweep or validate folder as a self-contained HTML report and a Markdown
// twin, by running the Python tool tools/report/wafersim_report.py (matplotlib, h5py).
#pragma once
#include <string>

namespace wafersim::run {

// The command line of `wafersim report`, as CLI11 fills it in (cli.cpp).
struct ReportOptions {
    std::string dir;     // a folder written by `wafersim run --out`, `sweep --out` or `validate --out`
    std::string output;  // HTML file; "" = DIR/report.html (the Markdown twin and NAME_files/ go beside it)
    std::string pareto;  // "METRIC_X,METRIC_Y" for a sweep's Pareto front; "" = the tool's default
};

// What kind of folder `dir` is: "run" (summary.json + results.h5), "sweep" (sweep.csv, sweep.h5 or
// experiment.yaml), "validate" (validation.h5). Throws InputError naming the folder and what was expected
// when it is missing, not a folder, or none of these.
std::string report_folder_kind(const std::string& dir);

// The Python tool: $WAFERSIM_REPORT_TOOL if set; else <dir of the executable>/../share/wafersim/report/
// wafersim_report.py (the build tree and an install put it there); else the source tree's
// tools/report/wafersim_report.py, whose path is compiled in. Throws InputError when none exists.
std::string find_report_tool();

// The interpreter: $WAFERSIM_PYTHON if set; else /usr/bin/python3 (Debian's, with python3-matplotlib and
// python3-h5py); else the first python3 on PATH. Throws InputError when none is found.
std::string find_python();

// Validates the folder and options, runs the tool and returns its exit code: 0 done, 2 bad input (the tool
// printed "error: ..." on stderr, e.g. missing matplotlib/h5py or an unknown --pareto metric). Throws
// InputError (exit 2) for a bad folder or a missing tool or interpreter; std::runtime_error when the tool
// crashes or exits with another code.
int run_report_command(const ReportOptions& opt);

}  // namespace wafersim::run
