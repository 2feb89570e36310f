// kill -9 tests: a 48-point sweep (--jobs 2) and single `wafersim run --out DIR` runs are started in
// their own process group and the whole group is SIGKILLed at seeded moments (the sweep: after a seeded
// number of point files plus a seeded 0-3 ms; the run: at a seeded fraction of its duration). After every kill, each file
// under its final name is whole (point files parse and equal the uninterrupted sweep's, sweep.csv equals
// it, every HDF5 file opens and reads to the end, summary.json parses and equals the uninterrupted run's)
// and anything else is a temporary file recognisable by its name (NAME.tmp.PID). `--resume` then
// completes the sweep: every point present exactly once, the same table as an uninterrupted sweep, and
// no temporary file left.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <map>
#include <sstream>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "tests/test_support.hpp"

namespace wafersim::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// 3 x 16 = 48 analytic points; each runs in its own child process.
const char* kSweep =
    "base: {wafer: wse3, model: llama-3.1-8b, phase: decode, engine: analytic, gpu: h100}\n"
    "axes:\n"
    "  mapping.allreduce: [pipeline, ring, tree]\n"
    "  workload.batch: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]\n"
    "combine: grid\n";
constexpr int kPoints = 48;

bool is_tmp_name(const std::string& name) {
    const auto at = name.rfind(".tmp.");
    return at != std::string::npos && at > 0 && at + 5 < name.size() &&
           name.find_first_not_of("0123456789", at + 5) == std::string::npos;
}

// Starts `wafersim ARGS...` from the source tree as the leader of a new process group.
pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setpgid(0, 0);
        if (::chdir(WAFERSIM_SOURCE_DIR) != 0) ::_exit(126);
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(WAFERSIM_BINARY));
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(WAFERSIM_BINARY, argv.data());
        ::_exit(127);
    }
    ::setpgid(pid, pid);  // also here, so the kill below cannot race the child's own setpgid
    return pid;
}

// Waits for the leader; returns its wait status.
int reap(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

// Waits until `ready()` holds (or the process ended by itself), sleeps `delay`, then SIGKILLs the whole
// group (the sweep and its children). Returns true if the process was still running when killed.
template <class Ready>
bool kill_group_when(pid_t pid, Ready ready, std::chrono::microseconds delay) {
    int status = 0;
    while (!ready()) {
        if (::waitpid(pid, &status, WNOHANG) == pid) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    std::this_thread::sleep_for(delay);
    ::kill(-pid, SIGKILL);
    status = reap(pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

bool kill_group_after(pid_t pid, std::chrono::microseconds delay) {
    return kill_group_when(pid, [] { return true; }, delay);
}

int count_points(const std::string& out) {
    int n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(out + "/points", ec))
        if (!is_tmp_name(e.path().filename().string())) ++n;
    return n;
}

double seconds_of(const std::vector<std::string>& args, const std::string& log) {
    const auto t0 = std::chrono::steady_clock::now();
    const int status = reap(spawn(args, log));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(log);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Checks with h5py that each HDF5 file opens and every dataset reads to the end; prints
// "PATH ok SHA256-of-content" or "PATH ERROR ...". Content covers every attribute except the run's
// creation time, host and command line (results.h5), so two runs with the same inputs compare equal.
std::string h5_check_script(const TempDir& dir) {
    const std::string py = dir.path + "/h5check.py";
    std::ofstream(py) << "import sys, hashlib\n"
                         "import h5py\n"
                         "skip = {'created', 'host', 'command_line', 'resolved_yaml'}\n"
                         "for p in sys.argv[1:]:\n"
                         "    try:\n"
                         "        f = h5py.File(p, 'r')\n"
                         "        h = hashlib.sha256()\n"
                         "        def put(name, obj):\n"
                         "            h.update(name.encode())\n"
                         "            for k in sorted(obj.attrs):\n"
                         "                if k not in skip: h.update((k + repr(obj.attrs[k])).encode())\n"
                         "            if isinstance(obj, h5py.Dataset):\n"
                         "                v = obj[()]\n"
                         "                h.update(repr(v.tolist() if hasattr(v, 'tolist') else v).encode())\n"
                         "        put('/', f)\n"
                         "        f.visititems(put)\n"
                         "        print(p, 'ok', h.hexdigest())\n"
                         "    except Exception as e:\n"
                         "        print(p, 'ERROR', type(e).__name__, str(e).replace('\\n', ' '))\n";
    return py;
}

// path -> "ok SHA" or "ERROR ..." for each HDF5 file.
std::map<std::string, std::string> check_h5(const TempDir& dir, const std::vector<std::string>& files) {
    std::map<std::string, std::string> res;
    if (files.empty()) return res;
    std::string args;
    for (const auto& f : files) args += " " + quote(f);
    const CliResult py = run_python(h5_check_script(dir), args);
    EXPECT_EQ(py.exit_code, 0) << py.out << py.err << " (python3-h5py is installed by tools/setup.sh)";
    std::istringstream in(py.out);
    for (std::string line; std::getline(in, line);) {
        const auto sp = line.find(' ');
        if (sp != std::string::npos) res[line.substr(0, sp)] = line.substr(sp + 1);
    }
    return res;
}

struct SweepState {
    int points = 0, tmps = 0;
    bool table = false;
};

// Every file under its final name is whole and equal to the reference sweep's; the rest are temporary
// files by name.
SweepState check_sweep_dir(const TempDir& dir, const std::string& out, const std::string& ref, const std::string& experiment) {
    SweepState s;
    if (!fs::exists(out)) return s;
    std::vector<std::string> h5;
    for (const auto& e : fs::directory_iterator(out)) {
        const std::string name = e.path().filename().string();
        if (is_tmp_name(name)) {
            ++s.tmps;
        } else if (name == "points") {
            for (const auto& p : fs::directory_iterator(e.path())) {
                const std::string pn = p.path().filename().string();
                if (is_tmp_name(pn)) {
                    ++s.tmps;
                    continue;
                }
                ++s.points;
                const std::string text = read_file(p.path().string());
                EXPECT_TRUE(json::accept(text)) << p.path();
                EXPECT_EQ(text, read_file(ref + "/points/" + pn)) << p.path() << " is not the uninterrupted sweep's";
            }
        } else if (name == "experiment.yaml") {
            EXPECT_EQ(read_file(e.path().string()), experiment);
        } else if (name == "sweep.csv") {
            s.table = true;
            EXPECT_EQ(read_file(e.path().string()), read_file(ref + "/sweep.csv"));
        } else if (name == "sweep.h5") {
            h5.push_back(e.path().string());
        } else {
            ADD_FAILURE() << "unexpected file " << e.path();
        }
    }
    if (!h5.empty()) {
        const std::string want = ref + "/sweep.h5";
        auto got = check_h5(dir, {h5[0], want});
        EXPECT_EQ(got[h5[0]].rfind("ok ", 0), 0u) << got[h5[0]];
        EXPECT_EQ(got[h5[0]], got[want]) << h5[0] << " differs from the uninterrupted sweep's";
    }
    return s;
}

TEST(KillResume, SweepKilledAtRandomMomentsResumesToTheSameTable) {
    TempDir dir;
    const std::string f = dir.write("kill.yaml", kSweep);
    const std::string ref = dir.path + "/ref", out = dir.path + "/out", log = dir.path + "/log";
    const double full_s = seconds_of({"sweep", f, "--jobs", "2", "--out", ref}, log);
    ASSERT_TRUE(fs::exists(ref + "/sweep.csv")) << read_file(log);

    // Seeded schedule: the first kill lands during start-up (0-30 ms); each later one once a seeded number
    // of further point files exist, plus 0-3 ms, so it falls at a random moment of the points' work.
    // (Triggering on progress, not on wall time, keeps the schedule meaningful on a loaded machine.)
    std::mt19937_64 rng(20261122);
    int killed = 0, partial = 0, tmps = 0;
    for (int k = 0; k < 8; ++k) {
        const int have = count_points(out);
        const int target = k == 0 ? 0 : have + 1 + static_cast<int>(rng() % static_cast<unsigned>(std::max(1, (kPoints - have) / 3)));
        const auto delay = std::chrono::microseconds(k == 0 ? rng() % 30000 : rng() % 3000);
        const pid_t pid = spawn({"sweep", f, "--jobs", "2", "--resume", "--out", out}, log);
        const bool was_running = kill_group_when(pid, [&] { return count_points(out) >= target; }, delay);
        killed += was_running;
        const SweepState s = check_sweep_dir(dir, out, ref, kSweep);
        if (was_running && s.points > 0 && s.points < kPoints) ++partial;
        tmps += s.tmps;
        if (::testing::Test::HasFailure()) FAIL() << "after kill " << k << " at " << delay.count() << " us";
    }
    // The schedule caught the sweep while it ran (a check that the kills meant something).
    EXPECT_GE(killed, 1);
    EXPECT_GE(partial, 1) << "no kill left a partly done sweep (full sweep took " << full_s << " s)";

    // What a kill in the middle of a write leaves (whether or not the schedule above hit one): the
    // resume must ignore and remove it.
    std::ofstream(out + "/points/000001.json.tmp.99999") << "{\"index\": 1, \"sta";
    std::ofstream(out + "/sweep.h5.tmp.99998") << "\x89HDF";
    const pid_t pid = spawn({"sweep", f, "--jobs", "2", "--resume", "--out", out}, log);
    const int status = reap(pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(log);
    const SweepState s = check_sweep_dir(dir, out, ref, kSweep);
    EXPECT_EQ(s.points, kPoints);
    EXPECT_EQ(s.tmps, 0) << "temporary files left after a completed resume";
    EXPECT_TRUE(s.table);
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(out + "/points")) names.insert(e.path().filename().string());
    for (int i = 0; i < kPoints; ++i) {
        char b[32];
        std::snprintf(b, sizeof b, "%06d.json", i);
        EXPECT_EQ(names.count(b), 1u) << b;
    }
    EXPECT_EQ(names.size(), static_cast<std::size_t>(kPoints));
    EXPECT_EQ(read_file(out + "/sweep.csv"), read_file(ref + "/sweep.csv"));
    std::cout << "[ info ] uninterrupted sweep " << full_s << " s; " << killed << " of 8 kills hit a running sweep, " << partial
              << " left it partly done, " << tmps
              << " temporary file(s) seen (kills while writing)\n";
}

TEST(KillResume, RunKilledAtRandomMomentsLeavesWholeFilesOrNone) {
    TempDir dir;
    const std::string log = dir.path + "/log", ref = dir.path + "/ref";
    const std::vector<std::string> args = {"run", "--model", "llama-3.1-8b", "--wafer", "wse3", "--phase", "both", "--engine", "analytic", "-q"};
    auto with_out = [&](const std::string& o) {
        auto a = args;
        a.push_back("--out");
        a.push_back(o);
        return a;
    };
    // The quickest of three runs: kills are timed against it, so a slow (loaded) first run does not
    // push every kill past the end.
    double full_s = seconds_of(with_out(ref), log);
    for (int i = 0; i < 2; ++i) full_s = std::min(full_s, seconds_of(with_out(dir.path + "/t" + std::to_string(i)), log));
    const std::string ref_summary = read_file(ref + "/summary.json");
    ASSERT_FALSE(ref_summary.empty());
    const std::string ref_h5 = check_h5(dir, {ref + "/results.h5"})[ref + "/results.h5"];
    ASSERT_EQ(ref_h5.rfind("ok ", 0), 0u) << ref_h5;

    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> frac(0.3, 1.2);  // the files are written at the end
    int killed = 0, some = 0, partial = 0;
    for (int k = 0; k < 12; ++k) {
        const std::string o = dir.path + "/k" + std::to_string(k);
        const auto delay = std::chrono::microseconds(static_cast<long>(frac(rng) * full_s * 1e6));
        killed += kill_group_after(spawn(with_out(o), log), delay);
        if (!fs::exists(o)) continue;
        std::vector<std::string> h5;
        bool any = false;
        int whole = 0, tmps = 0;
        for (const auto& e : fs::directory_iterator(o)) {
            const std::string name = e.path().filename().string();
            any = true;
            if (is_tmp_name(name)) {
                ++tmps;
                continue;
            }
            ++whole;
            if (name == "summary.json") {
                const std::string text = read_file(e.path().string());
                EXPECT_TRUE(json::accept(text)) << e.path();
                EXPECT_EQ(text, ref_summary) << e.path();
            } else if (name == "results.h5") {
                h5.push_back(e.path().string());
            } else if (name == "config.resolved.yaml") {
                std::string text = read_file(e.path().string()), want = read_file(ref + "/config.resolved.yaml");
                // The resolved configuration records the command line, which names the folder.
                for (std::size_t at; (at = want.find(ref)) != std::string::npos;) want.replace(at, ref.size(), o);
                EXPECT_EQ(text, want) << e.path();
            } else {
                ADD_FAILURE() << "unexpected file " << e.path();
            }
        }
        some += any;
        partial += tmps > 0 || (whole > 0 && whole < 3);
        for (const auto& [path, res] : check_h5(dir, h5)) EXPECT_EQ(res, ref_h5) << path << " after kill " << k;
        if (::testing::Test::HasFailure()) FAIL() << "after kill " << k << " at " << delay.count() << " us";
    }
    EXPECT_GE(killed, 1);
    std::cout << "[ info ] uninterrupted run " << full_s << " s; " << killed << " of 12 kills hit a running run, " << some
              << " left output files, " << partial
              << " of them an incomplete set (a kill while writing)\n";
}

}  // namespace
}  // namespace wafersim::test
