// GPU presets: every preset loads, values carry units, bad units and unknown keys fail with the key named.
#include <gtest/gtest.h>

#include <string>

#include "sim/base/errors.hpp"
#include "sim/base/yaml_tree.hpp"
#include "sim/engines/gpu_spec.hpp"

using namespace wafersim;
using namespace wafersim::engines;

namespace {

std::string preset(const std::string& name) { return std::string(WAFERSIM_SOURCE_DIR) + "/configs/gpus/" + name + ".yaml"; }

GpuSpec load(const std::string& name) { return load_gpu(read_yaml_flat(preset(name))); }

// Throws and returns the InputError's text, or "" when nothing was thrown.
template <class F>
std::string input_error_of(F f) {
    try {
        f();
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(GpuSpec, PresetsLoadWithDatasheetValues) {
    const GpuSpec a100 = load("a100");
    EXPECT_EQ(a100.name, "a100");
    EXPECT_DOUBLE_EQ(a100.hbm_capacity_bytes, 80e9);
    EXPECT_DOUBLE_EQ(a100.hbm_bandwidth_bytes_per_s, 2.039e12);
    EXPECT_DOUBLE_EQ(a100.bf16_flops_per_s, 312e12);
    EXPECT_DOUBLE_EQ(a100.fp8_flops_per_s, 0);
    EXPECT_DOUBLE_EQ(a100.nvlink_bandwidth_bytes_per_s, 600e9);
    EXPECT_DOUBLE_EQ(a100.nvlink_bytes_per_s_per_direction(), 300e9);
    EXPECT_DOUBLE_EQ(a100.power_w, 400);
    EXPECT_EQ(a100.node_gpus, 8);

    const GpuSpec h100 = load("h100");
    EXPECT_DOUBLE_EQ(h100.hbm_bandwidth_bytes_per_s, 3.35e12);
    EXPECT_DOUBLE_EQ(h100.fp8_flops_per_s, 1979e12);
    const GpuSpec h200 = load("h200");
    EXPECT_DOUBLE_EQ(h200.hbm_capacity_bytes, 141e9);
    EXPECT_DOUBLE_EQ(h200.hbm_bandwidth_bytes_per_s, 4.8e12);
    const GpuSpec b200 = load("b200");
    EXPECT_DOUBLE_EQ(b200.hbm_capacity_bytes, 192e9);
    EXPECT_DOUBLE_EQ(b200.bf16_flops_per_s, 2250e12);
    EXPECT_DOUBLE_EQ(b200.nvlink_bandwidth_bytes_per_s, 1800e9);
    EXPECT_DOUBLE_EQ(b200.power_w, 1000);

    // The fitted constants describe the software stack and are the same in every preset and the table.
    for (const GpuSpec& g : {a100, h100, h200, b200}) {
        EXPECT_EQ(g.params.str("efficiency.bandwidth"), a100.params.str("efficiency.bandwidth")) << g.name;
        EXPECT_EQ(g.params.str("launch_overhead"), a100.params.str("launch_overhead")) << g.name;
        EXPECT_EQ(g.params.str("efficiency.bandwidth"), gpu_param_table().find("efficiency.bandwidth")->default_value);
        EXPECT_EQ(g.params.str("launch_overhead"), gpu_param_table().find("launch_overhead")->default_value);
    }
}

TEST(GpuSpec, PeakFallsBackToWiderFormat) {
    const GpuSpec a100 = load("a100");
    EXPECT_DOUBLE_EQ(a100.peak_flops_per_s(8), 312e12);  // no FP8 on A100
    EXPECT_STREQ(a100.compute_format(4.25), "bf16");
    const GpuSpec h100 = load("h100");
    EXPECT_DOUBLE_EQ(h100.peak_flops_per_s(16), 989e12);
    EXPECT_DOUBLE_EQ(h100.peak_flops_per_s(8), 1979e12);
    EXPECT_DOUBLE_EQ(h100.peak_flops_per_s(4.25), 1979e12);  // no FP4 on Hopper: runs at FP8
    const GpuSpec b200 = load("b200");
    EXPECT_DOUBLE_EQ(b200.peak_flops_per_s(4.25), 9000e12);
}

TEST(GpuSpec, EveryPresetValueHasAUnitAndEveryQuantityParameterRequiresOne) {
    // Every declared parameter has a doc and a source; Quantity defaults carry a unit.
    for (const auto& d : gpu_param_table().defs()) {
        EXPECT_FALSE(d.doc.empty()) << d.key;
        EXPECT_FALSE(d.source.empty()) << d.key;
        if (d.type == ParamType::Quantity) {
            double n = 0;
            std::string err;
            EXPECT_FALSE(ParamTable::parse_value(d, "42", n, err)) << d.key << " accepted a bare number";
        }
    }
    // Each preset sets every parameter (no silent defaults) and each quantity is written with its unit.
    for (const char* name : {"a100", "h100", "h200", "b200"}) {
        const FlatConfig flat = read_yaml_flat(preset(name));
        for (const auto& d : gpu_param_table().defs()) {
            bool found = false;
            for (const auto& e : flat)
                if (e.key == d.key) {
                    found = true;
                    if (d.type == ParamType::Quantity) {
                        const char last = e.value.empty() ? ' ' : e.value.back();
                        EXPECT_FALSE(last >= '0' && last <= '9') << name << ": " << d.key << " = " << e.value;
                    }
                }
            EXPECT_TRUE(found) << name << " does not set " << d.key;
        }
    }
}

TEST(GpuSpec, BadUnitNamesTheKey) {
    FlatConfig flat = read_yaml_flat(preset("h100"));
    set_flat(flat, "hbm.bandwidth", "3.35TB", "--set");
    const std::string msg = input_error_of([&] { load_gpu(flat); });
    ASSERT_FALSE(msg.empty());
    EXPECT_NE(msg.find("hbm.bandwidth"), std::string::npos) << msg;
    EXPECT_NE(msg.find("3.35TB"), std::string::npos) << msg;
}

TEST(GpuSpec, BadUnitInAFileNamesFileLineAndKey) {
    const FlatConfig flat = parse_yaml_flat("name: x\nhbm:\n  bandwidth: 3.35TB\n", "x.yaml");
    const std::string msg = input_error_of([&] { load_gpu(flat); });
    EXPECT_NE(msg.find("x.yaml:3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("hbm.bandwidth"), std::string::npos) << msg;
}

TEST(GpuSpec, UnknownKeyGetsDidYouMean) {
    const FlatConfig flat = parse_yaml_flat("name: x\nhbm:\n  bandwith: 3.35TB/s\n", "x.yaml");
    const std::string msg = input_error_of([&] { load_gpu(flat); });
    EXPECT_NE(msg.find("hbm.bandwith"), std::string::npos) << msg;
    EXPECT_NE(msg.find("did you mean \"hbm.bandwidth\""), std::string::npos) << msg;
}

TEST(GpuSpec, OutOfRangeEfficiencyIsRejected) {
    FlatConfig flat = read_yaml_flat(preset("a100"));
    set_flat(flat, "efficiency.bandwidth", "1.5", "--set");
    const std::string msg = input_error_of([&] { load_gpu(flat); });
    EXPECT_NE(msg.find("gpu.efficiency.bandwidth"), std::string::npos) << msg;
}

TEST(GpuSpec, NameFallsBackToFileStem) {
    const FlatConfig flat = parse_yaml_flat("hbm:\n  capacity: 40GB\n", "configs/gpus/a100-40gb.yaml");
    const GpuSpec g = load_gpu(flat);
    EXPECT_EQ(g.name, "a100-40gb");
    EXPECT_DOUBLE_EQ(g.hbm_capacity_bytes, 40e9);
}
