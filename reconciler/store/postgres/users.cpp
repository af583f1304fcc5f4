#include "store/postgres/users.hpp"

#include <boost/json/serialize.hpp>

namespace reconciler::store::postgres {

namespace json = boost::json;

local_user read_user(const result& r, int row, const std::unordered_set<std::string_view>* sources) {
    local_user u;
    u.id = r.int64(row, 0);
    u.email = r.text(row, 1);
    u.plan = r.text(row, 2);
    u.stripe_customer_id = r.text(row, 3);  // "" when NULL
    auto m = parse_metadata(std::string(r.text(row, 4)), u.id, sources);
    u.ai_credits = m.ai_credits;
    u.credit_events = std::move(m.events);
    return u;
}

std::optional<locked_user> lock_user(session& s, std::int64_t user_id) {
    const auto r = s.run(std::string(user_columns) + "WHERE @users.id@ = $1 FOR UPDATE", params().add(user_id));
    if (r.rows() == 0) return std::nullopt;
    locked_user out{read_user(r, 0), parse_metadata(std::string(r.text(0, 4)), user_id)};
    return out;
}

void append_credit_event(session& s, std::int64_t user_id, metadata& m, const new_credit_event& e,
                         std::int64_t balance_after) {
    sqlite::add_credit_event(m, e, balance_after);
    if (s.plan_metadata_type() == metadata_type::jsonb) {
        const auto& events = m.raw.at("credit_events").as_array();
        // credit_events that is not an array (or missing) becomes [event],
        // as add_credit_event does in memory.
        s.run("UPDATE @users@ SET @users.plan_metadata@ = jsonb_set(jsonb_set(@users.plan_metadata@, '{credit_events}',"
              " CASE WHEN jsonb_typeof(@users.plan_metadata@->'credit_events') = 'array'"
              " THEN @users.plan_metadata@->'credit_events' ELSE '[]'::jsonb END || jsonb_build_array($2::jsonb)),"
              " '{ai_credits}', to_jsonb($3::bigint)) WHERE @users.id@ = $1",
              params().add(user_id).add(json::serialize(events.back())).add(balance_after));
        return;
    }
    s.run(std::string("UPDATE @users@ SET @users.plan_metadata@ = $1::") + s.metadata_cast() + " WHERE @users.id@ = $2",
          params().add(json::serialize(m.raw)).add(user_id));
}

void write_plan(session& s, std::int64_t user_id, const std::string& plan) {
    s.run("UPDATE @users@ SET @users.plan@ = $1 WHERE @users.id@ = $2", params().add(plan).add(user_id));
}

}  // namespace reconciler::store::postgres
