#include "store/postgres/subscription_scratch.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace reconciler::store::postgres {

namespace json = boost::json;

subscription_scratch::subscription_scratch(session& s) : s_(s) {
    s_.conn().exec("CREATE TEMP TABLE IF NOT EXISTS recon_scratch_subscription_states (id text PRIMARY KEY,"
                   " customer text NOT NULL, ambiguous boolean NOT NULL, state text NOT NULL)");
    s_.conn().exec("CREATE INDEX IF NOT EXISTS recon_scratch_subscription_states_customer"
                   " ON pg_temp.recon_scratch_subscription_states(customer, id)");
    s_.conn().exec("TRUNCATE pg_temp.recon_scratch_subscription_states");
}

subscription_scratch::~subscription_scratch() {
    try {
        s_.conn().exec("TRUNCATE pg_temp.recon_scratch_subscription_states");
    } catch (const std::exception&) {  // the session is gone, and its temporary table with it
    }
}

std::optional<subscription_scratch::row> subscription_scratch::find(const std::string& id) {
    if (auto it = pending_.find(id); it != pending_.end()) return it->second;
    if (auto it = prefetched_.find(id); it != prefetched_.end()) return it->second;
    const auto r = s_.run("SELECT state, ambiguous FROM pg_temp.recon_scratch_subscription_states WHERE id = $1",
                          params().add(id));
    if (r.rows() == 0) return std::nullopt;
    return read_row(r, 0);
}

// A page's rows in one round trip: a round trip per subscription event was
// most of a 100k window part's time on PostgreSQL (~30 s of 32).
void subscription_scratch::prefetch(const std::vector<std::string>& ids) {
    prefetched_.clear();
    std::vector<std::string> ask;
    for (const auto& id : ids)
        if (!pending_.count(id) && prefetched_.emplace(id, std::nullopt).second) ask.push_back(id);
    if (ask.empty()) return;
    const auto r = s_.run("SELECT id, state, ambiguous FROM pg_temp.recon_scratch_subscription_states"
                          " WHERE id = ANY($1::text[])",
                          params().add(text_array(ask)));
    for (int i = 0; i < r.rows(); ++i) {
        row out;
        out.state = subscription_state_from_json(json::parse(r.text(i, 1)).as_object());
        out.ambiguous = r.boolean(i, 2);
        prefetched_[std::string(r.text(i, 0))] = std::move(out);
    }
}

void subscription_scratch::put(const std::string& id, const row& r) {
    prefetched_.erase(id);
    pending_[id] = r;
    if (pending_.size() >= flush_every) flush();
}

std::vector<std::string> subscription_scratch::ambiguous_ids() {
    flush();
    const auto r = s_.run("SELECT id FROM pg_temp.recon_scratch_subscription_states WHERE ambiguous ORDER BY id COLLATE \"C\"");
    std::vector<std::string> ids;
    for (int i = 0; i < r.rows(); ++i) ids.emplace_back(r.text(i, 0));
    return ids;
}

void subscription_scratch::each(const std::function<void(const row&)>& visit) {
    flush();
    const auto r = s_.run("SELECT state, ambiguous FROM pg_temp.recon_scratch_subscription_states");
    for (int i = 0; i < r.rows(); ++i) visit(read_row(r, i));
}

void subscription_scratch::drain_by_customer(std::size_t customers,
                                             const std::function<void(std::vector<subscription_state>&&)>& chunk) {
    flush();
    // A chunk of customers at a time (byte order, as SQLite's), each read
    // whole before `chunk` runs (it writes the app's tables in transactions of its own).
    std::optional<std::string> after;
    for (;;) {
        const auto ids = s_.run("SELECT DISTINCT customer COLLATE \"C\" AS c FROM pg_temp.recon_scratch_subscription_states"
                                " WHERE NOT ambiguous AND ($1::text IS NULL OR customer COLLATE \"C\" > $1::text)"
                                " ORDER BY c LIMIT $2",
                                params().add(after).add(static_cast<std::int64_t>(customers)));
        if (ids.rows() == 0) break;
        const auto r = s_.run("SELECT state, ambiguous FROM pg_temp.recon_scratch_subscription_states"
                              " WHERE NOT ambiguous AND customer COLLATE \"C\" >= $1::text"
                              " AND customer COLLATE \"C\" <= $2::text ORDER BY customer COLLATE \"C\", id COLLATE \"C\"",
                              params().add(ids.text(0, 0)).add(ids.text(ids.rows() - 1, 0)));
        std::vector<subscription_state> states;
        states.reserve(static_cast<std::size_t>(r.rows()));
        for (int i = 0; i < r.rows(); ++i) states.push_back(read_row(r, i).state);
        after = std::string(ids.text(ids.rows() - 1, 0));
        chunk(std::move(states));
    }
    s_.conn().exec("TRUNCATE pg_temp.recon_scratch_subscription_states");
}

subscription_scratch::row subscription_scratch::read_row(const result& r, int i) {
    row out;
    out.state = subscription_state_from_json(json::parse(r.text(i, 0)).as_object());
    out.ambiguous = r.boolean(i, 1);
    return out;
}

// One statement per flush: the buffered rows as four arrays.
void subscription_scratch::flush() {
    if (pending_.empty()) return;
    std::vector<std::string> ids, customers, ambiguous, states;
    for (const auto& [id, r] : pending_) {
        ids.push_back(id);
        customers.push_back(r.state.sub.customer);
        ambiguous.emplace_back(r.ambiguous ? "t" : "f");
        states.push_back(json::serialize(subscription_state_json(r.state)));
    }
    s_.run("INSERT INTO pg_temp.recon_scratch_subscription_states(id, customer, ambiguous, state)"
           " SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[])"
           " ON CONFLICT (id) DO UPDATE SET customer = excluded.customer, ambiguous = excluded.ambiguous,"
           " state = excluded.state",
           params().add(text_array(ids)).add(text_array(customers)).add(text_array(ambiguous)).add(text_array(states)));
    pending_.clear();
}

}  // namespace reconciler::store::postgres
