// GpuSpec: an HBM GPU (A100, H100, H200, B200 class) as the HBM baseline engine sees it.
#pragma once
#include <cstdint>
#include <string>

#include "sim/base/params.hpp"
#include "sim/base/yaml_tree.hpp"

namespace wafersim::engines {

// One GPU model plus the fitted software-stack constants of the baseline. Immutable once loaded.
// Contract: every field is in SI base units (bytes, seconds, B/s, FLOP/s, W); `params` holds the fully
// resolved parameter set (defaults filled in) so a run can write it next to its results.
struct GpuSpec {
    std::string name;         // preset name ("a100"); from the file's `name`, else the file stem
    std::string description;  // free text from the file

    double hbm_capacity_bytes = 0;
    double hbm_bandwidth_bytes_per_s = 0;
    double bf16_flops_per_s = 0;  // dense (no 2:4 sparsity)
    double fp8_flops_per_s = 0;   // 0 = not supported (falls back to bf16)
    double fp4_flops_per_s = 0;   // 0 = not supported (falls back to fp8, then bf16)
    double nvlink_bandwidth_bytes_per_s = 0;  // total, both directions, as datasheets give it
    double nvlink_latency_s = 0;              // per ring step (one hop)
    std::int64_t node_gpus = 8;               // GPUs per NVLink domain
    double network_bandwidth_bytes_per_s = 0; // InfiniBand per GPU, per direction
    double network_latency_s = 0;             // per ring step across nodes
    double power_w = 0;

    double efficiency_bandwidth = 1;  // achieved fraction of HBM bandwidth (fitted)
    double efficiency_compute = 1;    // achieved fraction of peak FLOP/s for GEMM
    double launch_overhead_s = 0;     // per kernel (fitted)

    ParamSet params;

    // Datasheet NVLink figures count both directions; a ring all-reduce moves data one way per link.
    double nvlink_bytes_per_s_per_direction() const { return nvlink_bandwidth_bytes_per_s / 2; }
    double achieved_hbm_bytes_per_s() const { return efficiency_bandwidth * hbm_bandwidth_bytes_per_s; }
    // Peak dense FLOP/s for data stored at `bits` per value: fp4 (≤ 4.5 bits) and fp8 (≤ 8 bits) use their
    // tensor-core rate when the GPU has one, else the next wider supported format; wider data uses bf16.
    double peak_flops_per_s(double bits) const;
    // Name of the format peak_flops_per_s(bits) picks ("bf16", "fp8", "fp4").
    const char* compute_format(double bits) const;
};

// The parameter table of a GPU preset (keys relative to the file: "hbm.capacity", "efficiency.bandwidth").
const ParamTable& gpu_param_table();

// Builds a GpuSpec from a flattened preset (overrides already applied). Keys `name`, `description` and
// `sources` are not parameters: `name` and `description` are read, `sources` ignored. Throws InputError
// listing every problem (unknown key with did-you-mean, missing unit, out of range).
GpuSpec load_gpu(const FlatConfig& flat);

}  // namespace wafersim::engines
