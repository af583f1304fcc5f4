#include "core/entitlement_change.hpp"

#include "core/json_log.hpp"

namespace reconciler {

boost::json::object to_json(const entitlement_change& c) {
    boost::json::object line{{"action", c.action}, {"correlation_id", c.correlation_id}, {"user_id", c.user_id}};
    if (c.email) line["email"] = *c.email;
    if (c.correction_id) line["correction_id"] = *c.correction_id;
    line["change"] = c.change;
    if (c.stripe) line["stripe"] = *c.stripe;
    if (c.finding) line["finding"] = *c.finding;
    if (c.run_id) line["run_id"] = *c.run_id;
    if (c.reason) line["reason"] = *c.reason;
    line["actor"] = c.actor;
    return line;
}

boost::json::object log_entitlement_change(const entitlement_change& c) {
    auto line = to_json(c);
    log::info("entitlement_change", line);
    return line;
}

}  // namespace reconciler
