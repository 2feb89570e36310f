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

// The `systemc.*` parameters.
const ParamTable& systemc_param_table();

}  // namespace wafersim::engines
