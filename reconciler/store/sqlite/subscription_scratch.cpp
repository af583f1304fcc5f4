#include "store/sqlite/subscription_scratch.hpp"

#include "store/errors.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <SQLiteCpp/Transaction.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace reconciler::store::sqlite {

namespace json = boost::json;

subscription_scratch::subscription_scratch(SQLite::Database& db, std::string file)
    : db_(db), file_(std::move(file)) {
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
    // 512 KiB of page cache, not SQLite's default 2 MB: a window's scratch
    // outgrows either (its lookups by id hit the index's inner pages, which
    // fit), and the cache is held until the window part's rules are done,
    // which is the 1M-event run's peak once a burst's slice is diffed in parts.
    db_.exec("PRAGMA recon_scratch.cache_size = -512");
    db_.exec("DROP TABLE IF EXISTS recon_scratch.subscription_states");
    db_.exec("CREATE TABLE recon_scratch.subscription_states (id TEXT PRIMARY KEY, customer TEXT NOT NULL,"
             " ambiguous INTEGER NOT NULL, state TEXT NOT NULL)");
    db_.exec("CREATE INDEX recon_scratch.subscription_states_customer ON subscription_states(customer, id)");
    // Prepared once: find() runs once per subscription event of the window.
    find_.emplace(db_, "SELECT state, ambiguous FROM recon_scratch.subscription_states WHERE id = ?");
}

subscription_scratch::~subscription_scratch() {
    find_.reset();  // finalized before the database it reads is detached
    try {
        db_.exec("DETACH DATABASE recon_scratch");
    } catch (const std::exception&) {
    }
    std::error_code ec;
    std::filesystem::remove(file_, ec);
}

std::optional<subscription_scratch::row> subscription_scratch::find(const std::string& id) {
    if (auto it = pending_.find(id); it != pending_.end()) return it->second;
    SQLite::Statement& q = *find_;
    q.reset();
    q.bind(1, id);
    if (!q.executeStep()) return std::nullopt;
    row r = read_row(q);
    q.reset();  // no read left open on the scratch database
    return r;
}

void subscription_scratch::put(const std::string& id, const row& r) {
    pending_[id] = r;
    if (pending_.size() >= flush_every) flush();
}

std::vector<std::string> subscription_scratch::ambiguous_ids() {
    flush();
    std::vector<std::string> ids;
    SQLite::Statement q(db_, "SELECT id FROM recon_scratch.subscription_states WHERE ambiguous = 1 ORDER BY id");
    while (q.executeStep()) ids.push_back(q.getColumn(0).getString());
    return ids;
}

void subscription_scratch::each(const std::function<void(const row&)>& visit) {
    flush();
    SQLite::Statement q(db_, "SELECT state, ambiguous FROM recon_scratch.subscription_states");
    while (q.executeStep()) visit(read_row(q));
}

void subscription_scratch::drain_by_customer(std::size_t customers,
                                             const std::function<void(std::vector<subscription_state>&&)>& chunk) {
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

subscription_scratch::row subscription_scratch::read_row(SQLite::Statement& q) {
    row r;
    r.state = subscription_state_from_json(json::parse(q.getColumn(0).getString()).as_object());
    r.ambiguous = q.getColumn(1).getInt() != 0;
    return r;
}

void subscription_scratch::flush() {
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

}  // namespace reconciler::store::sqlite
