#include "store/postgres/support_queries.hpp"

#include "store/postgres/escalations.hpp"
#include "store/postgres/users.hpp"

namespace reconciler::store::postgres {

std::optional<local_user> postgres_support_queries::find_user_by_email(const std::string& email) {
    const auto r = s_.run(std::string(user_columns) + "WHERE lower(email) = lower($1) ORDER BY id LIMIT 1",
                          params().add(email));
    if (r.rows() == 0) return std::nullopt;
    return read_user(r, 0);
}

// Filtered in SQL: the subject is the email, or the evidence (a JSON object)
// names the user's customer.
std::vector<escalation> postgres_support_queries::escalations_for(const local_user& u) {
    return select_open_escalations(s_, "AND (subject = $1 OR ($2 <> '' AND evidence::jsonb->>'customer' = $2))",
                                   params().add(u.email).add(u.stripe_customer_id));
}

}  // namespace reconciler::store::postgres
