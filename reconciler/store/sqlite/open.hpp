// The SQLite backend (the embedded default): how to open it.
//
// The app writes the same file concurrently, so: WAL journal, a busy timeout,
// and every write to the app's tables in a BEGIN IMMEDIATE transaction (the
// write lock is taken before the user's row is read, so the read-modify-write
// of plan_metadata cannot interleave with the app's own).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>

namespace reconciler::store {

class store;

struct sqlite_options {
    std::filesystem::path path;
    std::chrono::milliseconds busy_timeout{10'000};
    bool create_if_missing = false;  // only `reconciler demo` / tests create databases
};

// Throws schema_error when the file is missing, read-only or not SQLite.
std::unique_ptr<store> open_sqlite_store(const sqlite_options& opts);

// Creates the app's tables in an empty database (demo and tests only).
void create_app_schema(const std::filesystem::path& db_path);

}  // namespace reconciler::store
