// Reading YAML configuration files into flat key/value entries with their line numbers.
#include "sim/base/yaml_tree.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "sim/base/errors.hpp"

namespace wafersim {

std::string read_text_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw InputError(path, 0, "", "cannot read: no such file");
    if (S_ISDIR(st.st_mode)) throw InputError(path, 0, "", "cannot read: is a directory, expected a file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path, 0, "", "cannot read: permission denied or unreadable");
    std::ostringstream os;
    os << in.rdbuf();
    if (in.bad()) throw InputError(path, 0, "", "cannot read: I/O error");
    return os.str();
}

namespace {

// Most nodes one file may expand to. Aliases share nodes, so a few hundred bytes of `&a [*b, *b, ...]`
// can expand to billions of values; no configuration comes near this.
constexpr std::size_t kMaxNodes = 100000;
// Deepest nesting accepted. An alias inside its own anchor (`a: &a [*a]`) makes a cycle, endless otherwise.
constexpr int kMaxDepth = 64;

void flatten(const YAML::Node& node, const std::string& prefix, const std::string& file, FlatConfig& out,
             DiagnosticSink& sink, std::size_t& nodes, int depth) {
    const int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    if (++nodes > kMaxNodes)
        throw InputError(file, line, prefix,
                         "more than " + std::to_string(kMaxNodes) +
                             " values (aliases expanding recursively?); expected a configuration file");
    if (depth > kMaxDepth)
        throw InputError(file, line, prefix.substr(0, 200) + (prefix.size() > 200 ? "..." : ""),
                         "nested more than " + std::to_string(kMaxDepth) +
                             " levels deep (an alias inside its own anchor?); expected a configuration file");
    switch (node.Type()) {
        case YAML::NodeType::Map: {
            std::vector<std::string> seen;  // yaml-cpp keeps duplicate keys; a later one would silently win
            for (const auto& kv : node) {
                if (!kv.first.IsScalar()) {
                    sink.add(file, kv.first.Mark().line + 1, prefix, "mapping keys must be plain names");
                    continue;
                }
                const std::string k = kv.first.Scalar();
                if (k.empty() || k.find('.') != std::string::npos) {
                    sink.add(file, kv.first.Mark().line + 1, prefix.empty() ? k : prefix + "." + k,
                             "keys must be non-empty names without '.'; nest mappings instead");
                    continue;
                }
                if (std::find(seen.begin(), seen.end(), k) != seen.end()) {
                    sink.add(file, kv.first.Mark().line + 1, prefix.empty() ? k : prefix + "." + k,
                             "key appears more than once in this mapping; only one value can be meant");
                    continue;
                }
                seen.push_back(k);
                flatten(kv.second, prefix.empty() ? k : prefix + "." + k, file, out, sink, nodes, depth + 1);
            }
            if (node.size() == 0 && !prefix.empty()) out.push_back({prefix, "", file, line, true});
            break;
        }
        case YAML::NodeType::Sequence: {
            std::size_t i = 0;
            for (const auto& el : node) {
                flatten(el, prefix + "." + std::to_string(i), file, out, sink, nodes, depth + 1);
                ++i;
            }
            if (node.size() == 0) out.push_back({prefix, "", file, line, true});
            break;
        }
        case YAML::NodeType::Scalar:
            out.push_back({prefix, node.Scalar(), file, line, false});
            break;
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined:
            out.push_back({prefix, "", file, line, true});
            break;
    }
}

}  // namespace

FlatConfig parse_yaml_flat(const std::string& text, const std::string& file) {
    bool blank = true;
    for (char c : text) {
        if (!(c == ' ' || c == '\n' || c == '\r' || c == '\t')) { blank = false; break; }
    }
    if (blank) throw InputError(file, 0, "", "file is empty; expected a YAML mapping");
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw InputError(file, e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "malformed YAML: " + e.msg);
    }
    if (!root.IsMap()) throw InputError(file, 1, "", "expected a YAML mapping (key: value) at the top level");
    FlatConfig out;
    DiagnosticSink sink;
    std::size_t nodes = 0;
    flatten(root, "", file, out, sink, nodes, 0);
    sink.throw_if_any();
    return out;
}

FlatConfig read_yaml_flat(const std::string& path) { return parse_yaml_flat(read_text_file(path), path); }

void set_flat(FlatConfig& cfg, const std::string& key, const std::string& value, const std::string& origin) {
    for (auto& e : cfg) {
        if (e.key == key) {
            e.value = value;
            e.file = origin;
            e.line = 0;
            e.is_null = false;
            return;
        }
    }
    cfg.push_back({key, value, origin, 0, false});
}

FlatConfig subtree(const FlatConfig& cfg, const std::string& prefix) {
    FlatConfig out;
    const std::string p = prefix + ".";
    for (const auto& e : cfg) {
        if (e.key.compare(0, p.size(), p) == 0) {
            FlatEntry c = e;
            c.key = e.key.substr(p.size());
            out.push_back(std::move(c));
        }
    }
    return out;
}

}  // namespace wafersim
