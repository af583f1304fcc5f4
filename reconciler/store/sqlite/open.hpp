// The SQLite backend (the embedded default): how to open it.
//
// The app writes the same file concurrently, so: WAL journal, a busy timeout,
// and every write to the app's tables in a BEGIN IMMEDIATE transaction (the
// write lock is taken before the user's row is read, so the read-modify-write
// of plan_metadata cannot interleave with the app's own).
#pragma once

#include "store/app_tables.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace reconciler::store {

class store;

struct sqlite_options {
    std::filesystem::path path;
    std::chrono::milliseconds busy_timeout{10'000};
    bool create_if_missing = false;  // only `reconciler demo` / tests create databases
};

// Throws schema_error when the file is missing, read-only or not SQLite, or
// (at check_schema / migrate) lacks a table or column `tables` names.
std::unique_ptr<store> open_sqlite_store(const sqlite_options& opts, const app_tables& tables = app_tables{});

// True when `e` is SQLite's "database is locked" (SQLITE_BUSY, SQLITE_LOCKED):
// another connection held the write lock for longer than the busy timeout.
bool is_busy(const std::exception& e) noexcept;

// What a user reads then: the database, who may hold it and what to do.
std::string busy_message(const std::filesystem::path& db, std::chrono::milliseconds busy_timeout);

// Creates the app's tables in an empty database (demo and tests only).
void create_app_schema(const std::filesystem::path& db_path);

}  // namespace reconciler::store
