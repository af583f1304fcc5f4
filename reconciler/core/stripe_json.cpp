#include "core/stripe_json.hpp"

#include "core/stripe_fields.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value_stack.hpp>

#include <array>
#include <string>
#include <vector>

namespace reconciler {

namespace json = boost::json;
using namespace stripe_fields;

namespace {

// The members of a listed object that anything reads: the models (the
// parse_* functions of stripe_parse.cpp, whatever API version rendered them),
// the client's paging (id, created) and the envelope. Context-free: a name kept anywhere is kept
// everywhere, which keeps expanded objects' ids and a listed dispute's
// expanded charge. Line parents: basil's two detail types. A parse_*
// function that reads a new member needs it here too, or a listed object
// parses as if it lacked it (stripe_parse_test's
// list_pages_keep_what_the_models_read compares both on the fixtures;
// bench-parse-floor on a whole dataset).
constexpr std::string_view kept_members[]{
    "id", "url", "data", "type", "paid", "plan", "total", "lines", "price", "items", "email", "object", "status",
    "amount", "parent", "charge", "created", "pricing", "deleted", "invoice", "paid_at", "has_more", "customer",
    "currency", "livemode", "quantity", "refunded", "disputed", "proration", "amount_due", "api_version",
    "amount_paid", "subscription", "price_details", "customer_email", "billing_reason", "amount_refunded",
    "status_transitions", "current_period_end", "subscription_details", "invoice_item_details",
    "subscription_item_details", "payment", "payment_intent", "nickname", "product", "payments"};

bool is_kept_member(std::string_view key) {
    // Called for every key of a page (~80 per object): an open-addressed
    // table on (length, first and last character), where most dropped keys
    // find an empty slot or differ at the first compare.
    constexpr std::size_t slots = 256;
    const auto slot = [](std::string_view k) {
        return (k.size() * 31u + static_cast<unsigned char>(k.front()) * 7u + static_cast<unsigned char>(k.back())) %
               slots;
    };
    static const auto table = [&] {
        std::array<std::string_view, slots> t{};
        for (auto k : kept_members) {
            auto i = slot(k);
            while (!t[i].empty()) i = (i + 1) % slots;
            t[i] = k;
        }
        return t;
    }();
    if (key.empty()) return false;
    for (auto i = slot(key); !table[i].empty(); i = (i + 1) % slots)
        if (table[i] == key) return true;
    return false;
}

// Builds the DOM of a list page with only the kept members: the rest of each
// object (most of Stripe's ~2.5 KB per object) is tokenised and validated by
// the parser but never built. Same shape as Boost.JSON's own parser handler
// (a value_stack), plus a count of kept members per open container, since
// the parser's counts include the dropped ones.
class pruning_handler {
public:
    static constexpr std::size_t max_object_size = json::object::max_size();
    static constexpr std::size_t max_array_size = json::array::max_size();
    static constexpr std::size_t max_key_size = json::string::max_size();
    static constexpr std::size_t max_string_size = json::string::max_size();

    explicit pruning_handler(json::storage_ptr sp) : sp_(std::move(sp)) {}

    json::value release() { return st_.release(); }

    bool on_document_begin(json::error_code&) {
        st_.reset(sp_);
        return true;
    }
    bool on_document_end(json::error_code&) { return true; }
    bool on_object_begin(json::error_code&) { return open(); }
    bool on_object_end(std::size_t, json::error_code&) {
        return close([&](std::size_t n) { st_.push_object(n); });
    }
    bool on_array_begin(json::error_code&) { return open(); }
    bool on_array_end(std::size_t, json::error_code&) {
        return close([&](std::size_t n) { st_.push_array(n); });
    }
    bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
        if (skip_ == 0) key_.append(s.data(), s.size());
        return true;
    }
    bool on_key(json::string_view s, std::size_t, json::error_code&) {
        if (skip_ > 0) return true;
        std::string_view key(s.data(), s.size());
        if (!key_.empty()) key = key_.append(s.data(), s.size());
        if (is_kept_member(key)) st_.push_key(key);
        else drop_next_ = true;
        key_.clear();
        return true;
    }
    bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
        if (skip_ == 0 && !drop_next_) st_.push_chars(s);
        return true;
    }
    bool on_string(json::string_view s, std::size_t, json::error_code&) {
        return scalar([&] { st_.push_string(s); });
    }
    bool on_number_part(json::string_view, json::error_code&) { return true; }
    bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
        return scalar([&] { st_.push_int64(i); });
    }
    bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
        return scalar([&] { st_.push_uint64(u); });
    }
    bool on_double(double d, json::string_view, json::error_code&) {
        return scalar([&] { st_.push_double(d); });
    }
    bool on_bool(bool b, json::error_code&) {
        return scalar([&] { st_.push_bool(b); });
    }
    bool on_null(json::error_code&) {
        return scalar([&] { st_.push_null(); });
    }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }

private:
    bool open() {
        if (skip_ > 0 || drop_next_) {
            ++skip_;
            drop_next_ = false;
        } else {
            counts_.push_back(0);
        }
        return true;
    }
    // `push` builds the container from its kept members.
    template <typename Push>
    bool close(Push push) {
        if (skip_ > 0) return --skip_, true;
        push(counts_.back());
        counts_.pop_back();
        return kept();
    }
    bool kept() {
        if (!counts_.empty()) ++counts_.back();
        return true;
    }
    template <typename Push>
    bool scalar(Push push) {
        if (skip_ > 0) return true;
        if (drop_next_) return drop_next_ = false, true;
        push();
        return kept();
    }

    json::storage_ptr sp_;
    json::value_stack st_;
    std::vector<std::size_t> counts_;  // kept members of each open container
    std::size_t skip_ = 0;             // depth inside a dropped object or array
    bool drop_next_ = false;           // the value after a dropped key
    std::string key_;                  // a key that came in parts
};


// The caller adds which request the body answered; these name what failed.
json::parse_options checked_options(std::string_view body) {
    if (body.size() > max_body_bytes)
        throw parse_error("parse JSON body: refused, " + std::to_string(body.size()) + " bytes exceed the " +
                          std::to_string(max_body_bytes / (1024 * 1024)) + " MiB limit");
    json::parse_options opts;
    opts.max_depth = max_json_depth;
    return opts;
}

void throw_if_failed(const boost::system::error_code& ec) {
    if (ec == json::error::too_deep)
        throw parse_error("parse JSON body: refused, nested deeper than " + std::to_string(max_json_depth) +
                          " levels");
    if (ec) throw parse_error("parse JSON body: malformed JSON: " + ec.message());
}

// parse_json with the limits, keeping only the kept members (pruning_handler).
json::value parse_pruned(std::string_view body, json::storage_ptr storage) {
    json::basic_parser<pruning_handler> p(checked_options(body), std::move(storage));
    boost::system::error_code ec;
    const std::size_t used = p.write_some(false, body.data(), body.size(), ec);
    if (!ec && used != body.size()) ec = json::error::extra_data;
    throw_if_failed(ec);
    return p.handler().release();
}

}  // namespace

json::value parse_json(std::string_view body, json::storage_ptr storage) {
    const auto opts = checked_options(body);
    boost::system::error_code ec;
    json::value v = json::parse(body, ec, std::move(storage), opts);
    throw_if_failed(ec);
    return v;
}

list_envelope parse_list_envelope(std::string_view body) {
    // A page is parsed, turned into models and dropped whole: one arena per
    // page instead of an allocation and a free per JSON node (malloc weighed
    // on a run's hot path). The envelope's array keeps the arena alive, and
    // nothing outlives it (models own strings). Only the members something
    // reads are built (pruning_handler): building every member's DOM was
    // most of a page's parse.
    json::value v = parse_pruned(body, json::make_shared_resource<json::monotonic_resource>());
    if (!v.is_object()) throw parse_error("list response: expected a JSON object");
    auto& o = v.get_object();
    const std::string what = "list response";
    if (opt_string(o, "object", what) != "list") fail(what, "object", "\"list\"");
    auto it = o.find("data");
    if (it == o.end() || !it->value().is_array()) fail(what, "data", "array");
    // Move-constructed, so that the array keeps the arena (assignment into a
    // default-constructed array would copy every node out of it).
    list_envelope env{std::move(it->value().get_array()), false, {}};
    const auto* hm = find(o, "has_more");
    if (!hm || !hm->is_bool()) fail(what, "has_more", "boolean");
    env.has_more = hm->get_bool();
    env.url = opt_string(o, "url", what);
    for (const auto& item : env.data)
        if (!item.is_object()) fail(what, "data[]", "objects");
    return env;
}

std::optional<stripe_error_body> parse_error_body(std::string_view body) noexcept {
    try {
        json::value v = parse_json(body);
        if (!v.is_object()) return std::nullopt;
        const auto* err = v.get_object().if_contains("error");
        if (!err || !err->is_object()) return std::nullopt;
        const auto& e = err->get_object();
        auto str = [&](std::string_view k) -> std::string {
            const auto* f = e.if_contains(k);
            return f && f->is_string() ? std::string(f->get_string()) : std::string{};
        };
        return stripe_error_body{str("type"), str("code"), str("message"), str("param")};
    } catch (...) {
        return std::nullopt;
    }
}

}  // namespace reconciler
