// Models LLM inference on HBM GPUs in tensor parallel: per-kernel roofline (achieved HBM bandwidth vs
// achieved peak FLOP/s) plus kernel-launch overhead plus ring all-reduces over NVLink / InfiniBand.
#include "sim/engines/hbm_baseline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "sim/base/errors.hpp"

namespace wafersim::engines {

namespace {

using models::ModelGraph;
using models::ModelSpec;
using models::Op;
using models::OpCost;
using models::OpKind;
using models::PrecisionPolicy;
using models::WeightClass;

// Decode steps evaluated exactly up to this many generated tokens; beyond, evenly spaced samples, each
// weighted by the tokens it stands for (step time is smooth in the context length).
constexpr std::int64_t kMaxDecodeSamples = 4096;

std::string gb(double bytes) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
    return buf;
}

bool is_kv_projection(const Op& op) {
    return op.kind == OpKind::Projection && (op.name == "k_proj" || op.name == "v_proj" || op.name == "kv_proj");
}

// How many ways tensor parallelism over `n` GPUs divides an op's work, weights and activations.
double split_of(const Op& op, const ModelSpec& spec, std::int64_t n) {
    if (n <= 1) return 1;
    switch (op.kind) {
        case OpKind::Norm:
        case OpKind::Residual:
            return 1;  // replicated: every GPU holds the full hidden vector
        case OpKind::Attention:
            return static_cast<double>(std::min<std::int64_t>(n, std::max<std::int64_t>(1, op.heads)));
        default:
            break;
    }
    if (is_kv_projection(op)) return static_cast<double>(std::min<std::int64_t>(n, std::max<std::int64_t>(1, spec.kv_heads)));
    return static_cast<double>(n);
}

// The KV cache of attention splits by KV heads, not query heads.
double kv_split_of(const Op& op, const ModelSpec& spec, std::int64_t n) {
    const std::int64_t kvh = op.kv_heads > 0 ? op.kv_heads : spec.kv_heads;
    return static_cast<double>(std::min<std::int64_t>(n, std::max<std::int64_t>(1, kvh)));
}

double op_bits(const Op& op, const PrecisionPolicy& p) {
    switch (op.weight_class) {
        case WeightClass::Dense: return p.dense_weight_bits;
        case WeightClass::Expert: return p.expert_weight_bits;
        case WeightClass::None: return p.activation_bits;
    }
    return p.activation_bits;
}

double weight_bytes_stored(const Op& op, const PrecisionPolicy& p) {
    const double bits = op.weight_class == WeightClass::Expert ? p.expert_weight_bits : p.dense_weight_bits;
    return static_cast<double>(op.weight_params) * bits / 8.0;
}

// Kernels of a layer: one per op, except ops sharing a fuse_group (qkv, gate+up) run as one kernel.
std::vector<std::vector<const Op*>> kernels_of(const std::vector<Op>& ops) {
    std::vector<std::vector<const Op*>> out;
    std::vector<int> group_slot;  // fuse_group -> index in out
    for (const auto& op : ops) {
        if (op.fuse_group >= 0) {
            if (static_cast<int>(group_slot.size()) <= op.fuse_group) group_slot.resize(op.fuse_group + 1, -1);
            int& slot = group_slot[op.fuse_group];
            if (slot >= 0) {
                out[slot].push_back(&op);
                continue;
            }
            slot = static_cast<int>(out.size());
        }
        out.push_back({&op});
    }
    return out;
}

struct Model {
    const GpuSpec& gpu;
    std::int64_t n;
    const ModelSpec& spec;
    const ModelGraph& graph;
    const PrecisionPolicy& p;
    std::vector<std::vector<std::vector<const Op*>>> layer_kernels;
};

enum class Phase { Decode, Prefill };

OpCost cost_of(const Op& op, Phase phase, std::int64_t tokens, std::int64_t context, const PrecisionPolicy& p) {
    return phase == Phase::Decode ? models::decode_cost(op, tokens, context, p) : models::prefill_cost(op, tokens, p);
}

// Adds one kernel's time to `lt`; returns the kernel's FLOPs summed over all GPUs.
double add_kernel(const Model& m, const std::vector<const Op*>& ops, Phase phase, std::int64_t tokens,
                  std::int64_t context, LayerTime& lt) {
    double bytes = 0, compute_s = 0, flops_all = 0;
    for (const Op* op : ops) {
        const OpCost c = cost_of(*op, phase, tokens, context, m.p);
        const double split = split_of(*op, m.spec, m.n);
        const double kv_split = op->kind == OpKind::Attention ? kv_split_of(*op, m.spec, m.n) : split;
        bytes += (c.weight_bytes + c.act_in_bytes + c.act_out_bytes) / split + (c.kv_read_bytes + c.kv_write_bytes) / kv_split;
        const double peak = m.gpu.efficiency_compute * m.gpu.peak_flops_per_s(op_bits(*op, m.p));
        compute_s += c.flops / split / peak;
        flops_all += c.flops / split * static_cast<double>(m.n);
    }
    const double memory_s = bytes / m.gpu.achieved_hbm_bytes_per_s();
    if (compute_s > memory_s) lt.compute_s += compute_s;
    else lt.transfer_s += memory_s;
    lt.overhead_s += m.gpu.launch_overhead_s;
    return flops_all;
}

struct Step {
    std::vector<LayerTime> layers;
    double flops = 0;
    double seconds() const {
        double s = 0;
        for (const auto& l : layers) s += l.total();
        return s;
    }
};

// One pass of the whole model over `tokens` tokens (decode: batch at `context`; prefill: the prompt).
Step run_step(const Model& m, Phase phase, std::int64_t tokens, std::int64_t context) {
    Step st;
    st.layers.reserve(m.graph.layers.size() + 3);
    auto single = [&](const Op& op, const char* name, std::int64_t op_tokens) {
        LayerTime lt;
        lt.name = name;
        st.flops += add_kernel(m, {&op}, phase, op_tokens, context, lt);
        st.layers.push_back(lt);
    };
    single(m.graph.embedding, "embedding", tokens);
    const double ar_bytes = static_cast<double>(tokens) * static_cast<double>(m.spec.hidden) * m.p.activation_bits / 8.0;
    const double ar_s = hbm_allreduce_seconds(m.gpu, m.n, ar_bytes);
    for (std::size_t i = 0; i < m.graph.layers.size(); ++i) {
        LayerTime lt;
        lt.name = "layer." + std::to_string(i);
        for (const auto& k : m.layer_kernels[i]) st.flops += add_kernel(m, k, phase, tokens, context, lt);
        if (m.n > 1) {
            lt.collective_s += 2 * ar_s;
            lt.overhead_s += 2 * m.gpu.launch_overhead_s;
        }
        st.layers.push_back(lt);
    }
    single(m.graph.final_norm, "final_norm", tokens);
    // Prefill computes logits for the last prompt token only (as models::prefill_total_cost does).
    single(m.graph.lm_head, "lm_head", phase == Phase::Prefill ? 1 : tokens);
    return st;
}

void accumulate(std::vector<LayerTime>& sum, const std::vector<LayerTime>& add, double w) {
    if (sum.empty()) {
        sum = add;
        for (auto& l : sum) l.compute_s = l.collective_s = l.transfer_s = l.overhead_s = 0;
    }
    for (std::size_t i = 0; i < add.size(); ++i) {
        sum[i].compute_s += w * add[i].compute_s;
        sum[i].collective_s += w * add[i].collective_s;
        sum[i].transfer_s += w * add[i].transfer_s;
        sum[i].overhead_s += w * add[i].overhead_s;
    }
}

// Decode averaged over the generated tokens at `batch` sequences.
PhaseResult run_decode(const Model& m, const mapping::Workload& w, std::int64_t batch, double peak_all) {
    PhaseResult r;
    r.ran = true;
    r.batch = batch;
    r.tokens = w.output_tokens;
    const std::int64_t out = std::max<std::int64_t>(1, w.output_tokens);
    const std::int64_t stride = (out + kMaxDecodeSamples - 1) / kMaxDecodeSamples;
    double weight_total = 0, flops = 0;
    std::vector<LayerTime> sum;
    for (std::int64_t k = 0; k < out; k += stride) {
        const std::int64_t covered = std::min(stride, out - k);
        // The sample in the middle of the tokens it stands for.
        const Step st = run_step(m, Phase::Decode, batch, w.context_of(k + (covered - 1) / 2));
        const double wgt = static_cast<double>(covered);
        accumulate(sum, st.layers, wgt);
        flops += wgt * st.flops;
        weight_total += wgt;
    }
    for (auto& l : sum) {
        l.compute_s /= weight_total;
        l.collective_s /= weight_total;
        l.transfer_s /= weight_total;
        l.overhead_s /= weight_total;
    }
    r.layers = std::move(sum);
    r.flops = flops / weight_total;
    for (const auto& l : r.layers) r.seconds += l.total();
    r.tokens_per_s = 1.0 / r.seconds;
    r.aggregate_tokens_per_s = static_cast<double>(batch) / r.seconds;
    r.utilization = r.flops / (r.seconds * peak_all);
    r.energy_j = m.gpu.power_w * static_cast<double>(m.n) * r.seconds;
    return r;
}

PhaseResult run_prefill(const Model& m, const mapping::Workload& w, double peak_all) {
    PhaseResult r;
    r.ran = true;
    r.batch = 1;
    r.tokens = w.input_tokens;
    const Step st = run_step(m, Phase::Prefill, w.input_tokens, w.input_tokens);
    r.layers = st.layers;
    r.flops = st.flops;
    r.seconds = st.seconds();
    r.tokens_per_s = static_cast<double>(w.input_tokens) / r.seconds;
    r.aggregate_tokens_per_s = r.tokens_per_s;
    r.utilization = r.flops / (r.seconds * peak_all);
    r.energy_j = m.gpu.power_w * static_cast<double>(m.n) * r.seconds;
    return r;
}

// Weight bytes one GPU holds, and the unsplit total.
void weight_bytes(const Model& m, double& per_gpu, double& total) {
    per_gpu = total = 0;
    auto add = [&](const Op& op) {
        const double b = weight_bytes_stored(op, m.p);
        total += b;
        per_gpu += b / split_of(op, m.spec, m.n);
    };
    add(m.graph.embedding);
    for (const auto& layer : m.graph.layers)
        for (const auto& op : layer.ops()) add(op);
    add(m.graph.final_norm);
    add(m.graph.lm_head);
}

}  // namespace

double hbm_allreduce_seconds(const GpuSpec& gpu, std::int64_t count, double bytes) {
    if (count <= 1) return 0;
    const std::int64_t g = std::min<std::int64_t>(count, gpu.node_gpus);
    const std::int64_t nodes = (count + g - 1) / g;
    const double gd = static_cast<double>(g), md = static_cast<double>(nodes);
    double t = 2.0 * (gd - 1) / gd * bytes / gpu.nvlink_bytes_per_s_per_direction() + 2.0 * (gd - 1) * gpu.nvlink_latency_s;
    if (nodes > 1)
        t += 2.0 * (md - 1) / md * (bytes / gd) / gpu.network_bandwidth_bytes_per_s + 2.0 * (md - 1) * gpu.network_latency_s;
    return t;
}

EngineResult run_hbm_baseline(const GpuSpec& gpu, std::int64_t count, const ModelSpec& spec, const ModelGraph& graph,
                              const PrecisionPolicy& precision, const mapping::Workload& workload) {
    if (count < 1)
        throw InputError("", 0, "gpu.count", "GPU count must be at least 1; found " + std::to_string(count));
    if (count > gpu.node_gpus && count % gpu.node_gpus != 0)
        throw PlanError("tensor parallelism over " + std::to_string(count) + " × " + gpu.name + " spans nodes of " +
                        std::to_string(gpu.node_gpus) + " GPUs unevenly; use a multiple of " +
                        std::to_string(gpu.node_gpus));

    Model m{gpu, count, spec, graph, precision, {}};
    m.layer_kernels.reserve(graph.layers.size());
    for (const auto& layer : graph.layers) m.layer_kernels.push_back(kernels_of(layer.ops()));

    EngineResult res;
    res.engine = "hbm";
    res.device = gpu.name;
    res.device_count = count;

    // Memory: weights + KV at the longest context must fit every GPU.
    double w_gpu = 0, w_total = 0;
    weight_bytes(m, w_gpu, w_total);
    const double kv_split = static_cast<double>(std::min<std::int64_t>(count, std::max<std::int64_t>(1, spec.kv_heads)));
    const double batch = static_cast<double>(workload.batch);
    const double kv_total = batch * spec.kv_bytes_at_context(workload.max_context(), precision.kv_bits);
    const double kv_gpu = kv_total / kv_split;
    const double cap = gpu.hbm_capacity_bytes;
    if (w_gpu + kv_gpu > cap) {
        std::string msg = spec.name + " needs " + gb(w_total) + " of weights + " + gb(kv_total) + " KV (batch " +
                          std::to_string(workload.batch) + ", context " + std::to_string(workload.max_context()) +
                          "); " + std::to_string(count) + " × " + gpu.name + " has " +
                          gb(cap * static_cast<double>(count));
        if (count > 1) msg += " (" + gb(cap) + " each)";
        if (w_total + kv_total <= cap * static_cast<double>(count))
            msg += ", but each GPU needs " + gb(w_gpu) + " of weights + " + gb(kv_gpu) + " KV because the " +
                   std::to_string(spec.kv_heads) + " KV heads are replicated over " + std::to_string(count) +
                   " GPUs";
        throw PlanError(msg);
    }
    // Longest context whose KV (at workload.batch) fits beside the weights, up to the model's limit.
    {
        const double free_bytes = cap - w_gpu;
        auto fits = [&](std::int64_t ctx) {
            return batch * spec.kv_bytes_at_context(ctx, precision.kv_bits) / kv_split <= free_bytes;
        };
        std::int64_t lo = 0, hi = std::max<std::int64_t>(spec.max_position, workload.max_context());
        if (fits(hi)) lo = hi;
        while (hi - lo > 1) {
            const std::int64_t mid = lo + (hi - lo) / 2;
            (fits(mid) ? lo : hi) = mid;
        }
        res.max_context_tokens = lo;
    }

    const double peak_all = gpu.peak_flops_per_s(precision.dense_weight_bits) * static_cast<double>(count);
    if (workload.runs_decode() && workload.output_tokens >= 1) {
        res.decode = run_decode(m, workload, workload.batch, peak_all);
        res.decode_batch1 = workload.batch == 1 ? res.decode : run_decode(m, workload, 1, peak_all);
    }
    if (workload.runs_prefill() && workload.input_tokens >= 1) res.prefill = run_prefill(m, workload, peak_all);

    res.notes.push_back("hbm baseline: per kernel max(bytes / (" + format_quantity(gpu.efficiency_bandwidth, UnitKind::None) +
                        " x HBM bandwidth), FLOPs / (" + format_quantity(gpu.efficiency_compute, UnitKind::None) +
                        " x peak)) + launch overhead " + format_quantity(gpu.launch_overhead_s, UnitKind::Time) +
                        "; ops sharing a fuse group run as one kernel");
    res.notes.push_back(std::string("peak FLOP/s at weight precision: ") + gpu.compute_format(precision.dense_weight_bits) +
                        " (" + format_quantity(gpu.peak_flops_per_s(precision.dense_weight_bits), UnitKind::FlopRate) +
                        " per GPU)");
    if (count > 1) {
        res.notes.push_back("tensor parallel over " + std::to_string(count) + " GPUs: 2 ring all-reduces per layer over " +
                            (count > gpu.node_gpus ? std::string("NVLink inside nodes and the network across them")
                                                   : std::string("NVLink")) +
                            " (NVLink per direction = half the datasheet total); embedding all-reduce and logits "
                            "gather not modeled");
        if (spec.kv_heads < count)
            res.notes.push_back(std::to_string(spec.kv_heads) + " KV heads over " + std::to_string(count) +
                                " GPUs: k/v projections and KV cache replicated, each GPU holds one KV head");
    }
    if (workload.output_tokens > kMaxDecodeSamples)
        res.notes.push_back("decode averaged over " + std::to_string(kMaxDecodeSamples) +
                            " evenly spaced steps of the " + std::to_string(workload.output_tokens) + " generated");
    if (workload.max_context() > spec.max_position)
        res.notes.push_back("workload context " + std::to_string(workload.max_context()) +
                            " exceeds the model's max_position_embeddings " + std::to_string(spec.max_position));
    return res;
}

}  // namespace wafersim::engines
