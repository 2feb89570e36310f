// Error kinds shared by every layer: bad input (exit 2), impossible plan (exit 3), internal bug.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace wafersim {

// One problem found in an input: where it is and what is wrong.
// Contract: `file` is the path as the user gave it (or "--set" / "<default>"); `line` is 1-based, 0 when
// unknown; `key` is the dotted key path inside the file ("core.sram"); `message` says what was expected
// and what was found.
struct Diagnostic {
    std::string file;
    int line = 0;
    std::string key;
    std::string message;

    // "configs/wafers/x.yaml:14: core.sram: \"48KB\" is ambiguous; write 48KiB or 48kB"
    std::string to_string() const;
};

// The user's input is wrong. Carries every problem found, not only the first. Exit code 2.
class InputError : public std::runtime_error {
public:
    explicit InputError(std::vector<Diagnostic> diags);
    InputError(std::string file, int line, std::string key, std::string message);
    const std::vector<Diagnostic>& diagnostics() const { return m_diags; }

private:
    std::vector<Diagnostic> m_diags;
};

// The request is well formed but cannot be carried out (does not fit, deadlock). The message gives the
// reason in numbers. Exit code 3.
class PlanError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A bug in the simulator. Kept in release builds.
class InternalError : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

// Collects diagnostics and throws them together (validation reports every error before failing).
class DiagnosticSink {
public:
    void add(Diagnostic d) { m_diags.push_back(std::move(d)); }
    void add(std::string file, int line, std::string key, std::string message) {
        m_diags.push_back({std::move(file), line, std::move(key), std::move(message)});
    }
    bool empty() const { return m_diags.empty(); }
    const std::vector<Diagnostic>& diagnostics() const { return m_diags; }
    // Throws InputError if anything was collected.
    void throw_if_any() const;

private:
    std::vector<Diagnostic> m_diags;
};

// Nearest candidate by edit distance, or "" when nothing is close enough to suggest.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace wafersim
