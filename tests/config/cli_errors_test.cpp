// Malformed inputs through the real `wafersim run`: each case of tests/config/cases/manifest.tsv must
// exit with its code (2 bad input, 3 impossible plan), print every expected fragment (file, key, problem)
// on stderr, and leave no summary.json behind.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#ifndef WAFERSIM_BINARY
#define WAFERSIM_BINARY ""  // no wafersim target in this build: the cases are skipped
#endif

namespace fs = std::filesystem;

namespace {

const std::string kSource = WAFERSIM_SOURCE_DIR;
const std::string kManifest = "tests/config/cases/manifest.tsv";

struct Case {
    std::string name;   // test name, from the file or the --set string
    std::string input;  // case file, preset name, --set string or raw arguments
    std::string kind;   // wafer | gpu | model | set | args
    int exit_code = 2;
    std::vector<std::string> fragments;
    int manifest_line = 0;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.kind << " " << c.input; }

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    std::istringstream is(s);
    while (std::getline(is, cur, sep)) out.push_back(cur);
    return out;
}

std::string sanitize(const std::string& s) {
    std::string out;
    for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return out;
}

std::string test_name(const std::string& kind, const std::string& input) {
    if (kind == "set" || kind == "args") return sanitize(kind + "_" + input);
    const std::string stem = fs::path(input).stem().string();
    return sanitize(stem.compare(0, kind.size(), kind) == 0 ? stem : kind + "_" + stem);
}

// Manifest lines: input <TAB> kind <TAB> exit code <TAB> fragment <TAB> fragment ...; '#' starts a comment.
std::vector<Case> load_manifest() {
    std::vector<Case> cases;
    std::ifstream in(kSource + "/" + kManifest);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        if (line.empty() || line[0] == '#') continue;
        auto cols = split(line, '\t');
        Case c;
        c.manifest_line = n;
        if (cols.size() < 4) {
            c.name = "manifest_line_" + std::to_string(n);
            c.kind = "malformed";
            c.input = line;
            cases.push_back(c);
            continue;
        }
        c.input = cols[0];
        c.kind = cols[1];
        c.exit_code = std::atoi(cols[2].c_str());
        for (std::size_t i = 3; i < cols.size(); ++i)
            if (!cols[i].empty()) c.fragments.push_back(cols[i]);
        c.name = test_name(c.kind, c.input);
        for (const auto& other : cases)
            if (other.name == c.name) c.name += "_line" + std::to_string(n);
        cases.push_back(c);
    }
    return cases;
}

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string arguments(const Case& c) {
    if (c.kind == "wafer") return "--gpu none --wafer " + quote(c.input);
    if (c.kind == "gpu") return "--gpu " + quote(c.input);
    if (c.kind == "model") return "--gpu none --model " + quote(c.input);
    if (c.kind == "set") return "--gpu none --set " + quote(c.input);
    std::string out = "--gpu none";
    for (const auto& a : split(c.input, ' '))
        if (!a.empty()) out += " " + quote(a);
    return out;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

class ConfigCase : public ::testing::TestWithParam<Case> {};

TEST_P(ConfigCase, FailsWithItsCodeAndMessage) {
    const Case& c = GetParam();
    const std::string where = kManifest + ":" + std::to_string(c.manifest_line) + " (" + c.kind + " " + c.input + ")";
    ASSERT_NE(c.kind, "malformed") << where << ": expected input<TAB>kind<TAB>exit<TAB>fragment...";
    ASSERT_TRUE(c.kind == "wafer" || c.kind == "gpu" || c.kind == "model" || c.kind == "set" || c.kind == "args")
        << where << ": unknown kind";
    ASSERT_FALSE(c.fragments.empty()) << where << ": no expected fragment";
    if (std::string(WAFERSIM_BINARY).empty()) GTEST_SKIP() << "the wafersim binary is not built";

    std::string tmpl = (fs::temp_directory_path() / "wafersim-config-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    const fs::path tmp = tmpl, out = tmp / "out";
    const std::string cmd = "cd " + quote(kSource) + " && " + quote(WAFERSIM_BINARY) + " run " + arguments(c) +
                            " --out " + quote(out.string()) + " -q >" + quote((tmp / "stdout").string()) + " 2>" +
                            quote((tmp / "stderr").string());
    const int status = std::system(cmd.c_str());
    const std::string err = slurp(tmp / "stderr");
    const bool summary = fs::exists(out / "summary.json");
    fs::remove_all(tmp);

    ASSERT_TRUE(WIFEXITED(status)) << where << ": " << cmd;
    EXPECT_EQ(WEXITSTATUS(status), c.exit_code) << where << "\n$ " << cmd << "\nstderr:\n" << err;
    // A file given by path is named in the message.
    if ((c.kind == "wafer" || c.kind == "gpu" || c.kind == "model") && c.input.find('/') != std::string::npos) {
        EXPECT_NE(err.find(c.input), std::string::npos) << where << ": the message does not name the file\n" << err;
    }
    for (const auto& f : c.fragments) {
        EXPECT_NE(err.find(f), std::string::npos) << where << ": missing fragment \"" << f << "\" in stderr:\n" << err;
    }
    EXPECT_FALSE(summary) << where << ": a failed run wrote summary.json";
}

INSTANTIATE_TEST_SUITE_P(Manifest, ConfigCase, ::testing::ValuesIn(load_manifest()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// The corpus is as large as promised and every case file is listed in the manifest.
TEST(ConfigManifest, CoversEveryCaseFile) {
    const auto cases = load_manifest();
    EXPECT_GE(cases.size(), 50u);
    for (const auto& e : fs::directory_iterator(kSource + "/tests/config/cases")) {
        const std::string rel = "tests/config/cases/" + e.path().filename().string();
        if (e.path().filename() == "manifest.tsv") continue;
        bool listed = false;
        for (const auto& c : cases) listed = listed || c.input == rel || c.input.find(rel + " ") != std::string::npos ||
                                             (c.input.size() > rel.size() &&
                                              c.input.compare(c.input.size() - rel.size(), rel.size(), rel) == 0);
        EXPECT_TRUE(listed) << rel << " is not in " << kManifest;
    }
}

}  // namespace
