// Atomic files: whole or absent; a killed writer's NAME.tmp.PID is removed only once its process is gone.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "sim/base/atomic_file.hpp"
#include "tests/test_support.hpp"

namespace wafersim {
namespace {

namespace fs = std::filesystem;

void touch(const std::string& p) { std::ofstream(p) << "partial"; }

TEST(AtomicFile, WritesWholeFileAndLeavesNoTemporary) {
    test::TempDir t;
    const std::string p = t.path + "/a.json";
    write_file_atomic(p, "{\"x\": 1}\n");
    EXPECT_EQ(test::read_file(p), "{\"x\": 1}\n");
    for (const auto& e : fs::directory_iterator(t.path)) EXPECT_EQ(e.path().filename(), "a.json");
}

TEST(AtomicFile, FailedWriterLeavesPreviousFile) {
    test::TempDir t;
    const std::string p = t.path + "/r.h5";
    write_file_atomic(p, "old");
    EXPECT_THROW(with_atomic_path(p, [](const std::string& tmp) {
        touch(tmp);
        throw std::runtime_error("writer failed");
    }), std::runtime_error);
    EXPECT_EQ(test::read_file(p), "old");
    for (const auto& e : fs::directory_iterator(t.path)) EXPECT_EQ(e.path().filename(), "r.h5");
}

TEST(AtomicFile, RemovesTemporariesOfDeadWritersOnly) {
    test::TempDir t;
    const std::string p = t.path + "/summary.json";
    // A process that has exited: its pid is free (reaped).
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) ::_exit(0);
    ::waitpid(child, nullptr, 0);
    const std::string dead = p + ".tmp." + std::to_string(child);
    const std::string alive = p + ".tmp." + std::to_string(::getpid());
    const std::string other = t.path + "/results.h5.tmp." + std::to_string(child);  // another file's
    const std::string odd = p + ".tmp.notapid";
    for (const auto& f : {dead, alive, other, odd}) touch(f);
    EXPECT_EQ(remove_stale_tmps(p), 1);
    EXPECT_FALSE(fs::exists(dead));
    EXPECT_TRUE(fs::exists(alive)) << "a running writer's temporary is kept";
    EXPECT_TRUE(fs::exists(other)) << "only temporaries of the named file";
    EXPECT_TRUE(fs::exists(odd));
}

}  // namespace
}  // namespace wafersim
