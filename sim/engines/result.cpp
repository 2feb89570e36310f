// Sums over the per-layer breakdown of a phase result.
#include "sim/engines/result.hpp"

namespace wafersim::engines {

namespace {
template <class F>
double sum(const std::vector<LayerTime>& layers, F f) {
    double s = 0;
    for (const auto& l : layers) s += f(l);
    return s;
}
}  // namespace

double PhaseResult::compute_s() const { return sum(layers, [](const LayerTime& l) { return l.compute_s; }); }
double PhaseResult::collective_s() const { return sum(layers, [](const LayerTime& l) { return l.collective_s; }); }
double PhaseResult::transfer_s() const { return sum(layers, [](const LayerTime& l) { return l.transfer_s; }); }
double PhaseResult::overhead_s() const { return sum(layers, [](const LayerTime& l) { return l.overhead_s; }); }

}  // namespace wafersim::engines
