// The end-to-end suites on PostgreSQL: the generated dataset's app rows
// copied from the generator's SQLite file into a database on a throwaway
// server (the `postgres` fixture's, or a test's own), a config pointing the
// real binary at it, databases cloned from a pristine one (CREATE DATABASE
// ... TEMPLATE: a file copy, cheaper than loading the rows again), and the
// comparable state of an app database. Header-only, after e2e_support.hpp.
#pragma once

#include "e2e/e2e_support.hpp"
#include "store/postgres/open.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_transaction.hpp"
#include "support/pg_test_db.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <fstream>
#include <string>
#include <vector>

namespace e2e {

namespace pg = reconciler::store::postgres;

// One app table's rows, as the generator wrote them, into PostgreSQL (the
// columns are the same on both; values go as text, cast by the statement).
inline void copy_table(SQLite::Database& from, pg::connection& to, const std::string& table,
                       const std::vector<std::string>& cols) {
    std::string list, marks;
    for (std::size_t i = 0; i < cols.size(); ++i) {
        list += (i ? ", " : "") + cols[i];
        marks += (i ? ", $" : "$") + std::to_string(i + 1);
    }
    SQLite::Statement rows(from, "SELECT " + list + " FROM " + table);
    const std::string insert = "INSERT INTO " + table + " (" + list + ") VALUES (" + marks + ")";
    while (rows.executeStep()) {
        pg::params p;
        for (int i = 0; i < static_cast<int>(cols.size()); ++i)
            rows.getColumn(i).isNull() ? p.null() : p.add(rows.getColumn(i).getString());
        to.run(insert, p);
    }
}

inline void load_app_rows(const fs::path& sqlite_app_db, const pg::connect_options& opts) {
    reconciler::store::create_postgres_app_schema(opts);
    SQLite::Database from(sqlite_app_db.string(), SQLite::OPEN_READONLY);
    pg::connection to(opts);
    pg::transaction tx(to);
    copy_table(from, to, "users", {"id", "email", "plan", "stripe_customer_id", "plan_metadata", "created_at"});
    copy_table(from, to, "payments",
               {"id", "stripe_invoice_id", "stripe_customer_id", "user_id", "amount", "currency", "status", "paid_at"});
    copy_table(from, to, "ai_usage", {"id", "user_id", "credits", "request_id", "created_at"});
    copy_table(from, to, "webhook_events",
               {"stripe_event_id", "type", "received_at", "status", "attempts", "last_error"});
    // The identities go on after the copied ids (the reconciler inserts payments).
    for (const char* t : {"users", "payments", "ai_usage"})
        to.exec(std::string("SELECT setval(pg_get_serial_sequence('") + t + "', 'id'), (SELECT COALESCE(max(id), 1) FROM " +
                t + "))");
    tx.commit();
}

// A database on `server` copied from `from` (which nobody may be connected
// to), dropped with the object.
class pg_clone {
public:
    pg_clone(const reconciler::test::pg_server& server, const std::string& from, const std::string& name)
        : server_(server), name_(name) {
        pg::connection admin(server_.options());
        admin.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        admin.exec("CREATE DATABASE " + name_ + " TEMPLATE " + from);
    }
    ~pg_clone() {
        try {
            pg::connection(server_.options()).exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        } catch (...) {  // the server is gone: so is the database
        }
    }
    pg_clone(const pg_clone&) = delete;
    pg_clone& operator=(const pg_clone&) = delete;
    const std::string& name() const noexcept { return name_; }
    pg::connect_options options() const { return server_.options(name_); }

private:
    reconciler::test::pg_server server_;
    std::string name_;
};

struct pg_e2e {
    e2e_env env;
    reconciler::test::pg_test_db db;
    std::string url;

    explicit pg_e2e(reconciler::sim::fault_options faults = {},
                    reconciler::test::pg_server server = reconciler::test::pg_server::from_env(), int customers = 60)
        : env(e2e_options{.customers = customers, .faults = faults, .identity = std::nullopt, .migrate = false}),
          db(std::move(server)) {
        load_app_rows(env.dir / "app.db", db.options());
        url = url_of(db.name());
        {
            std::ofstream pw(env.dir / "db.password");
            pw << db.server().password << "\n";
        }
        fs::permissions(env.dir / "db.password", fs::perms::owner_read | fs::perms::owner_write);
        env.edit_config("database:\n  path: app.db\n", "database:\n  url: \"" + url +
                                                           "\"\n  password: { file: db.password }\n"
                                                           "  statement_timeout: 60s\n");
    }

    std::string url_of(const std::string& dbname) const {
        std::string port;
        std::ifstream(db.server().dir / "port") >> port;
        return "postgresql://reconciler@127.0.0.1:" + port + "/" + dbname + "?sslmode=disable";
    }

    // A copy of the config pointing at database `dbname` (same simulator,
    // same reports directory, `extra` appended).
    fs::path config_for(const std::string& dbname, const std::string& extra = "") const {
        auto text = slurp(env.config);
        text.replace(text.find(url), url.size(), url_of(dbname));
        const fs::path to = env.dir / (dbname + ".yaml");
        std::ofstream(to) << text << extra;
        return to;
    }

    long long count(const std::string& sql, const std::string& arg = {}) const {
        return count_in(db.options(), sql, arg);
    }
    static long long count_in(const pg::connect_options& o, const std::string& sql, const std::string& arg = {}) {
        pg::connection c(o);
        const auto r = arg.empty() ? c.run(sql) : c.run(sql, pg::params().add(arg));
        return r.int64(0, 0);
    }
};

// Everything a correction or an escalation can change, without ids,
// correlation ids or times (app_state's PostgreSQL twin, plus escalations):
// a credit event applied twice shows as its line twice.
inline std::string pg_app_state(const pg::connect_options& o) {
    pg::connection c(o);
    std::string out;
    const auto add = [&](const std::string& sql) {
        const auto r = c.run(sql);
        for (int i = 0; i < r.rows(); ++i) {
            for (int j = 0; j < 4; ++j) out += (r.is_null(i, j) ? "-" : std::string(r.text(i, j))) + "|";
            out += "\n";
        }
    };
    add("SELECT u.id, u.plan, u.plan_metadata->>'ai_credits', (SELECT string_agg((e->>'kind') || ':' || (e->>'source') "
        "|| ':' || (e->>'delta'), ';' ORDER BY (e->>'kind') || ':' || (e->>'source') || ':' || (e->>'delta')) FROM "
        "jsonb_array_elements(u.plan_metadata->'credit_events') e) FROM users u ORDER BY u.id");
    add("SELECT stripe_invoice_id, amount, currency, status FROM payments ORDER BY 1");
    add("SELECT stripe_object, kind, credits_delta, status FROM recon.recon_corrections ORDER BY 1, 2");
    add("SELECT kind, subject, status, team FROM recon.recon_escalations ORDER BY 1, 2, 3");
    return out;
}

// Invoices the reconciler granted credits for whose grant credit event is
// there more than once (the dataset seeds an app double grant of its own,
// which the reconciler never grants).
inline long long pg_duplicate_grants(const pg::connect_options& o) {
    return pg_e2e::count_in(o, "SELECT count(*) FROM (SELECT e->>'source' AS source FROM users u, "
                               "jsonb_array_elements(u.plan_metadata->'credit_events') e WHERE e->>'kind' = 'grant' "
                               "GROUP BY 1 HAVING count(*) > 1) d WHERE d.source IN (SELECT stripe_object FROM "
                               "recon.recon_corrections WHERE kind = 'grant_credits')");
}

}  // namespace e2e
