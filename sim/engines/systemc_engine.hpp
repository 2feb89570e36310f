// The cycle-approximate SystemC engine: runs the ExecutionPlan's programs on the SystemC fabric model,
// every collective as real messages between real cores over the mesh, with per-core dataflow.
#pragma once
#include "sim/base/params.hpp"
#include "sim/engines/i_engine.hpp"

namespace wafersim::engines {

class SystemcEngine : public IEngine {
public:
    const char* name() const override { return "systemc"; }
    EngineResult run(const EngineInput& in) const override;
};

// Runs one phase program of `plan` on the SystemC fabric (e.g. the single distributed GEMV of a
// `wafersim validate` gemv case) and returns its duration in seconds, from the first step's start to the
// last step's end. The kernel elaborates once per process: run this in its own process when another
// simulation of a larger fabric may follow. `params` are the resolved `systemc.*` parameters (or null).
double systemc_program_seconds(const fabric::WaferSpec& wafer, const mapping::ExecutionPlan& plan,
                               const mapping::PhaseProgram& prog, const ParamSet* params);

// The `systemc.*` parameters.
const ParamTable& systemc_param_table();

}  // namespace wafersim::engines
