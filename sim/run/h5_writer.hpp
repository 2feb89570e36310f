// A small RAII writer over the HDF5 C API: groups, datasets (1-D, 2-D, strings) and attributes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace wafersim::run {

// Contract: paths are absolute inside the file ("/decode/layers/compute_s"); parent groups are created on
// demand; every dataset gets `unit` and `description` attributes. Errors throw std::runtime_error.
class H5Writer {
public:
    explicit H5Writer(const std::string& path);  // creates/truncates
    ~H5Writer();
    H5Writer(const H5Writer&) = delete;
    H5Writer& operator=(const H5Writer&) = delete;

    void group(const std::string& path);
    void attr(const std::string& path, const std::string& name, const std::string& value);
    void attr(const std::string& path, const std::string& name, double value);
    void dataset(const std::string& path, const std::vector<double>& data, const std::string& unit,
                 const std::string& description);
    void dataset(const std::string& path, const std::vector<std::int64_t>& data, const std::string& unit,
                 const std::string& description);
    // Row-major [rows][cols], float32, chunked and compressed (per-core maps are large).
    void dataset2d(const std::string& path, const std::vector<float>& data, std::size_t rows, std::size_t cols,
                   const std::string& unit, const std::string& description);
    void strings(const std::string& path, const std::vector<std::string>& data, const std::string& description);
    void scalar(const std::string& path, double value, const std::string& unit, const std::string& description);
    void close();

private:
    void ensure_parent(const std::string& path);
    void describe(const std::string& path, const std::string& unit, const std::string& description);
    std::int64_t m_file = -1;
    std::int64_t m_dcpl = -1, m_gcpl = -1;  // creation properties without object times
};

}  // namespace wafersim::run
