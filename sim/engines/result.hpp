// The result shape every engine produces (analytic, systemc, hbm baseline): same fields, same units.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace wafersim::engines {

// Time of one layer (or of the embedding / LM head / a stage hand-off) in one phase, split by cause.
// Contract: seconds; total() is what the layer adds to the critical path of the phase.
struct LayerTime {
    std::string name;   // "layer.0", "embedding", "lm_head", "handoff.0->1"
    int stage = 0;
    double compute_s = 0;     // local work: FMAC, SRAM, elementwise
    double collective_s = 0;  // reduce / all-reduce / broadcast / shifts on the fabric
    double transfer_s = 0;    // activation hand-off between stages and wafers (or HBM traffic for a GPU)
    double overhead_s = 0;    // fixed costs: kernel launch, task switch
    double total() const { return compute_s + collective_s + transfer_s + overhead_s; }
};

struct PhaseResult {
    bool ran = false;
    std::int64_t batch = 1;
    std::int64_t tokens = 0;           // decode: output tokens averaged over; prefill: input tokens
    double seconds = 0;                // decode: seconds per step (one token per sequence); prefill: TTFT
    double tokens_per_s = 0;           // decode: per request; prefill: input tokens per second
    double aggregate_tokens_per_s = 0; // decode: batch × per-request rate; prefill: same as tokens_per_s
    double flops = 0;                  // per step (decode) or for the whole prefill
    double utilization = 0;            // achieved FLOP/s ÷ dense peak FLOP/s (SIMD width x clock) of every usable core of the wafers used
    double energy_j = 0;               // per step (decode) or whole prefill; 0 when power is unknown
    std::vector<LayerTime> layers;     // per-layer breakdown (critical path)
    double compute_s() const;
    double collective_s() const;
    double transfer_s() const;
    double overhead_s() const;
};

// A per-core or per-link map of one wafer, row-major [rows][cols] (level-3 statistic).
struct Heatmap {
    std::string name;         // "core_busy_cycles", "link_wavelets_east", ...
    std::string unit;
    std::string description;
    int wafer = 0;
    std::size_t rows = 0, cols = 0;
    std::vector<float> data;
};

// One span of the timeline (Chrome/Perfetto "X" event): a layer of a stage in a phase.
struct TraceSpan {
    std::string name;  // "layer.3"
    std::string phase; // "decode", "prefill.chunk2"
    int wafer = 0;     // process lane
    int stage = 0;     // thread lane
    double start_us = 0, dur_us = 0;
};

struct EngineResult {
    std::string engine;               // "analytic", "systemc", "hbm"
    std::string device;               // wafer or GPU preset name
    std::int64_t device_count = 1;    // wafers or GPUs
    PhaseResult decode;               // at workload.batch
    PhaseResult decode_batch1;        // at batch 1 (same as decode when workload.batch == 1)
    PhaseResult prefill;
    std::int64_t max_context_tokens = 0;  // longest context whose KV cache fits (at workload.batch)
    std::vector<std::string> notes;   // assumptions worth reporting
    std::vector<Heatmap> heatmaps;    // engines that track per-core / per-link state (systemc)
    std::vector<TraceSpan> trace;     // timeline (systemc)
    double simulated_events = 0;      // events processed (systemc), for speed reports
};

}  // namespace wafersim::engines
