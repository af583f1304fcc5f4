// A Stripe object that parsed as JSON but broke the schema (a field missing
// or of the wrong type), or asked for numbers out of any sane range. The one
// rule (docs/findings.md, invalid_stripe_object): such an object becomes a
// finding for backend engineering, is never diffed or applied, and the run
// goes on. A body that is not JSON at all is the client's to retry and fail.
#pragma once

#include "core/model.hpp"
#include "core/stripe_json.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reconciler {

struct invalid_object {
    std::string object_type;  // "invoice", "subscription", ... ("" when unreadable)
    std::string object_id;    // "" when unreadable
    std::string event_id;     // the event that carried it, if any
    std::string customer;     // when readable
    std::string resource;     // the list or object path it came from: "/v1/invoices"
    std::string request_id;   // of the response that carried it
    std::string field;        // the field that was wrong ("" when not known)
    std::string problem;      // what was wrong, a human line
    bool paid = false;        // it reads as a paid invoice: a payment may be hidden behind it
    unix_seconds created = 0; // 0 when unreadable
    // 16 hex digits (FNV-1a 64) of the object as sent: the same broken object
    // is the same subject run after run when it has no readable id.
    std::string fingerprint;
};

// What can be read of `v` (an object, an event's data.object, or anything at
// all) for the finding, with the parse error's field and message. Never throws.
invalid_object describe_invalid(const boost::json::value& v, std::string_view resource, const std::string& request_id,
                                const parse_error& why) noexcept;

// One warn line (invalid_stripe_object) with what the finding will say.
void log_invalid(const invalid_object& o) noexcept;

// The rule applied to one object of a response: parse(v) when it keeps the
// schema; otherwise the object is described in `out` (and logged, warn
// invalid_stripe_object) and nullopt returned, never thrown.
template <class Parse>
auto parse_or_note(Parse&& parse, const boost::json::object& o, std::string_view resource,
                   const std::string& request_id, std::vector<invalid_object>& out)
    -> std::optional<decltype(parse(o))> {
    try {
        return parse(o);
    } catch (const parse_error& e) {
        out.push_back(describe_invalid(boost::json::value(o), resource, request_id, e));  // a copy, only when broken
        log_invalid(out.back());
        return std::nullopt;
    }
}

// A listed item, which may not even be an object.
template <class Parse>
auto parse_or_note(Parse&& parse, const boost::json::value& v, std::string_view resource,
                   const std::string& request_id, std::vector<invalid_object>& out)
    -> std::optional<decltype(parse(v.get_object()))> {
    if (v.is_object()) return parse_or_note(parse, v.get_object(), resource, request_id, out);
    out.push_back(describe_invalid(v, resource, request_id, parse_error("a listed item is not a JSON object", "", "object")));
    log_invalid(out.back());
    return std::nullopt;
}

}  // namespace reconciler
