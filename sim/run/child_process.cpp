// Forked children with a pipe each, drained with poll() while they run.
#include "sim/run/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <vector>

#include "sim/base/errors.hpp"

namespace wafersim::run {

namespace {

struct Child {
    pid_t pid;
    int fd;
    std::size_t index;
    std::string text;
};

bool write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

Spawned spawn_child(const std::function<std::string()>& work, const std::string& what) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw InternalError("cannot create a pipe for " + what + ": " + std::strerror(errno));
    std::cout.flush();
    std::cerr.flush();
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw InternalError("cannot fork for " + what + ": " + std::strerror(errno));
    }
    if (pid == 0) {
        ::close(fds[0]);
        bool ok = false;
        try {
            ok = write_all(fds[1], work());
        } catch (...) {
            ok = false;
        }
        ::close(fds[1]);
        ::_exit(ok ? 0 : 1);
    }
    ::close(fds[1]);
    return {pid, fds[0]};
}

void run_forked(std::size_t n, int jobs, const std::function<std::string(std::size_t)>& work,
                const std::function<void(std::size_t, const ChildResult&)>& done) {
    std::vector<Child> running;
    std::size_t next = 0;
    const std::size_t limit = static_cast<std::size_t>(std::max(1, jobs));
    // If anything below throws (a failed fork, the caller's `done`), no child is left behind.
    struct Reaper {
        std::vector<Child>& running;
        ~Reaper() {
            for (const Child& c : running) {
                ::kill(c.pid, SIGKILL);
                ::close(c.fd);
                int status = 0;
                while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
                }
            }
        }
    } reaper{running};
    while (next < n || !running.empty()) {
        while (next < n && running.size() < limit) {
            const std::size_t i = next++;
            const Spawned sp = spawn_child([&] { return work(i); }, "child " + std::to_string(i));
            running.push_back({sp.pid, sp.fd, i, {}});
        }
        std::vector<pollfd> pfds;
        for (const Child& c : running) pfds.push_back({c.fd, POLLIN, 0});
        if (::poll(pfds.data(), pfds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            throw InternalError("poll on the children's pipes failed");
        }
        for (std::size_t k = pfds.size(); k-- > 0;) {
            if (!(pfds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            Child& c = running[k];
            char buf[65536];
            const ssize_t got = ::read(c.fd, buf, sizeof buf);
            if (got < 0 && errno == EINTR) continue;
            if (got > 0) {
                c.text.append(buf, static_cast<std::size_t>(got));
                continue;
            }
            // End of file: the child closed its end; reap it.
            ::close(c.fd);
            int status = 0;
            while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
            }
            ChildResult r;
            r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            r.text = r.ok ? std::move(c.text)
                          : "the child process ended abnormally (" +
                                (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                                     : "exit status " + std::to_string(WEXITSTATUS(status))) + ")";
            const std::size_t index = c.index;
            running.erase(running.begin() + static_cast<std::ptrdiff_t>(k));
            done(index, r);
        }
    }
}

}  // namespace wafersim::run
