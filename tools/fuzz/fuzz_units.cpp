// Fuzz target: parse_quantity with every UnitKind, and the format_quantity -> parse_quantity round trip.
// Contract checked: parse_quantity either returns a finite number or throws std::invalid_argument; for
// every value it returns, format_quantity(value, kind) parses back (no exception) to nearly the same value.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "sim/base/units.hpp"
#include "tools/fuzz/fuzz_support.hpp"

using wafersim::UnitKind;
using wafersim::fuzz::finding;

namespace {

constexpr UnitKind kKinds[] = {UnitKind::None,   UnitKind::Bytes, UnitKind::Bits,      UnitKind::Frequency,
                               UnitKind::Time,   UnitKind::Cycles, UnitKind::Bandwidth, UnitKind::Power,
                               UnitKind::FlopRate};

void check_round_trip(double value, UnitKind kind, const std::string& input) {
    const std::string text = wafersim::format_quantity(value, kind);
    double back = 0;
    try {
        back = wafersim::parse_quantity(text, kind);
    } catch (const std::invalid_argument& e) {
        char v[32];
        std::snprintf(v, sizeof v, "%.17g", value);
        finding(std::string("format_quantity(") + v + ", " + wafersim::unit_kind_name(kind) +
                    ") = \"" + text + "\" does not parse back: " + e.what(),
                input);
    }
    // Six significant digits: the value comes back within a relative 1e-5 (normal numbers only; a
    // subnormal has fewer significant bits than that).
    if (std::fabs(value) >= std::numeric_limits<double>::min() &&
        !(std::fabs(back - value) <= 1e-5 * std::fabs(value)))
        finding(std::string("format_quantity round trip drifts: ") + wafersim::unit_kind_name(kind) + " \"" + text +
                    "\" parses to a value off by more than 1e-5 relative",
                input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input = wafersim::fuzz::as_text(data, size);
    for (UnitKind kind : kKinds) {
        double v = 0;
        try {
            v = wafersim::parse_quantity(input, kind);
        } catch (const std::invalid_argument&) {
            continue;  // documented: bad input
        }
        if (!std::isfinite(v)) finding(std::string("parse_quantity returned a non-finite ") + wafersim::unit_kind_name(kind), input);
        check_round_trip(v, kind, input);
    }
    // format_quantity itself must not crash on any double (NaN, infinities, subnormals included).
    if (size == sizeof(double)) {
        double raw;
        std::memcpy(&raw, data, sizeof raw);
        for (UnitKind kind : kKinds) (void)wafersim::format_quantity(raw, kind);
    }
    return 0;
}
