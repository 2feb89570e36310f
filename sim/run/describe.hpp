// `wafersim describe`: presets and every parameter with type, unit, default, range and source.
#pragma once
#include <ostream>
#include <string>

namespace wafersim::run {

// `what`: "" (everything), "wafer", "gpu", "mapping", "workload", "precision", "baseline", "presets".
// `markdown`: the docs/params.md rendering. Returns false when `what` is unknown.
bool describe(std::ostream& os, const std::string& what, bool markdown);

}  // namespace wafersim::run
