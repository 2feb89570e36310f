// Command-line front end: `wafersim run`, `wafersim describe`; exceptions become exit codes here only.
#include "sim/run/cli.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <ctime>
#include <iostream>
#include <sys/stat.h>

#include "sim/base/errors.hpp"
#include "sim/run/describe.hpp"
#include "sim/run/experiment.hpp"
#include "sim/run/noc_command.hpp"
#include "sim/run/outputs.hpp"
#include "sim/run/report_command.hpp"
#include "sim/run/run_config.hpp"
#include "sim/run/sensitivity.hpp"
#include "sim/run/sweep.hpp"
#include "sim/run/validate.hpp"

namespace wafersim::run {

namespace {

constexpr int kExitOk = 0, kExitInternal = 1, kExitInput = 2, kExitPlan = 3;

bool exists(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0;
}

std::string fresh_run_dir(const ResolvedRun& run) {
    std::time_t now = std::time(nullptr);
    char ts[32];
    std::strftime(ts, sizeof ts, "%Y%m%d-%H%M%S", std::localtime(&now));
    std::string base = "runs/" + std::string(ts) + "-" + run.model.name + "-" + run.wafer.name;
    for (char& c : base)
        if (c == ' ') c = '_';
    std::string dir = base;
    for (int i = 2; exists(dir); ++i) dir = base + "-" + std::to_string(i);
    return dir;
}

std::string join_args(int argc, char** argv) {
    std::string s;
    for (int i = 0; i < argc; ++i) {
        if (i) s += ' ';
        s += argv[i];
    }
    return s;
}

// --max-wall / --max-cycles become systemc.* overrides (a bare cycle count gets its unit).
void add_bounds(RunRequest& req, const std::string& max_wall, const std::string& max_cycles) {
    if (!max_wall.empty()) req.sets.push_back("systemc.max_wall=" + max_wall);
    if (!max_cycles.empty())
        req.sets.push_back("systemc.max_cycles=" + max_cycles +
                           (max_cycles.find_first_not_of("0123456789") == std::string::npos ? "cycles" : ""));
}

int cmd_run(const RunRequest& req, const std::string& out, bool quiet, const std::string& command_line) {
    const auto t0 = std::chrono::steady_clock::now();
    ResolvedRun run = resolve_run(req);
    RunResult result = execute(run);
    const std::string dir = out.empty() ? fresh_run_dir(run) : out;
    write_outputs(dir, run, result, command_line);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!quiet) {
        print_table(std::cout, run, result);
        std::cout << "\nresults in " << dir << "/ (summary.json, results.h5, config.resolved.yaml); " << wall << " s\n";
    }
    return kExitOk;
}

}  // namespace

int cli_main(int argc, char** argv) {
    CLI::App app{"wafersim: cycle-approximate simulator of wafer-scale processors for LLM inference"};
    app.require_subcommand(1);
    app.set_version_flag("--version", WAFERSIM_VERSION);

    RunRequest req;
    req.engine = "systemc";  // the default of `wafersim run` (sweeps, validate and sensitivity default to analytic)
    std::vector<std::string> gpus;
    std::string out;
    bool quiet = false;
    auto* run = app.add_subcommand("run", "map a model onto a wafer, simulate decode/prefill, compare with HBM GPUs");
    run->add_option("--wafer", req.wafer, "wafer preset name or YAML path")->capture_default_str();
    run->add_option("--model", req.model, "model preset name or Hugging Face config.json path")->capture_default_str();
    run->add_option("--gpu", gpus, "GPU preset name or YAML path (repeatable; default h100 and h200; 'none' for no baseline)");
    run->add_option("--phase", req.phase, "decode | prefill | both")->capture_default_str();
    run->add_option("--engine", req.engine, "engine: analytic (closed form) or systemc (cycle-approximate)")->capture_default_str();
    run->add_option("--set", req.sets, "override a parameter: key.path=value (repeatable)");
    run->add_option("--out", out, "output folder (default: a fresh folder under runs/)");
    run->add_option("--seed", req.seed, "run seed")->capture_default_str();
    run->add_flag("--quiet,-q", quiet, "do not print the table");
    std::string max_wall, max_cycles;
    run->add_option("--max-wall", max_wall, "wall-clock bound of each simulated run, e.g. 30s (systemc.max_wall)");
    run->add_option("--max-cycles", max_cycles, "simulated-cycle bound of each run, e.g. 1000000 (systemc.max_cycles)");

    std::string what;
    bool markdown = false;
    auto* desc = app.add_subcommand("describe", "list presets and parameters with units, defaults and sources");
    desc->add_option("what", what, "presets | wafer | gpu | mapping | workload | precision | baseline | systemc (default: all)");
    desc->add_flag("--markdown", markdown, "print docs/params.md");

    ValidateOptions val;
    auto* valc = app.add_subcommand("validate", "compare simulated results with published measurements (configs/validation/)");
    valc->add_option("--cases", val.case_files, "case file: validation preset name or YAML path (repeatable; default: every configs/validation/*.yaml)");
    valc->add_option("--engine", val.engine, "engine for model cases: analytic or systemc")->capture_default_str();
    valc->add_flag("--json", val.json, "print one JSON object");
    valc->add_option("--out", val.out, "also write validation.h5 and validation.json into this folder");

    SweepOptions sweep;
    auto* swc = app.add_subcommand("sweep", "run an experiment file: a base run and axes expanded into points, one process per point; "
                                           "under mpirun the points are spread over the ranks (docs/sweeps.md)");
    swc->add_option("experiment", sweep.experiment, "experiment preset name (configs/experiments/) or YAML path")->required();
    swc->add_option("--jobs,-j", sweep.jobs, "points run at once, each in its own process (per MPI rank under mpirun)")->capture_default_str();
    swc->add_option("--out", sweep.out, "output folder (default: a fresh folder under runs/)");
    swc->add_flag("--resume", sweep.resume, "skip points whose DIR/points/NNNNNN.json already exists");
    swc->add_option("--shard", sweep.shard, "I/N: run only the points whose index % N == I (one Slurm array task each)");

    ReportOptions rep;
    auto* repc = app.add_subcommand("report", "render a run, sweep or validate folder as an HTML report with figures (and a Markdown twin)");
    repc->add_option("dir", rep.dir, "folder written by wafersim run --out, sweep --out or validate --out")->required();
    repc->add_option("-o,--output", rep.output, "HTML file (default DIR/report.html); NAME.md and NAME_files/ go beside it");
    repc->add_option("--pareto", rep.pareto, "sweep: METRIC_X,METRIC_Y of the Pareto front, each optionally :max or :min (default mapping.cores_used,decode.tokens_per_s)");

    SensitivityOptions sens;
    std::vector<std::string> sens_gpus;
    std::string sens_wall, sens_cycles;
    auto* sensc = app.add_subcommand("sensitivity", "vary each numeric wafer parameter by -X% and +X%; rank by the elasticity of decode/prefill tokens/s");
    sensc->add_option("--wafer", sens.base.wafer, "wafer preset name or YAML path")->capture_default_str();
    sensc->add_option("--model", sens.base.model, "model preset name or Hugging Face config.json path")->capture_default_str();
    sensc->add_option("--gpu", sens_gpus, "accepted as in `run` and checked, but baselines are not run (wafer parameters do not move them)");
    sensc->add_option("--phase", sens.base.phase, "decode | prefill | both")->capture_default_str();
    sensc->add_option("--engine", sens.base.engine, "analytic (points in this process) or systemc (one child process per point)")->capture_default_str();
    sensc->add_option("--set", sens.base.sets, "override a parameter of the base run: key.path=value (repeatable)");
    sensc->add_option("--seed", sens.base.seed, "run seed")->capture_default_str();
    sensc->add_option("--max-wall", sens_wall, "wall-clock bound of each simulated run, e.g. 30s (systemc.max_wall)");
    sensc->add_option("--max-cycles", sens_cycles, "simulated-cycle bound of each run (systemc.max_cycles)");
    sensc->add_option("--params", sens.params, "wafer keys to vary, comma-separated (default: every quantity and real number)")->delimiter(',');
    sensc->add_option("--delta", sens.delta, "relative step X: each parameter at base*(1-X) and base*(1+X)")->capture_default_str();
    sensc->add_option("--rank-by", sens.rank_by, "decode | prefill (default: decode when the phase runs it)");
    sensc->add_option("--jobs,-j", sens.jobs, "points at once, each in its own process")->capture_default_str();
    sensc->add_flag("--json", sens.json, "print one JSON object instead of the table");
    sensc->add_option("--out", sens.out, "also write sensitivity.h5, sensitivity.csv and sensitivity.json into this folder");

    NocOptions noc;
    auto* nocc = app.add_subcommand("noc", "synthetic-traffic network mode: a BookSim2-style mesh of VC routers");
    nocc->add_option("--config", noc.config, "router config: preset name (configs/noc/) or YAML path")->capture_default_str();
    nocc->add_option("--mesh", noc.mesh, "mesh size KxK")->capture_default_str();
    nocc->add_option("--traffic", noc.traffic, "uniform | transpose | bitcomplement | hotspot")->capture_default_str();
    nocc->add_option("--injection-rate", noc.injection_rate, "offered load, flits/node/cycle")->capture_default_str();
    nocc->add_option("--packet-flits", noc.packet_flits, "flits per packet")->capture_default_str();
    nocc->add_option("--seed", noc.seed, "random seed")->capture_default_str();
    nocc->add_option("--warmup", noc.warmup, "warm-up cycles (default: sim.warmup_periods x sim.sample_period)");
    nocc->add_option("--measure", noc.measure, "measured cycles (default: sim.measure_periods x sim.sample_period)");
    nocc->add_option("--hotspot-node", noc.hotspot_node, "hotspot node, x + cols*y (default: the centre)");
    nocc->add_option("--hotspot-fraction", noc.hotspot_fraction, "share of packets sent to the hotspot (default 0.1)");
    nocc->add_option("--kernel", noc.kernel, "systemc | plain (same results)")->capture_default_str();
    nocc->add_option("--set", noc.sets, "override a router parameter: key.path=value (repeatable)");
    nocc->add_flag("--json", noc.json, "print one JSON object");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "error: " << e.what() << "\n(run `wafersim --help` or `wafersim run --help`)\n";
        return kExitInput;
    }

    try {
        if (*run) {
            add_bounds(req, max_wall, max_cycles);
            if (!gpus.empty()) {
                req.gpus.clear();
                for (const auto& g : gpus)
                    if (g != "none") req.gpus.push_back(g);
            }
            return cmd_run(req, out, quiet, join_args(argc, argv));
        }
        if (*sensc) {
            add_bounds(sens.base, sens_wall, sens_cycles);
            if (!sens_gpus.empty()) {
                sens.base.gpus.clear();
                for (const auto& g : sens_gpus)
                    if (g != "none") sens.base.gpus.push_back(g);
            }
            sens.command_line = join_args(argc, argv);
            return run_sensitivity_command(sens);
        }
        if (*nocc) {
            noc.command_line = join_args(argc, argv);
            return run_noc_command(noc);
        }
        if (*swc) {
            sweep.command_line = join_args(argc, argv);
            return run_sweep_command(sweep);
        }
        if (*repc) return run_report_command(rep);
        if (*valc) {
            val.command_line = join_args(argc, argv);
            return run_validate_command(val);
        }
        if (*desc) {
            if (!describe(std::cout, what, markdown)) {
                std::cerr << "error: describe: unknown topic \"" << what
                          << "\"; expected presets, wafer, gpu, mapping, workload, precision, baseline or systemc\n";
                return kExitInput;
            }
            return kExitOk;
        }
    } catch (const InputError& e) {
        std::cerr << "error: " << e.what() << "\n";
        return kExitInput;
    } catch (const PlanError& e) {
        std::cerr << "impossible plan: " << e.what() << "\n";
        return kExitPlan;
    } catch (const InternalError& e) {
        std::cerr << "internal error (a bug in wafersim; please report it with the command line): " << e.what() << "\n";
        return kExitInternal;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return kExitInternal;
    }
    return kExitInternal;
}

}  // namespace wafersim::run
