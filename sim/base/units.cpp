// Unit parsing and formatting for configuration values.
#include "sim/base/units.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <vector>

namespace wafersim {

namespace {

struct UnitDef {
    const char* symbol;
    UnitKind kind;
    double scale;
};

// Decimal prefixes are SI (kB = 1000 B, MB = 1e6 B); binary ones are IEC (KiB = 1024 B).
// "KB"/"Kb" are rejected as ambiguous (JEDEC 1024 vs SI 1000).
const std::vector<UnitDef>& units() {
    static const std::vector<UnitDef> u = {
        {"B", UnitKind::Bytes, 1},         {"kB", UnitKind::Bytes, 1e3},
        {"MB", UnitKind::Bytes, 1e6},      {"GB", UnitKind::Bytes, 1e9},
        {"TB", UnitKind::Bytes, 1e12},     {"PB", UnitKind::Bytes, 1e15},
        {"KiB", UnitKind::Bytes, 1024.0},  {"MiB", UnitKind::Bytes, 1048576.0},
        {"GiB", UnitKind::Bytes, 1073741824.0}, {"TiB", UnitKind::Bytes, 1099511627776.0},
        {"bit", UnitKind::Bits, 1},        {"bits", UnitKind::Bits, 1},
        {"b", UnitKind::Bits, 1},          {"kbit", UnitKind::Bits, 1e3},
        {"kb", UnitKind::Bits, 1e3},       {"Kib", UnitKind::Bits, 1024.0},
        {"Hz", UnitKind::Frequency, 1},    {"kHz", UnitKind::Frequency, 1e3},
        {"MHz", UnitKind::Frequency, 1e6}, {"GHz", UnitKind::Frequency, 1e9},
        {"s", UnitKind::Time, 1},          {"ms", UnitKind::Time, 1e-3},
        {"us", UnitKind::Time, 1e-6},      {"\xC2\xB5s", UnitKind::Time, 1e-6},
        {"ns", UnitKind::Time, 1e-9},      {"ps", UnitKind::Time, 1e-12},
        {"cycle", UnitKind::Cycles, 1},    {"cycles", UnitKind::Cycles, 1},
        {"B/s", UnitKind::Bandwidth, 1},   {"kB/s", UnitKind::Bandwidth, 1e3},
        {"MB/s", UnitKind::Bandwidth, 1e6}, {"GB/s", UnitKind::Bandwidth, 1e9},
        {"TB/s", UnitKind::Bandwidth, 1e12}, {"PB/s", UnitKind::Bandwidth, 1e15},
        {"KiB/s", UnitKind::Bandwidth, 1024.0}, {"MiB/s", UnitKind::Bandwidth, 1048576.0},
        {"GiB/s", UnitKind::Bandwidth, 1073741824.0}, {"Kib/s", UnitKind::Bandwidth, 128.0},
        {"b/s", UnitKind::Bandwidth, 0.125}, {"kb/s", UnitKind::Bandwidth, 125.0},
        {"Mb/s", UnitKind::Bandwidth, 1.25e5}, {"Gb/s", UnitKind::Bandwidth, 1.25e8},
        {"Tb/s", UnitKind::Bandwidth, 1.25e11}, {"Pb/s", UnitKind::Bandwidth, 1.25e14},
        {"W", UnitKind::Power, 1},         {"kW", UnitKind::Power, 1e3},
        {"MW", UnitKind::Power, 1e6},
        {"FLOP/s", UnitKind::FlopRate, 1}, {"GFLOP/s", UnitKind::FlopRate, 1e9},
        {"TFLOP/s", UnitKind::FlopRate, 1e12}, {"PFLOP/s", UnitKind::FlopRate, 1e15},
    };
    return u;
}

std::string trim(std::string_view s) {
    std::size_t a = 0, b = s.size();
    while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
    while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
    return std::string(s.substr(a, b - a));
}

std::string examples(UnitKind k) {
    switch (k) {
        case UnitKind::Bytes: return "e.g. 48KiB, 44kB, 40GB";
        case UnitKind::Bits: return "e.g. 32bit";
        case UnitKind::Frequency: return "e.g. 1.1GHz";
        case UnitKind::Time: return "e.g. 1.2us, 5ns";
        case UnitKind::Cycles: return "e.g. 2cycles";
        case UnitKind::Bandwidth: return "e.g. 3.35TB/s, 100Gb/s";
        case UnitKind::Power: return "e.g. 700W, 23kW";
        case UnitKind::FlopRate: return "e.g. 989TFLOP/s";
        case UnitKind::None: return "a plain number";
    }
    return "";
}

}  // namespace

const char* unit_kind_name(UnitKind k) {
    switch (k) {
        case UnitKind::None: return "number";
        case UnitKind::Bytes: return "bytes";
        case UnitKind::Bits: return "bits";
        case UnitKind::Frequency: return "frequency";
        case UnitKind::Time: return "time";
        case UnitKind::Cycles: return "cycles";
        case UnitKind::Bandwidth: return "bandwidth";
        case UnitKind::Power: return "power";
        case UnitKind::FlopRate: return "FLOP rate";
    }
    return "?";
}

const char* unit_kind_symbol(UnitKind k) {
    switch (k) {
        case UnitKind::None: return "";
        case UnitKind::Bytes: return "B";
        case UnitKind::Bits: return "bit";
        case UnitKind::Frequency: return "Hz";
        case UnitKind::Time: return "s";
        case UnitKind::Cycles: return "cycles";
        case UnitKind::Bandwidth: return "B/s";
        case UnitKind::Power: return "W";
        case UnitKind::FlopRate: return "FLOP/s";
    }
    return "";
}

double parse_quantity(std::string_view raw, UnitKind kind) {
    const std::string text = trim(raw);
    if (text.empty()) throw std::invalid_argument("empty value; expected " + std::string(unit_kind_name(kind)) + " (" + examples(kind) + ")");
    // Number part: strtod, then reject hex, inf and nan spellings (only decimal digits are allowed).
    const char* begin = text.c_str();
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(begin, &end);
    if (end == begin) throw std::invalid_argument("\"" + text + "\" does not start with a number; expected " + examples(kind));
    std::string num(begin, static_cast<std::size_t>(end - begin));
    for (char c : num) {
        if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
            throw std::invalid_argument("\"" + text + "\" is not a decimal number; expected " + examples(kind));
    }
    if (!std::isfinite(v)) throw std::invalid_argument("\"" + text + "\" is not a finite number");
    if (errno == ERANGE) throw std::invalid_argument("\"" + text + "\" is too small to represent; write 0 or a larger value");
    std::string unit = trim(std::string_view(end));
    if (kind == UnitKind::None) {
        if (!unit.empty()) throw std::invalid_argument("\"" + text + "\" has a unit \"" + unit + "\" but a plain number is expected");
        return v;
    }
    if (unit.empty())
        throw std::invalid_argument("\"" + text + "\" has no unit; expected " + std::string(unit_kind_name(kind)) + " (" + examples(kind) + ")");
    if (unit == "KB" || unit == "Kb" || unit == "KB/s" || unit == "Kb/s")
        throw std::invalid_argument("\"" + text + "\" is ambiguous; write " + num + "Ki" + unit.substr(1) + " (1024) or " + num + "k" + unit.substr(1) + " (1000)");
    for (const auto& u : units()) {
        if (unit == u.symbol) {
            if (u.kind != kind)
                throw std::invalid_argument("\"" + text + "\" is " + unit_kind_name(u.kind) + ", but " + unit_kind_name(kind) + " is expected (" + examples(kind) + ")");
            double out = v * u.scale;
            if (!std::isfinite(out)) throw std::invalid_argument("\"" + text + "\" is out of range");
            // A subnormal result (7e-308b/s) has lost precision and cannot be written back in any unit.
            if (out != 0 && std::fabs(out) < std::numeric_limits<double>::min())
                throw std::invalid_argument("\"" + text + "\" is out of range (too small to represent)");
            return out;
        }
    }
    throw std::invalid_argument("\"" + text + "\": unknown unit \"" + unit + "\"; expected " + std::string(unit_kind_name(kind)) + " (" + examples(kind) + ")");
}

namespace {

std::string format_readable(double value, UnitKind kind) {
    char buf[64];
    auto fmt = [&](double v, const char* sym) {
        std::snprintf(buf, sizeof buf, "%.6g%s", v, sym);
        return std::string(buf);
    };
    const double a = std::fabs(value);
    switch (kind) {
        case UnitKind::None: return fmt(value, "");
        case UnitKind::Bytes:
            // A binary prefix only when the value is an exact multiple and below the next prefix
            // (1e12 B is "1TB", not "9.76562e+08KiB").
            if (a >= 1099511627776.0 && std::fmod(a, 1099511627776.0) == 0) return fmt(value / 1099511627776.0, "TiB");
            if (a >= 1073741824.0 && a < 1099511627776.0 && std::fmod(a, 1073741824.0) == 0) return fmt(value / 1073741824.0, "GiB");
            if (a >= 1048576.0 && a < 1073741824.0 && std::fmod(a, 1048576.0) == 0) return fmt(value / 1048576.0, "MiB");
            if (a >= 1024.0 && a < 1048576.0 && std::fmod(a, 1024.0) == 0) return fmt(value / 1024.0, "KiB");
            if (a >= 1e12) return fmt(value / 1e12, "TB");
            if (a >= 1e9) return fmt(value / 1e9, "GB");
            if (a >= 1e6) return fmt(value / 1e6, "MB");
            if (a >= 1e3) return fmt(value / 1e3, "kB");
            return fmt(value, "B");
        case UnitKind::Bits: return fmt(value, "bit");
        case UnitKind::Frequency:
            if (a >= 1e9) return fmt(value / 1e9, "GHz");
            if (a >= 1e6) return fmt(value / 1e6, "MHz");
            if (a >= 1e3) return fmt(value / 1e3, "kHz");
            return fmt(value, "Hz");
        case UnitKind::Time:
            if (a >= 1 || a == 0) return fmt(value, "s");
            if (a >= 1e-3) return fmt(value * 1e3, "ms");
            if (a >= 1e-6) return fmt(value * 1e6, "us");
            if (a >= 1e-9) return fmt(value * 1e9, "ns");
            return fmt(value * 1e12, "ps");
        case UnitKind::Cycles: return fmt(value, "cycles");
        case UnitKind::Bandwidth:
            if (a >= 1e15) return fmt(value / 1e15, "PB/s");
            if (a >= 1e12) return fmt(value / 1e12, "TB/s");
            if (a >= 1e9) return fmt(value / 1e9, "GB/s");
            if (a >= 1e6) return fmt(value / 1e6, "MB/s");
            return fmt(value, "B/s");
        case UnitKind::Power:
            if (a >= 1e3) return fmt(value / 1e3, "kW");
            return fmt(value, "W");
        case UnitKind::FlopRate:
            if (a >= 1e15) return fmt(value / 1e15, "PFLOP/s");
            if (a >= 1e12) return fmt(value / 1e12, "TFLOP/s");
            if (a >= 1e9) return fmt(value / 1e9, "GFLOP/s");
            return fmt(value, "FLOP/s");
    }
    return fmt(value, "");
}

}  // namespace

std::string format_quantity(double value, UnitKind kind) {
    std::string s = format_readable(value, kind);
    // At the ends of the double range six digits can round past it (1.63499e+296TiB overflows, 2.22507e-308B
    // is subnormal): then the exact value in the base unit, which parse_quantity reads back unchanged.
    const double a = std::fabs(value);
    if (std::isfinite(value) && (a > 1e300 || (a != 0 && a < 1e-290))) {
        try {
            (void)parse_quantity(s, kind);
        } catch (const std::invalid_argument&) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.17g%s", value, unit_kind_symbol(kind));
            s = buf;
        }
    }
    return s;
}

}  // namespace wafersim
