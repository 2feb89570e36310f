// Preset files compiled into the binary (generated from configs/ at build time).
#pragma once
#include <string_view>
#include <vector>

namespace wafersim::run {

struct EmbeddedFile {
    std::string_view path;  // relative to configs/, e.g. "wafers/wse3.yaml"
    std::string_view text;
};

const std::vector<EmbeddedFile>& embedded_configs();

}  // namespace wafersim::run
