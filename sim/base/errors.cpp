// Error types and diagnostics: formatting and the did-you-mean suggestion.
#include "sim/base/errors.hpp"

#include <algorithm>
#include <sstream>

namespace wafersim {

std::string Diagnostic::to_string() const {
    std::ostringstream os;
    if (!file.empty()) {
        os << file;
        if (line > 0) os << ':' << line;
        os << ": ";
    }
    if (!key.empty()) os << key << ": ";
    os << message;
    return os.str();
}

static std::string join(const std::vector<Diagnostic>& diags) {
    std::string out;
    for (std::size_t i = 0; i < diags.size(); ++i) {
        if (i) out += '\n';
        out += diags[i].to_string();
    }
    return out;
}

InputError::InputError(std::vector<Diagnostic> diags)
    : std::runtime_error(join(diags)), m_diags(std::move(diags)) {}

InputError::InputError(std::string file, int line, std::string key, std::string message)
    : InputError(std::vector<Diagnostic>{{std::move(file), line, std::move(key), std::move(message)}}) {}

void DiagnosticSink::throw_if_any() const {
    if (!m_diags.empty()) throw InputError(m_diags);
}

static std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_d = std::string::npos;
    for (const auto& c : candidates) {
        std::size_t d = edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    // Close enough: at most a third of the word's letters differ (and at least one allowed).
    std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
    if (best_d <= limit) return best;
    // An abbreviation ("mapp" for "mapping"): the shortest candidate that starts with the word.
    best.clear();
    if (word.size() >= 3)
        for (const auto& c : candidates)
            if (c.compare(0, word.size(), word) == 0 && (best.empty() || c.size() < best.size())) best = c;
    return best;
}

}  // namespace wafersim
