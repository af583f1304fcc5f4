#include "store/sqlite/support_queries.hpp"

#include "store/sqlite/escalations.hpp"
#include "store/sqlite/users.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace reconciler::store::sqlite {

namespace json = boost::json;

std::optional<local_user> sqlite_support_queries::find_user_by_email(const std::string& email) {
    SQLite::Statement q(c_.db(), std::string(user_columns) + "WHERE email = ? COLLATE NOCASE");
    q.bind(1, email);
    if (!q.executeStep()) return std::nullopt;
    return read_user(q);
}

std::vector<escalation> sqlite_support_queries::escalations_for(const local_user& u) {
    std::vector<escalation> out;
    for (auto& e : open_escalations(c_)) {
        boost::system::error_code ec;
        json::value ev = json::parse(e.evidence, ec);
        const json::object* o = !ec && ev.is_object() ? &ev.get_object() : nullptr;
        const bool mine =
            e.subject == u.email || (o && !u.stripe_customer_id.empty() && str_field(*o, "customer") == u.stripe_customer_id);
        if (mine) out.push_back(std::move(e));
    }
    return out;
}

}  // namespace reconciler::store::sqlite
