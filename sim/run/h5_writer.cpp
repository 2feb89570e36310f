// HDF5 output through the C API (serial libhdf5 from Debian).
#include "sim/run/h5_writer.hpp"

#include <hdf5.h>

#include <stdexcept>

namespace wafersim::run {

namespace {
void check(herr_t r, const std::string& what) {
    if (r < 0) throw std::runtime_error("HDF5: " + what);
}
hid_t check_id(hid_t id, const std::string& what) {
    if (id < 0) throw std::runtime_error("HDF5: " + what);
    return id;
}
}  // namespace

H5Writer::H5Writer(const std::string& path) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become exceptions, not stderr noise
    m_file = check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "cannot create " + path);
    // No object modification times in the file, so identical results give byte-identical files.
    m_dcpl = check_id(H5Pcreate(H5P_DATASET_CREATE), "dataset properties");
    check(H5Pset_obj_track_times(static_cast<hid_t>(m_dcpl), 0), "dataset properties");
    m_gcpl = check_id(H5Pcreate(H5P_GROUP_CREATE), "group properties");
    check(H5Pset_obj_track_times(static_cast<hid_t>(m_gcpl), 0), "group properties");
}

H5Writer::~H5Writer() {
    if (m_dcpl >= 0) H5Pclose(static_cast<hid_t>(m_dcpl));
    if (m_gcpl >= 0) H5Pclose(static_cast<hid_t>(m_gcpl));
    if (m_file >= 0) H5Fclose(static_cast<hid_t>(m_file));
}

void H5Writer::close() {
    if (m_file >= 0) {
        check(H5Fclose(static_cast<hid_t>(m_file)), "close");
        m_file = -1;
    }
}

void H5Writer::group(const std::string& path) {
    if (path == "/" || path.empty()) return;
    if (H5Lexists(static_cast<hid_t>(m_file), path.c_str(), H5P_DEFAULT) > 0) return;
    ensure_parent(path);
    hid_t g = check_id(H5Gcreate2(static_cast<hid_t>(m_file), path.c_str(), H5P_DEFAULT, static_cast<hid_t>(m_gcpl), H5P_DEFAULT),
                       "create group " + path);
    H5Gclose(g);
}

void H5Writer::ensure_parent(const std::string& path) {
    auto s = path.find_last_of('/');
    if (s == std::string::npos || s == 0) return;
    group(path.substr(0, s));
}

void H5Writer::attr(const std::string& path, const std::string& name, const std::string& value) {
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, value.empty() ? 1 : value.size());
    H5Tset_strpad(type, H5T_STR_NULLTERM);
    hid_t space = H5Screate(H5S_SCALAR);
    if (H5Aexists_by_name(static_cast<hid_t>(m_file), path.c_str(), name.c_str(), H5P_DEFAULT) > 0)
        H5Adelete_by_name(static_cast<hid_t>(m_file), path.c_str(), name.c_str(), H5P_DEFAULT);
    hid_t a = check_id(H5Acreate_by_name(static_cast<hid_t>(m_file), path.c_str(), name.c_str(), type, space,
                                         H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       "attribute " + path + "@" + name);
    check(H5Awrite(a, type, value.empty() ? "" : value.c_str()), "write attribute " + name);
    H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
}

void H5Writer::attr(const std::string& path, const std::string& name, double value) {
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = check_id(H5Acreate_by_name(static_cast<hid_t>(m_file), path.c_str(), name.c_str(), H5T_NATIVE_DOUBLE,
                                         space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       "attribute " + path + "@" + name);
    check(H5Awrite(a, H5T_NATIVE_DOUBLE, &value), "write attribute " + name);
    H5Aclose(a);
    H5Sclose(space);
}

void H5Writer::describe(const std::string& path, const std::string& unit, const std::string& description) {
    attr(path, "unit", unit);
    attr(path, "description", description);
}

void H5Writer::dataset(const std::string& path, const std::vector<double>& data, const std::string& unit,
                       const std::string& description) {
    ensure_parent(path);
    hsize_t dims[1] = {data.size()};
    hid_t space = H5Screate_simple(1, dims, nullptr);
    hid_t d = check_id(H5Dcreate2(static_cast<hid_t>(m_file), path.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT,
                                  static_cast<hid_t>(m_dcpl), H5P_DEFAULT),
                       "create dataset " + path);
    if (!data.empty()) check(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), "write " + path);
    H5Dclose(d);
    H5Sclose(space);
    describe(path, unit, description);
}

void H5Writer::dataset(const std::string& path, const std::vector<std::int64_t>& data, const std::string& unit,
                       const std::string& description) {
    ensure_parent(path);
    hsize_t dims[1] = {data.size()};
    hid_t space = H5Screate_simple(1, dims, nullptr);
    hid_t d = check_id(H5Dcreate2(static_cast<hid_t>(m_file), path.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT,
                                  static_cast<hid_t>(m_dcpl), H5P_DEFAULT),
                       "create dataset " + path);
    if (!data.empty()) check(H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), "write " + path);
    H5Dclose(d);
    H5Sclose(space);
    describe(path, unit, description);
}

void H5Writer::dataset2d(const std::string& path, const std::vector<float>& data, std::size_t rows, std::size_t cols,
                         const std::string& unit, const std::string& description) {
    if (data.size() != rows * cols) throw std::runtime_error("HDF5: " + path + ": data size does not match shape");
    ensure_parent(path);
    hsize_t dims[2] = {rows, cols};
    hid_t space = H5Screate_simple(2, dims, nullptr);
    hid_t dcpl = H5Pcopy(static_cast<hid_t>(m_dcpl));
    if (rows > 0 && cols > 0) {
        hsize_t chunk[2] = {std::min<hsize_t>(rows, 256), std::min<hsize_t>(cols, 256)};
        H5Pset_chunk(dcpl, 2, chunk);
        H5Pset_deflate(dcpl, 4);
    }
    hid_t d = check_id(H5Dcreate2(static_cast<hid_t>(m_file), path.c_str(), H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl,
                                  H5P_DEFAULT),
                       "create dataset " + path);
    if (!data.empty()) check(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), "write " + path);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    describe(path, unit, description);
}

void H5Writer::strings(const std::string& path, const std::vector<std::string>& data, const std::string& description) {
    ensure_parent(path);
    std::size_t width = 1;
    for (const auto& s : data) width = std::max(width, s.size() + 1);
    std::vector<char> buf(width * data.size(), '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i].copy(&buf[i * width], data[i].size());
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, width);
    hsize_t dims[1] = {data.size()};
    hid_t space = H5Screate_simple(1, dims, nullptr);
    hid_t d = check_id(H5Dcreate2(static_cast<hid_t>(m_file), path.c_str(), type, space, H5P_DEFAULT,
                                  static_cast<hid_t>(m_dcpl), H5P_DEFAULT),
                       "create dataset " + path);
    if (!data.empty()) check(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), "write " + path);
    H5Dclose(d);
    H5Sclose(space);
    H5Tclose(type);
    describe(path, "", description);
}

void H5Writer::scalar(const std::string& path, double value, const std::string& unit, const std::string& description) {
    ensure_parent(path);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t d = check_id(H5Dcreate2(static_cast<hid_t>(m_file), path.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT,
                                  static_cast<hid_t>(m_dcpl), H5P_DEFAULT),
                       "create dataset " + path);
    check(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value), "write " + path);
    H5Dclose(d);
    H5Sclose(space);
    describe(path, unit, description);
}

}  // namespace wafersim::run
