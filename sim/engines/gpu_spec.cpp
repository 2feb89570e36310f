// Models an HBM GPU as the baseline sees it: capacity, bandwidth, peak FLOP/s, links, and the fitted
// software-stack constants (achieved bandwidth fraction, per-kernel launch overhead).
#include "sim/engines/gpu_spec.hpp"

#include <algorithm>

namespace wafersim::engines {


// Hardware defaults are the H100 SXM column of hardware.md §3; every preset in configs/gpus/ sets them.
// The fitted constants (efficiency.bandwidth, launch_overhead) describe the serving stack (SGLang/PyTorch,
// batch 1) and are shared by all presets; see docs/validation.md (HBM GPU baseline) for the fit.
const ParamTable& gpu_param_table() {
    static const ParamTable table(
        "gpu",
        {
            param_quantity("hbm.capacity", UnitKind::Bytes, "80GB", 1e6, 1e15, "HBM capacity of one GPU",
                     "hardware.md §3 row 'HBM' (V); default = H100 SXM"),
            param_quantity("hbm.bandwidth", UnitKind::Bandwidth, "3.35TB/s", 1e6, 1e15, "peak HBM bandwidth of one GPU",
                     "hardware.md §3 row 'HBM bandwidth' (V); default = H100 SXM"),
            param_quantity("compute.bf16", UnitKind::FlopRate, "989TFLOP/s", 1e9, 1e18,
                     "dense BF16/FP16 tensor-core peak of one GPU",
                     "hardware.md §3 row 'BF16/FP16 dense' (V); default = H100 SXM"),
            param_quantity("compute.fp8", UnitKind::FlopRate, "1979TFLOP/s", 0, 1e18,
                     "dense FP8 tensor-core peak; 0 = not supported (fp8 data then runs at the bf16 rate)",
                     "hardware.md §3 row 'FP8 dense' (V); default = H100 SXM"),
            param_quantity("compute.fp4", UnitKind::FlopRate, "0FLOP/s", 0, 1e18,
                     "dense FP4 tensor-core peak; 0 = not supported (fp4 data then runs at the fp8 or bf16 rate)",
                     "not in hardware.md (U); H100 has no FP4 tensor cores"),
            param_quantity("nvlink.bandwidth", UnitKind::Bandwidth, "900GB/s", 1e6, 1e15,
                     "NVLink bandwidth per GPU, total of both directions as datasheets give it (the model uses half)",
                     "hardware.md §3 row 'NVLink (total, both directions)' (V); default = H100 SXM"),
            param_quantity("nvlink.latency", UnitKind::Time, "0.6us", 0, 1e-3,
                     "latency of one ring step over NVLink (one hop, small message)",
                     "U: NCCL cost model (src/graph/tuning.cc) hwLat NVLink, ring, LL protocol = 0.6 us; not fitted"),
            param_int("node.gpus", "8", 1, 1024, "GPUs per NVLink domain (one node); tensor parallelism beyond uses the network",
                    "U: HGX/DGX 8-GPU baseboard"),
            param_quantity("network.bandwidth", UnitKind::Bandwidth, "400Gb/s", 1e6, 1e15,
                     "InfiniBand bandwidth per GPU, one direction (one NIC per GPU)",
                     "U: not in hardware.md; NDR 400 Gb/s per GPU on DGX H100"),
            param_quantity("network.latency", UnitKind::Time, "2.7us", 0, 1e-2,
                     "latency of one ring step across nodes over the network",
                     "U: NCCL cost model (src/graph/tuning.cc) hwLat NET, ring, LL protocol = 2.7 us; not fitted"),
            param_quantity("power", UnitKind::Power, "700W", 0, 1e5, "board power of one GPU, used for energy = power × time",
                     "hardware.md §3 row 'Power' (V); default = H100 SXM"),
            param_real("efficiency.bandwidth", "0.691", 0.01, 1.0,
                 "achieved fraction of peak HBM bandwidth for every byte a kernel moves",
                 "fitted: calibration.md §B (Llama-3-8B decode, 1× and 8× A100), docs/validation.md (HBM GPU baseline)"),
            param_real("efficiency.compute", "0.75", 0.01, 1.0,
                 "achieved fraction of peak tensor-core FLOP/s for GEMM and attention kernels",
                 "U: design default, not fitted (no GPU prefill point in calibration.md); large bf16 GEMMs "
                 "reach ~70-85% of peak"),
            param_quantity("launch_overhead", UnitKind::Time, "4.57us", 0, 1e-3,
                     "fixed cost per kernel (launch, tail, synchronisation), also paid by each all-reduce",
                     "fitted: calibration.md §B (Llama-3-8B decode, 1× and 8× A100), docs/validation.md (HBM GPU baseline)"),
        });
    return table;
}

double GpuSpec::peak_flops_per_s(double bits) const {
    if (bits <= 4.5 && fp4_flops_per_s > 0) return fp4_flops_per_s;
    if (bits <= 8.0 && fp8_flops_per_s > 0) return fp8_flops_per_s;
    return bf16_flops_per_s;
}

const char* GpuSpec::compute_format(double bits) const {
    if (bits <= 4.5 && fp4_flops_per_s > 0) return "fp4";
    if (bits <= 8.0 && fp8_flops_per_s > 0) return "fp8";
    return "bf16";
}

GpuSpec load_gpu(const FlatConfig& flat) {
    const ParamSet p = gpu_param_table().resolve_or_throw(flat, {"name", "description", "sources"});
    GpuSpec g;
    for (const auto& e : flat) {
        if (e.key == "name") g.name = e.value;
        if (e.key == "description") g.description = e.value;
    }
    if (g.name.empty()) {
        // The file stem of the preset ("configs/gpus/h100.yaml" -> "h100").
        std::string file;
        for (const auto& e : flat)
            if (e.file != "--set" && e.file != "<default>" && !e.file.empty()) { file = e.file; break; }
        auto slash = file.find_last_of('/');
        std::string stem = slash == std::string::npos ? file : file.substr(slash + 1);
        auto dot = stem.find_last_of('.');
        if (dot != std::string::npos) stem = stem.substr(0, dot);
        g.name = stem.empty() ? "gpu" : stem;
    }
    g.hbm_capacity_bytes = p.num("hbm.capacity");
    g.hbm_bandwidth_bytes_per_s = p.num("hbm.bandwidth");
    g.bf16_flops_per_s = p.num("compute.bf16");
    g.fp8_flops_per_s = p.num("compute.fp8");
    g.fp4_flops_per_s = p.num("compute.fp4");
    g.nvlink_bandwidth_bytes_per_s = p.num("nvlink.bandwidth");
    g.nvlink_latency_s = p.num("nvlink.latency");
    g.node_gpus = p.integer("node.gpus");
    g.network_bandwidth_bytes_per_s = p.num("network.bandwidth");
    g.network_latency_s = p.num("network.latency");
    g.power_w = p.num("power");
    g.efficiency_bandwidth = p.num("efficiency.bandwidth");
    g.efficiency_compute = p.num("efficiency.compute");
    g.launch_overhead_s = p.num("launch_overhead");
    g.params = p;
    return g;
}

}  // namespace wafersim::engines
