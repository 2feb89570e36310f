// Helpers shared by tests: loading presets from the source tree, running the CLI binary.
#pragma once
#include <cstdio>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>

#include "fabric/wafer_spec.hpp"
#include "models/op_graph.hpp"
#include "sim/base/yaml_tree.hpp"

namespace wafersim::test {

inline std::string source_path(const std::string& rel) { return std::string(WAFERSIM_SOURCE_DIR) + "/" + rel; }

inline fabric::WaferSpec load_wafer_preset(const std::string& name) {
    const std::string path = source_path("configs/wafers/" + name + ".yaml");
    return fabric::load_wafer(read_yaml_flat(path), path);
}

inline models::ModelSpec load_model_preset(const std::string& name) {
    return models::import_hf_config(source_path("configs/models/" + name + ".json"));
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

inline std::string temp_dir(const std::string& tag) {
    std::string t = "/tmp/wafersim-test-" + tag + "-XXXXXX";
    if (!::mkdtemp(t.data())) return "/tmp";
    return t;
}

// Single-quotes `s` for /bin/sh.
inline std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// A scratch directory removed at the end of the test.
struct TempDir {
    std::string path = temp_dir("scratch");
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    // Writes `text` to `name` inside the directory; returns the file's path.
    std::string write(const std::string& name, const std::string& text) const {
        const std::string p = path + "/" + name;
        std::ofstream(p) << text;
        return p;
    }
};

struct CliResult {
    int exit_code = -1;
    std::string out, err;
};

// Runs the /bin/sh command `cmd`; captures stdout and stderr (exit code 128 + N when killed by signal N).
inline CliResult run_captured(const std::string& cmd) {
    const std::string dir = temp_dir("cli");
    CliResult r;
    const int status = std::system((cmd + " >'" + dir + "/out' 2>'" + dir + "/err'").c_str());
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(dir + "/out");
    r.err = read_file(dir + "/err");
    std::system(("rm -rf '" + dir + "'").c_str());
    return r;
}

// Runs the Python script at `script` with Debian's interpreter (/usr/bin/python3, which has the
// python3-h5py and python3-matplotlib packages tools/setup.sh installs); `args` are /bin/sh words.
inline CliResult run_python(const std::string& script, const std::string& args) {
    return run_captured("/usr/bin/python3 " + quote(script) + " " + args);
}

#ifdef WAFERSIM_BINARY
// Runs `wafersim ARGS` from the source tree; captures stdout and stderr.
inline CliResult run_cli(const std::string& args) {
    return run_captured("cd '" + std::string(WAFERSIM_SOURCE_DIR) + "' && '" + std::string(WAFERSIM_BINARY) + "' " + args);
}
#endif

}  // namespace wafersim::test
