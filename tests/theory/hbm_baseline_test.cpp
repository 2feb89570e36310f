// HBM GPU baseline against closed forms (bytes ÷ bandwidth, FLOPs ÷ peak, ring all-reduce), the roofline
// bounds quoted in hardware.md §3, and the two calibration points of calibration.md §B.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "models/model_spec.hpp"
#include "models/op_graph.hpp"
#include "sim/base/errors.hpp"
#include "sim/base/yaml_tree.hpp"
#include "sim/engines/gpu_spec.hpp"
#include "sim/engines/hbm_baseline.hpp"

using namespace wafersim;
using namespace wafersim::engines;

namespace {

struct Model {
    models::ModelSpec spec;
    models::ModelGraph graph;
};

Model model(const std::string& name) {
    Model m;
    m.spec = models::import_hf_config(std::string(WAFERSIM_SOURCE_DIR) + "/configs/models/" + name + ".json");
    m.graph = models::build_model_graph(m.spec);
    return m;
}

// A preset with `--set`-style overrides ("efficiency.bandwidth=1").
GpuSpec gpu(const std::string& name, std::initializer_list<std::pair<const char*, const char*>> sets = {}) {
    FlatConfig flat = read_yaml_flat(std::string(WAFERSIM_SOURCE_DIR) + "/configs/gpus/" + name + ".yaml");
    for (const auto& [k, v] : sets) set_flat(flat, k, v, "--set");
    return load_gpu(flat);
}

// The ideal roofline machine: every byte at peak bandwidth, every FLOP at peak, no launch cost.
GpuSpec ideal(const std::string& name, std::initializer_list<std::pair<const char*, const char*>> more = {}) {
    FlatConfig flat = read_yaml_flat(std::string(WAFERSIM_SOURCE_DIR) + "/configs/gpus/" + name + ".yaml");
    set_flat(flat, "efficiency.bandwidth", "1", "--set");
    set_flat(flat, "efficiency.compute", "1", "--set");
    set_flat(flat, "launch_overhead", "0s", "--set");
    for (const auto& [k, v] : more) set_flat(flat, k, v, "--set");
    return load_gpu(flat);
}

mapping::Workload workload(std::int64_t input, std::int64_t output, std::int64_t batch = 1) {
    mapping::Workload w;
    w.input_tokens = input;
    w.output_tokens = output;
    w.batch = batch;
    return w;
}

double pct(double got, double want) { return 100.0 * (got - want) / want; }

// Reports the deviation and checks it against the tolerance (in percent).
void expect_within(const std::string& what, double got, double want, double tol_pct) {
    const double d = pct(got, want);
    std::printf("[ theory ] %-58s got %12.6g want %12.6g  deviation %+7.3f%% (tolerance %.0f%%)\n", what.c_str(), got,
                want, d, tol_pct);
    EXPECT_LE(std::fabs(d), tol_pct) << what;
}

// calibration.md §B: Llama-3-8B, bf16, SGLang, A100 80GB, one request. The decode table gives no context;
// calibration.md says to assume a 4096-token input and a short output: 128 tokens here.
constexpr double kA100x1 = 78.9;
constexpr double kA100x8 = 260.4;
const mapping::Workload kCalibration = workload(4096, 128);

const models::PrecisionPolicy kBf16{};

double decode_rate(const GpuSpec& g, std::int64_t n, const Model& m, const mapping::Workload& w) {
    return run_hbm_baseline(g, n, m.spec, m.graph, kBf16, w).decode.tokens_per_s;
}

}  // namespace

TEST(HbmBaselineTheory, BandwidthBoundDecodeIsWeightBytesOverBandwidth) {
    const Model m = model("llama-3.1-8b");
    const GpuSpec g = ideal("h100");
    const mapping::Workload w = workload(1, 1);
    const EngineResult r = run_hbm_baseline(g, 1, m.spec, m.graph, kBf16, w);
    const double weights = models::decode_step_cost(m.graph, 1, w.context_of(0), kBf16).weight_bytes;
    expect_within("8B decode step = weight bytes / HBM bandwidth [s]", r.decode.seconds,
                  weights / g.hbm_bandwidth_bytes_per_s, 1);
    EXPECT_DOUBLE_EQ(r.decode.overhead_s(), 0);
    EXPECT_DOUBLE_EQ(r.decode.collective_s(), 0);
}

TEST(HbmBaselineTheory, ComputeBoundPrefillIsFlopsOverPeak) {
    const Model m = model("llama-3.1-8b");
    const GpuSpec g = ideal("h100", {{"hbm.bandwidth", "1PB/s"}});
    const mapping::Workload w = workload(4096, 1);
    const EngineResult r = run_hbm_baseline(g, 1, m.spec, m.graph, kBf16, w);
    const double flops = models::prefill_total_cost(m.graph, 4096, kBf16).flops;
    expect_within("8B prefill 4096 tokens = FLOPs / bf16 peak [s]", r.prefill.seconds, flops / 989e12, 1);
    expect_within("prefill FLOPs reported", r.prefill.flops, flops, 1e-6);
    EXPECT_NEAR(r.prefill.tokens_per_s, 4096 / r.prefill.seconds, 1e-9 * r.prefill.tokens_per_s);
    EXPECT_NEAR(r.prefill.utilization, 1.0, 0.01);
}

TEST(HbmBaselineTheory, RingAllReduceFormula) {
    const GpuSpec g = gpu("a100");  // NVLink 600 GB/s total -> 300 GB/s per direction, 0.6 us per step
    const double bytes = 4096 * 2;  // one token's hidden vector in bf16
    // n = 2: 2(n-1)/n × S / B + 2(n-1) × L = S / 300e9 + 2 × 0.6 us
    expect_within("all-reduce 8 KiB over 2 GPUs [s]", hbm_allreduce_seconds(g, 2, bytes), bytes / 300e9 + 2 * 0.6e-6, 1e-6);
    // n = 8: 14/8 × S / B + 14 × L
    expect_within("all-reduce 8 KiB over 8 GPUs [s]", hbm_allreduce_seconds(g, 8, bytes),
                  14.0 / 8 * bytes / 300e9 + 14 * 0.6e-6, 1e-6);
    const double big = 64e6;  // bandwidth term dominates
    expect_within("all-reduce 64 MB over 8 GPUs [s]", hbm_allreduce_seconds(g, 8, big),
                  14.0 / 8 * big / 300e9 + 14 * 0.6e-6, 1e-6);
    // n = 16 = 2 nodes of 8: NVLink reduce-scatter + all-gather, network ring over the 1/8 shards.
    expect_within("all-reduce 64 MB over 16 GPUs (2 nodes) [s]", hbm_allreduce_seconds(g, 16, big),
                  14.0 / 8 * big / 300e9 + 14 * 0.6e-6 + 2.0 * 1 / 2 * (big / 8) / 25e9 + 2 * 2.7e-6, 1e-6);
    EXPECT_EQ(hbm_allreduce_seconds(g, 1, big), 0);

    // The engine pays two of them per layer, each also a kernel launch.
    const Model m = model("llama-3-8b");
    for (int n : {2, 8}) {
        const EngineResult r = run_hbm_baseline(g, n, m.spec, m.graph, kBf16, kCalibration);
        const LayerTime& l0 = r.decode.layers.at(1);
        ASSERT_EQ(l0.name, "layer.0");
        expect_within("engine collective per layer, n = " + std::to_string(n) + " [s]", l0.collective_s,
                      2 * hbm_allreduce_seconds(g, n, bytes), 1e-6);
    }
}

TEST(HbmBaselineTheory, MoreGpusDecodeFasterFor8B) {
    const Model m = model("llama-3-8b");
    const GpuSpec g = gpu("a100");
    double prev = 0;
    for (int n : {1, 2, 4, 8}) {
        const double r = decode_rate(g, n, m, kCalibration);
        std::printf("[ theory ] Llama-3-8B decode on %d x A100: %.1f tok/s\n", n, r);
        EXPECT_GT(r, prev) << n << " GPUs";
        prev = r;
    }
}

TEST(HbmBaselineTheory, KvHeadsReplicatedBeyondKvHeadCount) {
    // 8 KV heads over 16 GPUs: each GPU holds one KV head, so the KV per GPU stops shrinking at 8.
    const Model m = model("llama-3.1-8b");
    const GpuSpec g = gpu("h100");
    const mapping::Workload w = workload(4096, 16, 64);
    const EngineResult r8 = run_hbm_baseline(g, 8, m.spec, m.graph, kBf16, w);
    const EngineResult r16 = run_hbm_baseline(g, 16, m.spec, m.graph, kBf16, w);
    // Weights keep shrinking (q/o/FFN split 16 ways) so the context limit grows, but by less than 2x.
    EXPECT_GT(r16.max_context_tokens, r8.max_context_tokens);
    EXPECT_LT(r16.max_context_tokens, 2 * r8.max_context_tokens);
    bool noted = false;
    for (const auto& n : r16.notes) noted |= n.find("replicated") != std::string::npos;
    EXPECT_TRUE(noted);
}

TEST(HbmBaselineTheory, DoesNotFitThrowsPlanErrorWithNumbers) {
    const Model m = model("llama-3.1-405b");
    try {
        run_hbm_baseline(gpu("h100"), 1, m.spec, m.graph, kBf16, kCalibration);
        FAIL() << "405B in one H100 must not fit";
    } catch (const PlanError& e) {
        const std::string msg = e.what();
        std::printf("[ theory ] %s\n", msg.c_str());
        EXPECT_NE(msg.find("llama-3.1-405b needs 811.7 GB of weights"), std::string::npos) << msg;
        EXPECT_NE(msg.find("1 × h100 has 80.0 GB"), std::string::npos) << msg;
    }
    // 16 × H100 hold it (811.7 GB + KV < 1280 GB).
    EXPECT_NO_THROW(run_hbm_baseline(gpu("h100"), 16, m.spec, m.graph, kBf16, kCalibration));
    // Spanning nodes unevenly is refused.
    EXPECT_THROW(run_hbm_baseline(gpu("h100"), 12, m.spec, m.graph, kBf16, kCalibration), PlanError);
    EXPECT_THROW(run_hbm_baseline(gpu("h100"), 0, m.spec, m.graph, kBf16, kCalibration), InputError);
}

TEST(HbmBaselineTheory, MaxContextIsWhereKvFillsTheRest) {
    const Model m = model("llama-3.1-8b");
    const GpuSpec g = gpu("h100");
    const EngineResult r = run_hbm_baseline(g, 1, m.spec, m.graph, kBf16, workload(4096, 128, 32));
    // (80 GB - 16.06 GB of weights) / (32 × 128 KiB per token) ≈ 15.6k tokens.
    const double free_bytes = 80e9 - static_cast<double>(m.graph.parameters()) * 2;
    const double want = free_bytes / (32.0 * 131072.0);
    expect_within("8B max context at batch 32 on H100 [tokens]", static_cast<double>(r.max_context_tokens), want, 0.1);
}

// hardware.md §3 quotes roofline bounds "weights only, bf16, 100% bandwidth". Their convention counts every
// stored parameter (8.03 B × 2 B = 16.06 GB, embedding table included); the engine reads only the
// embedding rows it gathers (models/op_graph.cpp), i.e. 8.03 B − 0.525 B embedding parameters. So the
// engine's ideal rate is hardware.md's × 8.03 / 7.50 (+7%). Both are checked: the convention reproduces
// the quoted numbers, and the engine equals the convention once the embedding table is added back.
TEST(HbmBaselineTheory, HardwareMdRooflineBounds) {
    const Model m8 = model("llama-3.1-8b");
    const double stored = static_cast<double>(m8.graph.parameters()) * 2;
    const double embedding_table = static_cast<double>(m8.graph.embedding.weight_params) * 2;
    const mapping::Workload tiny = workload(1, 1);
    struct Case { const char* gpu; double quoted; };
    for (const Case& c : {Case{"h100", 209}, Case{"h200", 299}}) {
        const GpuSpec g = ideal(c.gpu);
        expect_within(std::string("hardware.md convention 8B on 1 x ") + c.gpu + " [tok/s]",
                      g.hbm_bandwidth_bytes_per_s / stored, c.quoted, 3);
        const EngineResult r = run_hbm_baseline(g, 1, m8.spec, m8.graph, kBf16, tiny);
        std::printf("[ theory ] engine ideal 8B on 1 x %s: %.1f tok/s (%+.1f%% vs hardware.md's %.0f: embedding "
                    "table not read)\n",
                    c.gpu, r.decode.tokens_per_s, pct(r.decode.tokens_per_s, c.quoted), c.quoted);
        const double with_table = r.decode.seconds + embedding_table / g.hbm_bandwidth_bytes_per_s;
        expect_within(std::string("engine + embedding table, 8B on 1 x ") + c.gpu + " [tok/s]", 1 / with_table,
                      c.quoted, 3);
    }
    // 70B on 8 × H100 ≈ 190 tok/s (no all-reduce in the quoted bound: latency set to 0 here).
    const Model m70 = model("llama-3.1-70b");
    const GpuSpec g = ideal("h100", {{"nvlink.latency", "0s"}});
    const EngineResult r = run_hbm_baseline(g, 8, m70.spec, m70.graph, kBf16, tiny);
    const double table70 = static_cast<double>(m70.graph.embedding.weight_params) * 2 / 8;
    expect_within("engine + embedding table, 70B on 8 x h100 [tok/s]",
                  1 / (r.decode.seconds + table70 / g.hbm_bandwidth_bytes_per_s), 190, 3);
}

// The two constants fitted to calibration.md §B: efficiency.bandwidth (e) and launch_overhead (t0).
// At batch 1 every kernel is HBM-bound, so a decode step is linear in 1/e and t0:
//     T(n) = R(n) / e + K(n) × t0 + C(n)
// R = roofline seconds at e = 1 (per-GPU bytes / peak HBM bandwidth), K = kernels per step (11 per layer
// + embedding, final norm, LM head; + 2 all-reduce kernels per layer when n > 1), C = all-reduce wire time
// (first principles: NVLink 300 GB/s per direction, 0.6 us per ring step; not fitted). Two points, two
// unknowns: solved exactly below from the engine itself, so the fit follows any change in accounting.
TEST(HbmBaselineCalibration, FitReproducesPresetConstantsAndBothPoints) {
    const Model m = model("llama-3-8b");
    struct Terms { double r, k, c; };
    auto terms = [&](std::int64_t n) {
        const GpuSpec g0 = gpu("a100", {{"efficiency.bandwidth", "1"}, {"launch_overhead", "1us"}});
        const PhaseResult d = run_hbm_baseline(g0, n, m.spec, m.graph, kBf16, kCalibration).decode;
        EXPECT_DOUBLE_EQ(d.compute_s(), 0) << "a kernel is compute-bound: the fit is not linear";
        return Terms{d.transfer_s(), d.overhead_s() / 1e-6, d.collective_s()};
    };
    const Terms a = terms(1), b = terms(8);
    const double ya = 1 / kA100x1 - a.c, yb = 1 / kA100x8 - b.c;
    const double det = a.r * b.k - a.k * b.r;
    const double inv_e = (ya * b.k - a.k * yb) / det;
    const double t0 = (a.r * yb - ya * b.r) / det;
    std::printf("[ calib  ] kernels per step: %.0f (1 GPU), %.0f (8 GPUs); roofline at e=1: %.3f ms, %.3f ms; "
                "all-reduce wire time (8 GPUs): %.3f ms\n",
                a.k, b.k, a.r * 1e3, b.r * 1e3, b.c * 1e3);
    std::printf("[ calib  ] fit: efficiency.bandwidth = %.4f, launch_overhead = %.3f us\n", 1 / inv_e, t0 * 1e6);

    const GpuSpec preset = gpu("a100");
    expect_within("preset efficiency.bandwidth vs exact fit", preset.efficiency_bandwidth, 1 / inv_e, 1);
    expect_within("preset launch_overhead vs exact fit", preset.launch_overhead_s, t0, 2);

    const double r1 = decode_rate(preset, 1, m, kCalibration);
    const double r8 = decode_rate(preset, 8, m, kCalibration);
    expect_within("calibration.md §B Llama-3-8B decode 1 x A100 [tok/s]", r1, kA100x1, 10);
    expect_within("calibration.md §B Llama-3-8B decode 8 x A100 TP [tok/s]", r8, kA100x8, 10);
}

// Not a check: what the fitted baseline predicts for Llama-3.1-8B (recorded in docs/validation.md (HBM GPU baseline)).
TEST(HbmBaselineCalibration, PredictionsForLlama31_8B) {
    const Model m = model("llama-3.1-8b");
    for (const char* name : {"a100", "h100", "h200", "b200"}) {
        const EngineResult r = run_hbm_baseline(gpu(name), 1, m.spec, m.graph, kBf16, kCalibration);
        std::printf("[ predict] Llama-3.1-8B decode 1 x %s: %.1f tok/s (HBM %.2f ms, launch %.2f ms per step); "
                    "prefill 4096: %.0f tok/s\n",
                    name, r.decode.tokens_per_s, r.decode.transfer_s() * 1e3, r.decode.overhead_s() * 1e3,
                    r.prefill.tokens_per_s);
        EXPECT_GT(r.decode.tokens_per_s, 0);
    }
}
