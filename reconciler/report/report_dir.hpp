// The run's report directory on disk:
//   <output.dir>/run-<id>/   one run's files (report.hpp lists them)
//   <output.dir>/latest -> run-<id>
// Directories are created 0750, files 0640: reports hold customer emails.
// Files are written whole or not at all (a temporary name, then rename), so
// a reader never sees half a report.
#pragma once

#include "core/model.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>

namespace reconciler {

// Creates output.dir (0750, with missing parents) if it does not exist and
// checks that this user can write there; throws config_error naming the
// directory and the fix. Called before a run writes anything.
void prepare_output_dir(const std::filesystem::path& dir);

// Creates <dir>/run-<id> (and <dir>); throws config_error naming the directory.
std::filesystem::path prepare_report_dir(const std::filesystem::path& dir, std::int64_t run_id, unix_seconds started);

namespace detail {

// Owner read/write, group read (0640).
void restrict_file(const std::filesystem::path& p);

// Writes `p` (0640) through `write`, atomically; throws naming the file when
// it cannot be written.
void write_file_with(const std::filesystem::path& p, const std::function<void(std::ostream&)>& write);
void write_file(const std::filesystem::path& p, const std::string& text);

// Points <run_dir>/../latest at run_dir, atomically; best effort.
void point_latest_at(const std::filesystem::path& run_dir);

}  // namespace detail

}  // namespace reconciler
