// Smoke tests of `mpirun -np 2 wafersim sweep`: a 3x3 grid spread over two ranks gives the same point
// files, sweep.csv and sweep.h5 content as a `--jobs 2` run on one machine, and both ranks ran points;
// --resume under mpirun runs only the missing points; a bad experiment exits 2 on every rank; a rank that
// fails (rank 0 cannot write a point file) aborts the whole job instead of hanging it. Skipped only when
// mpirun is not installed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/test_support.hpp"

namespace wafersim::test {
namespace {

namespace fs = std::filesystem;

const char* kGrid =
    "base: {wafer: wse3, model: llama-3.1-8b, phase: decode, engine: analytic, gpu: h100, set: {workload.batch: 1}}\n"
    "axes:\n"
    "  mapping.allreduce: [pipeline, ring, tree]\n"
    "  workload.batch: [1, 2, 4]\n"
    "combine: grid\n";

// Settings Open MPI needs in containers (no CMA between processes, more ranks than cores, root user).
const char* kMpiEnv = "OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1 ";
const char* kMpirun = "mpirun -np 2 --allow-run-as-root --oversubscribe ";

bool have_mpirun() { return std::system("command -v mpirun >/dev/null 2>&1") == 0; }

// Runs a shell command from the source tree with a time limit (a hang fails instead of blocking ctest).
CliResult run_shell(const TempDir& dir, const std::string& cmd) {
    const std::string o = dir.path + "/sh.out", e = dir.path + "/sh.err";
    const std::string full = "cd " + quote(WAFERSIM_SOURCE_DIR) + " && timeout 300 sh -c " + quote(cmd) + " >" + quote(o) + " 2>" + quote(e);
    CliResult r;
    const int status = std::system(full.c_str());
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(o);
    r.err = read_file(e);
    return r;
}

std::string sweep_mpi(const std::string& args) {
    return std::string(kMpiEnv) + kMpirun + quote(WAFERSIM_BINARY) + " sweep " + args;
}

// The content of an HDF5 file (every attribute and dataset, in name order) as a SHA-256, via h5py: the
// file reads back completely, and two tables can be compared by what they hold.
std::string h5_content(const TempDir& dir, const std::string& path) {
    const std::string py = dir.path + "/h5sum.py";
    std::ofstream(py) << "import sys, hashlib\n"
                         "import h5py\n"
                         "f = h5py.File(sys.argv[1], 'r')\n"
                         "h = hashlib.sha256()\n"
                         "def put(name, obj):\n"
                         "    h.update(name.encode())\n"
                         "    for k in sorted(obj.attrs): h.update((k + repr(obj.attrs[k])).encode())\n"
                         "    if isinstance(obj, h5py.Dataset):\n"
                         "        v = obj[()]\n"
                         "        h.update(repr(v.tolist() if hasattr(v, 'tolist') else v).encode())\n"
                         "put('/', f)\n"
                         "f.visititems(put)\n"
                         "print(h.hexdigest())\n";
    const CliResult r = run_python(py, quote(path));
    EXPECT_EQ(r.exit_code, 0) << path << ": " << r.err << " (python3-h5py is installed by tools/setup.sh)";
    return r.out;
}

TEST(SweepMpi, TwoRanksGiveTheSameTablesAsTwoJobs) {
    if (!have_mpirun()) GTEST_SKIP() << "mpirun not found (openmpi-bin)";
    TempDir dir;
    const std::string f = dir.write("grid.yaml", kGrid);
    const std::string jobs = dir.path + "/jobs", mpi = dir.path + "/mpi";

    const CliResult a = run_cli("sweep " + quote(f) + " --jobs 2 --out " + quote(jobs));
    ASSERT_EQ(a.exit_code, 0) << a.err;
    const CliResult b = run_shell(dir, sweep_mpi(quote(f) + " --jobs 2 --out " + quote(mpi)));
    ASSERT_EQ(b.exit_code, 0) << b.err << b.out;
    EXPECT_NE(b.out.find("2 job(s) on each of 2 MPI rank(s)"), std::string::npos) << b.out;
    EXPECT_NE(b.out.find("9 run (9 ok, 0 error), 0 skipped"), std::string::npos) << b.out;
    // Rank 1 ran points (its texts reached rank 0 over MPI) and rank 0 ran the rest.
    const auto at = b.out.find("points run per rank: 0: ");
    ASSERT_NE(at, std::string::npos) << b.out;
    const std::string counts = b.out.substr(at, b.out.find('\n', at) - at);
    EXPECT_EQ(counts.find(", 1: 0"), std::string::npos) << "rank 1 ran nothing: " << counts;

    EXPECT_EQ(read_file(mpi + "/sweep.csv"), read_file(jobs + "/sweep.csv"));
    ASSERT_EQ(read_file(mpi + "/sweep.csv").empty(), false);
    for (int i = 0; i < 9; ++i) {
        const std::string p = "/points/00000" + std::to_string(i) + ".json";
        EXPECT_EQ(read_file(mpi + p), read_file(jobs + p)) << p;
    }
    int files = 0;
    for (const auto& e : fs::directory_iterator(mpi + "/points")) {
        EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
        ++files;
    }
    EXPECT_EQ(files, 9);
    const std::string h5 = h5_content(dir, mpi + "/sweep.h5");
    EXPECT_EQ(h5.size(), 65u) << h5;
    EXPECT_EQ(h5, h5_content(dir, jobs + "/sweep.h5"));
    // HDF5 files are written without object times, so the two tables are the same bytes too.
    EXPECT_EQ(read_file(mpi + "/sweep.h5"), read_file(jobs + "/sweep.h5"));

    // --resume under mpirun: only the lost points run, the table is the same.
    fs::remove(mpi + "/points/000002.json");
    fs::remove(mpi + "/points/000007.json");
    const CliResult c = run_shell(dir, sweep_mpi(quote(f) + " --jobs 2 --resume --out " + quote(mpi)));
    ASSERT_EQ(c.exit_code, 0) << c.err << c.out;
    EXPECT_NE(c.out.find("2 run (2 ok, 0 error), 7 skipped"), std::string::npos) << c.out;
    EXPECT_EQ(read_file(mpi + "/sweep.csv"), read_file(jobs + "/sweep.csv"));
}

TEST(SweepMpi, BadExperimentExits2AndAFailingRankAbortsTheJob) {
    if (!have_mpirun()) GTEST_SKIP() << "mpirun not found (openmpi-bin)";
    TempDir dir;
    const std::string bad = dir.write("bad.yaml", "axis:\n  workload.batch: [1, 2]\n");
    const CliResult r = run_shell(dir, sweep_mpi(quote(bad) + " --out " + quote(dir.path + "/bad")));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(bad + ":1: axis: unknown key; did you mean \"axes\"?"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir.path + "/bad/points"));

    // Rank 0 cannot write point 4 (a folder stands under its name): the job ends, nonzero, with the
    // reason, rather than hanging the other rank.
    const std::string f = dir.write("grid.yaml", kGrid);
    const std::string out = dir.path + "/o";
    fs::create_directories(out + "/points/000004.json/blocker");
    const CliResult s = run_shell(dir, sweep_mpi(quote(f) + " --jobs 2 --resume --out " + quote(out)));
    EXPECT_NE(s.exit_code, 0) << s.out;
    EXPECT_NE(s.exit_code, 124) << "timed out: a failing rank hung the job";
    EXPECT_NE(s.err.find("MPI rank 0: cannot write " + out + "/points/000004.json"), std::string::npos) << s.err;
    EXPECT_NE(s.err.find("aborting every rank"), std::string::npos) << s.err;
    EXPECT_FALSE(fs::exists(out + "/sweep.csv"));
}

}  // namespace
}  // namespace wafersim::test
