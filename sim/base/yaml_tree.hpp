// YAML files read into flat "dotted.key -> scalar text" entries that remember file and line.
#pragma once
#include <string>
#include <vector>

namespace wafersim {

// One scalar of a config: `key` is the dotted path ("core.sram"), `value` the text as written.
// Contract: a sequence element gets its index as a path component ("axes.model.0"); `is_null` marks an
// explicit `~`/`null`; `line` is 1-based.
struct FlatEntry {
    std::string key;
    std::string value;
    std::string file;
    int line = 0;
    bool is_null = false;
};

using FlatConfig = std::vector<FlatEntry>;

// Reads and flattens a YAML file. Throws InputError naming the file (and line) when it cannot be read,
// is empty, is not a mapping at the top level, or is malformed YAML.
FlatConfig read_yaml_flat(const std::string& path);
// Same, for text already in memory (`file_for_errors` names it in messages).
FlatConfig parse_yaml_flat(const std::string& text, const std::string& file_for_errors);

// Reads a whole file into a string; throws InputError (file, "cannot read ...") when it is missing, a
// directory, or unreadable.
std::string read_text_file(const std::string& path);

// Sets `key` to `value` (adding it when absent), recording `origin` as its file (e.g. "--set").
void set_flat(FlatConfig& cfg, const std::string& key, const std::string& value, const std::string& origin);

// Entries whose key starts with `prefix` + ".", with the prefix removed.
FlatConfig subtree(const FlatConfig& cfg, const std::string& prefix);

}  // namespace wafersim
