// Work in forked child processes: the SystemC kernel elaborates once per process, so commands that run
// several SystemC simulations (validate, sensitivity) give each its own process (style.md §8).
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <sys/types.h>

namespace wafersim::run {

// Forks a child that runs `work`, writes the text it returns to a pipe and leaves with _exit: status 0
// when the text was written, 1 when `work` threw or the write failed. Returns the child's pid and the
// read end of the pipe (close-on-exec). `what` names the child in errors ("point 4"). Throws
// InternalError if pipe or fork fail.
struct Spawned {
    pid_t pid = -1;
    int fd = -1;
};
Spawned spawn_child(const std::function<std::string()>& work, const std::string& what);

// How one child ended: `ok` with the text `work` returned, or not ok with `text` saying why (the signal
// or exit status; an exception thrown by `work` ends the child with exit status 1, so callers that
// want to pass errors back encode them in the text).
struct ChildResult {
    bool ok = false;
    std::string text;
};

// Runs work(i) for every i in [0, n), each in a forked child, at most `jobs` at once. A child returns
// its text through a pipe that the parent drains while the child runs (any size), then leaves with
// _exit (no atexit handlers, no stdio buffers flushed twice). `done(i, result)` is called in the
// parent, in the order the children finish. Throws InternalError if fork, pipe or poll fail.
void run_forked(std::size_t n, int jobs, const std::function<std::string(std::size_t)>& work,
                const std::function<void(std::size_t, const ChildResult&)>& done);

}  // namespace wafersim::run
