// What is being served: batch, prompt length, generated length, phases (the `workload.*` keys).
#pragma once
#include <cstdint>
#include <string>

namespace wafersim::mapping {

enum class PhaseSel { Decode, Prefill, Both };

struct Workload {
    std::int64_t batch = 1;            // sequences decoded together (workload.batch)
    std::int64_t input_tokens = 4096;  // prompt length (workload.input_tokens)
    std::int64_t output_tokens = 128;  // generated tokens; decode figures average over them
    PhaseSel phase = PhaseSel::Both;
    bool runs_decode() const { return phase != PhaseSel::Prefill; }
    bool runs_prefill() const { return phase != PhaseSel::Decode; }
    // Context of the k-th generated token (0-based): the prompt plus the tokens generated before it,
    // plus itself.
    std::int64_t context_of(std::int64_t k) const { return input_tokens + k + 1; }
    // Context at which the KV cache is largest.
    std::int64_t max_context() const { return input_tokens + output_tokens; }
};

}  // namespace wafersim::mapping
