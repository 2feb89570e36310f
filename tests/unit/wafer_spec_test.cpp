// Wafer presets: every preset loads with its datasheet values, derived rates are right, overrides are
// validated, and cross-key consistency errors name the key.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fabric/wafer_spec.hpp"
#include "sim/base/errors.hpp"
#include "sim/base/yaml_tree.hpp"

using namespace wafersim;
using namespace wafersim::fabric;

namespace {

std::string preset_path(const std::string& name) {
    return std::string(WAFERSIM_SOURCE_DIR) + "/configs/wafers/" + name + ".yaml";
}
FlatConfig preset_flat(const std::string& name) { return read_yaml_flat(preset_path(name)); }
WaferSpec preset(const std::string& name) { return load_wafer(preset_flat(name), preset_path(name)); }

// wse3 with `sets` applied as if from --set; returns the InputError text ("" when it loads).
std::string error_with(const std::vector<std::pair<std::string, std::string>>& sets, const std::string& base = "wse3") {
    FlatConfig f = preset_flat(base);
    for (const auto& kv : sets) set_flat(f, kv.first, kv.second, "--set");
    try {
        load_wafer(f, preset_path(base));
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(WaferSpec, EveryPresetLoads) {
    for (const char* name : {"wse2", "wse3", "wse3-4xsram", "wse3-64bit-links"}) {
        SCOPED_TRACE(name);
        const WaferSpec w = preset(name);
        EXPECT_EQ(w.name, name);
        EXPECT_FALSE(w.description.empty());
        EXPECT_GT(w.usable_cores(), 700000);
        EXPECT_GT(w.sram_user_bytes(), 0);
        EXPECT_TRUE(w.params.has("core.sram"));
        EXPECT_TRUE(w.params.has("wafer_link.latency"));  // defaults included
    }
}

TEST(WaferSpec, Wse3Values) {
    const WaferSpec w = preset("wse3");
    EXPECT_EQ(w.mesh_cols, 762);
    EXPECT_EQ(w.mesh_rows, 1176);
    EXPECT_EQ(w.usable_cols, 755);
    EXPECT_EQ(w.usable_rows, 1174);
    EXPECT_EQ(w.usable_cores(), 886370);
    EXPECT_DOUBLE_EQ(w.clock_hz, 1.1e9);
    EXPECT_DOUBLE_EQ(w.cycle_s(), 1 / 1.1e9);
    EXPECT_DOUBLE_EQ(w.sram_bytes, 49152);
    EXPECT_DOUBLE_EQ(w.sram_user_bytes(), 49152 - 4176);
    EXPECT_DOUBLE_EQ(w.link_bytes_per_cycle(), 4);
    EXPECT_DOUBLE_EQ(w.hop_latency_cycles, 2);
    EXPECT_DOUBLE_EQ(w.wafer_link_bandwidth, 150e9);
    EXPECT_DOUBLE_EQ(w.system_power_w, 23e3);
    EXPECT_EQ(w.colors - w.colors_reserved, 21);
}

TEST(WaferSpec, MacsPerCycleAreLimitedByTheReadPorts) {
    const WaferSpec w3 = preset("wse3");
    // SIMD 8, but 2 read ports x 64 bit = 8 fp16 operands a cycle, two per MAC -> 4.
    EXPECT_DOUBLE_EQ(w3.peak_macs_per_cycle(16), 4);
    EXPECT_DOUBLE_EQ(w3.achieved_macs_per_cycle(16), 4 * 0.73);
    EXPECT_DOUBLE_EQ(w3.peak_macs_per_cycle(32), 0.5);  // fp32 SIMD rate
    EXPECT_DOUBLE_EQ(w3.peak_flops(16), 2.0 * 8 * 886370 * 1.1e9);

    const WaferSpec w2 = preset("wse2");
    EXPECT_EQ(w2.usable_cores(), 750 * 994);
    EXPECT_DOUBLE_EQ(w2.peak_macs_per_cycle(16), 4);
    EXPECT_DOUBLE_EQ(w2.achieved_macs_per_cycle(16), 4 * 0.73);
    EXPECT_DOUBLE_EQ(w2.fmac_mixed, 2);
}

TEST(WaferSpec, WhatIfPresetsChangeOneThing) {
    const WaferSpec base = preset("wse3"), sram = preset("wse3-4xsram"), links = preset("wse3-64bit-links");
    EXPECT_DOUBLE_EQ(sram.sram_bytes, 4 * base.sram_bytes);
    EXPECT_DOUBLE_EQ(sram.link_bits, base.link_bits);
    EXPECT_DOUBLE_EQ(links.link_bytes_per_cycle(), 2 * base.link_bytes_per_cycle());
    EXPECT_DOUBLE_EQ(links.sram_bytes, base.sram_bytes);
    EXPECT_EQ(links.usable_cores(), base.usable_cores());
}

TEST(WaferSpec, OverridesChangeValuesAndAreValidated) {
    FlatConfig f = preset_flat("wse3");
    set_flat(f, "core.sram", "96KiB", "--set");
    set_flat(f, "core.sram_port_width", "32bit", "--set");
    set_flat(f, "usable.cols", "0", "--set");  // 0 = the rest of the mesh from col0
    const WaferSpec w = load_wafer(f, "wse3.yaml");
    EXPECT_DOUBLE_EQ(w.sram_user_bytes(), 98304 - 4176);
    EXPECT_DOUBLE_EQ(w.peak_macs_per_cycle(16), 2);
    EXPECT_EQ(w.usable_cols, 762 - 4);
    EXPECT_EQ(w.params.value("core.sram").file, "--set");

    const std::string e = error_with({{"core.sram", "48KB"}, {"router.colors", "3.5"}, {"core.sramm", "1KiB"}});
    EXPECT_TRUE(contains(e, "--set: wafer.core.sram: \"48KB\" is ambiguous")) << e;
    EXPECT_TRUE(contains(e, "--set: wafer.router.colors: \"3.5\" is not an integer")) << e;
    EXPECT_TRUE(contains(e, "--set: wafer.core.sramm: unknown key; did you mean \"wafer.core.sram\"?")) << e;
}

TEST(WaferSpec, ConsistencyErrorsNameTheKey) {
    std::string e = error_with({{"usable.cols", "800"}});
    EXPECT_TRUE(contains(e, "wafer.usable.cols: user rectangle columns 4..803 exceed the mesh width 762")) << e;
    e = error_with({{"usable.row0", "1170"}});
    EXPECT_TRUE(contains(e, "usable.rows: user rectangle rows 1170..2343 exceed the mesh height 1176")) << e;
    e = error_with({{"usable.col0", "762"}, {"usable.cols", "0"}});
    EXPECT_TRUE(contains(e, "usable.cols: user rectangle has no columns")) << e;
    e = error_with({{"core.sram_reserved", "48KiB"}});
    EXPECT_TRUE(contains(e, "wafer.core.sram_reserved: reserved 48KiB leaves nothing of the 48KiB SRAM per core")) << e;
    e = error_with({{"router.colors", "3"}});
    EXPECT_TRUE(contains(e, "wafer.router.colors_reserved") || contains(e, "router.colors_reserved")) << e;
    EXPECT_TRUE(contains(e, "all 3 colors are reserved")) << e;
    e = error_with({{"mesh.cols", "1000000000"}, {"mesh.rows", "1000000000"}});
    EXPECT_TRUE(contains(e, "wafer.mesh.cols: \"1000000000\" is out of range; expected between 1 and 100000")) << e;
    EXPECT_TRUE(contains(e, "wafer.mesh.rows")) << e;
    e = error_with({{"mesh.cols", "100000"}, {"mesh.rows", "100000"}, {"usable.cols", "0"}, {"usable.rows", "0"}});
    EXPECT_TRUE(contains(e, "mesh.cols: mesh of 100000x100000 cores is beyond any wafer")) << e;
}

TEST(WaferSpec, MissingNameAndRequiredKeys) {
    FlatConfig f;
    for (const auto& e : preset_flat("wse3"))
        if (e.key != "name" && e.key != "core.sram" && e.key != "clock") f.push_back(e);
    try {
        load_wafer(f, "x.yaml");
        FAIL() << "loaded without name, core.sram and clock";
    } catch (const InputError& e) {
        const std::string s = e.what();
        EXPECT_TRUE(contains(s, "core.sram: missing required key")) << s;
        EXPECT_TRUE(contains(s, "clock: missing required key")) << s;
    }
    FlatConfig no_name;
    for (const auto& e : preset_flat("wse3"))
        if (e.key != "name") no_name.push_back(e);
    try {
        load_wafer(no_name, "x.yaml");
        FAIL() << "loaded without a name";
    } catch (const InputError& e) {
        ASSERT_EQ(e.diagnostics().size(), 1u);
        EXPECT_EQ(e.diagnostics()[0].to_string(), "x.yaml: name: missing required key (string: preset name)");
    }
}

TEST(WaferSpec, ParamTableDefaultsAreValidAndDocumented) {
    for (const auto& d : wafer_param_table().defs()) {
        EXPECT_FALSE(d.doc.empty()) << d.key;
        EXPECT_FALSE(d.source.empty()) << d.key;
        EXPECT_TRUE(d.required || !d.default_value.empty()) << d.key;
    }
}
