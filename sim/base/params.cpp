// Parameter tables: typed, unit-checked, range-checked configuration values with defaults.
#include "sim/base/params.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace wafersim {

ParamDef param_quantity(std::string key, UnitKind unit, std::string default_value, double min, double max,
                        std::string doc, std::string source) {
    ParamDef d;
    d.key = std::move(key);
    d.type = unit == UnitKind::None ? ParamType::Real : ParamType::Quantity;
    d.unit = unit;
    d.default_value = std::move(default_value);
    d.min = min;
    d.max = max;
    d.doc = std::move(doc);
    d.source = std::move(source);
    return d;
}

ParamDef param_int(std::string key, std::string default_value, double min, double max, std::string doc,
                   std::string source) {
    ParamDef d = param_quantity(std::move(key), UnitKind::None, std::move(default_value), min, max, std::move(doc),
                                std::move(source));
    d.type = ParamType::Int;
    return d;
}

ParamDef param_real(std::string key, std::string default_value, double min, double max, std::string doc,
                    std::string source) {
    return param_quantity(std::move(key), UnitKind::None, std::move(default_value), min, max, std::move(doc),
                          std::move(source));
}

ParamDef param_bool(std::string key, std::string default_value, std::string doc, std::string source) {
    ParamDef d = param_int(std::move(key), std::move(default_value), 0, 1, std::move(doc), std::move(source));
    d.type = ParamType::Bool;
    d.min = -std::numeric_limits<double>::infinity();
    d.max = std::numeric_limits<double>::infinity();
    return d;
}

ParamDef param_enum(std::string key, std::string default_value, std::vector<std::string> choices, std::string doc,
                    std::string source) {
    ParamDef d = param_bool(std::move(key), std::move(default_value), std::move(doc), std::move(source));
    d.type = ParamType::Enum;
    d.choices = std::move(choices);
    return d;
}

ParamDef param_grid(std::string key, std::string default_value, std::string doc, std::string source) {
    ParamDef d = param_bool(std::move(key), std::move(default_value), std::move(doc), std::move(source));
    d.type = ParamType::Grid;
    return d;
}

ParamDef required(ParamDef d) {
    d.required = true;
    d.default_value.clear();
    return d;
}

const char* param_type_name(ParamType t) {
    switch (t) {
        case ParamType::Int: return "integer";
        case ParamType::Real: return "number";
        case ParamType::Quantity: return "quantity";
        case ParamType::Bool: return "boolean";
        case ParamType::Enum: return "choice";
        case ParamType::String: return "string";
        case ParamType::Grid: return "grid";
    }
    return "?";
}

std::string describe_type(const ParamDef& d) {
    switch (d.type) {
        case ParamType::Quantity: return std::string("quantity (") + unit_kind_name(d.unit) + ")";
        case ParamType::Enum: {
            std::string s = "one of {";
            for (std::size_t i = 0; i < d.choices.size(); ++i) s += (i ? "|" : "") + d.choices[i];
            return s + "}";
        }
        case ParamType::Grid: return "grid RxC or auto";
        default: return param_type_name(d.type);
    }
}

bool parse_grid(const std::string& text, std::int64_t& rows, std::int64_t& cols) {
    auto x = text.find_first_of("xX");
    if (x == std::string::npos || x == 0 || x + 1 >= text.size()) return false;
    std::string a = text.substr(0, x), b = text.substr(x + 1);
    for (const auto& s : {a, b})
        for (char c : s)
            if (c < '0' || c > '9') return false;
    if (a.size() > 9 || b.size() > 9) return false;
    rows = std::atoll(a.c_str());
    cols = std::atoll(b.c_str());
    return rows > 0 && cols > 0;
}

static std::string range_text(const ParamDef& d) {
    auto show = [&](double v) {
        return d.type == ParamType::Quantity ? format_quantity(v, d.unit) : format_quantity(v, UnitKind::None);
    };
    bool lo = std::isfinite(d.min), hi = std::isfinite(d.max);
    if (lo && hi) return "between " + show(d.min) + " and " + show(d.max);
    if (lo) return "at least " + show(d.min);
    if (hi) return "at most " + show(d.max);
    return "";
}

bool ParamTable::parse_value(const ParamDef& d, const std::string& text, double& number, std::string& error) {
    number = 0;
    try {
        switch (d.type) {
            case ParamType::Int: {
                if (text.empty()) { error = "empty value; expected an integer"; return false; }
                for (std::size_t i = 0; i < text.size(); ++i) {
                    char c = text[i];
                    if (!((c >= '0' && c <= '9') || (i == 0 && (c == '-' || c == '+')))) {
                        error = "\"" + text + "\" is not an integer";
                        return false;
                    }
                }
                if (text.find_first_of("0123456789") == std::string::npos) {  // "-" or "+" alone
                    error = "\"" + text + "\" is not an integer";
                    return false;
                }
                if (text.size() > 15) { error = "\"" + text + "\" is too large"; return false; }
                number = static_cast<double>(std::atoll(text.c_str()));
                break;
            }
            case ParamType::Real:
                number = parse_quantity(text, UnitKind::None);
                break;
            case ParamType::Quantity:
                number = parse_quantity(text, d.unit);
                break;
            case ParamType::Bool:
                if (text == "true" || text == "yes" || text == "on") number = 1;
                else if (text == "false" || text == "no" || text == "off") number = 0;
                else { error = "\"" + text + "\" is not a boolean; write true or false"; return false; }
                return true;
            case ParamType::Enum:
                if (std::find(d.choices.begin(), d.choices.end(), text) == d.choices.end()) {
                    error = "\"" + text + "\" is not " + describe_type(d);
                    std::string near = did_you_mean(text, d.choices);
                    if (!near.empty()) error += "; did you mean \"" + near + "\"?";
                    return false;
                }
                return true;
            case ParamType::String:
                return true;
            case ParamType::Grid: {
                if (text == "auto") return true;
                std::int64_t r = 0, c = 0;
                if (!parse_grid(text, r, c)) {
                    error = "\"" + text + "\" is not a grid; write RxC with positive integers (e.g. 420x420) or auto";
                    return false;
                }
                if (r > 100000 || c > 100000) { error = "\"" + text + "\" is larger than any wafer (100000 per side)"; return false; }
                return true;
            }
        }
    } catch (const std::invalid_argument& e) {
        error = e.what();
        return false;
    }
    if (number < d.min || number > d.max) {
        error = "\"" + text + "\" is out of range; expected " + range_text(d);
        return false;
    }
    return true;
}

ParamTable::ParamTable(std::string name, std::vector<ParamDef> defs) : m_name(std::move(name)), m_defs(std::move(defs)) {
    for (const auto& d : m_defs) {
        if (d.required || d.default_value.empty()) continue;
        double n;
        std::string err;
        if (!parse_value(d, d.default_value, n, err))
            throw InternalError("parameter table '" + m_name + "': default of " + d.key + " is invalid: " + err);
    }
}

const ParamDef* ParamTable::find(const std::string& key) const {
    for (const auto& d : m_defs)
        if (d.key == key) return &d;
    return nullptr;
}

ParamSet ParamTable::resolve(const FlatConfig& input, DiagnosticSink& sink, const std::vector<std::string>& ignored) const {
    std::map<std::string, ParamValue> values;
    // Inside a file the key is relative ("core.sram"); on the command line it carries the table prefix.
    auto qualified = [&](const std::string& file, const std::string& key) {
        return (file == "--set" || file.empty() || file == "<default>") ? m_name + "." + key : key;
    };
    std::vector<std::string> known;
    for (const auto& d : m_defs) known.push_back(d.key);
    std::map<std::string, const FlatEntry*> given;
    std::map<std::string, bool> nested;  // declared scalar keys given a list or mapping (already reported)
    for (const auto& e : input) {
        if (std::find(ignored.begin(), ignored.end(), e.key) != ignored.end()) continue;
        bool ignored_prefix = false;
        for (const auto& ig : ignored)
            if (e.key.compare(0, ig.size() + 1, ig + ".") == 0) ignored_prefix = true;
        if (ignored_prefix) continue;
        if (!find(e.key)) {
            // A list or mapping written where a declared scalar key is expected ("sram: [48KiB]").
            const ParamDef* parent = nullptr;
            for (const auto& d : m_defs)
                if (e.key.compare(0, d.key.size() + 1, d.key + ".") == 0) parent = &d;
            if (parent) {
                if (!nested.count(parent->key)) {
                    const char c = e.key[parent->key.size() + 1];
                    nested[parent->key] = true;
                    sink.add(e.file, e.line, qualified(e.file, parent->key),
                             "expected " + describe_type(*parent) + ", found a " +
                                 (c >= '0' && c <= '9' ? "list" : "mapping"));
                }
                continue;
            }
            std::string msg = "unknown key";
            std::string near = did_you_mean(e.key, known);
            if (!near.empty()) msg += "; did you mean \"" + qualified(e.file, near) + "\"?";
            else msg += "; run `wafersim describe " + m_name + "` for the known keys";
            sink.add(e.file, e.line, qualified(e.file, e.key), msg);
            continue;
        }
        given[e.key] = &e;
    }
    for (const auto& d : m_defs) {
        auto it = given.find(d.key);
        ParamValue v;
        if (nested.count(d.key)) continue;
        if (it != given.end()) {
            const FlatEntry& e = *it->second;
            if (e.is_null) {
                sink.add(e.file, e.line, qualified(e.file, d.key), "empty value; expected " + describe_type(d));
                continue;
            }
            v.text = e.value;
            v.file = e.file;
            v.line = e.line;
        } else if (d.required) {
            const std::string f = input.empty() ? "" : input.front().file;
            sink.add(f, 0, qualified(f, d.key),
                     "missing required key (" + describe_type(d) + ": " + d.doc + ")");
            continue;
        } else {
            v.text = d.default_value;
            v.file = "<default>";
        }
        std::string err;
        if (!parse_value(d, v.text, v.number, err)) {
            sink.add(v.file, v.line, qualified(v.file, d.key), err);
            continue;
        }
        values[d.key] = v;
    }
    return ParamSet(m_name, std::move(values));
}

ParamSet ParamTable::resolve_or_throw(const FlatConfig& input, const std::vector<std::string>& ignored) const {
    DiagnosticSink sink;
    ParamSet s = resolve(input, sink, ignored);
    sink.throw_if_any();
    return s;
}

const ParamValue& ParamSet::value(const std::string& key) const {
    auto it = m_values.find(key);
    if (it == m_values.end()) throw InternalError("parameter '" + m_table + "." + key + "' is not declared or not resolved");
    return it->second;
}
double ParamSet::num(const std::string& key) const { return value(key).number; }
std::int64_t ParamSet::integer(const std::string& key) const { return static_cast<std::int64_t>(std::llround(value(key).number)); }
const std::string& ParamSet::str(const std::string& key) const { return value(key).text; }
bool ParamSet::flag(const std::string& key) const { return value(key).number != 0; }
std::pair<std::int64_t, std::int64_t> ParamSet::grid(const std::string& key) const {
    std::int64_t r = 0, c = 0;
    if (!parse_grid(str(key), r, c)) return {0, 0};
    return {r, c};
}

}  // namespace wafersim
