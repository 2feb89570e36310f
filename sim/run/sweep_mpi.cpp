// `mpirun -np N wafersim sweep ...`: the points of one sweep spread over MPI ranks. Rank 0 decides what
// is to do, hands points out on request and writes every point file and the tables; every rank (rank 0
// too) runs its points in --jobs forked children. Point texts travel to rank 0 over MPI, so the ranks need
// no shared filesystem.
#include "sim/run/sweep_internal.hpp"

#include <chrono>
#include <cstdlib>
#include <deque>
#include <exception>
#include <iostream>
#include <list>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sim/base/errors.hpp"

#ifdef WAFERSIM_HAVE_MPI
#include <mpi.h>
#endif

namespace wafersim::run::sweep_detail {

#ifndef WAFERSIM_HAVE_MPI

int run_sweep_mpi(const SweepOptions&, std::ostream&) {
    throw InputError("mpirun", 0, "",
                     "this wafersim was built without MPI (CMake did not find libopenmpi-dev); run the sweep with "
                     "--jobs N, or one --shard I/N per process");
}

#else

namespace {

// Message tags. Protocol: a rank with free job slots sends kRequest (int: free slots) and waits for one
// kAssign (uint64 point indices; none = no more work). It sends one kResult (the point file text) per
// finished point. Rank 0 never blocks: it polls its children and MPI in turn and answers with MPI_Isend.
constexpr int kRequest = 1, kAssign = 2, kResult = 3;
constexpr int kPollMs = 5;

[[noreturn]] void abort_all(int rank, const std::string& what) {
    std::cerr << "wafersim sweep: MPI rank " << rank << ": " << what << "; aborting every rank\n" << std::flush;
    // mpirun forwards a rank's stderr asynchronously and MPI_Abort tears the job down at once: give the
    // forwarding a moment so that the reason reaches the user.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::_Exit(1);  // MPI_Abort does not return; this is for the compiler
}

void bcast_string(std::string& s) {
    unsigned long long n = s.size();
    MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    s.resize(n);
    if (n > 0) MPI_Bcast(s.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
}

int coordinate(const Plan& plan, int jobs, int ranks, std::ostream& out) {
    Recorder rec(plan, out);
    ChildPool pool(plan.e);
    std::deque<std::size_t> queue(plan.todo.begin(), plan.todo.end());
    std::vector<std::set<std::size_t>> outstanding(ranks);  // points handed to each rank, not yet back
    std::vector<bool> told_done(ranks, false);
    std::vector<std::size_t> ran(ranks, 0);  // points each rank ran
    told_done[0] = true;
    struct Pending {
        std::vector<unsigned long long> idx;
        MPI_Request req;
    };
    std::list<Pending> sends;

    auto finished = [&] {
        if (!queue.empty() || pool.running() > 0) return false;
        for (int r = 1; r < ranks; ++r)
            if (!told_done[r] || !outstanding[r].empty()) return false;
        return true;
    };
    // Rank 0 starts its own points once every other rank has asked for its first ones, so every rank
    // gets work whenever there are enough points (ranks x jobs), however late a rank starts.
    std::vector<bool> asked(ranks, false);
    int waiting_for = ranks - 1;
    while (!finished()) {
        while (waiting_for == 0 && !queue.empty() && pool.running() < static_cast<std::size_t>(jobs)) {
            pool.start(queue.front());
            queue.pop_front();
        }
        bool busy = false;
        for (;;) {
            int flag = 0;
            MPI_Status st;
            MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
            if (!flag) break;
            busy = true;
            const int src = st.MPI_SOURCE;
            if (st.MPI_TAG == kRequest) {
                int free_slots = 0;
                MPI_Recv(&free_slots, 1, MPI_INT, src, kRequest, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                if (!asked[src]) {
                    asked[src] = true;
                    --waiting_for;
                }
                Pending& p = sends.emplace_back();
                while (static_cast<int>(p.idx.size()) < free_slots && !queue.empty()) {
                    p.idx.push_back(queue.front());
                    outstanding[src].insert(queue.front());
                    queue.pop_front();
                }
                if (p.idx.empty()) told_done[src] = true;
                MPI_Isend(p.idx.data(), static_cast<int>(p.idx.size()), MPI_UNSIGNED_LONG_LONG, src, kAssign, MPI_COMM_WORLD, &p.req);
            } else if (st.MPI_TAG == kResult) {
                int n = 0;
                MPI_Get_count(&st, MPI_CHAR, &n);
                std::string text(static_cast<std::size_t>(n), '\0');
                MPI_Recv(text.data(), n, MPI_CHAR, src, kResult, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                const long i = record_index(plan.e, text);
                if (i < 0 || outstanding[src].erase(static_cast<std::size_t>(i)) == 0)
                    abort_all(0, "rank " + std::to_string(src) + " sent a point that does not parse or was not handed to it");
                rec.record(static_cast<std::size_t>(i), text);
                ++ran[src];
            } else {
                abort_all(0, "unexpected message tag " + std::to_string(st.MPI_TAG) + " from rank " + std::to_string(src));
            }
        }
        for (auto it = sends.begin(); it != sends.end();) {
            int done = 0;
            MPI_Test(&it->req, &done, MPI_STATUS_IGNORE);
            it = done ? sends.erase(it) : std::next(it);
        }
        for (const auto& [i, text] : pool.poll(busy ? 0 : kPollMs)) {
            rec.record(i, text);
            ++ran[0];
        }
    }
    for (auto& p : sends) MPI_Wait(&p.req, MPI_STATUS_IGNORE);
    out << "points run per rank:";
    for (int r = 0; r < ranks; ++r) out << (r ? ", " : " ") << r << ": " << ran[r];
    out << "\n";
    return finish_sweep(plan, rec, out);
}

void work(const Experiment& e, int jobs, int rank) {
    ChildPool pool(e);
    bool done = false, asked = false;
    while (!done || pool.running() > 0) {
        if (!done && !asked && pool.running() < static_cast<std::size_t>(jobs)) {
            int free_slots = jobs - static_cast<int>(pool.running());
            MPI_Send(&free_slots, 1, MPI_INT, 0, kRequest, MPI_COMM_WORLD);
            asked = true;
        }
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(0, kAssign, MPI_COMM_WORLD, &flag, &st);
        if (flag) {
            int n = 0;
            MPI_Get_count(&st, MPI_UNSIGNED_LONG_LONG, &n);
            std::vector<unsigned long long> idx(static_cast<std::size_t>(n));
            MPI_Recv(idx.data(), n, MPI_UNSIGNED_LONG_LONG, 0, kAssign, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            asked = false;
            if (idx.empty()) done = true;
            for (unsigned long long i : idx) {
                if (i >= e.points.size()) abort_all(rank, "rank 0 handed out point " + std::to_string(i) + ", which does not exist");
                pool.start(static_cast<std::size_t>(i));
            }
        }
        // A blocking send is safe: rank 0 never blocks, so it receives soon.
        for (const auto& [i, text] : pool.poll(flag ? 0 : kPollMs))
            MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, 0, kResult, MPI_COMM_WORLD);
    }
}

}  // namespace

int run_sweep_mpi(const SweepOptions& opt, std::ostream& out) {
    // MPI is initialised here only, for `wafersim sweep` under mpirun; a plain wafersim never touches it.
    MPI_Init(nullptr, nullptr);
    int rank = 0, ranks = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);

    // Rank 0 checks everything and prepares DIR; then tells the others whether to go on (code 0) or
    // not (2: bad input, rank 0 reports it; 1: anything else).
    Plan plan;
    std::exception_ptr error;
    int code = 0;
    if (rank == 0) {
        try {
            plan = prepare_sweep(opt, out, ranks);
        } catch (const InputError&) {
            error = std::current_exception();
            code = 2;
        } catch (...) {
            error = std::current_exception();
            code = 1;
        }
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (code != 0) {
        MPI_Finalize();
        if (rank == 0) std::rethrow_exception(error);  // the command line prints it and exits 2 (or 1)
        return code;
    }
    // The experiment travels as text: the other ranks need not see rank 0's files.
    std::string text = plan.e.text, file = plan.e.file;
    bcast_string(text);
    bcast_string(file);

    int rc = 0;
    try {
        if (rank == 0) {
            rc = coordinate(plan, opt.jobs, ranks, out);
        } else {
            const Experiment e = parse_experiment(text, file);
            work(e, opt.jobs, rank);
        }
    } catch (const std::exception& ex) {
        abort_all(rank, ex.what());
    } catch (...) {
        abort_all(rank, "unknown exception");
    }
    out.flush();
    MPI_Finalize();
    return rc;
}

#endif

}  // namespace wafersim::run::sweep_detail
