// Atomic file replacement (temporary file, fsync, rename) and directory creation.
#include "sim/base/atomic_file.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace wafersim {

namespace {
std::string tmp_name(const std::string& path) {
    return path + ".tmp." + std::to_string(static_cast<long>(::getpid()));
}
void fsync_path(const std::string& p) {
    int fd = ::open(p.c_str(), O_RDONLY);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}
std::string dir_of(const std::string& path) {
    auto s = path.find_last_of('/');
    return s == std::string::npos ? "." : (s == 0 ? "/" : path.substr(0, s));
}
}  // namespace

namespace {
// Removes the DIR/STEM.tmp.PID files (any STEM when `stem` is empty) whose writer is no longer running.
int remove_dead_tmps(const std::string& dir, const std::string& stem) {
    namespace fs = std::filesystem;
    std::error_code ec;
    int removed = 0;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        const auto at = name.rfind(".tmp.");
        if (at == std::string::npos || at == 0 || (!stem.empty() && name.compare(0, at, stem) != 0)) continue;
        const std::string pid_text = name.substr(at + 5);
        if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos || pid_text.size() > 9) continue;
        const long pid = std::stol(pid_text);
        if (pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) {
            std::error_code rm;
            if (fs::remove(it->path(), rm)) ++removed;
        }
    }
    return removed;
}
}  // namespace

int remove_stale_tmps(const std::string& path) {
    return remove_dead_tmps(dir_of(path), std::filesystem::path(path).filename().string());
}

int remove_stale_tmps_in(const std::string& dir) { return remove_dead_tmps(dir, ""); }

void with_atomic_path(const std::string& path, const std::function<void(const std::string&)>& write) {
    const std::string tmp = tmp_name(path);
    try {
        write(tmp);
    } catch (...) {
        std::remove(tmp.c_str());
        throw;
    }
    fsync_path(tmp);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string err = std::strerror(errno);
        std::remove(tmp.c_str());
        throw std::runtime_error("cannot write " + path + ": " + err);
    }
    fsync_path(dir_of(path));
}

void write_file_atomic(const std::string& path, const std::string& content) {
    with_atomic_path(path, [&](const std::string& tmp) {
        FILE* f = std::fopen(tmp.c_str(), "wb");
        if (!f) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
        const bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
        const bool closed = std::fclose(f) == 0;
        if (!ok || !closed) throw std::runtime_error("cannot write " + path + ": short write");
    });
}

void make_dirs(const std::string& path) {
    if (path.empty()) return;
    std::string cur;
    std::size_t i = 0;
    while (i <= path.size()) {
        std::size_t j = path.find('/', i);
        if (j == std::string::npos) j = path.size();
        cur = path.substr(0, j);
        if (!cur.empty()) {
            struct stat st {};
            if (::stat(cur.c_str(), &st) != 0) {
                if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
                    throw std::runtime_error("cannot create directory " + cur + ": " + std::strerror(errno));
            } else if (!S_ISDIR(st.st_mode)) {
                throw std::runtime_error("cannot create directory " + path + ": " + cur + " is a file");
            }
        }
        i = j + 1;
    }
}

}  // namespace wafersim
