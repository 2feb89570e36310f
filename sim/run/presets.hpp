// Presets: a name resolves to configs/<kind>/<name>.<ext>, a path to a file. Presets are also embedded
// in the binary so `wafersim run` works from any folder.
#pragma once
#include <string>
#include <vector>

namespace wafersim::run {

enum class PresetKind { Wafer, Gpu, Model, Experiment, Validation };

const char* preset_folder(PresetKind k);  // "wafers", "gpus", "models", ...
const char* preset_ext(PresetKind k);     // ".yaml" or ".json"

// The configs folder: $WAFERSIM_CONFIG_DIR, else the source tree's configs/ when it exists, else "" (only
// embedded presets).
std::string config_dir();

// A loaded preset or file: where it came from (for messages) and its text.
struct PresetText {
    std::string origin;  // path, or "<embedded>/wafers/wse3.yaml"
    std::string name;    // preset name or file stem
    std::string text;
};

// `name_or_path`: contains '/' or ends with the extension -> a file; otherwise a preset name.
// Throws InputError naming `option` (e.g. "--wafer") with the known presets and a did-you-mean.
PresetText load_preset(PresetKind kind, const std::string& name_or_path, const std::string& option);

std::vector<std::string> list_presets(PresetKind kind);

}  // namespace wafersim::run
