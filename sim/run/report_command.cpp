// `wafersim report`: checks the folder, finds the Python report tool and an interpreter, and runs the tool.
#include "sim/run/report_command.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/base/errors.hpp"

#ifndef WAFERSIM_REPORT_TOOL_SOURCE
#error "WAFERSIM_REPORT_TOOL_SOURCE (path of tools/report/wafersim_report.py) must be defined by CMake"
#endif

namespace wafersim::run {

namespace {

constexpr const char* kToolName = "wafersim_report.py";
constexpr const char* kInstallHint = "on Debian: apt install python3 python3-matplotlib python3-h5py";

bool is_file(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_dir(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_executable(const std::string& p) { return is_file(p) && ::access(p.c_str(), X_OK) == 0; }

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

std::string executable_dir() {
    std::vector<char> buf(4096);
    const ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
    if (n <= 0) return "";
    std::string path(buf.data(), static_cast<std::size_t>(n));
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "" : path.substr(0, slash);
}

}  // namespace

std::string report_folder_kind(const std::string& dir) {
    if (dir.empty()) throw InputError("report", 0, "DIR", "no folder given");
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0)
        throw InputError(dir, 0, "", std::string("no such folder (") + std::strerror(errno) + ")");
    if (!S_ISDIR(st.st_mode)) throw InputError(dir, 0, "", "not a folder; give the folder a wafersim command wrote");
    const auto has = [&](const char* f) { return is_file(dir + "/" + f); };
    if (has("summary.json") && has("results.h5")) return "run";
    if (has("sweep.csv") || has("sweep.h5") || has("experiment.yaml")) return "sweep";
    if (has("validation.h5")) return "validate";
    throw InputError(dir, 0, "",
                     "not a wafersim output folder: expected summary.json and results.h5 (wafersim run --out), "
                     "sweep.csv (wafersim sweep --out) or validation.h5 (wafersim validate --out)");
}

std::string find_report_tool() {
    const std::string forced = env("WAFERSIM_REPORT_TOOL");
    if (!forced.empty()) {
        if (!is_file(forced))
            throw InputError("$WAFERSIM_REPORT_TOOL", 0, "", "\"" + forced + "\" is not a file");
        return forced;
    }
    std::vector<std::string> tried;
    const std::string exe = executable_dir();
    if (!exe.empty()) tried.push_back(exe + "/../share/wafersim/report/" + kToolName);
    tried.push_back(WAFERSIM_REPORT_TOOL_SOURCE);
    for (const auto& p : tried)
        if (is_file(p)) return p;
    std::string list;
    for (const auto& p : tried) list += (list.empty() ? "" : ", ") + p;
    throw InputError("report", 0, "", std::string("the report tool ") + kToolName + " was not found (looked in " + list +
                                          "); set WAFERSIM_REPORT_TOOL to its path");
}

std::string find_python() {
    const std::string forced = env("WAFERSIM_PYTHON");
    if (!forced.empty()) {
        if (!is_executable(forced))
            throw InputError("$WAFERSIM_PYTHON", 0, "", "\"" + forced + "\" is not an executable file");
        return forced;
    }
    if (is_executable("/usr/bin/python3")) return "/usr/bin/python3";
    const std::string path = env("PATH");
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t end = path.find(':', start);
        std::string d = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (d.empty()) d = ".";
        if (is_executable(d + "/python3")) return d + "/python3";
        if (end == std::string::npos) break;
        start = end + 1;
    }
    throw InputError("report", 0, "", std::string("Python 3 was not found (/usr/bin/python3 nor python3 on PATH); ") +
                                          kInstallHint + ", or set WAFERSIM_PYTHON");
}

int run_report_command(const ReportOptions& opt) {
    report_folder_kind(opt.dir);  // throws for a missing or foreign folder
    if (!opt.output.empty()) {
        const std::string& o = opt.output;
        if (o.size() < 6 || o.compare(o.size() - 5, 5, ".html") != 0)
            throw InputError("-o", 0, "", "\"" + o + "\": the report name must end in .html (the Markdown twin gets .md)");
        if (is_dir(o)) throw InputError("-o", 0, "", "\"" + o + "\" is a folder; give a file name ending in .html");
    }
    const std::string tool = find_report_tool();
    const std::string python = find_python();

    std::vector<std::string> args = {python, tool, opt.dir};
    if (!opt.output.empty()) args.insert(args.end(), {"-o", opt.output});
    if (!opt.pareto.empty()) args.insert(args.end(), {"--pareto", opt.pareto});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    std::cout.flush();
    std::cerr.flush();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("report: cannot start a process: ") + std::strerror(errno));
    if (pid == 0) {
        ::execv(python.c_str(), argv.data());
        const std::string msg = "error: report: cannot run " + python + ": " + std::strerror(errno) + "\n";
        (void)!::write(2, msg.data(), msg.size());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) throw std::runtime_error(std::string("report: waitpid: ") + std::strerror(errno));
    if (WIFSIGNALED(status))
        throw std::runtime_error("report: " + tool + " was killed by signal " + std::to_string(WTERMSIG(status)));
    const int code = WEXITSTATUS(status);
    if (code == 0 || code == 2) return code;  // 2: the tool printed "error: ..." (bad input, missing module)
    if (code == 127)
        throw InputError("report", 0, "", "cannot run " + python + "; " + kInstallHint + ", or set WAFERSIM_PYTHON");
    throw std::runtime_error("report: " + tool + " failed with exit code " + std::to_string(code) +
                             " (a bug in the report tool; its messages are above)");
}

}  // namespace wafersim::run
