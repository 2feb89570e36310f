// Parameter tables: each component declares its parameters once (key, type, unit, default, range, doc,
// source); the table drives parsing, validation, error messages, `wafersim describe` and docs/params.md.
#pragma once
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "sim/base/errors.hpp"
#include "sim/base/units.hpp"
#include "sim/base/yaml_tree.hpp"

namespace wafersim {

enum class ParamType { Int, Real, Quantity, Bool, Enum, String, Grid };

struct ParamDef {
    std::string key;            // dotted, relative to the table ("core.sram")
    ParamType type = ParamType::Real;
    UnitKind unit = UnitKind::None;  // for Quantity
    std::string default_value;  // text as a user would write it; "" with required=true means no default
    bool required = false;
    double min = -std::numeric_limits<double>::infinity();  // inclusive, in base units
    double max = std::numeric_limits<double>::infinity();
    std::vector<std::string> choices;  // for Enum
    std::string doc;            // one line
    std::string source;         // where the default comes from (hardware.md row, calibration, design)
};

// A resolved value: the text, its number in base units (for numeric types) and where it came from.
struct ParamValue {
    std::string text;
    double number = 0;
    std::string file;  // "<default>" when the default was used
    int line = 0;
};

// Fully resolved parameters of one table. Every declared key is present (defaults filled in).
class ParamSet {
public:
    ParamSet() = default;
    ParamSet(std::string table, std::map<std::string, ParamValue> values)
        : m_table(std::move(table)), m_values(std::move(values)) {}

    const std::string& table() const { return m_table; }
    double num(const std::string& key) const;
    std::int64_t integer(const std::string& key) const;
    const std::string& str(const std::string& key) const;
    bool flag(const std::string& key) const;
    // Grid "RxC" -> {R, C}; {0, 0} for "auto".
    std::pair<std::int64_t, std::int64_t> grid(const std::string& key) const;
    bool has(const std::string& key) const { return m_values.count(key) != 0; }
    const ParamValue& value(const std::string& key) const;
    const std::map<std::string, ParamValue>& values() const { return m_values; }

private:
    std::string m_table;
    std::map<std::string, ParamValue> m_values;
};

class ParamTable {
public:
    // `name` is the prefix used by --set ("wafer", "mapping") and in messages.
    ParamTable(std::string name, std::vector<ParamDef> defs);

    const std::string& name() const { return m_name; }
    const std::vector<ParamDef>& defs() const { return m_defs; }
    const ParamDef* find(const std::string& key) const;

    // Validates `input` (keys relative to this table) and fills defaults. Every problem is added to
    // `sink`: unknown key (with did-you-mean), wrong type, bad unit, out of range, missing required key.
    // Keys listed in `ignored` are accepted without a definition (e.g. "name", "description").
    ParamSet resolve(const FlatConfig& input, DiagnosticSink& sink,
                     const std::vector<std::string>& ignored = {}) const;
    // Convenience: resolve and throw InputError if anything is wrong.
    ParamSet resolve_or_throw(const FlatConfig& input, const std::vector<std::string>& ignored = {}) const;

    // Parses one value for `def`; returns false and sets `error` when it is invalid.
    static bool parse_value(const ParamDef& def, const std::string& text, double& number, std::string& error);

private:
    std::string m_name;
    std::vector<ParamDef> m_defs;
};

// Builders: one line per parameter in a table.
ParamDef param_quantity(std::string key, UnitKind unit, std::string default_value, double min, double max,
                        std::string doc, std::string source);
ParamDef param_int(std::string key, std::string default_value, double min, double max, std::string doc,
                   std::string source);
ParamDef param_real(std::string key, std::string default_value, double min, double max, std::string doc,
                    std::string source);
ParamDef param_bool(std::string key, std::string default_value, std::string doc, std::string source);
ParamDef param_enum(std::string key, std::string default_value, std::vector<std::string> choices, std::string doc,
                    std::string source);
ParamDef param_grid(std::string key, std::string default_value, std::string doc, std::string source);
// The same definition with no default: the key must be given.
ParamDef required(ParamDef d);

const char* param_type_name(ParamType t);
// "Quantity (bytes)", "Int", "Enum {a|b}" — used by describe and docs.
std::string describe_type(const ParamDef& d);
// Parses "RxC" (e.g. "420x420"); returns false when malformed or non-positive.
bool parse_grid(const std::string& text, std::int64_t& rows, std::int64_t& cols);

}  // namespace wafersim
