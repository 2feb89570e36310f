// Files appear whole or not at all: write to a temporary name in the same folder, flush, rename.
#pragma once
#include <functional>
#include <string>

namespace wafersim {

// Writes `content` to `path` atomically (temporary file + fsync + rename). Throws std::runtime_error
// naming the path on failure; never leaves a partial file under `path`.
void write_file_atomic(const std::string& path, const std::string& content);

// For writers that need a file name (HDF5): calls `write(tmp_path)`, then fsyncs and renames it to `path`.
// The temporary file is removed if `write` throws.
void with_atomic_path(const std::string& path, const std::function<void(const std::string& tmp_path)>& write);

// Removes `path`.tmp.PID files left by a writer that was killed (PID no longer running); returns how
// many. Temporary files of running processes are left alone.
int remove_stale_tmps(const std::string& path);
// The same for every NAME.tmp.PID file in `dir`.
int remove_stale_tmps_in(const std::string& dir);

// Creates a directory and its parents (like mkdir -p). Throws std::runtime_error on failure.
void make_dirs(const std::string& path);

}  // namespace wafersim
