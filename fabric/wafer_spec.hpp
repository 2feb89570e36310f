// WaferSpec: a wafer-scale processor as its YAML preset describes it (mesh, cores, SRAM, router, links).
#pragma once
#include <cstdint>
#include <string>

#include "sim/base/params.hpp"

namespace wafersim::fabric {

// Immutable, validated hardware description. Numbers in base units (bytes, Hz, cycles, B/s, s, W).
// Coordinates: x = column (0 at the west edge), y = row (0 at the north edge).
struct WaferSpec {
    std::string name;
    std::string description;
    std::string source_file;
    ParamSet params;  // every resolved parameter (for config.resolved.yaml, describe, HDF5)

    std::int64_t mesh_cols = 0, mesh_rows = 0;  // fabric grid
    std::int64_t usable_col0 = 0, usable_row0 = 0, usable_cols = 0, usable_rows = 0;
    double clock_hz = 0;

    double sram_bytes = 0;           // per core
    double sram_reserved_bytes = 0;  // taken by the runtime (host I/O, code, stacks)
    std::int64_t sram_banks = 1;
    std::int64_t sram_read_ports = 2, sram_write_ports = 1;
    double sram_port_bits = 64;
    double fmac_fp16 = 0, fmac_mixed = 0, fmac_fp32 = 0, fmac_fp8 = 0;  // FMAC per cycle per core
    double fmac_efficiency = 1;      // achieved fraction of the FMAC/port-limited rate
    double task_overhead_cycles = 0; // per op a core starts (task activation)

    std::int64_t router_ports = 5, colors = 24, colors_reserved = 3, input_queues = 8;
    std::int64_t queue_depth_wavelets = 4;
    double link_bits = 32;
    double hop_latency_cycles = 1;
    double turn_latency_cycles = 0;
    double ramp_latency_cycles = 0;
    double relay_latency_cycles = 0;      // software store-and-forward through a core
    double relay_per_wavelet_cycles = 1;

    double wafer_link_bandwidth = 0;  // B/s per direction between two wafers
    double wafer_link_latency_s = 0;
    double system_power_w = 0;        // whole system, 0 = unknown

    // Derived
    std::int64_t usable_cores() const { return usable_cols * usable_rows; }
    double sram_user_bytes() const { return sram_bytes - sram_reserved_bytes; }
    double link_bytes_per_cycle() const { return link_bits / 8.0; }
    double cycle_s() const { return 1.0 / clock_hz; }
    // Multiply-accumulates per cycle per core at a weight precision of `bits` (16 -> fp16, 8 -> fp8,
    // 32 -> fp32; 4.25 (MXFP4) is dequantised to fp16), limited by the SRAM ports (per MAC: read one
    // weight and one accumulator, write the accumulator) and, for achieved_, scaled by the efficiency.
    double achieved_macs_per_cycle(double weight_bits) const;
    double peak_macs_per_cycle(double weight_bits) const;
    double peak_flops(double weight_bits) const;  // whole usable area
};

const ParamTable& wafer_param_table();

// Validates and builds a WaferSpec from a flattened YAML (keys relative to the wafer file, overrides
// already applied). Throws InputError with every problem found (file, line, key, expected vs found).
WaferSpec load_wafer(const FlatConfig& flat, const std::string& source_file);

}  // namespace wafersim::fabric
