#include "store/sqlite/users.hpp"

#include "store/errors.hpp"

#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace reconciler::store::sqlite {

namespace json = boost::json;

std::string str_field(const json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string{};
}

namespace {

std::int64_t int_field(const json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    if (!v) return 0;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
    return 0;
}

}  // namespace

namespace {

// The balance and the credit events (of `sources` only, when given) of a parsed plan_metadata.
void read_credits(const json::object& raw, const std::unordered_set<std::string_view>* sources,
                  std::int64_t& ai_credits, std::vector<credit_event>& events) {
    ai_credits = int_field(raw, "ai_credits");
    if (const auto* evs = raw.if_contains("credit_events"); evs && evs->is_array()) {
        for (const auto& e : evs->get_array()) {
            if (!e.is_object()) continue;
            const auto& o = e.get_object();
            if (sources) {
                const auto* src = o.if_contains("source");
                if (!src || !src->is_string() || !sources->count(std::string_view(src->get_string()))) continue;
            }
            events.push_back(credit_event{str_field(o, "id"), int_field(o, "delta"), str_field(o, "kind"),
                                          str_field(o, "reason"), str_field(o, "source"),
                                          str_field(o, "correlation_id"), str_field(o, "at")});
        }
    }
}

json::value parse_object_or_throw(std::string_view text, std::int64_t user_id, json::storage_ptr sp = {}) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec, std::move(sp));
    if (ec || !v.is_object())
        throw store_error("read plan_metadata of user " + std::to_string(user_id) + ": not a JSON object");
    return v;
}

}  // namespace

metadata parse_metadata(const std::string& text, std::int64_t user_id,
                        const std::unordered_set<std::string_view>* sources) {
    metadata m;
    m.raw = std::move(parse_object_or_throw(text, user_id).get_object());
    read_credits(m.raw, sources, m.ai_credits, m.events);
    return m;
}

local_user read_user(SQLite::Statement& q, const std::unordered_set<std::string_view>* sources) {
    local_user u;
    u.id = q.getColumn(0).getInt64();
    u.email = q.getColumn(1).getString();
    u.plan = q.getColumn(2).getString();
    u.stripe_customer_id = q.getColumn(3).isNull() ? std::string{} : q.getColumn(3).getString();
    // Read, not kept: parsed in place from SQLite's buffer into a per-user
    // arena (a snapshot reads thousands of users; the document's nodes were
    // a malloc and a free each).
    const auto col = q.getColumn(4);
    const std::string_view text(col.getText(), static_cast<std::size_t>(col.getBytes()));
    unsigned char buffer[4096];
    json::monotonic_resource arena(buffer, sizeof buffer);
    const json::value v = parse_object_or_throw(text, u.id, &arena);
    read_credits(v.get_object(), sources, u.ai_credits, u.credit_events);
    return u;
}

void add_credit_event(metadata& m, const new_credit_event& e, std::int64_t balance_after) {
    json::object ev{{"id", e.id},         {"delta", e.delta},   {"kind", e.kind},
                    {"reason", e.reason}, {"source", e.source}, {"correlation_id", e.correlation_id},
                    {"at", e.at}};
    auto& events = m.raw["credit_events"];
    if (!events.is_array()) events = json::array{};
    events.get_array().push_back(std::move(ev));
    m.raw["ai_credits"] = balance_after;
}

void write_metadata(connection& c, std::int64_t user_id, const metadata& m) {
    auto up = c.cached(c.sql("UPDATE @users@ SET @users.plan_metadata@ = ? WHERE @users.id@ = ?"));
    up->bind(1, json::serialize(m.raw));
    up->bind(2, static_cast<std::int64_t>(user_id));
    up->exec();
}

void write_plan(connection& c, std::int64_t user_id, const std::string& plan) {
    auto up = c.cached(c.sql("UPDATE @users@ SET @users.plan@ = ? WHERE @users.id@ = ?"));
    up->bind(1, plan);
    up->bind(2, static_cast<std::int64_t>(user_id));
    up->exec();
}

}  // namespace reconciler::store::sqlite
