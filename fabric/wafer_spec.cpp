// Wafer hardware parameters: the declared table, validation, and derived rates.
#include "fabric/wafer_spec.hpp"

#include <algorithm>
#include <cmath>

namespace wafersim::fabric {


const ParamTable& wafer_param_table() {
    static const ParamTable t("wafer", {
        required(param_int("mesh.cols", "", 1, 100000, "fabric grid width in cores (x)", "hardware.md §1 'Fabric grid'")),
        required(param_int("mesh.rows", "", 1, 100000, "fabric grid height in cores (y)", "hardware.md §1 'Fabric grid'")),
        param_int("usable.col0", "0", 0, 100000, "first column of the user rectangle", "hardware.md §1 'Largest user rectangle'"),
        param_int("usable.row0", "0", 0, 100000, "first row of the user rectangle", "hardware.md §1 'Largest user rectangle'"),
        param_int("usable.cols", "0", 0, 100000, "user rectangle width in cores (0 = whole mesh from col0)", "hardware.md §1"),
        param_int("usable.rows", "0", 0, 100000, "user rectangle height in cores (0 = whole mesh from row0)", "hardware.md §1"),
        required(param_quantity("clock", UnitKind::Frequency, "", 1e6, 1e11, "core and fabric clock", "hardware.md §1 'Clock'")),
        required(param_quantity("core.sram", UnitKind::Bytes, "", 1, 1e12, "SRAM per core", "hardware.md §1 'SRAM per PE'")),
        param_quantity("core.sram_reserved", UnitKind::Bytes, "0B", 0, 1e12, "SRAM per core taken by the runtime", "hardware.md §1 'SRAM free after the host-I/O runtime'"),
        param_int("core.sram_banks", "8", 1, 1024, "SRAM banks per core", "hardware.md §1 'SRAM per PE'"),
        param_int("core.sram_read_ports", "2", 1, 64, "SRAM reads per cycle", "hardware.md §1 'SRAM ports per cycle'"),
        param_int("core.sram_write_ports", "1", 1, 64, "SRAM writes per cycle", "hardware.md §1 'SRAM ports per cycle'"),
        param_quantity("core.sram_port_width", UnitKind::Bits, "64bit", 8, 4096, "width of one SRAM port", "hardware.md §1 'SRAM ports per cycle' (U: 32 or 64 bit)"),
        required(param_real("core.fmac.fp16", "", 0.001, 4096, "FP16 multiply-accumulates per cycle (SIMD width)", "hardware.md §1 'FP16 FMAC per cycle per PE'")),
        param_real("core.fmac.mixed", "0", 0, 4096, "FP16xFP16->FP32 multiply-accumulates per cycle (0 = same as fp16)", "hardware.md §1 'mixed FMAC'"),
        param_real("core.fmac.fp32", "0", 0, 4096, "FP32 multiply-accumulates per cycle (0 = half of fp16)", "hardware.md §1 'FP32 FMA measured'"),
        param_real("core.fmac.fp8", "0", 0, 4096, "FP8 multiply-accumulates per cycle (0 = same as fp16)", "not published (U)"),
        param_real("core.fmac_efficiency", "1", 0.01, 1, "achieved fraction of the FMAC/SRAM-port-limited rate", "hardware.md §1 'FP16 FMA measured on silicon'"),
        param_quantity("core.task_overhead", UnitKind::Cycles, "0cycles", 0, 1e6, "cycles to activate a task for one op on a core", "design default (U)"),
        param_int("router.ports", "5", 2, 16, "router ports (N, S, E, W, ramp)", "hardware.md §1 'Router ports'"),
        param_int("router.colors", "24", 1, 1024, "routable colors (virtual channels)", "hardware.md §1 'Virtual channels'"),
        param_int("router.colors_reserved", "3", 0, 1024, "colors taken by host I/O", "hardware.md §1 'Colors reserved by host I/O'"),
        param_int("router.input_queues", "8", 1, 1024, "input queues per router", "hardware.md §1 'Virtual channels'"),
        param_int("router.queue_depth", "4", 1, 1 << 20, "wavelets buffered per input queue", "not published (U)"),
        param_quantity("link.width", UnitKind::Bits, "32bit", 1, 65536, "bits moved per cycle per link per direction", "hardware.md §1 'Message (wavelet)'"),
        param_quantity("link.hop_latency", UnitKind::Cycles, "1cycles", 0, 1e6, "cycles per router hop", "hardware.md §1 'Per-hop latency'"),
        param_quantity("link.turn_latency", UnitKind::Cycles, "0cycles", 0, 1e6, "extra cycles for an X->Y turn", "hardware.md §1 'Per-hop latency' (turn)"),
        param_quantity("link.ramp_latency", UnitKind::Cycles, "0cycles", 0, 1e6, "cycles between a router and its core", "hardware.md §1 'Router-core (ramp) latency'"),
        param_quantity("relay.latency", UnitKind::Cycles, "16cycles", 0, 1e6, "fixed cost of a software relay through a core", "hardware.md §1 'Software relay'"),
        param_quantity("relay.per_wavelet", UnitKind::Cycles, "1cycles", 0, 1e6, "per-wavelet cost of a software relay", "hardware.md §1 'Software relay'"),
        param_quantity("wafer_link.bandwidth", UnitKind::Bandwidth, "150GB/s", 1, 1e16, "wafer-to-wafer bandwidth per direction", "hardware.md §2 'System I/O'"),
        param_quantity("wafer_link.latency", UnitKind::Time, "5us", 0, 1, "wafer-to-wafer latency", "not published (U)"),
        param_quantity("power.system", UnitKind::Power, "0W", 0, 1e9, "system power (0 = unknown)", "hardware.md §2 'Power'"),
    });
    return t;
}

WaferSpec load_wafer(const FlatConfig& flat, const std::string& source_file) {
    const std::vector<std::string> ignored = {"name", "description", "sources", "notes"};
    DiagnosticSink sink;
    ParamSet p = wafer_param_table().resolve(flat, sink, ignored);
    sink.throw_if_any();

    WaferSpec w;
    w.source_file = source_file;
    for (const auto& e : flat) {
        if (e.key == "name") w.name = e.value;
        if (e.key == "description") w.description = e.value;
    }
    w.mesh_cols = p.integer("mesh.cols");
    w.mesh_rows = p.integer("mesh.rows");
    w.usable_col0 = p.integer("usable.col0");
    w.usable_row0 = p.integer("usable.row0");
    w.usable_cols = p.integer("usable.cols");
    w.usable_rows = p.integer("usable.rows");
    if (w.usable_cols == 0) w.usable_cols = w.mesh_cols - w.usable_col0;
    if (w.usable_rows == 0) w.usable_rows = w.mesh_rows - w.usable_row0;
    w.clock_hz = p.num("clock");
    w.sram_bytes = p.num("core.sram");
    w.sram_reserved_bytes = p.num("core.sram_reserved");
    w.sram_banks = p.integer("core.sram_banks");
    w.sram_read_ports = p.integer("core.sram_read_ports");
    w.sram_write_ports = p.integer("core.sram_write_ports");
    w.sram_port_bits = p.num("core.sram_port_width");
    w.fmac_fp16 = p.num("core.fmac.fp16");
    w.fmac_mixed = p.num("core.fmac.mixed") > 0 ? p.num("core.fmac.mixed") : w.fmac_fp16;
    w.fmac_fp32 = p.num("core.fmac.fp32") > 0 ? p.num("core.fmac.fp32") : w.fmac_fp16 / 2;
    w.fmac_fp8 = p.num("core.fmac.fp8") > 0 ? p.num("core.fmac.fp8") : w.fmac_fp16;
    w.fmac_efficiency = p.num("core.fmac_efficiency");
    w.task_overhead_cycles = p.num("core.task_overhead");
    w.router_ports = p.integer("router.ports");
    w.colors = p.integer("router.colors");
    w.colors_reserved = p.integer("router.colors_reserved");
    w.input_queues = p.integer("router.input_queues");
    w.queue_depth_wavelets = p.integer("router.queue_depth");
    w.link_bits = p.num("link.width");
    w.hop_latency_cycles = p.num("link.hop_latency");
    w.turn_latency_cycles = p.num("link.turn_latency");
    w.ramp_latency_cycles = p.num("link.ramp_latency");
    w.relay_latency_cycles = p.num("relay.latency");
    w.relay_per_wavelet_cycles = p.num("relay.per_wavelet");
    w.wafer_link_bandwidth = p.num("wafer_link.bandwidth");
    w.wafer_link_latency_s = p.num("wafer_link.latency");
    w.system_power_w = p.num("power.system");

    // Consistency checks across keys.
    auto where = [&](const std::string& key) { return p.value(key); };
    auto add = [&](const std::string& key, const std::string& msg) {
        const ParamValue& v = where(key);
        sink.add(v.file == "<default>" ? source_file : v.file, v.line, v.file == "--set" ? "wafer." + key : key, msg);
    };
    if (w.usable_col0 + w.usable_cols > w.mesh_cols)
        add("usable.cols", "user rectangle columns " + std::to_string(w.usable_col0) + ".." +
                               std::to_string(w.usable_col0 + w.usable_cols - 1) + " exceed the mesh width " +
                               std::to_string(w.mesh_cols));
    if (w.usable_row0 + w.usable_rows > w.mesh_rows)
        add("usable.rows", "user rectangle rows " + std::to_string(w.usable_row0) + ".." +
                               std::to_string(w.usable_row0 + w.usable_rows - 1) + " exceed the mesh height " +
                               std::to_string(w.mesh_rows));
    if (w.usable_cols <= 0) add("usable.cols", "user rectangle has no columns");
    if (w.usable_rows <= 0) add("usable.rows", "user rectangle has no rows");
    if (static_cast<double>(w.mesh_cols) * static_cast<double>(w.mesh_rows) > 1e8)
        add("mesh.cols", "mesh of " + std::to_string(w.mesh_cols) + "x" + std::to_string(w.mesh_rows) +
                             " cores is beyond any wafer (more than 1e8 cores)");
    if (w.sram_reserved_bytes >= w.sram_bytes)
        add("core.sram_reserved", "reserved " + format_quantity(w.sram_reserved_bytes, UnitKind::Bytes) +
                                      " leaves nothing of the " + format_quantity(w.sram_bytes, UnitKind::Bytes) +
                                      " SRAM per core");
    if (w.colors_reserved >= w.colors)
        add("router.colors_reserved", "all " + std::to_string(w.colors) + " colors are reserved");
    if (w.name.empty()) sink.add(source_file, 0, "name", "missing required key (string: preset name)");
    sink.throw_if_any();
    w.params = std::move(p);
    return w;
}

double WaferSpec::peak_macs_per_cycle(double weight_bits) const {
    // SIMD width of the arithmetic: fp32 data uses the fp32 rate, exactly 8-bit data the fp8 rate, and
    // everything else (16-bit, and MXFP4 dequantised on the fly) the fp16 rate.
    double simd = fmac_fp16;
    if (weight_bits > 16.5) simd = fmac_fp32;
    else if (weight_bits == 8.0) simd = fmac_fp8;
    // Each MAC of a matrix-vector product reads one weight and one accumulator and writes the
    // accumulator back (y[n] += W[k][n] * x[k]): the SRAM ports bound the rate.
    const double acc_bytes = weight_bits > 16.5 ? 4.0 : 2.0;
    const double port_bytes = sram_port_bits / 8.0;
    const double read_limit = static_cast<double>(sram_read_ports) * port_bytes / (weight_bits / 8.0 + acc_bytes);
    const double write_limit = static_cast<double>(sram_write_ports) * port_bytes / acc_bytes;
    return std::min({simd, read_limit, write_limit});
}

double WaferSpec::achieved_macs_per_cycle(double weight_bits) const {
    return peak_macs_per_cycle(weight_bits) * fmac_efficiency;
}

double WaferSpec::peak_flops(double weight_bits) const {
    return 2.0 * fmac_fp16 * static_cast<double>(usable_cores()) * clock_hz *
           (weight_bits > 16.5 ? fmac_fp32 / fmac_fp16 : 1.0);
}

}  // namespace wafersim::fabric
