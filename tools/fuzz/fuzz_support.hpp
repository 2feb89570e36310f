// Shared helpers of the libFuzzer targets: a broken invariant is reported as a finding (abort), exactly
// like a crash or an escaping exception.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace wafersim::fuzz {

[[noreturn]] inline void finding(const std::string& what, const std::string& input) {
    std::fprintf(stderr, "\n==== wafersim fuzz finding: %s\n---- input (%zu bytes):\n%s\n----\n", what.c_str(),
                 input.size(), input.c_str());
    std::abort();
}

inline std::string as_text(const std::uint8_t* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace wafersim::fuzz
