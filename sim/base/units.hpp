// Physical quantities written with units in configs ("48KiB", "1.1GHz", "3.35TB/s", "2cycles").
#pragma once
#include <string>
#include <string_view>

namespace wafersim {

// What a value measures. Values are held as doubles in SI base units: bytes, bits, hertz, seconds,
// cycles, bytes per second, watts, FLOP per second.
enum class UnitKind { None, Bytes, Bits, Frequency, Time, Cycles, Bandwidth, Power, FlopRate };

const char* unit_kind_name(UnitKind k);   // "bytes", "bits", ...
const char* unit_kind_symbol(UnitKind k); // base symbol: "B", "bit", "Hz", "s", "cycles", "B/s", "W", "FLOP/s"

// Parses "48KiB", "44 kB", "1.1GHz", "3.35TB/s", "100Gb/s", "2cycles", "1.2us", "23kW", "989TFLOP/s".
// Contract: the unit is required for every kind except None (a plain number); the unit must belong to the
// kind; ambiguous spellings ("KB", "Kb") and unknown units are rejected. On failure throws
// std::invalid_argument with a message that says what was found and what to write instead
// (callers wrap it into an InputError with file, line and key).
double parse_quantity(std::string_view text, UnitKind kind);

// A readable rendering with a sensible prefix: 49152 bytes -> "48KiB", 1.1e9 Hz -> "1.1GHz".
std::string format_quantity(double value, UnitKind kind);

}  // namespace wafersim
