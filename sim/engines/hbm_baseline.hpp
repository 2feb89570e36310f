// HBM GPU baseline: roofline per kernel + launch overhead + tensor-parallel all-reduce, for comparison
// with the wafer engines on the same model and workload.
#pragma once
#include <cstdint>

#include "models/model_spec.hpp"
#include "models/op_graph.hpp"
#include "sim/engines/gpu_spec.hpp"
#include "sim/engines/result.hpp"
#include "sim/mapping/workload.hpp"

namespace wafersim::engines {

// Runs the baseline: `count` GPUs of kind `gpu` in tensor parallel serve `workload` on the model.
// Contract: deterministic, pure (no I/O). Throws InputError when count < 1; PlanError with the numbers when
// weights + KV at the workload's longest context do not fit count × HBM, or when tensor parallelism spans
// nodes unevenly (count > node.gpus and not a multiple of it).
//
// Per kernel (one op, or one group of ops sharing a fuse_group, of each layer; plus embedding, final norm
// and LM head): time = max(bytes ÷ (efficiency.bandwidth × HBM bandwidth),
//                          Σ FLOPs ÷ (efficiency.compute × peak at the op's precision)) + launch_overhead,
// bytes = weights + KV read/write + activations in/out, all per GPU. Tensor parallelism over n GPUs splits
// weights, FLOPs, activations and KV by n, except: norms and residual adds are replicated (every GPU does
// them in full); k/v projections and the KV cache split by min(n, kv_heads) (KV heads are replicated when
// kv_heads < n, as SGLang and vLLM do); attention FLOPs split by min(n, heads). Each layer adds 2
// all-reduces (after o_proj and after the FFN/experts) of tokens × hidden activations, each a kernel
// (launch_overhead) plus hbm_allreduce_seconds().
//
// Result breakdown per LayerTime: compute_s = roofline time of compute-bound kernels; transfer_s =
// roofline time of HBM-bound kernels (HBM traffic); collective_s = all-reduce time; overhead_s = launches.
EngineResult run_hbm_baseline(const GpuSpec& gpu, std::int64_t count, const models::ModelSpec& spec,
                              const models::ModelGraph& graph, const models::PrecisionPolicy& precision,
                              const mapping::Workload& workload);

// Ring all-reduce of `bytes` over `count` GPUs, hierarchical across nodes (without launch overhead).
// With g = min(n, node.gpus) GPUs per node and m = n / g nodes:
//   t = 2(g-1)/g × S / B_nv + 2(g-1) × L_nv                 (reduce-scatter + all-gather inside the node)
//     + 2(m-1)/m × (S/g) / B_net + 2(m-1) × L_net            (ring all-reduce of each GPU's 1/g shard
//                                                              across nodes, all g rails in parallel)
// where B_nv = nvlink.bandwidth / 2 (per direction) and B_net = network.bandwidth (per direction).
// For n <= node.gpus this is the flat ring: 2(n-1)/n × S / B_nv + 2(n-1) × L_nv. Zero for n = 1.
double hbm_allreduce_seconds(const GpuSpec& gpu, std::int64_t count, double bytes);

}  // namespace wafersim::engines
