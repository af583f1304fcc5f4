// SQLite implementation of the store (the embedded default).
//
// The app writes the same file concurrently, so: WAL journal, a busy timeout,
// and every correction in a BEGIN IMMEDIATE transaction (the write lock is
// taken before the user's row is read, so the read-modify-write of
// plan_metadata cannot interleave with the app's own).
#include "store/store.hpp"

#include "core/timeutil.hpp"
#include "store/embedded_sql.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

namespace reconciler::store {

namespace json = boost::json;

const char* to_string(apply_outcome o) noexcept {
    switch (o) {
    case apply_outcome::applied: return "applied";
    case apply_outcome::already_applied: return "already_applied";
    case apply_outcome::superseded: return "superseded";
    case apply_outcome::conflict: return "conflict";
    }
    return "unknown";
}

const char* to_string(disposition d) noexcept {
    switch (d) {
    case disposition::applied: return "applied";
    case disposition::already_applied: return "already_applied";
    case disposition::replayed: return "replayed";
    case disposition::superseded: return "superseded";
    case disposition::flagged: return "flagged";
    case disposition::failed: return "failed";
    }
    return "unknown";
}

namespace detail {

std::string random_hex(std::size_t bytes) {
    std::array<unsigned char, 32> buf{};
    if (bytes > buf.size() || RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1)
        throw store_error("generate random identifier: RAND_bytes failed");
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < bytes; ++i) {
        out.push_back(digits[buf[i] >> 4]);
        out.push_back(digits[buf[i] & 15]);
    }
    return out;
}

std::string now_text() { return format_rfc3339(now_unix()); }

// plan_metadata as the app keeps it: {"ai_credits": N, "credit_events": [...]}.
struct metadata {
    json::object raw;  // preserved: the app may keep other keys we must not drop
    std::int64_t ai_credits = 0;
    std::vector<credit_event> events;
};

std::string str_field(const json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string{};
}

std::int64_t int_field(const json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    if (!v) return 0;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
    return 0;
}

// `sources`: keep only the credit events with one of these sources (all when null).
metadata parse_metadata(const std::string& text, std::int64_t user_id,
                        const std::unordered_set<std::string_view>* sources = nullptr) {
    metadata m;
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object())
        throw store_error("read plan_metadata of user " + std::to_string(user_id) + ": not a JSON object");
    m.raw = std::move(v.get_object());
    m.ai_credits = int_field(m.raw, "ai_credits");
    if (const auto* evs = m.raw.if_contains("credit_events"); evs && evs->is_array()) {
        for (const auto& e : evs->get_array()) {
            if (!e.is_object()) continue;
            const auto& o = e.get_object();
            if (sources) {
                const auto* src = o.if_contains("source");
                if (!src || !src->is_string() || !sources->count(std::string_view(src->get_string()))) continue;
            }
            m.events.push_back(credit_event{str_field(o, "id"), int_field(o, "delta"), str_field(o, "kind"),
                                            str_field(o, "reason"), str_field(o, "source"),
                                            str_field(o, "correlation_id"), str_field(o, "at")});
        }
    }
    return m;
}

local_user read_user(SQLite::Statement& q, const std::unordered_set<std::string_view>* sources = nullptr) {
    local_user u;
    u.id = q.getColumn(0).getInt64();
    u.email = q.getColumn(1).getString();
    u.plan = q.getColumn(2).getString();
    u.stripe_customer_id = q.getColumn(3).isNull() ? std::string{} : q.getColumn(3).getString();
    auto m = parse_metadata(q.getColumn(4).getString(), u.id, sources);
    u.ai_credits = m.ai_credits;
    u.credit_events = std::move(m.events);
    return u;
}

constexpr const char* user_columns = "SELECT id, email, plan, stripe_customer_id, plan_metadata FROM users ";

// The columns read_escalation() reads, in its order; a listing that shows no
// evidence selects an empty one in its place.
constexpr const char* escalation_columns =
    "id, team, kind, subject, evidence, first_seen, last_seen, occurrences, status, subject_at";
constexpr const char* escalation_columns_without_evidence =
    "id, team, kind, subject, '' AS evidence, first_seen, last_seen, occurrences, status, subject_at";

escalation read_escalation(SQLite::Statement& q) {
    escalation e;
    e.id = q.getColumn(0).getInt64();
    e.team = q.getColumn(1).getString();
    e.kind = q.getColumn(2).getString();
    e.subject = q.getColumn(3).getString();
    e.evidence = q.getColumn(4).getString();
    e.first_seen = q.getColumn(5).getString();
    e.last_seen = q.getColumn(6).getString();
    e.occurrences = q.getColumn(7).getInt64();
    e.status = q.getColumn(8).getString();
    e.subject_at = q.getColumn(9).getInt64();
    return e;
}

bool table_exists(SQLite::Database& db, const char* name) {
    SQLite::Statement q(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    q.bind(1, name);
    return q.executeStep();
}

// Runs `fn(chunk)` over `ids` in chunks small enough for SQLite's parameter limit.
template <class Id, class Fn>
void for_chunks(const std::vector<Id>& ids, Fn&& fn) {
    constexpr std::size_t chunk = 500;
    for (std::size_t i = 0; i < ids.size(); i += chunk) {
        const auto end = std::min(ids.size(), i + chunk);
        fn(std::span<const Id>(ids.data() + i, end - i));
    }
}

// Binds each of `keys` to ?1, ?2, ... (as text: SQLite copies it; a view
// goes through a string, SQLiteCpp binding text from strings only).
template <class Id>
void bind_keys(SQLite::Statement& q, std::span<const Id> keys) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if constexpr (std::is_same_v<Id, std::string>) q.bind(static_cast<int>(i + 1), keys[i]);
        else q.bind(static_cast<int>(i + 1), std::string(keys[i]));
    }
}

std::string placeholders(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += i ? ",?" : "?";
    return s;
}

// The newest state of every subscription of a window, on disk: a database
// file of its own beside the app's, attached to the store's connection, with
// no journal and no fsync (it is thrown away with the run, and a killed run's
// leftover is dropped by the next). Writes are buffered and flushed in one
// transaction per few thousand rows; the app's database is never locked by it.
class sqlite_subscription_scratch final : public subscription_state_table {
public:
    sqlite_subscription_scratch(SQLite::Database& db, std::string file) : db_(db), file_(std::move(file)) {
        // An attached database opens with the main one's flags (no create):
        // an empty file is an empty database.
        {
            std::ofstream touch(file_, std::ios::binary | std::ios::trunc);
            if (!touch)
                throw store_error("create scratch database " + file_ + ": " + std::strerror(errno) +
                                  " (the database's directory must be writable by the reconciler)");
        }
        SQLite::Statement attach(db_, "ATTACH DATABASE ? AS recon_scratch");
        attach.bind(1, file_);
        attach.exec();
        db_.exec("PRAGMA recon_scratch.journal_mode = OFF");
        db_.exec("PRAGMA recon_scratch.synchronous = OFF");
        // 512 KiB of page cache, not SQLite's default 2 MB: a window's
        // scratch outgrows either (its lookups by id hit the index's inner
        // pages, which fit), and the cache is held until the window part's
        // rules are done, the 1M-event run's peak once a burst's slice is
        // diffed in parts (37.1 -> 36.1 MB, two runs each).
        db_.exec("PRAGMA recon_scratch.cache_size = -512");
        db_.exec("DROP TABLE IF EXISTS recon_scratch.subscription_states");
        db_.exec("CREATE TABLE recon_scratch.subscription_states (id TEXT PRIMARY KEY, customer TEXT NOT NULL,"
                 " ambiguous INTEGER NOT NULL, state TEXT NOT NULL)");
        db_.exec("CREATE INDEX recon_scratch.subscription_states_customer ON subscription_states(customer, id)");
        // Prepared once: find() runs once per subscription event of the window.
        find_.emplace(db_, "SELECT state, ambiguous FROM recon_scratch.subscription_states WHERE id = ?");
    }
    ~sqlite_subscription_scratch() override {
        find_.reset();  // finalized before the database it reads is detached
        try {
            db_.exec("DETACH DATABASE recon_scratch");
        } catch (const std::exception&) {
        }
        std::error_code ec;
        std::filesystem::remove(file_, ec);
    }

    std::optional<row> find(const std::string& id) override {
        if (auto it = pending_.find(id); it != pending_.end()) return it->second;
        SQLite::Statement& q = *find_;
        q.reset();
        q.bind(1, id);
        if (!q.executeStep()) return std::nullopt;
        row r = read_row(q);
        q.reset();  // no read left open on the scratch database
        return r;
    }
    void put(const std::string& id, const row& r) override {
        pending_[id] = r;
        if (pending_.size() >= flush_every) flush();
    }
    std::vector<std::string> ambiguous_ids() override {
        flush();
        std::vector<std::string> ids;
        SQLite::Statement q(db_, "SELECT id FROM recon_scratch.subscription_states WHERE ambiguous = 1 ORDER BY id");
        while (q.executeStep()) ids.push_back(q.getColumn(0).getString());
        return ids;
    }
    void each(const std::function<void(const row&)>& visit) override {
        flush();
        SQLite::Statement q(db_, "SELECT state, ambiguous FROM recon_scratch.subscription_states");
        while (q.executeStep()) visit(read_row(q));
    }
    void drain_by_customer(std::size_t customers,
                           const std::function<void(std::vector<subscription_state>&&)>& chunk) override {
        flush();
        // A chunk at a time, each statement finished before `chunk` runs (it
        // writes the app's database in transactions of its own).
        std::string after;
        bool first = true;
        for (;;) {
            std::vector<std::string> ids_of_chunk;
            {
                SQLite::Statement q(db_, "SELECT DISTINCT customer FROM recon_scratch.subscription_states"
                                         " WHERE ambiguous = 0 AND (?1 OR customer > ?2) ORDER BY customer LIMIT ?3");
                q.bind(1, first ? 1 : 0);
                q.bind(2, after);
                q.bind(3, static_cast<std::int64_t>(customers));
                while (q.executeStep()) ids_of_chunk.push_back(q.getColumn(0).getString());
            }
            if (ids_of_chunk.empty()) break;
            std::vector<subscription_state> states;
            {
                SQLite::Statement q(db_, "SELECT state, ambiguous FROM recon_scratch.subscription_states"
                                         " WHERE ambiguous = 0 AND customer >= ?1 AND customer <= ?2 ORDER BY customer, id");
                q.bind(1, ids_of_chunk.front());
                q.bind(2, ids_of_chunk.back());
                while (q.executeStep()) states.push_back(read_row(q).state);
            }
            after = ids_of_chunk.back();
            first = false;
            chunk(std::move(states));
        }
        db_.exec("DELETE FROM recon_scratch.subscription_states");
    }

private:
    static constexpr std::size_t flush_every = 4096;

    static row read_row(SQLite::Statement& q) {
        row r;
        r.state = subscription_state_from_json(json::parse(q.getColumn(0).getString()).as_object());
        r.ambiguous = q.getColumn(1).getInt() != 0;
        return r;
    }

    void flush() {
        if (pending_.empty()) return;
        SQLite::Transaction tx(db_);
        SQLite::Statement q(db_, "INSERT OR REPLACE INTO recon_scratch.subscription_states(id, customer, ambiguous, state)"
                                 " VALUES (?, ?, ?, ?)");
        for (const auto& [id, r] : pending_) {
            q.bind(1, id);
            q.bind(2, r.state.sub.customer);
            q.bind(3, r.ambiguous ? 1 : 0);
            q.bind(4, json::serialize(subscription_state_json(r.state)));
            q.exec();
            q.reset();
        }
        tx.commit();
        pending_.clear();
    }

    SQLite::Database& db_;
    std::string file_;
    std::optional<SQLite::Statement> find_;
    std::map<std::string, row> pending_;
};

// Prepared statements of the hot paths (pages, findings, escalations,
// corrections), kept for the connection: a run records thousands of each,
// and preparing a statement costs more than running it. A lease resets and unbinds its
// statement when it ends, so no cached statement keeps a read open or a value
// bound past its use.
class statement_lease {
public:
    explicit statement_lease(SQLite::Statement& s) : s_(s) {}
    statement_lease(const statement_lease&) = delete;
    statement_lease& operator=(const statement_lease&) = delete;
    ~statement_lease() {
        s_.tryReset();
        try {
            s_.clearBindings();
        } catch (const std::exception&) {  // only a statement that failed to prepare: none is cached
        }
    }
    SQLite::Statement* operator->() const { return &s_; }
    SQLite::Statement& operator*() const { return s_; }

private:
    SQLite::Statement& s_;
};

class statement_cache {
public:
    explicit statement_cache(SQLite::Database& db) : db_(db) {}
    // One lease per statement at a time (a statement is not reentrant).
    statement_lease get(const std::string& sql) {
        auto& slot = by_sql_[sql];
        if (!slot) slot = std::make_unique<SQLite::Statement>(db_, sql);
        return statement_lease(*slot);
    }

private:
    SQLite::Database& db_;
    std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> by_sql_;
};

class sqlite_store final : public store {
public:
    explicit sqlite_store(const sqlite_options& opts)
        : path_(opts.path.string()),
          db_(path_, opts.create_if_missing ? SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE : SQLite::OPEN_READWRITE,
              static_cast<int>(opts.busy_timeout.count())) {
        // Setup problems are refused before anything is written (schema_error: exit 2).
        // SQLite silently opens a file it may not write read-only.
        if (sqlite3_db_readonly(db_.getHandle(), "main") == 1)
            throw schema_error("database " + path_ +
                               " is read-only for this user: the reconciler writes corrections and its run "
                               "records there (give this user write access to the file and its directory, or "
                               "run as the app's user)");
        try {
            (void)table_exists(db_, "users");  // the first read: a non-SQLite file fails here
        } catch (const SQLite::Exception& e) {
            if (e.getErrorCode() == SQLITE_NOTADB)
                throw schema_error("database " + path_ +
                                   " is not an SQLite database (check database.path in the config)");
            throw;
        }
        // Switching to WAL writes the file: only once the database has passed
        // check_schema() or migrate()'s checks, so a refused one stays untouched.
        if (opts.create_if_missing) enable_wal();
        db_.exec("PRAGMA foreign_keys = ON");
        db_.exec("PRAGMA synchronous = NORMAL");
    }

    void enable_wal() {
        if (wal_) return;
        db_.exec("PRAGMA journal_mode = WAL");
        wal_ = true;
    }

    int latest_schema_version() const override { return static_cast<int>(migrations().size()); }

    int schema_version() override {
        if (!table_exists(db_, "recon_schema_migrations")) return 0;
        SQLite::Statement q(db_, "SELECT COALESCE(MAX(version), 0) FROM recon_schema_migrations");
        q.executeStep();
        return q.getColumn(0).getInt();
    }

    void check_app_tables() {
        for (const char* t : {"users", "payments", "ai_usage", "webhook_events"})
            if (!table_exists(db_, t))
                throw schema_error("database " + path_ + " is not the app's database: table " + t +
                                   " is missing (check database.path in the config)");
    }

    int migrate() override {
        check_app_tables();
        db_.exec("CREATE TABLE IF NOT EXISTS recon_schema_migrations ("
                 " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
        const int current = schema_version();
        if (current > latest_schema_version())
            throw schema_error(ahead_message(current));
        enable_wal();
        int applied = 0;
        for (const auto& m : migrations()) {
            if (m.version <= current) continue;
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
            db_.exec(std::string(m.sql));
            SQLite::Statement ins(db_, "INSERT INTO recon_schema_migrations(version, name, applied_at) VALUES (?,?,?)");
            ins.bind(1, m.version);
            ins.bind(2, std::string(m.name));
            ins.bind(3, now_text());
            ins.exec();
            tx.commit();
            ++applied;
        }
        return applied;
    }

    std::string ahead_message(int current) const {
        return "database " + path_ + " is at reconciler schema version " + std::to_string(current) +
               ", newer than this build's " + std::to_string(latest_schema_version()) +
               ": upgrade stripe-reconciler";
    }

    void check_schema() override {
        check_app_tables();
        const int v = schema_version();
        if (v == 0)
            throw schema_error("database " + path_ + " has no reconciler schema: run `reconciler migrate --config FILE`");
        if (v < latest_schema_version())
            throw schema_error("database " + path_ + " is at reconciler schema version " + std::to_string(v) +
                               ", this build needs " + std::to_string(latest_schema_version()) +
                               ": run `reconciler migrate --config FILE`");
        if (v > latest_schema_version()) throw schema_error(ahead_message(v));
        enable_wal();
    }

    std::int64_t begin_run(const run_record& run) override {
        SQLite::Statement q(db_,
                            "INSERT INTO recon_runs(started_at, window_start, window_end, mode, status, config_hash,"
                            " stripe_api_version) VALUES (?,?,?,?, 'running', ?, ?)");
        q.bind(1, now_text());
        q.bind(2, static_cast<std::int64_t>(run.window_start));
        q.bind(3, static_cast<std::int64_t>(run.window_end));
        q.bind(4, run.dry_run ? "dry_run" : "apply");
        q.bind(5, run.config_hash);
        q.bind(6, run.stripe_api_version);
        q.exec();
        return db_.getLastInsertRowid();
    }

    void record_pages(std::int64_t run_id, const std::vector<fetched_page>& pages) override {
        if (pages.empty()) return;
        SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
        auto q = stmts_.get("INSERT INTO recon_pages(run_id, resource, page_no, request_id, object_count, has_more,"
                            " fetched_at) VALUES (?,?,?,?,?,?,?)");
        for (const auto& [page, at] : pages) {
            q->reset();
            q->bind(1, static_cast<std::int64_t>(run_id));
            q->bind(2, page.resource);
            q->bind(3, page.page_no);
            q->bind(4, page.request_id);
            q->bind(5, static_cast<std::int64_t>(page.object_count));
            q->bind(6, page.has_more ? 1 : 0);
            q->bind(7, format_rfc3339(at));
            q->exec();
        }
        tx.commit();
    }

    void finish_run(std::int64_t run_id, bool succeeded, const run_totals& t, const std::string& error) override {
        SQLite::Statement q(db_,
                            "UPDATE recon_runs SET finished_at = ?, status = ?, pages = ?, objects = ?, findings = ?,"
                            " corrections_applied = ?, error = ? WHERE id = ?");
        q.bind(1, now_text());
        q.bind(2, succeeded ? "succeeded" : "failed");
        q.bind(3, static_cast<std::int64_t>(t.pages));
        q.bind(4, static_cast<std::int64_t>(t.objects));
        q.bind(5, static_cast<std::int64_t>(t.findings));
        q.bind(6, static_cast<std::int64_t>(t.corrections_applied));
        if (error.empty()) q.bind(7);
        else q.bind(7, error);
        q.bind(8, static_cast<std::int64_t>(run_id));
        q.exec();
    }

    local_snapshot load_local(const local_query& lq) override {
        local_snapshot snap;
        std::unordered_set<std::int64_t> seen;
        auto add_users = [&](SQLite::Statement& q) {
            while (q.executeStep())  // a user found twice (by id and by email) is parsed once
                if (seen.insert(q.getColumn(0).getInt64()).second)
                    snap.users.push_back(read_user(q, lq.credit_event_sources ? &*lq.credit_event_sources : nullptr));
        };
        auto load_users = [&](const char* column, const std::vector<std::string_view>& keys) {
            for_chunks(keys, [&](std::span<const std::string_view> chunk) {
                SQLite::Statement q(db_, std::string(user_columns) + "WHERE " + column + " IN (" +
                                             placeholders(chunk.size()) + ")");
                bind_keys(q, chunk);
                add_users(q);
            });
        };
        load_users("stripe_customer_id", lq.customer_ids);
        load_users("email COLLATE NOCASE", lq.emails);
        // The snapshot's vectors are sized to what they hold, not to the
        // next power of two: a dense slice's users, payments and deliveries
        // with their doubling slack were the largest part of a 1M-event
        // run's peak. (Users come by customer and again by email, so their
        // count is known only now; payments and deliveries have bounds.)
        snap.users.shrink_to_fit();
        snap.payments.reserve(lq.invoice_ids.size());
        snap.webhooks.reserve(lq.event_ids.size());
        const std::string start = format_rfc3339(lq.start), end = format_rfc3339(lq.end);
        // Activity in the window, and balances that are broken whatever the
        // window: every user the window rules' user checks can flag.
        constexpr const char* active_user =
            "(EXISTS (SELECT 1 FROM ai_usage a WHERE a.user_id = users.id AND a.created_at >= ?1 AND a.created_at < ?2)"
            " OR EXISTS (SELECT 1 FROM json_each(plan_metadata, '$.credit_events') e"
            "   WHERE json_extract(e.value, '$.at') >= ?1 AND json_extract(e.value, '$.at') < ?2)"
            " OR COALESCE(json_extract(plan_metadata, '$.ai_credits'), 0) < 0"
            " OR COALESCE(json_extract(plan_metadata, '$.ai_credits'), 0) !="
            "    (SELECT COALESCE(SUM(json_extract(e.value, '$.delta')), 0)"
            "     FROM json_each(plan_metadata, '$.credit_events') e))";
        if (lq.window_rules) {
            SQLite::Statement q(db_, std::string(user_columns) + "WHERE " + active_user);
            q.bind(1, start);
            q.bind(2, end);
            add_users(q);
        }
        std::optional<std::pair<std::int64_t, std::int64_t>> page_ids;  // first and last user id of the page
        if (lq.active_users_after) {
            SQLite::Statement q(db_, std::string(user_columns) + "WHERE id > ?3 AND " + active_user +
                                         " ORDER BY id LIMIT ?4");
            q.bind(1, start);
            q.bind(2, end);
            q.bind(3, *lq.active_users_after);
            q.bind(4, lq.active_users_limit);
            const std::size_t before = snap.users.size();
            add_users(q);
            if (snap.users.size() > before) page_ids = std::pair{snap.users[before].id, snap.users.back().id};
        }
        auto read_payment = [](SQLite::Statement& q) {
            local_payment p;
            p.invoice_id = q.getColumn(0).getString();
            p.customer_id = q.getColumn(1).getString();
            if (!q.getColumn(2).isNull()) p.user_id = q.getColumn(2).getInt64();
            p.amount = q.getColumn(3).getInt64();
            p.currency = q.getColumn(4).getString();
            p.status = q.getColumn(5).getString();
            p.paid_at = q.getColumn(6).isNull() ? std::string{} : q.getColumn(6).getString();
            return p;
        };
        constexpr const char* payment_columns =
            "SELECT stripe_invoice_id, stripe_customer_id, user_id, amount, currency, status, paid_at FROM payments ";
        std::unordered_set<std::string> seen_payments;
        for_chunks(lq.invoice_ids, [&](std::span<const std::string_view> chunk) {
            SQLite::Statement q(db_, std::string(payment_columns) + "WHERE stripe_invoice_id IN (" +
                                         placeholders(chunk.size()) + ")");
            bind_keys(q, chunk);
            while (q.executeStep())
                if (auto p = read_payment(q); seen_payments.insert(p.invoice_id).second) snap.payments.push_back(std::move(p));
        });
        if (lq.window_payments) {
            SQLite::Statement q(db_, std::string(payment_columns) + "WHERE paid_at >= ? AND paid_at < ?");
            q.bind(1, start);
            q.bind(2, end);
            while (q.executeStep())
                if (auto p = read_payment(q); seen_payments.insert(p.invoice_id).second) snap.payments.push_back(std::move(p));
        }
        if (lq.window_rules || page_ids) {
            // A page's users are every active user in its id range: the
            // usage of that range in the window is exactly theirs.
            SQLite::Statement q(db_, std::string("SELECT user_id, credits, request_id, created_at FROM ai_usage"
                                                 " WHERE created_at >= ?1 AND created_at < ?2") +
                                         (page_ids ? " AND user_id BETWEEN ?3 AND ?4" : ""));
            q.bind(1, start);
            q.bind(2, end);
            if (page_ids) {
                q.bind(3, page_ids->first);
                q.bind(4, page_ids->second);
            }
            while (q.executeStep()) {
                usage_row u{q.getColumn(0).getInt64(), q.getColumn(1).getInt64(), q.getColumn(2).getString(), 0};
                try {
                    u.created_at = parse_rfc3339(q.getColumn(3).getString());
                } catch (const std::exception&) {
                    continue;  // not a time: cannot be placed in any window
                }
                snap.usage.push_back(std::move(u));
            }
        }
        std::unordered_set<std::string> seen_events;
        auto read_deliveries = [&](SQLite::Statement& q) {
            while (q.executeStep()) {
                webhook_delivery w;
                w.event_id = q.getColumn(0).getString();
                if (!seen_events.insert(w.event_id).second) continue;
                w.type = q.getColumn(1).getString();
                try {
                    w.received_at = parse_rfc3339(q.getColumn(2).getString());
                } catch (const std::exception&) {
                    w.received_at = 0;
                }
                w.status = q.getColumn(3).getString();
                w.attempts = q.getColumn(4).getInt64();
                w.last_error = q.getColumn(5).isNull() ? std::string{} : q.getColumn(5).getString();
                snap.webhooks.push_back(std::move(w));
            }
        };
        constexpr const char* webhook_columns =
            "SELECT stripe_event_id, type, received_at, status, attempts, last_error FROM webhook_events ";
        if (lq.window_rules || lq.flaggable_deliveries) {
            SQLite::Statement q(db_, std::string(webhook_columns) + "WHERE received_at >= ? AND received_at < ?" +
                                         (lq.window_rules ? "" : " AND status IN ('signature_failed', 'failed')"));
            q.bind(1, start);
            q.bind(2, end);
            read_deliveries(q);
        }
        for_chunks(lq.event_ids, [&](std::span<const std::string_view> chunk) {
            SQLite::Statement q(db_, std::string(webhook_columns) + "WHERE stripe_event_id IN (" +
                                         placeholders(chunk.size()) + ")");
            bind_keys(q, chunk);
            read_deliveries(q);
        });
        return snap;
    }

    std::optional<unix_seconds> checkpoint(const std::string& stream) override {
        SQLite::Statement q(db_, "SELECT covered_until FROM recon_checkpoints WHERE stream = ?");
        q.bind(1, stream);
        if (!q.executeStep()) return std::nullopt;
        return q.getColumn(0).getInt64();
    }

    void advance_checkpoint(const std::string& stream, unix_seconds chunk_start, unix_seconds chunk_end,
                            std::int64_t run_id) override {
        SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
        const auto current = checkpoint(stream);
        if (current && (chunk_start > *current || chunk_end <= *current)) return;  // a gap, or nothing new
        SQLite::Statement q(db_, "INSERT INTO recon_checkpoints(stream, covered_until, run_id, updated_at)"
                                 " VALUES (?,?,?,?) ON CONFLICT(stream) DO UPDATE SET covered_until = excluded.covered_until,"
                                 " run_id = excluded.run_id, updated_at = excluded.updated_at");
        q.bind(1, stream);
        q.bind(2, static_cast<std::int64_t>(chunk_end));
        q.bind(3, static_cast<std::int64_t>(run_id));
        q.bind(4, now_text());
        q.exec();
        tx.commit();
    }

    std::unique_ptr<subscription_state_table> subscription_scratch() override {
        return std::make_unique<sqlite_subscription_scratch>(db_, path_ + ".reconciler-scratch");
    }

    std::vector<std::string> delivered_event_ids(const std::vector<std::string>& event_ids) override {
        std::vector<std::string> out;
        for_chunks(event_ids, [&](std::span<const std::string> chunk) {
            SQLite::Statement q(db_, "SELECT DISTINCT stripe_event_id FROM webhook_events WHERE stripe_event_id IN (" +
                                         placeholders(chunk.size()) + ")");
            bind_keys(q, chunk);
            while (q.executeStep()) out.push_back(q.getColumn(0).getString());
        });
        return out;
    }

    std::vector<std::string> payments_paid_between(unix_seconds start, unix_seconds end) override {
        SQLite::Statement q(db_, "SELECT stripe_invoice_id FROM payments WHERE paid_at >= ? AND paid_at < ?");
        q.bind(1, format_rfc3339(start));
        q.bind(2, format_rfc3339(end));
        std::vector<std::string> ids;
        while (q.executeStep()) ids.push_back(q.getColumn(0).getString());
        return ids;
    }

    escalation raise(const escalation_input& e, std::int64_t run_id, int watch_until) override {
        SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
        const std::string now = now_text();
        escalation out;
        auto sel = stmts_.get("SELECT id, occurrences, status, first_seen FROM recon_escalations"
                                   " WHERE kind = ? AND subject = ?");
        sel->bind(1, e.kind);
        sel->bind(2, e.subject);
        if (sel->executeStep()) {
            out.id = sel->getColumn(0).getInt64();
            out.occurrences = sel->getColumn(1).getInt64() + 1;
            const std::string old_status = sel->getColumn(2).getString();
            out.first_seen = sel->getColumn(3).getString();
            out.status = out.occurrences >= watch_until ? "open" : "watching";
            out.is_new = out.status == "open" && old_status != "open";
            sel->reset();
            auto up = stmts_.get("UPDATE recon_escalations SET occurrences = ?, status = ?, last_seen = ?,"
                                      " last_run_id = ?, evidence = ?, team = ?, subject_at = ?, resolved_at = NULL"
                                      " WHERE id = ?");
            up->bind(1, static_cast<std::int64_t>(out.occurrences));
            up->bind(2, out.status);
            up->bind(3, now);
            up->bind(4, static_cast<std::int64_t>(run_id));
            up->bind(5, e.evidence);
            up->bind(6, e.team);
            up->bind(7, static_cast<std::int64_t>(e.subject_at));
            up->bind(8, static_cast<std::int64_t>(out.id));
            up->exec();
        } else {
            out.occurrences = 1;
            out.first_seen = now;
            out.status = watch_until <= 1 ? "open" : "watching";
            out.is_new = out.status == "open";
            auto ins = stmts_.get("INSERT INTO recon_escalations(team, kind, subject, evidence, subject_at,"
                                       " first_seen, last_seen, occurrences, status, first_run_id, last_run_id)"
                                       " VALUES (?,?,?,?,?,?,?,1,?,?,?)");
            ins->bind(1, e.team);
            ins->bind(2, e.kind);
            ins->bind(3, e.subject);
            ins->bind(4, e.evidence);
            ins->bind(5, static_cast<std::int64_t>(e.subject_at));
            ins->bind(6, now);
            ins->bind(7, now);
            ins->bind(8, out.status);
            ins->bind(9, static_cast<std::int64_t>(run_id));
            ins->bind(10, static_cast<std::int64_t>(run_id));
            ins->exec();
            out.id = db_.getLastInsertRowid();
        }
        tx.commit();
        out.team = e.team;
        out.kind = e.kind;
        out.subject = e.subject;
        out.evidence = e.evidence;
        out.last_seen = now;
        out.subject_at = e.subject_at;
        return out;
    }

    int resolve_absent(std::int64_t run_id, unix_seconds start, unix_seconds end,
                       const std::vector<std::string>& kinds) override {
        if (kinds.empty()) return 0;
        // One statement: the open escalations are never read into memory (a
        // large account has tens of thousands, and a run resolves per slice).
        auto up = stmts_.get("UPDATE recon_escalations SET status = 'resolved', resolved_at = ?1, last_run_id = ?2"
                             " WHERE status IN ('open','watching') AND last_run_id IS NOT ?2"
                             " AND (subject_at = 0 OR (subject_at >= ?3 AND subject_at < ?4))"
                             " AND kind IN (SELECT value FROM json_each(?5))");
        json::array kind_list;
        for (const auto& k : kinds) kind_list.emplace_back(k);
        up->bind(1, now_text());
        up->bind(2, static_cast<std::int64_t>(run_id));
        up->bind(3, static_cast<std::int64_t>(start));
        up->bind(4, static_cast<std::int64_t>(end));
        up->bind(5, json::serialize(kind_list));
        return up->exec();
    }

    std::vector<escalation> open_escalations() override {
        std::vector<escalation> out;
        each_open_escalation([&](const escalation& e) { out.push_back(e); });
        return out;
    }

    std::int64_t count_open_escalations() override {
        return db_.execAndGet("SELECT COUNT(*) FROM recon_escalations WHERE status IN ('open','watching')").getInt64();
    }

    void each_open_escalation(const std::function<void(const escalation&)>& visit) override {
        SQLite::Statement q(db_, std::string("SELECT ") + escalation_columns +
                                     " FROM recon_escalations WHERE status IN ('open','watching') ORDER BY first_seen, id");
        while (q.executeStep()) visit(read_escalation(q));
    }

    void each_open_escalation_by_age(unix_seconds now,
                                     const std::function<void(const escalation&)>& visit) override {
        // escalation_age_days() in SQL: SQLite sorts by exactly the age a report shows.
        const auto age_days = [](sqlite3_context* ctx, int, sqlite3_value** argv) {
            try {
                const auto* first_seen = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
                sqlite3_result_int64(
                    ctx, escalation_age_days(first_seen != nullptr ? first_seen : "", sqlite3_value_int64(argv[1])));
            } catch (const std::exception&) {
                sqlite3_result_error_nomem(ctx);
            }
        };
        if (sqlite3_create_function_v2(db_.getHandle(), "recon_age_days", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                       nullptr, +age_days, nullptr, nullptr, nullptr) != SQLITE_OK)
            throw store_error(std::string("list open escalations: ") + sqlite3_errmsg(db_.getHandle()));
        // The evidence is left empty: a listing shows none, and the sort then holds short rows.
        SQLite::Statement q(db_, std::string("SELECT ") + escalation_columns_without_evidence +
                                     " FROM recon_escalations WHERE status IN ('open','watching')"
                                     " ORDER BY status <> 'open', recon_age_days(first_seen, ?1) DESC, first_seen, id");
        q.bind(1, static_cast<std::int64_t>(now));
        while (q.executeStep()) visit(read_escalation(q));
    }

    std::optional<local_user> find_user_by_email(const std::string& email) override {
        SQLite::Statement q(db_, std::string(user_columns) + "WHERE email = ? COLLATE NOCASE");
        q.bind(1, email);
        if (!q.executeStep()) return std::nullopt;
        return read_user(q);
    }

    std::vector<escalation> escalations_for(const local_user& u) override {
        std::vector<escalation> out;
        for (auto& e : open_escalations()) {
            boost::system::error_code ec;
            json::value ev = json::parse(e.evidence, ec);
            const json::object* o = !ec && ev.is_object() ? &ev.get_object() : nullptr;
            const bool mine = e.subject == u.email ||
                              (o && !u.stripe_customer_id.empty() && str_field(*o, "customer") == u.stripe_customer_id);
            if (mine) out.push_back(std::move(e));
        }
        return out;
    }

    adjust_result adjust(const adjustment& a, const std::string& correlation_id) override {
        SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
        SQLite::Statement uq(db_, std::string(user_columns) + "WHERE id = ?");
        uq.bind(1, static_cast<std::int64_t>(a.user_id));
        if (!uq.executeStep()) throw store_error("adjust user " + std::to_string(a.user_id) + ": no such user");
        const std::string plan = uq.getColumn(2).getString();
        auto m = parse_metadata(uq.getColumn(4).getString(), a.user_id);
        uq.reset();
        adjust_result r;
        r.correlation_id = correlation_id;
        r.balance_before = r.balance_after = m.ai_credits;
        r.tier_before = r.tier_after = plan;
        const std::string now = now_text();
        json::object details{{"reason", a.reason}};
        if (a.grant > 0 || a.consume > 0) {
            const std::int64_t delta = a.grant > 0 ? a.grant : -a.consume;
            if (m.ai_credits + delta < 0 && !a.force)
                throw adjust_refused("consuming " + std::to_string(a.consume) + " credits would take the balance from " +
                                     std::to_string(m.ai_credits) + " to " + std::to_string(m.ai_credits + delta) +
                                     " (below zero); pass --force if that is really intended");
            r.credit_event_id = random_credit_event_id();
            json::object ev{{"id", r.credit_event_id},
                            {"delta", delta},
                            {"kind", a.grant > 0 ? "grant" : "consume"},
                            {"reason", a.reason},
                            {"source", "support"},
                            {"correlation_id", correlation_id},
                            {"at", now}};
            auto& events = m.raw["credit_events"];
            if (!events.is_array()) events = json::array{};
            events.get_array().push_back(std::move(ev));
            r.balance_after = m.ai_credits + delta;
            m.raw["ai_credits"] = r.balance_after;
            SQLite::Statement up(db_, "UPDATE users SET plan_metadata = ? WHERE id = ?");
            up.bind(1, json::serialize(m.raw));
            up.bind(2, static_cast<std::int64_t>(a.user_id));
            up.exec();
            details["delta"] = delta;
        }
        if (!a.set_tier.empty()) {
            SQLite::Statement up(db_, "UPDATE users SET plan = ? WHERE id = ?");
            up.bind(1, a.set_tier);
            up.bind(2, static_cast<std::int64_t>(a.user_id));
            up.exec();
            r.tier_after = a.set_tier;
        }
        // The ledger keeps support's changes too: one audit trail for every write.
        SQLite::Statement led(db_, "INSERT INTO recon_corrections(stripe_object, kind, user_id, correlation_id,"
                                   " credits_delta, tier_before, tier_after, credit_event_id, details, applied_at)"
                                   " VALUES (?, 'support_adjust', ?, ?, ?, ?, ?, ?, ?, ?)");
        led.bind(1, "support:" + correlation_id);
        led.bind(2, static_cast<std::int64_t>(a.user_id));
        led.bind(3, correlation_id);
        led.bind(4, static_cast<std::int64_t>(r.balance_after - r.balance_before));
        led.bind(5, r.tier_before);
        led.bind(6, r.tier_after);
        if (r.credit_event_id.empty()) led.bind(7);
        else led.bind(7, r.credit_event_id);
        led.bind(8, json::serialize(details));
        led.bind(9, now);
        led.exec();
        tx.commit();
        return r;
    }

    revert_result revert(std::int64_t correction_id, const std::string& correlation_id) override {
        const std::string what = "revert correction " + std::to_string(correction_id);
        SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
        SQLite::Statement q(db_, "SELECT kind, user_id, credits_delta, tier_before, tier_after, status, correlation_id"
                                 " FROM recon_corrections WHERE id = ?");
        q.bind(1, static_cast<std::int64_t>(correction_id));
        if (!q.executeStep()) throw store_error(what + ": no such correction");
        revert_result r;
        r.kind = q.getColumn(0).getString();
        r.user_id = q.getColumn(1).getInt64();
        const std::int64_t delta = q.getColumn(2).getInt64();
        const std::string tier_before = q.getColumn(3).isNull() ? "" : q.getColumn(3).getString();
        const std::string tier_after = q.getColumn(4).isNull() ? "" : q.getColumn(4).getString();
        if (q.getColumn(5).getString() == "reverted") throw store_error(what + ": already reverted");
        const std::string original = q.getColumn(6).getString();
        q.reset();
        r.correlation_id = correlation_id;

        SQLite::Statement uq(db_, std::string(user_columns) + "WHERE id = ?");
        uq.bind(1, static_cast<std::int64_t>(r.user_id));
        if (!uq.executeStep()) throw store_error(what + ": user " + std::to_string(r.user_id) + " no longer exists");
        const std::string plan = uq.getColumn(2).getString();
        auto m = parse_metadata(uq.getColumn(4).getString(), r.user_id);
        uq.reset();

        if (r.kind == "set_tier") {
            if (plan != tier_after)
                throw store_error(what + ": the plan is now " + plan + ", not " + tier_after +
                                  " as the correction left it; change it with `reconciler adjust` instead");
            SQLite::Statement up(db_, "UPDATE users SET plan = ? WHERE id = ?");
            up.bind(1, tier_before);
            up.bind(2, static_cast<std::int64_t>(r.user_id));
            up.exec();
            r.tier_from = tier_after;
            r.tier_to = tier_before;
        } else {
            // The ledger stores grants positive and revokes negative.
            r.credits_delta = -delta;
            json::object ev{{"id", random_credit_event_id()}, {"delta", r.credits_delta},
                            {"kind", "adjust"},              {"reason", "revert of reconciler correction " + original},
                            {"source", original},            {"correlation_id", correlation_id},
                            {"at", now_text()}};
            auto& events = m.raw["credit_events"];
            if (!events.is_array()) events = json::array{};
            events.get_array().push_back(std::move(ev));
            m.raw["ai_credits"] = m.ai_credits + r.credits_delta;
            SQLite::Statement up(db_, "UPDATE users SET plan_metadata = ? WHERE id = ?");
            up.bind(1, json::serialize(m.raw));
            up.bind(2, static_cast<std::int64_t>(r.user_id));
            up.exec();
        }
        SQLite::Statement led(db_, "UPDATE recon_corrections SET status = 'reverted', reverted_at = ?,"
                                   " revert_correlation_id = ? WHERE id = ?");
        led.bind(1, now_text());
        led.bind(2, correlation_id);
        led.bind(3, static_cast<std::int64_t>(correction_id));
        led.exec();
        tx.commit();
        return r;
    }

    apply_result apply(const proposed_correction& c, std::int64_t run_id, const std::string& correlation_id) override {
        const std::string what = std::string("apply ") + reconciler::to_string(c.kind) + " " + c.ledger_key +
                                 " to user " + std::to_string(c.user_id);
        try {
            return apply_locked(c, run_id, correlation_id);
        } catch (const store_error&) {
            throw;
        } catch (const std::exception& e) {
            throw store_error(what + ": " + e.what());
        }
    }

    void record_finding(std::int64_t run_id, const finding& f, disposition d, std::int64_t correction_id) override {
        auto q = stmts_.get(
                            "INSERT INTO recon_findings(run_id, kind, subject_type, subject_id, user_id, team,"
                            " disposition, correction_id, evidence, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)");
        q->bind(1, static_cast<std::int64_t>(run_id));
        q->bind(2, reconciler::to_string(f.kind));
        q->bind(3, f.subject_type);
        q->bind(4, f.subject_id);
        if (f.user_id) q->bind(5, static_cast<std::int64_t>(*f.user_id));
        else q->bind(5);
        q->bind(6, reconciler::to_string(f.owner));
        q->bind(7, to_string(d));
        if (correction_id) q->bind(8, static_cast<std::int64_t>(correction_id));
        else q->bind(8);
        q->bind(9, json::serialize(f.evidence));
        q->bind(10, now_text());
        q->exec();
    }

private:
    apply_result existing_correction(const proposed_correction& c) {
        auto q = stmts_.get("SELECT id, correlation_id, credit_event_id FROM recon_corrections"
                                 " WHERE stripe_object = ? AND kind = ?");
        q->bind(1, c.ledger_key);
        q->bind(2, reconciler::to_string(c.kind));
        apply_result r;
        r.outcome = apply_outcome::already_applied;
        if (q->executeStep()) {
            r.correction_id = q->getColumn(0).getInt64();
            r.correlation_id = q->getColumn(1).getString();
            r.credit_event_id = q->getColumn(2).isNull() ? std::string{} : q->getColumn(2).getString();
        }
        return r;
    }

    apply_result apply_locked(const proposed_correction& c, std::int64_t run_id, const std::string& correlation_id) {
        // IMMEDIATE: take the write lock before reading, so the app cannot
        // change the row between our read and our write.
        SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
        {
            auto q = stmts_.get("SELECT 1 FROM recon_corrections WHERE stripe_object = ? AND kind = ?");
            q->bind(1, c.ledger_key);
            q->bind(2, reconciler::to_string(c.kind));
            if (q->executeStep()) return existing_correction(c);  // tx rolls back: nothing written
        }
        auto uq = stmts_.get(std::string(user_columns) + "WHERE id = ?");
        uq->bind(1, static_cast<std::int64_t>(c.user_id));
        if (!uq->executeStep()) throw store_error("user " + std::to_string(c.user_id) + " no longer exists");
        const std::string metadata_text = uq->getColumn(4).getString();
        const local_user user = read_user(*uq);
        uq->reset();

        apply_result r;
        r.correlation_id = correlation_id;
        const std::string now = now_text();
        json::object details;

        if (c.kind == correction_kind::revoke_credits) {
            const bool revoked = std::any_of(user.credit_events.begin(), user.credit_events.end(),
                                             [&](const credit_event& e) { return e.kind == "revoke" && e.source == c.source; });
            // Never below zero: the app may have consumed credits since the diff.
            const std::int64_t amount = std::min(c.credits, std::max<std::int64_t>(user.ai_credits, 0));
            if (revoked || amount <= 0) {
                r.outcome = apply_outcome::superseded;
                r.detail = revoked ? "the app revoked credits for " + c.source + " meanwhile"
                                   : "no unused credits left to revoke";
                return r;
            }
            auto m = parse_metadata(metadata_text, user.id);
            r.credit_event_id = random_credit_event_id();
            json::object ev{{"id", r.credit_event_id}, {"delta", -amount},   {"kind", "revoke"},
                            {"reason", c.reason},      {"source", c.source}, {"correlation_id", correlation_id},
                            {"at", now}};
            auto& events = m.raw["credit_events"];
            if (!events.is_array()) events = json::array{};
            events.get_array().push_back(std::move(ev));
            r.balance_after = m.ai_credits - amount;
            r.credits_applied = amount;
            m.raw["ai_credits"] = r.balance_after;
            auto up = stmts_.get("UPDATE users SET plan_metadata = ? WHERE id = ?");
            up->bind(1, json::serialize(m.raw));
            up->bind(2, static_cast<std::int64_t>(user.id));
            up->exec();
            details["balance_before"] = m.ai_credits;
            details["balance_after"] = r.balance_after;
            details["unrecovered"] = c.unrecovered + (c.credits - amount);
        } else if (c.kind == correction_kind::grant_credits) {
            const bool granted = std::any_of(user.credit_events.begin(), user.credit_events.end(),
                                             [&](const credit_event& e) { return e.kind == "grant" && e.source == c.source; });
            if (granted) {
                r.outcome = apply_outcome::superseded;
                r.detail = "the app granted credits for " + c.source + " meanwhile";
                return r;
            }
            auto m = parse_metadata(metadata_text, user.id);
            r.credit_event_id = random_credit_event_id();
            json::object ev{{"id", r.credit_event_id}, {"delta", c.credits},   {"kind", "grant"},
                            {"reason", c.reason},      {"source", c.source},   {"correlation_id", correlation_id},
                            {"at", now}};
            auto& events = m.raw["credit_events"];
            if (!events.is_array()) events = json::array{};
            events.get_array().push_back(std::move(ev));
            r.balance_after = m.ai_credits + c.credits;
            r.credits_applied = c.credits;
            m.raw["ai_credits"] = r.balance_after;
            auto up = stmts_.get("UPDATE users SET plan_metadata = ? WHERE id = ?");
            up->bind(1, json::serialize(m.raw));
            up->bind(2, static_cast<std::int64_t>(user.id));
            up->exec();
            if (c.record_payment) {
                const auto& p = *c.record_payment;
                auto ins = stmts_.get(
                                      "INSERT INTO payments(stripe_invoice_id, stripe_customer_id, user_id, amount,"
                                      " currency, status, paid_at) VALUES (?,?,?,?,?,?,?)"
                                      " ON CONFLICT(stripe_invoice_id) DO NOTHING");
                ins->bind(1, p.invoice_id);
                ins->bind(2, p.customer_id);
                ins->bind(3, static_cast<std::int64_t>(user.id));
                ins->bind(4, static_cast<std::int64_t>(p.amount));
                ins->bind(5, p.currency);
                ins->bind(6, p.status);
                ins->bind(7, p.paid_at);
                r.payment_recorded = ins->exec() > 0;
            }
            details["balance_before"] = m.ai_credits;
            details["balance_after"] = r.balance_after;
        } else {
            if (user.plan == c.tier_to) {
                r.outcome = apply_outcome::superseded;
                r.detail = "plan is already " + c.tier_to;
                return r;
            }
            if (user.plan != c.tier_from) {
                r.outcome = apply_outcome::conflict;
                r.detail = "plan changed from " + c.tier_from + " to " + user.plan + " since the diff";
                return r;
            }
            auto up = stmts_.get("UPDATE users SET plan = ? WHERE id = ?");
            up->bind(1, c.tier_to);
            up->bind(2, static_cast<std::int64_t>(user.id));
            up->exec();
        }

        details["source"] = c.source;
        details["reason"] = c.reason;
        auto led = stmts_.get(
                              "INSERT INTO recon_corrections(stripe_object, kind, run_id, user_id, correlation_id,"
                              " credits_delta, tier_before, tier_after, credit_event_id, payment_recorded, details,"
                              " applied_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
        led->bind(1, c.ledger_key);
        led->bind(2, reconciler::to_string(c.kind));
        if (run_id) led->bind(3, static_cast<std::int64_t>(run_id));
        else led->bind(3);
        led->bind(4, static_cast<std::int64_t>(user.id));
        led->bind(5, correlation_id);
        led->bind(6, static_cast<std::int64_t>(c.kind == correction_kind::grant_credits    ? r.credits_applied
                                              : c.kind == correction_kind::revoke_credits ? -r.credits_applied
                                                                                           : 0));
        if (c.kind == correction_kind::set_tier) {
            led->bind(7, c.tier_from);
            led->bind(8, c.tier_to);
        } else {
            led->bind(7);
            led->bind(8);
        }
        if (r.credit_event_id.empty()) led->bind(9);
        else led->bind(9, r.credit_event_id);
        led->bind(10, r.payment_recorded ? 1 : 0);
        led->bind(11, json::serialize(details));
        led->bind(12, now);
        led->exec();
        r.correction_id = db_.getLastInsertRowid();
        tx.commit();
        r.outcome = apply_outcome::applied;
        return r;
    }

    std::string path_;
    SQLite::Database db_;
    bool wal_ = false;
    statement_cache stmts_{db_};  // after db_: finalized before it closes
};

}  // namespace detail

std::unique_ptr<store> open_sqlite_store(const sqlite_options& opts) {
    if (!opts.create_if_missing && !std::filesystem::exists(opts.path))
        throw schema_error("open database " + opts.path.string() +
                           ": no such file (check database.path in the config)");
    try {
        return std::make_unique<detail::sqlite_store>(opts);
    } catch (const SQLite::Exception& e) {
        throw store_error("open database " + opts.path.string() + ": " + e.what());
    }
}

void create_app_schema(const std::filesystem::path& db_path) {
    SQLite::Database db(db_path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode = WAL");
    SQLite::Transaction tx(db);
    db.exec(std::string(app_schema_sql()));
    tx.commit();
}

std::string random_credit_event_id() { return "ce_" + detail::random_hex(12); }

std::string random_correlation_id() {
    std::string h = detail::random_hex(16);
    h[12] = '4';                                                   // version 4
    h[16] = "89ab"[std::stoi(std::string(1, h[16]), nullptr, 16) & 3];  // RFC 4122 variant
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

}  // namespace reconciler::store
