// Pieces of `wafersim sweep` shared by the single-machine driver (sweep.cpp) and the MPI driver
// (sweep_mpi.cpp). Not an interface for other folders.
#pragma once
#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "sim/run/sweep.hpp"

namespace wafersim::run::sweep_detail {

// What is left to do after the experiment and options were checked and DIR was prepared.
struct Plan {
    Experiment e;
    std::string dir;
    std::vector<std::size_t> todo;  // point indices still to run (this shard, not yet done)
    std::size_t skipped = 0;        // points of this shard already done (--resume)
};

// Parses and checks the experiment and the options, creates DIR/points and DIR/experiment.yaml, removes
// leftover temporary files of an interrupted sweep (--resume without --shard only: shards on other hosts
// may be writing), decides which points are still to do and prints the header line (`ranks` > 0 adds
// "on R MPI rank(s)"). Throws InputError for a bad experiment or options.
Plan prepare_sweep(const SweepOptions& opt, std::ostream& out, int ranks = 0);

// The point file text of point `p` (index, axes, status ok|error, error, summary). Every failure of the
// point (input error, impossible plan, exception) becomes status "error"; never throws for a point.
std::string point_record(const Experiment& e, const SweepPoint& p);

// A point file text with status "error" and `message` (used when a point's process died).
std::string error_record(const SweepPoint& p, const std::string& message);

// Index of a point file text if it parses and names a point of `e`; -1 otherwise.
long record_index(const Experiment& e, const std::string& text);

// Writes finished points' files (atomically) and prints one progress line per point.
// On a terminal (stdout is a tty) the progress is one bar redrawn in place (points done, failures, ETA),
// with failed points printed above it; otherwise a plain line per point, with the same counts.
class Recorder {
public:
    Recorder(const Plan& plan, std::ostream& out);
    // Throws InternalError if `text` is not a point file of point `index`.
    void record(std::size_t index, const std::string& text);
    std::size_t ok() const { return m_ok; }
    std::size_t failed() const { return m_failed; }

private:
    const Plan& m_plan;
    std::ostream& m_out;
    bool m_tty = false;
    std::chrono::steady_clock::time_point m_start;
    std::size_t m_done = 0, m_ok = 0, m_failed = 0;
};

// Points run in forked child processes, at most as many at once as the caller starts. Each child sends
// its point file text back through a pipe and leaves with _exit (it never returns into the caller, never
// flushes the parent's buffers, never calls MPI). Only the parent writes files.
class ChildPool {
public:
    explicit ChildPool(const Experiment& e) : m_e(e) {}
    ~ChildPool();  // kills (SIGKILL) and reaps children still running (the parent is failing)
    ChildPool(const ChildPool&) = delete;
    ChildPool& operator=(const ChildPool&) = delete;

    void start(std::size_t index);  // throws InternalError if fork or pipe fails
    std::size_t running() const { return m_children.size(); }
    // Waits up to `timeout_ms` (0: do not wait) for output of the children; returns (index, point file
    // text) of each child that finished. A child that died without a complete text gets an error text
    // naming its signal or exit status.
    std::vector<std::pair<std::size_t, std::string>> poll(int timeout_ms);

private:
    struct Child {
        pid_t pid;
        int fd;
        std::size_t index;
        std::string text;
    };
    const Experiment& m_e;
    std::vector<Child> m_children;
};

// Reads every point file of DIR, prints the closing line and writes sweep.csv and sweep.h5 when every
// point is present. Returns 0.
int finish_sweep(const Plan& plan, const Recorder& rec, std::ostream& out);

// True when this process was started by mpirun/mpiexec/srun (Open MPI, PMI or PMIx environment).
bool launched_by_mpi();

// The MPI driver (sweep_mpi.cpp): rank 0 prepares DIR, hands points out to every rank (itself
// included) and writes every point file and the tables; the other ranks only run points and send the
// point file texts to rank 0. Throws InputError on rank 0 for a bad experiment (the other ranks return 2).
int run_sweep_mpi(const SweepOptions& opt, std::ostream& out);

}  // namespace wafersim::run::sweep_detail
