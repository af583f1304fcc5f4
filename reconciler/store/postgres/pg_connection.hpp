// One libpq connection (PGconn), owned, with every statement parameterised
// and prepared once per connection. The password is handed to libpq as its
// own keyword, never put in a connection string, so it cannot reach a log
// or an error message (libpq's messages name host, port and user only).
//
// Errors: store_error naming the action ("prepare ...", "run ...") and the
// server's SQLSTATE; connection_lost when the server went away (restart,
// reset, network) so the caller can roll back the slice and reconnect;
// schema_error for a server that refuses us at connect time (exit 2);
// server_unavailable for one that does not answer yet (retried by the caller).
#pragma once

#include "store/errors.hpp"
#include "store/postgres/pg_result.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct pg_conn;  // libpq's PGconn
using PGconn = pg_conn;

namespace reconciler::store::postgres {

// Where to connect: a postgresql:// URL or libpq keywords, without the
// password (libpq's own parser reads it, expand_dbname), plus the secret.
struct connect_options {
    std::string url;
    std::string password;  // empty: none (peer, cert or .pgpass)
    std::string application_name = "stripe-reconciler";
    std::chrono::seconds connect_timeout{10};
    std::chrono::milliseconds statement_timeout{0};  // 0: the server's default
};

// The server went away (store/errors.hpp): one kind for every backend, so
// the pipeline can tell it apart without knowing PostgreSQL.
using connection_lost = ::reconciler::store::connection_lost;

// At connect time, the server did not answer or is not accepting connections
// yet (PQpingParams: no response, or rejecting: starting up, shutting down,
// in recovery): a failover or a restart that may be over in a moment. A
// connection_lost for callers that do not retry; the pipeline's opening
// retries it (pipeline/connect_retry.hpp). A server that answers and refuses
// (password, database, pg_hba, TLS) is a schema_error instead: retrying
// cannot help.
class server_unavailable : public connection_lost {
public:
    server_unavailable(std::string database, std::string reason)
        : connection_lost("connect to PostgreSQL " + database + ": " + reason), database_(std::move(database)),
          reason_(std::move(reason)) {}
    // "host:port/db as user" (never the password) and libpq's reason.
    const std::string& database() const noexcept { return database_; }
    const std::string& reason() const noexcept { return reason_; }

private:
    std::string database_, reason_;
};

// A statement's parameters, in order: text, or NULL. Integers are sent as
// their decimal text; PostgreSQL casts by the statement's parameter types.
class params {
public:
    params& add(std::string_view v) { values_.emplace_back(std::string(v)); return *this; }
    params& add(const char* v) { return add(std::string_view(v)); }
    params& add(std::int64_t v) { values_.emplace_back(std::to_string(v)); return *this; }
    params& add(int v) { return add(static_cast<std::int64_t>(v)); }
    params& add(bool v) { values_.emplace_back(v ? "t" : "f"); return *this; }
    template <class T>
    params& add(const std::optional<T>& v) {
        if (v) return add(*v);
        values_.emplace_back(std::nullopt);
        return *this;
    }
    params& null() { values_.emplace_back(std::nullopt); return *this; }
    const std::vector<std::optional<std::string>>& values() const noexcept { return values_; }

private:
    std::vector<std::optional<std::string>> values_;
};

class connection {
public:
    explicit connection(const connect_options& opts);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    // SQL without parameters, possibly several statements (DDL, migrations,
    // BEGIN/COMMIT). Not prepared.
    void exec(std::string_view sql);
    // One statement, prepared on this connection the first time its text is
    // seen and executed with `p` from then on.
    result run(const std::string& sql, const params& p = {});

    // "host:port/db as user" for messages; never the password.
    const std::string& describe() const noexcept { return describe_; }
    bool in_transaction() const noexcept;
    PGconn* raw() noexcept { return conn_; }

private:
    // One PQconnectdbParams; the libpq message when it failed (conn_ null).
    std::string attempt(const char* const* keys, const char* const* values);
    [[noreturn]] void fail(const std::string& action, PGresult* r);
    result checked(const std::string& action, PGresult* r);

    PGconn* conn_ = nullptr;
    std::string describe_;
    std::chrono::milliseconds statement_timeout_{0};
    std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
};

}  // namespace reconciler::store::postgres
