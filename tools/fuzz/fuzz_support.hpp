// Shared helpers of the libFuzzer targets: a broken invariant is reported as a finding (abort), exactly
// like a crash or an escaping exception.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sim/base/params.hpp"

namespace wafersim::fuzz {

[[noreturn]] inline void finding(const std::string& what, const std::string& input) {
    std::fprintf(stderr, "\n==== wafersim fuzz finding: %s\n---- input (%zu bytes):\n%s\n----\n", what.c_str(),
                 input.size(), input.c_str());
    std::abort();
}

inline std::string as_text(const std::uint8_t* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

// An accepted Int parameter is written as one (optional sign, decimal digits) and has that value.
inline bool integer_text_matches(const ParamDef& d, const ParamSet& p) {
    if (d.type != ParamType::Int) return true;
    const std::string& text = p.str(d.key);
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    return text.find_first_of("0123456789") != std::string::npos && end == text.c_str() + text.size() &&
           static_cast<double>(v) == p.num(d.key);
}

}  // namespace wafersim::fuzz
