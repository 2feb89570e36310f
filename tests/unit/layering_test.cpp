// The layers point one way (style.md §1): models/ and fabric/ never include each other, and only the
// SystemC fabric (fabric/sc, fabric/noc/noc_systemc.cpp) includes SystemC.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Include {
    std::string file;
    std::string target;
};

std::vector<Include> includes_under(const std::string& rel) {
    std::vector<Include> out;
    const fs::path root = fs::path(WAFERSIM_SOURCE_DIR) / rel;
    const std::regex inc(R"(^\s*#\s*include\s*[<"]([^>"]+)[>"])");
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (!e.is_regular_file()) continue;
        const auto ext = e.path().extension().string();
        if (ext != ".cpp" && ext != ".hpp") continue;
        std::ifstream in(e.path());
        std::string line;
        std::smatch m;
        while (std::getline(in, line))
            if (std::regex_search(line, m, inc))
                out.push_back({fs::relative(e.path(), WAFERSIM_SOURCE_DIR).string(), m[1].str()});
    }
    return out;
}

bool is_systemc(const std::string& t) { return t == "systemc" || t == "systemc.h" || t.rfind("tlm", 0) == 0; }

}  // namespace

TEST(Layering, ModelsIncludeNeitherFabricNorSystemC) {
    auto incs = includes_under("models");
    ASSERT_FALSE(incs.empty());
    for (const auto& i : incs) {
        EXPECT_NE(i.target.rfind("fabric/", 0), 0u) << i.file << " includes " << i.target;
        EXPECT_NE(i.target.rfind("sim/mapping", 0), 0u) << i.file << " includes " << i.target;
        EXPECT_FALSE(is_systemc(i.target)) << i.file << " includes " << i.target;
    }
}

TEST(Layering, FabricDoesNotIncludeModelsOrUpperLayers) {
    for (const auto& i : includes_under("fabric")) {
        EXPECT_NE(i.target.rfind("models/", 0), 0u) << i.file << " includes " << i.target;
        EXPECT_NE(i.target.rfind("sim/mapping", 0), 0u) << i.file << " includes " << i.target;
        EXPECT_NE(i.target.rfind("sim/engines", 0), 0u) << i.file << " includes " << i.target;
        EXPECT_NE(i.target.rfind("sim/run", 0), 0u) << i.file << " includes " << i.target;
    }
}

TEST(Layering, OnlyTheSystemCFabricIncludesSystemC) {
    std::vector<Include> all;
    for (const char* dir : {"models", "fabric", "sim"}) {
        auto v = includes_under(dir);
        all.insert(all.end(), v.begin(), v.end());
    }
    int found = 0;
    for (const auto& i : all) {
        if (!is_systemc(i.target)) continue;
        ++found;
        const bool allowed = i.file.rfind("fabric/sc/", 0) == 0 || i.file == "fabric/noc/noc_systemc.cpp";
        EXPECT_TRUE(allowed) << i.file << " includes " << i.target;
        EXPECT_EQ(i.file.substr(i.file.size() - 4), ".cpp") << i.file << ": SystemC must stay out of headers";
    }
    EXPECT_GE(found, 2);  // the kernel and the noc processes do include it
}

TEST(Layering, BaseDependsOnNothingAbove) {
    for (const auto& i : includes_under("sim/base")) {
        EXPECT_NE(i.target.rfind("models/", 0), 0u) << i.file << " includes " << i.target;
        EXPECT_NE(i.target.rfind("fabric/", 0), 0u) << i.file << " includes " << i.target;
        EXPECT_NE(i.target.rfind("sim/mapping", 0), 0u) << i.file << " includes " << i.target;
        EXPECT_NE(i.target.rfind("sim/engines", 0), 0u) << i.file << " includes " << i.target;
        EXPECT_NE(i.target.rfind("sim/run", 0), 0u) << i.file << " includes " << i.target;
    }
}
