#include "report/report_dir.hpp"

#include "config/config.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace reconciler {

namespace fs = std::filesystem;

void prepare_output_dir(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        // Missing directories are created (a fresh StateDirectory, a new
        // machine); umask 027 (main) keeps them 0750.
        fs::create_directories(dir, ec);
        if (ec)
            throw config_error("output.dir " + dir.string() + ": cannot create it: " + ec.message() +
                               " (create it, or point output.dir at a writable directory)");
    } else if (!fs::is_directory(dir, ec)) {
        throw config_error("output.dir " + dir.string() + ": exists but is not a directory (point output.dir at a "
                           "directory)");
    }
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        throw config_error("output.dir " + dir.string() + ": not writable by this user (" + std::strerror(errno) +
                           "; fix its owner or permissions, or point output.dir elsewhere)");
}

fs::path prepare_report_dir(const fs::path& dir, std::int64_t run_id, unix_seconds /*started*/) {
    const fs::path run_dir = dir / ("run-" + std::to_string(run_id));
    std::error_code ec;
    fs::create_directories(run_dir, ec);
    if (ec)
        throw config_error("output.dir " + dir.string() + ": cannot create " + run_dir.string() + ": " + ec.message() +
                           " (check output.dir in the config and the directory's permissions)");
    fs::permissions(run_dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec,
                    fs::perm_options::replace, ec);
    return run_dir;
}

namespace detail {

void restrict_file(const fs::path& p) {
    std::error_code ec;
    fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read,
                    fs::perm_options::replace, ec);
}

void write_file_with(const fs::path& p, const std::function<void(std::ostream&)>& write) {
    const fs::path tmp = p.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        restrict_file(tmp);
        write(out);
        out.flush();
        if (!out) throw std::runtime_error("write report file " + tmp.string() + ": write failed");
    }
    fs::rename(tmp, p);
}

void write_file(const fs::path& p, const std::string& text) {
    write_file_with(p, [&](std::ostream& out) { out << text; });
}

void point_latest_at(const fs::path& run_dir) {
    const fs::path latest = run_dir.parent_path() / "latest";
    const fs::path tmp = run_dir.parent_path() / ".latest.tmp";
    std::error_code ec;
    fs::remove(tmp, ec);
    fs::create_directory_symlink(run_dir.filename(), tmp, ec);
    if (!ec) fs::rename(tmp, latest, ec);
}

}  // namespace detail

}  // namespace reconciler
