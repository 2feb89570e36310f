// The engine registry: engines register a factory under a lowercase name.
#include <map>

#include "sim/base/errors.hpp"
#include "sim/engines/analytic_engine.hpp"
#include "sim/engines/i_engine.hpp"
#include "sim/engines/systemc_engine.hpp"

namespace wafersim::engines {

namespace {
// The explicit bind step: built-in engines are registered here, once, on first use (no static
// initialisers for the linker to drop).
std::map<std::string, EngineFactory>& registry() {
    static std::map<std::string, EngineFactory> r = [] {
        std::map<std::string, EngineFactory> m;
        m["analytic"] = [] { return std::make_unique<AnalyticEngine>(); };
        m["systemc"] = [] { return std::make_unique<SystemcEngine>(); };
        return m;
    }();
    return r;
}
}  // namespace

void register_engine(const std::string& name, EngineFactory factory) { registry()[name] = std::move(factory); }

std::unique_ptr<IEngine> make_engine(const std::string& name) {
    auto it = registry().find(name);
    if (it == registry().end()) {
        std::string known;
        for (const auto& kv : registry()) known += (known.empty() ? "" : ", ") + kv.first;
        std::string msg = "unknown engine \"" + name + "\"; known engines: " + known;
        std::string near = did_you_mean(name, engine_names());
        if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
        throw InputError("--engine", 0, "engine", msg);
    }
    return it->second();
}

std::vector<std::string> engine_names() {
    std::vector<std::string> n;
    for (const auto& kv : registry()) n.push_back(kv.first);
    return n;
}

}  // namespace wafersim::engines
