// Preset lookup: configs folder first (so edits are seen), embedded copies otherwise.
#include "sim/run/presets.hpp"

#include <algorithm>
#include <cstdlib>
#include <dirent.h>
#include <set>
#include <sys/stat.h>

#include "sim/base/errors.hpp"
#include "sim/base/yaml_tree.hpp"
#include "sim/run/embedded_configs.hpp"

#ifndef WAFERSIM_SOURCE_CONFIG_DIR
#define WAFERSIM_SOURCE_CONFIG_DIR ""
#endif

namespace wafersim::run {

namespace {
bool is_dir(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool ends_with(const std::string& s, const std::string& suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}
std::string stem(const std::string& path) {
    std::string b = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
    auto dot = b.find_last_of('.');
    return dot == std::string::npos ? b : b.substr(0, dot);
}
}  // namespace

const char* preset_folder(PresetKind k) {
    switch (k) {
        case PresetKind::Wafer: return "wafers";
        case PresetKind::Gpu: return "gpus";
        case PresetKind::Model: return "models";
        case PresetKind::Experiment: return "experiments";
        case PresetKind::Validation: return "validation";
    }
    return "";
}

const char* preset_ext(PresetKind k) { return k == PresetKind::Model ? ".json" : ".yaml"; }

std::string config_dir() {
    if (const char* env = std::getenv("WAFERSIM_CONFIG_DIR"); env && *env) return env;
    const std::string src = WAFERSIM_SOURCE_CONFIG_DIR;
    if (!src.empty() && is_dir(src)) return src;
    return "";
}

std::vector<std::string> list_presets(PresetKind kind) {
    std::set<std::string> names;
    const std::string folder = preset_folder(kind), ext = preset_ext(kind);
    const std::string dir = config_dir();
    if (!dir.empty()) {
        if (DIR* d = ::opendir((dir + "/" + folder).c_str())) {
            while (dirent* e = ::readdir(d)) {
                std::string n = e->d_name;
                if (ends_with(n, ext)) names.insert(n.substr(0, n.size() - ext.size()));
            }
            ::closedir(d);
        }
    }
    for (const auto& f : embedded_configs()) {
        const std::string prefix = folder + "/", path(f.path);
        if (path.compare(0, prefix.size(), prefix) == 0 && ends_with(path, ext))
            names.insert(path.substr(prefix.size(), path.size() - prefix.size() - ext.size()));
    }
    return {names.begin(), names.end()};
}

PresetText load_preset(PresetKind kind, const std::string& name_or_path, const std::string& option) {
    const std::string ext = preset_ext(kind);
    if (name_or_path.empty()) throw InputError(option, 0, "", "empty preset name or path");
    const bool is_path = name_or_path.find('/') != std::string::npos || ends_with(name_or_path, ext) ||
                         ends_with(name_or_path, ".yml") || ends_with(name_or_path, ".json") ||
                         ends_with(name_or_path, ".yaml");
    if (is_path) return {name_or_path, stem(name_or_path), read_text_file(name_or_path)};
    const std::string rel = std::string(preset_folder(kind)) + "/" + name_or_path + ext;
    const std::string dir = config_dir();
    if (!dir.empty()) {
        struct stat st {};
        const std::string p = dir + "/" + rel;
        if (::stat(p.c_str(), &st) == 0) return {p, name_or_path, read_text_file(p)};
    }
    for (const auto& f : embedded_configs())
        if (f.path == rel) return {"<embedded>/" + rel, name_or_path, std::string(f.text)};
    const auto known = list_presets(kind);
    std::string msg = "unknown " + std::string(preset_folder(kind)).substr(0, std::string(preset_folder(kind)).size() - 1) +
                      " preset \"" + name_or_path + "\"";
    std::string near = did_you_mean(name_or_path, known);
    if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    msg += " (known: " + list + "; or give a path to a file)";
    throw InputError(option, 0, "", msg);
}

}  // namespace wafersim::run
