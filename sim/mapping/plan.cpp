// Names of plan enums and plan-wide sums.
#include "sim/mapping/plan.hpp"

#include <algorithm>
#include <cmath>

namespace wafersim::mapping {

const char* to_string(AllReduceAlgo a) {
    switch (a) {
        case AllReduceAlgo::Pipeline: return "pipeline";
        case AllReduceAlgo::Ring: return "ring";
        case AllReduceAlgo::Tree: return "tree";
        case AllReduceAlgo::KTree: return "ktree";
    }
    return "?";
}

KTreeShape::KTreeShape(std::int64_t line) : n(std::max<std::int64_t>(1, line)) {
    k = std::clamp<std::int64_t>(std::llround(std::sqrt(static_cast<double>(n))), 1, n);
    groups = (n + k - 1) / k;
    small = n / groups;
    big_groups = n % groups;
}

const char* to_string(GemmAlgo g) {
    switch (g) {
        case GemmAlgo::MeshGemm: return "meshgemm";
        case GemmAlgo::Cannon: return "cannon";
        case GemmAlgo::Summa: return "summa";
    }
    return "?";
}

const char* to_string(KvLayout k) {
    switch (k) {
        case KvLayout::Balanced: return "balanced";
        case KvLayout::Append: return "append";
        case KvLayout::Shift: return "shift";
    }
    return "?";
}

const char* to_string(CollectiveKind k) {
    switch (k) {
        case CollectiveKind::AllReduce: return "allreduce";
        case CollectiveKind::Reduce: return "reduce";
        case CollectiveKind::Broadcast: return "broadcast";
        case CollectiveKind::Shift: return "shift";
        case CollectiveKind::Panel: return "panel";
    }
    return "?";
}

const char* to_string(Along a) { return a == Along::Row ? "row" : "col"; }

std::int64_t ExecutionPlan::cores_used() const {
    std::int64_t n = 0;
    for (const auto& s : stages) n += s.region.cores();
    return n;
}

}  // namespace wafersim::mapping
