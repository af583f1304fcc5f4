#include "store/postgres/pg_connection.hpp"

#include <libpq-fe.h>

#include <array>
#include <charconv>

namespace reconciler::store::postgres {

namespace {

// libpq's message on one line: "server closed the connection unexpectedly\n\t
// This probably means..." reads as one sentence in a log line or on stderr.
std::string trimmed(const char* msg) {
    std::string s;
    for (const char* c = msg ? msg : ""; *c; ++c) {
        const bool blank = *c == '\n' || *c == '\t' || *c == ' ';
        if (!blank) s += *c;
        else if (!s.empty() && s.back() != ' ') s += ' ';
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

// 57014 is any cancelled statement; the timeout is ours to name (the setting
// that chose it, what to do), a cancel by someone else is said as it is.
std::string timeout_hint(std::string_view state, std::string_view msg, std::chrono::milliseconds timeout) {
    if (state != "57014" || msg.find("statement timeout") == std::string_view::npos) return {};
    const std::string setting = timeout.count() > 0 ? "database.statement_timeout is " +
                                                          std::to_string(timeout.count()) + " ms"
                                                    : "the server's statement_timeout (database.statement_timeout "
                                                      "is not set)";
    return " (" + setting + ": raise it, or see in pg_stat_activity which session held what this statement waited "
           "for)";
}

// SQLSTATE class 08 (connection exception) and 57P01-03 (admin shutdown,
// crash shutdown, cannot connect now): the server went away, not our SQL.
bool lost(PGconn* c, const char* sqlstate) {
    if (PQstatus(c) == CONNECTION_BAD) return true;
    const std::string_view s = sqlstate ? sqlstate : "";
    return s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03";
}

// The `options` keyword given beside the URL replaces the URL's own (a
// search_path, say): the statement timeout is appended to them instead.
std::string merged_options(const connect_options& opts) {
    std::string options;
    if (PQconninfoOption* parsed = PQconninfoParse(opts.url.c_str(), nullptr)) {
        for (const PQconninfoOption* o = parsed; o->keyword; ++o)
            if (std::string_view(o->keyword) == "options" && o->val) options = o->val;
        PQconninfoFree(parsed);
    }
    if (opts.statement_timeout.count() > 0) {
        if (!options.empty()) options += ' ';
        options += "-c statement_timeout=" + std::to_string(opts.statement_timeout.count());
    }
    return options;
}

}  // namespace

void result::free_result::operator()(PGresult* r) const noexcept { PQclear(r); }

result::result(PGresult* r) noexcept : r_(r) {}

int result::rows() const noexcept { return r_ ? PQntuples(r_.get()) : 0; }

bool result::is_null(int row, int col) const noexcept { return PQgetisnull(r_.get(), row, col) != 0; }

std::string_view result::text(int row, int col) const noexcept {
    return {PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
}

std::int64_t result::int64(int row, int col) const {
    const std::string_view t = text(row, col);
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (is_null(row, col) || ec != std::errc{} || end != t.data() + t.size())
        throw store_error(std::string("read column ") + PQfname(r_.get(), col) + ": expected an integer, got " +
                          (is_null(row, col) ? "NULL" : "'" + std::string(t) + "'"));
    return v;
}

std::optional<std::int64_t> result::opt_int64(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return int64(row, col);
}

std::optional<std::string> result::opt_text(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return std::string(text(row, col));
}

bool result::boolean(int row, int col) const { return text(row, col) == "t"; }

std::int64_t result::affected() const noexcept {
    const char* n = r_ ? PQcmdTuples(r_.get()) : "";
    std::int64_t v = 0;
    std::from_chars(n, n + std::char_traits<char>::length(n), v);
    return v;
}

namespace {

// The server's word on a connect that failed, asked with the same
// parameters: it answers (PQPING_OK, even to a refused password: libpq says
// so once the server replied with anything but "cannot connect now") or not.
// A TLS failure is the client's setup, whatever the ping says.
bool server_answers(const char* const* keys, const char* const* values, const std::string& msg) {
    if (msg.find("certificate") != std::string::npos || msg.find("does not support SSL") != std::string::npos ||
        msg.find("SSL was required") != std::string::npos)
        return true;
    const PGPing ping = PQpingParams(keys, values, 1);
    return ping != PQPING_NO_RESPONSE && ping != PQPING_REJECT;
}

}  // namespace

std::string connection::attempt(const char* const* keys, const char* const* values) {
    conn_ = PQconnectdbParams(keys, values, 1);
    if (!conn_) throw connection_lost("connect to PostgreSQL: out of memory");
    describe_ = std::string(PQhost(conn_) ? PQhost(conn_) : "?") + ":" + (PQport(conn_) ? PQport(conn_) : "?") + "/" +
                (PQdb(conn_) ? PQdb(conn_) : "?") + " as " + (PQuser(conn_) ? PQuser(conn_) : "?");
    if (PQstatus(conn_) == CONNECTION_OK) return {};
    std::string msg = trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    return msg;
}

connection::connection(const connect_options& opts) : statement_timeout_(opts.statement_timeout) {
    const std::string timeout = std::to_string(opts.connect_timeout.count());
    const std::string options = merged_options(opts);
    // expand_dbname=1: `dbname` may be a postgresql:// URL or keywords, which
    // libpq parses; the keywords after it override what the URL says.
    std::array<const char*, 7> keys{"dbname", "application_name", "connect_timeout", "options",
                                    opts.password.empty() ? nullptr : "password", nullptr, nullptr};
    std::array<const char*, 7> values{opts.url.c_str(), opts.application_name.c_str(), timeout.c_str(),
                                      options.c_str(), opts.password.c_str(), nullptr, nullptr};
    std::string msg = attempt(keys.data(), values.data());
    if (!conn_ && !server_answers(keys.data(), values.data(), msg))
        throw server_unavailable(describe_, msg);
    // It answers now: one more attempt tells a refusal from a server that
    // came up between the two (a refusal fails again, with its own reason).
    if (!conn_) msg = attempt(keys.data(), values.data());
    if (!conn_) throw schema_error("connect to PostgreSQL " + describe_ + ": " + msg);
}

connection::~connection() {
    if (conn_) PQfinish(conn_);
}

bool connection::in_transaction() const noexcept { return PQtransactionStatus(conn_) == PQTRANS_INTRANS; }

void connection::fail(const std::string& action, PGresult* r) {
    // Copied before PQclear: the field points into the result.
    const char* field = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const std::string state = field ? field : "";
    std::string msg = trimmed(r ? PQresultErrorMessage(r) : nullptr);
    if (msg.empty()) msg = trimmed(PQerrorMessage(conn_));
    const bool gone = lost(conn_, field);
    if (r) PQclear(r);
    const std::string text = action + " on " + describe_ + ": " + (state.empty() ? "" : state + " ") + msg +
                             timeout_hint(state, msg, statement_timeout_);
    if (gone) throw connection_lost(text);
    throw store_error(text);
}

result connection::checked(const std::string& action, PGresult* r) {
    const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(action, r);
    return result(r);
}

void connection::exec(std::string_view sql) {
    const std::string text(sql);
    checked("run " + text.substr(0, 40), PQexec(conn_, text.c_str()));
}

result connection::run(const std::string& sql, const params& p) {
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
        std::string name = "s" + std::to_string(prepared_.size() + 1);
        checked("prepare " + sql.substr(0, 60),
                PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
        it = prepared_.emplace(sql, std::move(name)).first;
    }
    std::vector<const char*> values;
    values.reserve(p.values().size());
    for (const auto& v : p.values()) values.push_back(v ? v->c_str() : nullptr);
    return checked("run " + sql.substr(0, 60),
                   PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                                  nullptr, 0));
}

}  // namespace reconciler::store::postgres
