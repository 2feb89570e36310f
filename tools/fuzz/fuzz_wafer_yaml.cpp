// Fuzz target: YAML text -> parse_yaml_flat -> load_wafer (the path of `wafersim run --wafer FILE`).
// Contract checked: both throw only wafersim::InputError on bad input; a WaferSpec that loads satisfies
// the invariants the rest of the simulator relies on (a non-empty user rectangle inside the mesh, free
// SRAM, positive clock and rates, an unreserved color), and its derived rates are finite.
#include <cmath>
#include <cstdint>
#include <string>

#include "fabric/wafer_spec.hpp"
#include "sim/base/errors.hpp"
#include "sim/base/yaml_tree.hpp"
#include "tools/fuzz/fuzz_support.hpp"

using wafersim::fuzz::finding;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input = wafersim::fuzz::as_text(data, size);
    const std::string file = "fuzz.yaml";
    wafersim::FlatConfig flat;
    try {
        flat = wafersim::parse_yaml_flat(input, file);
    } catch (const wafersim::InputError& e) {
        if (e.diagnostics().empty()) finding("InputError without a diagnostic", input);
        return 0;
    }
    for (const auto& e : flat)
        if (e.line < 0) finding("flattened entry " + e.key + " has a negative line", input);

    wafersim::fabric::WaferSpec w;
    try {
        w = wafersim::fabric::load_wafer(flat, file);
    } catch (const wafersim::InputError& e) {
        if (e.diagnostics().empty()) finding("InputError without a diagnostic", input);
        for (const auto& d : e.diagnostics())
            if (d.message.empty()) finding("diagnostic without a message", input);
        (void)e.what();
        return 0;
    }

    // Accepted: the invariants validation promises.
    if (w.mesh_cols < 1 || w.mesh_rows < 1) finding("accepted an empty mesh", input);
    if (w.usable_cols < 1 || w.usable_rows < 1 || w.usable_col0 < 0 || w.usable_row0 < 0 ||
        w.usable_col0 + w.usable_cols > w.mesh_cols || w.usable_row0 + w.usable_rows > w.mesh_rows)
        finding("accepted a user rectangle outside the mesh", input);
    if (!(w.clock_hz > 0) || !(w.sram_user_bytes() > 0) || !(w.link_bits > 0) || !(w.fmac_fp16 > 0))
        finding("accepted a non-positive clock, free SRAM, link width or FMAC rate", input);
    if (w.colors_reserved >= w.colors) finding("accepted a wafer with every color reserved", input);
    for (double bits : {4.25, 8.0, 16.0, 32.0}) {
        const double peak = w.peak_macs_per_cycle(bits), ach = w.achieved_macs_per_cycle(bits), fl = w.peak_flops(bits);
        if (!std::isfinite(peak) || !(peak > 0) || !std::isfinite(ach) || !std::isfinite(fl) || !(fl > 0))
            finding("derived rate is not finite and positive at " + std::to_string(bits) + " bits", input);
    }
    if (!std::isfinite(w.cycle_s()) || w.usable_cores() < 1) finding("derived cycle time or core count is invalid", input);
    // Every declared parameter is resolved.
    for (const auto& d : wafersim::fabric::wafer_param_table().defs()) {
        if (!w.params.has(d.key)) finding("resolved wafer lacks " + d.key, input);
        if (!wafersim::fuzz::integer_text_matches(d, w.params)) finding(d.key + " accepted a non-integer", input);
    }
    return 0;
}
