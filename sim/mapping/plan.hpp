// ExecutionPlan: which layers run on which region of which wafer, and the program of steps (local
// compute, collectives on the mesh, hand-offs) each phase executes. Every engine consumes this.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/model_spec.hpp"
#include "sim/mapping/workload.hpp"

namespace wafersim::mapping {

// A rectangle of cores on one wafer, in fabric coordinates (x = column, y = row).
struct Rect {
    std::int64_t col0 = 0, row0 = 0, cols = 0, rows = 0;
    std::int64_t cores() const { return cols * rows; }
};

// Which way a collective runs. Along::Row: every row of the region is an independent group of `cols`
// cores and data moves east-west. Along::Col: every column is a group of `rows` cores, data moves
// north-south.
enum class Along { Row, Col };

enum class CollectiveKind {
    AllReduce,  // every core of a group ends with the element-wise sum of the group's vectors
    Reduce,     // the sum ends at one core of the group
    Broadcast,  // one core's vector reaches every core of the group (router multicast)
    Shift,      // every core sends its tile `shift_hops` cores along the axis (cyclic), `repeats` times
    Panel,      // SUMMA: per repeat, the first core of each line multicasts `bytes_per_core` along the line
                // and the first core of each column `bytes2_per_core` down the column, overlapped with compute
};

// Which neighbour a Shift step sends to.
enum class ShiftPattern {
    FoldedRing,  // successor on the folded ring 0, 2, 4, ..., 5, 3, 1: 2 hops (1 at the ends), no long link
    Torus,       // position p sends to p + 1, the last one back to position 0 (n - 1 hops): Cannon on a mesh
    Skew,        // line l (row index) sends each tile l positions back (cyclic): Cannon's initial alignment
    Neighbour,   // position p sends to p - 1 (position 0 keeps its tile): the KV shift of kv_layout=shift
};

// Where decode keeps the KV cache's tokens (mapping.kv_layout); tokens lie over the rows.
enum class KvLayout {
    Balanced,  // ceil(L/R) tokens on every row, kept so at no cost (idealised; the behaviour before the option)
    Append,    // prompt tokens spread by prefill, every generated token appended to the last row
    Shift,     // WaferLLM: new token enters the last row, every row passes one entry to the row above (1 hop)
};

// Distributed GEMM of prefill (mapping.gemm). The weights stay where decode keeps them.
enum class GemmAlgo {
    MeshGemm,  // activation tiles along the rows, fp32 partial sums along the columns, 2-hop folded-ring shifts
    Cannon,    // the same tiles on a torus laid on the mesh: an initial skew, then 1-hop shifts + a wrap-around
    Summa,     // partial sums stationary; per k-panel, activations multicast along rows, weights down columns
};

// All-reduce algorithms on a line of n cores (mapping.allreduce).
enum class AllReduceAlgo {
    Pipeline,  // chain: partial sums flow core to core, then a multicast back (Cerebras examples)
    Ring,      // reduce-scatter + all-gather on a folded ring (2-hop neighbours)
    Tree,      // two-level tree, one-way: chains inside groups of ~sqrt(n), then among group leaders
    KTree,     // two-way K-tree (WaferLLM MeshGEMV): both halves of each group of ~sqrt(n) chain toward the
               // group's middle at once, the group roots likewise toward two central roots, which exchange;
               // then multicasts back
};

// The partition of a line of n cores used by AllReduceAlgo::KTree, shared by both engines:
// G = ceil(n / round(sqrt(n))) groups of consecutive positions, balanced (the first n mod G groups have
// one core more), so that every group finishes its first level at about the same time. The root of a
// group is its middle position (floor); the group roots reduce in two halves toward the roots of groups
// left_root_group() and right_root_group(), which exchange their partial sums.
struct KTreeShape {
    std::int64_t n = 1, k = 1, groups = 1, small = 1, big_groups = 0;  // sizes: small + 1 (first big_groups), small
    explicit KTreeShape(std::int64_t line);
    std::int64_t lo(std::int64_t g) const { return g * small + (g < big_groups ? g : big_groups); }
    std::int64_t hi(std::int64_t g) const { return lo(g + 1); }
    std::int64_t group_of(std::int64_t pos) const {
        const std::int64_t edge = big_groups * (small + 1);
        return pos < edge ? pos / (small + 1) : big_groups + (pos - edge) / small;
    }
    std::int64_t root(std::int64_t g) const { return lo(g) + (hi(g) - lo(g) - 1) / 2; }
    std::int64_t left_root_group() const { return groups > 1 ? groups / 2 - 1 : 0; }
    std::int64_t right_root_group() const { return groups > 1 ? groups / 2 : 0; }
};

const char* to_string(AllReduceAlgo a);
const char* to_string(GemmAlgo g);
const char* to_string(KvLayout k);
const char* to_string(CollectiveKind k);
const char* to_string(Along a);

enum class StepKind { Compute, Collective, Handoff };

// One step of a layer's program. Sizes are for the busiest core (ceil of the partition).
// Contract: `deps` index earlier steps of the same LayerProgram; a step starts when all have finished
// (dataflow), and a step with no deps starts when the previous layer's last step has finished.
struct Step {
    StepKind kind = StepKind::Compute;
    std::string op;          // op name(s) from the layer graph it implements ("qkv", "attention.scores")
    std::vector<int> deps;

    // Compute: multiply-accumulates and elementwise operations per core, at the weight precision.
    double macs_per_core = 0;
    double elementwise_per_core = 0;
    double weight_bits = 16;

    // Collective on the stage's region.
    CollectiveKind collective = CollectiveKind::AllReduce;
    Along along = Along::Col;
    AllReduceAlgo algo = AllReduceAlgo::Tree;
    std::int64_t group_cores = 0;  // cores in one group (the line's length)
    std::int64_t groups = 0;       // independent groups running at once
    double bytes_per_core = 0;     // vector each core contributes / forwards
    std::int64_t shift_hops = 1;   // Shift only
    std::int64_t repeats = 1;      // Shift only: how many shift steps (each paired with `macs_per_core`)
    ShiftPattern pattern = ShiftPattern::FoldedRing;  // Shift only
    double serial_messages = 1;    // Shift only: messages that share the busiest link (the analytic skew)
    double bytes2_per_core = 0;    // Panel only: the column multicast's bytes

    // Handoff of activations to the next stage (on the same wafer or over a wafer-to-wafer link).
    double bytes = 0;
    std::int64_t hops = 0;         // mesh hops between the regions (0 when crossing wafers: see edge_hops)
    std::int64_t edge_hops = 0;    // hops to and from the wafer edge when crossing wafers
    std::int64_t lanes = 1;        // parallel rows carrying the data
    bool crosses_wafer = false;
    bool turns = false;            // the route makes an X->Y turn
};

struct LayerProgram {
    std::string name;  // "embedding", "layer.12", "lm_head", "handoff.0->1"
    int layer = -1;    // decoder layer index, -1 for others
    std::vector<Step> steps;
};

// One pipeline stage: a block of consecutive layers resident on one region of one wafer.
struct Stage {
    int index = 0;
    int wafer = 0;
    Rect region;
    int first_layer = 0, end_layer = 0;  // [first, end)
    bool has_embedding = false;
    bool has_lm_head = false;
    // SRAM per core of the busiest core, bytes.
    double weight_bytes_per_core = 0;
    double kv_bytes_per_core = 0;
    double activation_bytes_per_core = 0;
    double reserve_bytes_per_core = 0;
    double capacity_bytes_per_core = 0;  // user SRAM per core (after the runtime reserve)
    double kv_token_capacity = 0;        // tokens (per sequence, at workload.batch) the stage's free SRAM holds
};

struct ExecutionPlan {
    std::string model_name;
    std::string wafer_name;
    int wafers = 1;
    std::int64_t grid_rows = 0, grid_cols = 0;  // per-stage grid
    AllReduceAlgo allreduce = AllReduceAlgo::KTree;
    GemmAlgo gemm = GemmAlgo::MeshGemm;
    KvLayout kv_layout = KvLayout::Balanced;
    Workload workload;
    models::PrecisionPolicy precision;
    std::vector<Stage> stages;
    std::int64_t max_context_tokens = 0;  // longest context whose KV fits every stage (at workload.batch)
    double prefill_buffer_bytes = 4096;   // per-core buffer for prefill GEMM tiles (mapping.prefill_buffer)
    std::int64_t prefill_chunk = 512;     // prompt tokens per prefill chunk (mapping.prefill_chunk)
    std::vector<std::string> notes;       // placement decisions worth reporting

    std::int64_t cores_used() const;
};

// A phase's whole program: per stage, its layers (embedding/LM head included) then the hand-off.
struct PhaseProgram {
    std::vector<LayerProgram> layers;  // in execution order across all stages
    std::vector<int> stage_of;         // stage index of each entry of `layers`
};

}  // namespace wafersim::mapping
