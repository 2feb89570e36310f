// `wafersim noc`: resolves the router configuration and run options, runs the NoC simulator, prints.
#include "sim/run/noc_command.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sys/stat.h>

#include "fabric/noc/noc_sim.hpp"
#include "sim/base/errors.hpp"
#include "sim/base/yaml_tree.hpp"
#include "sim/run/embedded_configs.hpp"
#include "sim/run/presets.hpp"

namespace wafersim::run {

namespace {

namespace noc = wafersim::fabric::noc;

bool ends_with(const std::string& s, const std::string& suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

std::vector<std::string> noc_presets() {
    std::vector<std::string> names;
    for (const auto& f : embedded_configs()) {
        const std::string p(f.path);
        if (p.compare(0, 4, "noc/") == 0 && ends_with(p, ".yaml")) names.push_back(p.substr(4, p.size() - 9));
    }
    return names;
}

// A preset name (configs/noc/<name>.yaml, then the embedded copy) or a path.
FlatConfig load_noc_flat(const std::string& name_or_path, std::string& origin) {
    if (name_or_path.empty()) throw InputError("--config", 0, "", "empty preset name or path");
    if (name_or_path.find('/') != std::string::npos || ends_with(name_or_path, ".yaml") || ends_with(name_or_path, ".yml")) {
        origin = name_or_path;
        return read_yaml_flat(name_or_path);
    }
    const std::string rel = "noc/" + name_or_path + ".yaml";
    const std::string dir = config_dir();
    if (!dir.empty()) {
        struct stat st {};
        const std::string p = dir + "/" + rel;
        if (::stat(p.c_str(), &st) == 0) {
            origin = p;
            return read_yaml_flat(p);
        }
    }
    for (const auto& f : embedded_configs())
        if (f.path == rel) {
            origin = "<embedded>/" + rel;
            return parse_yaml_flat(std::string(f.text), origin);
        }
    const auto known = noc_presets();
    std::string msg = "unknown noc preset \"" + name_or_path + "\"";
    const std::string near = did_you_mean(name_or_path, known);
    if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    msg += " (known: " + list + "; or give a path to a YAML file)";
    throw InputError("--config", 0, "", msg);
}

std::string num(double v, int prec = 4) {
    if (std::isnan(v)) return "n/a";
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", prec, v);
    return b;
}

}  // namespace

int run_noc_command(const NocOptions& opt, std::ostream& out) {
    // Router configuration (+ --set overrides), validated by its parameter table.
    std::string origin;
    FlatConfig flat = load_noc_flat(opt.config, origin);
    DiagnosticSink sink;
    for (const auto& kv : opt.sets) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
            sink.add("--set", 0, kv, "expected key.path=value (e.g. router.vcs=4)");
            continue;
        }
        std::string key = kv.substr(0, eq);
        if (key.compare(0, 4, "noc.") == 0) key = key.substr(4);
        set_flat(flat, key, kv.substr(eq + 1), "--set");
    }
    sink.throw_if_any();
    const noc::NocRouterSpec spec = noc::load_noc_config(flat, origin);

    // Run options.
    noc::NocRunOptions ro;
    std::int64_t rows = 0, cols = 0;
    if (!parse_grid(opt.mesh, rows, cols))
        sink.add("", 0, "--mesh", "\"" + opt.mesh + "\" is not a mesh size; write KxK with positive integers (e.g. 8x8)");
    else if (rows > 2048 || cols > 2048)
        sink.add("", 0, "--mesh", "\"" + opt.mesh + "\" is too large; at most 2048 routers per side");
    ro.rows = static_cast<int>(rows);
    ro.cols = static_cast<int>(cols);
    if (!noc::parse_traffic(opt.traffic, ro.traffic)) {
        std::string msg = "\"" + opt.traffic + "\" is not a traffic pattern; expected uniform, transpose, bitcomplement or hotspot";
        const std::string near = did_you_mean(opt.traffic, {"uniform", "transpose", "bitcomplement", "hotspot"});
        if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
        sink.add("", 0, "--traffic", msg);
    }
    if (opt.kernel != "systemc" && opt.kernel != "plain")
        sink.add("", 0, "--kernel", "\"" + opt.kernel + "\" is not a kernel; expected systemc or plain");
    const bool hotspot = ro.traffic == noc::Traffic::Hotspot;
    if (!hotspot && (opt.hotspot_node != -1 || opt.hotspot_fraction != -1))
        sink.add("", 0, opt.hotspot_node != -1 ? "--hotspot-node" : "--hotspot-fraction",
                 "only applies to --traffic hotspot (traffic is " + opt.traffic + ")");
    sink.throw_if_any();
    ro.injection_rate = opt.injection_rate;
    ro.packet_flits = opt.packet_flits;
    ro.seed = opt.seed;
    ro.warmup_cycles = opt.warmup;
    ro.measure_cycles = opt.measure;
    if (hotspot) {
        // -1 = not given: the centre node. Other negative values reach validation (exit 2).
        ro.hotspot_node = opt.hotspot_node == -1 ? ro.cols / 2 + ro.cols * (ro.rows / 2) : opt.hotspot_node;
        ro.hotspot_fraction = opt.hotspot_fraction != -1 ? opt.hotspot_fraction : 0.1;
    }
    noc::validate_run_options(ro);

    noc::NocSim sim(spec, ro);
    const noc::NocResult r = opt.kernel == "plain" ? sim.run_plain() : noc::run_with_systemc(sim);

    const std::string mesh = std::to_string(ro.rows) + "x" + std::to_string(ro.cols);
    if (opt.json) {
        nlohmann::json j;
        j["avg_packet_latency"] = r.avg_packet_latency;
        j["avg_network_latency"] = r.avg_network_latency;
        j["max_packet_latency"] = r.max_packet_latency;
        j["accepted_throughput"] = r.accepted_throughput;
        j["injected_throughput"] = r.injected_throughput;
        j["avg_hops"] = r.avg_hops;
        j["sim_cycles"] = r.sim_cycles;
        j["packets_measured"] = r.packets_measured;
        j["saturated"] = r.saturated;
        j["saturation_reason"] = r.saturation_reason;
        j["wall_s"] = r.wall_s;
        j["router_cycles_per_s"] = r.router_cycles_per_s;
        j["regions"] = r.regions;
        j["region_cycles_stepped"] = r.region_cycles_stepped;
        j["region_cycles_skipped"] = r.region_cycles_skipped;
        j["kernel"] = r.kernel;
        // Resolved parameters.
        j["config"] = spec.name.empty() ? opt.config : spec.name;
        j["config_file"] = origin;
        j["mesh"] = mesh;
        j["rows"] = ro.rows;
        j["cols"] = ro.cols;
        j["traffic"] = noc::traffic_name(ro.traffic);
        j["injection_rate"] = ro.injection_rate;
        j["packet_flits"] = ro.packet_flits;
        j["seed"] = ro.seed;
        j["warmup_cycles"] = r.warmup_cycles;
        j["measure_cycles"] = r.measure_cycles;
        if (hotspot) {
            j["hotspot_node"] = ro.hotspot_node;
            j["hotspot_fraction"] = ro.hotspot_fraction;
        } else {
            j["hotspot_node"] = nullptr;
            j["hotspot_fraction"] = nullptr;
        }
        j["zero_load_hop_cycles"] = spec.hop_cycles();
        nlohmann::json params = nlohmann::json::object();
        for (const auto& [k, v] : spec.params.values()) params[k] = v.text;
        j["router"] = params;
        j["version"] = WAFERSIM_VERSION;
        j["command"] = opt.command_line;
        out << j.dump(2) << "\n";
        return 0;
    }
    out << "wafersim noc: " << mesh << " mesh, " << noc::traffic_name(ro.traffic) << " traffic";
    if (hotspot) out << " (node " << ro.hotspot_node << ", fraction " << ro.hotspot_fraction << ")";
    out << ", " << ro.injection_rate << " flits/node/cycle, " << ro.packet_flits << "-flit packets\n";
    out << "  config " << (spec.name.empty() ? opt.config : spec.name) << " (" << origin << "), seed " << ro.seed
        << ", " << r.kernel << " kernel, " << r.regions << " region(s)\n";
    auto row = [&](const char* k, const std::string& v) {
        char b[48];
        std::snprintf(b, sizeof b, "  %-22s ", k);
        out << b << v << "\n";
    };
    row("avg packet latency", num(r.avg_packet_latency, 3) + " cycles");
    row("avg network latency", num(r.avg_network_latency, 3) + " cycles");
    row("max packet latency", num(r.max_packet_latency, 0) + " cycles");
    row("accepted throughput", num(r.accepted_throughput, 5) + " flits/node/cycle");
    row("injected throughput", num(r.injected_throughput, 5) + " flits/node/cycle");
    row("avg hops", num(r.avg_hops, 3) + " routers/packet (Manhattan + 1, as BookSim counts)");
    row("packets measured", std::to_string(r.packets_measured));
    row("saturated", r.saturated ? "yes: " + r.saturation_reason : "no");
    row("sim cycles", std::to_string(r.sim_cycles) + " (warm-up " + std::to_string(r.warmup_cycles) + ", measured " +
                          std::to_string(r.measure_cycles) + ", then drain)");
    row("wall", num(r.wall_s, 3) + " s, " + num(r.router_cycles_per_s / 1e6, 2) + " M router-cycles/s");
    if (r.saturated) out << "  (saturated: latencies are not reported; accepted throughput is the network's, as BookSim's throughput mode)\n";
    return 0;
}

int run_noc_command(const NocOptions& opt) { return run_noc_command(opt, std::cout); }

}  // namespace wafersim::run
