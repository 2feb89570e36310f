// The engine interface: an ExecutionPlan in, an EngineResult out.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fabric/wafer_spec.hpp"
#include "models/op_graph.hpp"
#include "sim/base/params.hpp"
#include "sim/engines/result.hpp"
#include "sim/mapping/plan.hpp"

namespace wafersim::engines {

// Everything an engine needs, borrowed for the duration of run().
struct EngineInput {
    const models::ModelSpec& spec;
    const models::ModelGraph& graph;
    const fabric::WaferSpec& wafer;
    const mapping::ExecutionPlan& plan;
    std::uint64_t seed = 0;
    const ParamSet* engine_params = nullptr;  // the engine's own `<engine>.*` parameters, resolved
};

// Contract: run() is deterministic for the same input and seed; it does not modify its input; it fills
// decode/decode_batch1 when the workload runs decode and prefill when it runs prefill; it throws
// PlanError when the plan cannot be executed (deadlock, resources) and InternalError on a bug.
// Engines are stateless between runs; one instance may run several plans in turn.
class IEngine {
public:
    virtual ~IEngine() = default;
    virtual const char* name() const = 0;
    virtual EngineResult run(const EngineInput& in) const = 0;
};

// Registry of engines by lowercase name ("analytic", "systemc").
using EngineFactory = std::function<std::unique_ptr<IEngine>()>;
void register_engine(const std::string& name, EngineFactory factory);
std::unique_ptr<IEngine> make_engine(const std::string& name);  // throws InputError on an unknown name
std::vector<std::string> engine_names();

}  // namespace wafersim::engines
