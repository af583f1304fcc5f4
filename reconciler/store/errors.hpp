// The store's errors. Every message names the action and the object.
#pragma once

#include <stdexcept>
#include <string>

namespace reconciler::store {

class store_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The database cannot be used as configured: missing, not SQLite, read-only,
// not the app's, or at another schema version. A setup problem (exit 2);
// thrown before anything is written.
class schema_error : public store_error {
public:
    using store_error::store_error;
};

// The database went away under a statement (PostgreSQL: a server restart, a
// reset connection, an administrator's shutdown): whatever the statement's
// transaction held is rolled back by the server, and the connection is of no
// further use. The run stops on it rather than marking one correction failed
// and carrying on (every later statement would fail the same way).
class connection_lost : public store_error {
public:
    using store_error::store_error;
};

// adjust(): a change that makes no sense in the current state (a consume
// below zero without force).
class adjust_refused : public store_error {
public:
    using store_error::store_error;
};

// Runs `step`; an error that is not already the store's (SQLite's, libpq's,
// a std::exception from below) becomes a store_error naming `what` — the
// action and its object — so every backend's messages read alike.
template <class Step>
auto naming_errors(const std::string& what, Step&& step) {
    try {
        return step();
    } catch (const connection_lost& e) {  // the same kind, now naming what was being done
        throw connection_lost(what + ": " + e.what());
    } catch (const store_error&) {
        throw;
    } catch (const std::exception& e) {
        throw store_error(what + ": " + e.what());
    }
}

}  // namespace reconciler::store
