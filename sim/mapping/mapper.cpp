// Placement: split layers into pipeline stages that fit a region's SRAM, tile regions over wafers in
// snake order, pick the grid (forced or searched), and size the KV cache.
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "sim/base/errors.hpp"
#include "sim/base/units.hpp"
#include "sim/mapping/footprint.hpp"
#include "sim/mapping/mapper.hpp"

namespace wafersim::mapping {

namespace {

std::string kib(double bytes) {
    std::ostringstream os;
    os.setf(std::ios::fixed);
    os.precision(1);
    os << bytes / 1024.0 << " KiB";
    return os.str();
}

struct Candidate {
    std::int64_t R = 0, C = 0;
    std::int64_t tiles_r = 0, tiles_c = 0;
};

struct Packing {
    bool ok = false;
    std::string reason;
    std::vector<Stage> stages;
    int wafers = 0;
    std::int64_t max_context = 0;
};

struct Footprints {
    std::vector<WeightFootprint> weights;  // per layer, per core
    std::vector<double> kv, act;           // per layer, per core
    WeightFootprint embedding, head;
    std::vector<double> kv_per_token_slot;  // per layer: KV bytes per core per token held per row (full layers)
    std::vector<double> kv_fixed;           // per layer: KV bytes per core of sliding layers at their window
};

Footprints footprints(const models::ModelGraph& g, std::int64_t R, std::int64_t C, const Workload& w,
                      const models::PrecisionPolicy& p, double buffer, std::int64_t chunk) {
    Footprints f;
    const std::int64_t hidden = g.embedding.out_features;
    const std::int64_t prefill = w.runs_prefill() ? std::min(w.input_tokens, chunk) : 0;
    for (const auto& layer : g.layers) {
        f.weights.push_back(layer_weight_footprint(layer, R, C, hidden, p));
        f.kv.push_back(layer_kv_bytes_per_core(layer, R, C, w.batch, w.max_context(), p));
        f.act.push_back(layer_activation_bytes_per_core(layer, R, C, w.batch, prefill, buffer, p));
        double slot = 0, fixed = 0;
        for (const auto& op : layer.ops()) {
            if (op.kind != models::OpKind::Attention) continue;
            const double per_tok = 2.0 * p.kv_bits / 8.0 * static_cast<double>(w.batch * ceil_div(op.kv_heads * op.head_dim, C));
            if (op.window > 0) fixed += per_tok * static_cast<double>(ceil_div(op.window, R));
            else slot += per_tok;
        }
        f.kv_per_token_slot.push_back(slot);
        f.kv_fixed.push_back(fixed);
    }
    f.embedding = op_weight_footprint(g.embedding, R, C, hidden, p);
    f.head = op_weight_footprint(g.final_norm, R, C, hidden, p);
    if (g.lm_head.weight_params > 0) {
        f.head += op_weight_footprint(g.lm_head, R, C, hidden, p);
    } else {
        // Tied: the LM head reads the embedding table; a copy lives with the LM head's stage.
        f.head += op_weight_footprint(g.embedding, R, C, hidden, p);
    }
    return f;
}

// Snake order of tiles on a wafer: row of tiles 0 west->east, row 1 east->west, ...
Rect tile_rect(const fabric::WaferSpec& w, const Candidate& c, std::int64_t tile) {
    const std::int64_t tr = tile / c.tiles_c;
    std::int64_t tc = tile % c.tiles_c;
    if (tr % 2 == 1) tc = c.tiles_c - 1 - tc;
    Rect r;
    r.rows = c.R;
    r.cols = c.C;
    r.row0 = w.usable_row0 + tr * c.R;
    r.col0 = w.usable_col0 + tc * c.C;
    return r;
}

Packing pack(const models::ModelSpec& spec, const models::ModelGraph& g, const fabric::WaferSpec& wafer,
             const Candidate& c, const Workload& w, const models::PrecisionPolicy& p, double buffer,
             std::int64_t chunk) {
    Packing out;
    const Footprints f = footprints(g, c.R, c.C, w, p, buffer, chunk);
    const double cap = wafer.sram_user_bytes();
    const std::string grid = std::to_string(c.R) + "x" + std::to_string(c.C);

    Stage cur;
    WeightFootprint cur_w = f.embedding;
    cur.has_embedding = true;
    cur.first_layer = 0;
    cur.weight_bytes_per_core = cur_w.bytes();
    auto close = [&](int end) {
        cur.end_layer = end;
        out.stages.push_back(cur);
        cur = Stage();
        cur_w = WeightFootprint();
        cur.first_layer = end;
    };
    if (f.embedding.bytes() > cap) {
        out.reason = "the embedding table needs " + kib(f.embedding.bytes()) + " per core on " + grid + "; a core has " + kib(cap) + " free";
        return out;
    }
    const int L = static_cast<int>(g.layers.size());
    for (int l = 0; l < L; ++l) {
        const std::size_t li = static_cast<std::size_t>(l);
        WeightFootprint with = cur_w;
        with += f.weights[li];
        const double need_w = f.weights[li].bytes(), need_kv = f.kv[li];
        const double act = std::max(cur.activation_bytes_per_core, f.act[li]);
        const double total = with.bytes() + cur.kv_bytes_per_core + need_kv + act;
        if (total <= cap) {
            cur_w = with;
            cur.weight_bytes_per_core = cur_w.bytes();
            cur.kv_bytes_per_core += need_kv;
            cur.activation_bytes_per_core = act;
            continue;
        }
        if (cur.first_layer == l && cur.has_embedding && l == 0 && f.weights[li].bytes() + need_kv + f.act[li] <= cap) {
            // The layer fits a stage of its own but not beside the embedding table: the embedding gets
            // a stage to itself.
            close(0);
            --l;
            continue;
        }
        if (cur.first_layer == l) {
            std::ostringstream os;
            os << "layer " << l << " of " << spec.name << " needs " << kib(need_w + need_kv + f.act[li] + cur.weight_bytes_per_core)
               << " per core on a " << grid << " grid (weights " << kib(need_w)
               << (cur.weight_bytes_per_core > 0 ? " + embedding " + kib(cur.weight_bytes_per_core) : std::string())
               << " + KV " << kib(need_kv) << " for " << w.batch << " x " << w.max_context() << " tokens + activations "
               << kib(f.act[li]) << "); a core has " << kib(cap) << " free";
            out.reason = os.str();
            return out;
        }
        close(l);
        --l;  // retry this layer on the new stage
    }
    // LM head (and final norm) on the last stage if it fits, else on a stage of its own.
    WeightFootprint with_head = cur_w;
    with_head += f.head;
    if (with_head.bytes() + cur.kv_bytes_per_core + cur.activation_bytes_per_core > cap) {
        close(L);
        cur.first_layer = cur.end_layer = L;
        with_head = f.head;
        if (f.head.bytes() > cap) {
            out.reason = "the LM head needs " + kib(f.head.bytes()) + " per core on " + grid + "; a core has " + kib(cap) + " free";
            return out;
        }
    }
    cur_w = with_head;
    cur.weight_bytes_per_core = cur_w.bytes();
    cur.has_lm_head = true;
    close(L);

    // Regions and wafers.
    const std::int64_t per_wafer = c.tiles_r * c.tiles_c;
    out.wafers = static_cast<int>(ceil_div(static_cast<std::int64_t>(out.stages.size()), per_wafer));
    std::int64_t max_ctx = std::numeric_limits<std::int64_t>::max();
    for (std::size_t s = 0; s < out.stages.size(); ++s) {
        Stage& st = out.stages[s];
        st.index = static_cast<int>(s);
        st.wafer = static_cast<int>(static_cast<std::int64_t>(s) / per_wafer);
        st.region = tile_rect(wafer, c, static_cast<std::int64_t>(s) % per_wafer);
        st.reserve_bytes_per_core = wafer.sram_reserved_bytes;
        st.capacity_bytes_per_core = cap;
        // KV capacity: free SRAM after weights and activations, over the per-token-slot cost.
        double slot = 0, fixed = 0;
        for (int l = st.first_layer; l < st.end_layer; ++l) {
            slot += f.kv_per_token_slot[static_cast<std::size_t>(l)];
            fixed += f.kv_fixed[static_cast<std::size_t>(l)];
        }
        const double free_b = cap - st.weight_bytes_per_core - st.activation_bytes_per_core - fixed;
        if (slot > 0) {
            const double slots = std::floor(std::max(0.0, free_b) / slot);
            st.kv_token_capacity = slots * static_cast<double>(c.R);
            max_ctx = std::min<std::int64_t>(max_ctx, static_cast<std::int64_t>(st.kv_token_capacity));
        } else {
            st.kv_token_capacity = std::numeric_limits<double>::infinity();
        }
    }
    if (max_ctx == std::numeric_limits<std::int64_t>::max()) max_ctx = spec.max_position;
    out.max_context = std::min<std::int64_t>(max_ctx, spec.max_position);
    out.ok = true;
    return out;
}

}  // namespace

ExecutionPlan make_plan(const models::ModelSpec& spec, const models::ModelGraph& graph, const fabric::WaferSpec& wafer,
                        const MappingOptions& options, const Workload& workload,
                        const models::PrecisionPolicy& precision, const PlanScorer& scorer) {
    std::vector<Candidate> cands;
    if (options.grid_rows > 0) {
        Candidate c{options.grid_rows, options.grid_cols, wafer.usable_rows / options.grid_rows,
                    wafer.usable_cols / options.grid_cols};
        if (c.tiles_r == 0 || c.tiles_c == 0)
            throw PlanError("mapping.grid " + std::to_string(c.R) + "x" + std::to_string(c.C) +
                            " does not fit the usable area of " + wafer.name + " (" + std::to_string(wafer.usable_rows) +
                            " rows x " + std::to_string(wafer.usable_cols) + " columns)");
        cands.push_back(c);
    } else {
        for (int a = 1; a <= options.max_tiles_per_side; ++a)
            for (int b = 1; b <= options.max_tiles_per_side; ++b) {
                Candidate c{wafer.usable_rows / a, wafer.usable_cols / b, a, b};
                if (c.R >= 1 && c.C >= 1) cands.push_back(c);
            }
    }

    auto to_plan = [&](const Candidate& c, Packing&& pk) {
        ExecutionPlan plan;
        plan.model_name = spec.name;
        plan.wafer_name = wafer.name;
        plan.wafers = pk.wafers;
        plan.grid_rows = c.R;
        plan.grid_cols = c.C;
        plan.allreduce = options.allreduce;
        plan.gemm = options.gemm;
        plan.kv_layout = options.kv_layout;
        plan.workload = workload;
        plan.precision = precision;
        plan.stages = std::move(pk.stages);
        plan.max_context_tokens = pk.max_context;
        plan.prefill_buffer_bytes = options.prefill_buffer_bytes;
        plan.prefill_chunk = options.prefill_chunk;
        return plan;
    };

    bool have = false;
    ExecutionPlan best;
    double best_score = std::numeric_limits<double>::infinity();
    std::string best_reason;
    int fewest_wafers_over = std::numeric_limits<int>::max();
    std::string over_grid;
    std::size_t tried = 0, feasible = 0;
    for (const auto& c : cands) {
        ++tried;
        Packing pk = pack(spec, graph, wafer, c, workload, precision, options.prefill_buffer_bytes, options.prefill_chunk);
        if (!pk.ok) {
            if (best_reason.empty()) best_reason = pk.reason;
            continue;
        }
        if (pk.wafers > options.max_wafers) {
            if (pk.wafers < fewest_wafers_over) {
                fewest_wafers_over = pk.wafers;
                over_grid = std::to_string(c.R) + "x" + std::to_string(c.C) + " (" + std::to_string(pk.stages.size()) + " stages)";
            }
            continue;
        }
        ++feasible;
        ExecutionPlan plan = to_plan(c, std::move(pk));
        const double score = scorer ? scorer(plan) : static_cast<double>(plan.stages.size());
        if (!have || plan.wafers < best.wafers || (plan.wafers == best.wafers && score < best_score)) {
            best = std::move(plan);
            best_score = score;
            have = true;
        }
    }
    if (!have) {
        if (fewest_wafers_over != std::numeric_limits<int>::max()) {
            double wbytes = 0;
            for (const auto& l : graph.layers)
                for (const auto& op : l.ops())
                    wbytes += static_cast<double>(op.weight_params) *
                              (op.weight_class == models::WeightClass::Expert ? precision.expert_weight_bits
                                                                              : precision.dense_weight_bits) / 8.0;
            std::ostringstream os;
            os << spec.name << " needs " << fewest_wafers_over << " wafers of " << wafer.name << " (best grid "
               << over_grid << "; decoder weights " << format_quantity(wbytes, UnitKind::Bytes)
               << ", a wafer holds " << format_quantity(wafer.sram_user_bytes() * static_cast<double>(wafer.usable_cores()), UnitKind::Bytes)
               << " of user SRAM); mapping.max_wafers = " << options.max_wafers;
            throw PlanError(os.str());
        }
        throw PlanError(best_reason.empty() ? "no grid fits" : best_reason);
    }
    std::ostringstream note;
    if (options.grid_rows > 0) {
        note << "grid " << best.grid_rows << "x" << best.grid_cols << " forced by mapping.grid";
    } else {
        note << "grid " << best.grid_rows << "x" << best.grid_cols << " chosen automatically among " << feasible
             << " feasible of " << tried << " tilings (fewest wafers, then " << (scorer ? "fastest decode" : "fewest stages") << ")";
    }
    best.notes.push_back(note.str());
    if (best.max_context_tokens < workload.max_context())
        best.notes.push_back("KV cache holds " + std::to_string(best.max_context_tokens) + " tokens");
    return best;
}

std::vector<std::int64_t> prefill_chunks(const ExecutionPlan& plan) {
    std::vector<std::int64_t> out;
    const std::int64_t n = plan.workload.input_tokens, c = std::max<std::int64_t>(1, plan.prefill_chunk);
    for (std::int64_t done = 0; done < n; done += c) out.push_back(std::min(c, n - done));
    return out;
}

std::vector<float> sram_map(const ExecutionPlan& plan, const fabric::WaferSpec& wafer, int wafer_index) {
    std::vector<float> m(static_cast<std::size_t>(wafer.mesh_rows * wafer.mesh_cols), 0.0f);
    for (const auto& st : plan.stages) {
        if (st.wafer != wafer_index) continue;
        const float v = static_cast<float>(st.weight_bytes_per_core + st.kv_bytes_per_core + st.activation_bytes_per_core +
                                           st.reserve_bytes_per_core);
        for (std::int64_t r = st.region.row0; r < st.region.row0 + st.region.rows; ++r)
            for (std::int64_t c = st.region.col0; c < st.region.col0 + st.region.cols; ++c)
                m[static_cast<std::size_t>(r * wafer.mesh_cols + c)] = v;
    }
    return m;
}

}  // namespace wafersim::mapping
