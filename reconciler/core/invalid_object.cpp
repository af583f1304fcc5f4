#include "core/invalid_object.hpp"

#include "core/json_log.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <cstdint>
#include <cstdio>

namespace reconciler {

namespace json = boost::json;

namespace {

std::string string_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v) return {};
    if (v->is_string()) return std::string(v->get_string());
    // An expanded object (a customer): its id, when it has one.
    if (v->is_object())
        if (const auto* id = v->get_object().if_contains("id"); id && id->is_string()) return std::string(id->get_string());
    return {};
}

unix_seconds int_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_int64() ? v->get_int64() : 0;
}

// Lenient on purpose: any member may be missing or of any type.
void read_object(const json::object& o, invalid_object& out) {
    out.object_type = string_of(o, "object");
    out.object_id = string_of(o, "id");
    out.customer = string_of(o, "customer");
    out.created = int_of(o, "created");
    if (out.object_type == "invoice" || out.object_type.empty()) {
        const auto* paid = o.if_contains("paid");
        out.paid = string_of(o, "status") == "paid" || (paid && paid->is_bool() && paid->get_bool());
    }
}

// Not a security hash: a stable name for an object that has no id, the same
// on every machine and build (std::hash is neither).
std::string fingerprint_of(const json::value& v) {
    std::uint64_t h = 14695981039346656037ull;
    for (const unsigned char c : json::serialize(v)) {
        h ^= c;
        h *= 1099511628211ull;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return hex;
}

}  // namespace

invalid_object describe_invalid(const json::value& v, std::string_view resource, const std::string& request_id,
                                const parse_error& why) noexcept {
    invalid_object out;
    try {
        out.resource = std::string(resource);
        out.request_id = request_id;
        out.field = why.field();
        out.problem = why.what();
        out.fingerprint = fingerprint_of(v);
        if (!v.is_object()) {
            out.problem = "not a JSON object: " + out.problem;
            return out;
        }
        const auto& o = v.get_object();
        read_object(o, out);
        // An event: the object it carries is the subject (a paid invoice hidden
        // in an invoice.paid event is still a paid invoice hidden).
        if (out.object_type == "event") {
            const auto* data = o.if_contains("data");
            const auto* obj = data && data->is_object() ? data->get_object().if_contains("object") : nullptr;
            out.event_id = out.object_id;
            const unix_seconds event_created = out.created;
            if (obj && obj->is_object()) read_object(obj->get_object(), out);
            if (out.object_id.empty()) {
                out.object_type = "event";
                out.object_id = out.event_id;
            }
            if (out.created == 0) out.created = event_created;
        }
    } catch (...) {
        // Allocation failed while describing: what was read so far is kept.
    }
    return out;
}

void log_invalid(const invalid_object& o) noexcept {
    try {
        log::warn("invalid_stripe_object", {{"object_type", o.object_type},
                                            {"object_id", o.object_id},
                                            {"list", o.resource},
                                            {"field", o.field},
                                            {"problem", o.problem},
                                            {"paid_invoice", o.paid},
                                            {"request_id", o.request_id},
                                            {"effect", "flagged invalid_stripe_object; the run goes on without it"}});
    } catch (...) {
        // The finding still says it all; a log line lost is not a run lost.
    }
}

}  // namespace reconciler
