#include "pipeline/replay.hpp"

#include "pipeline/stripe_setup.hpp"

#include "core/json_log.hpp"
#include "core/timeutil.hpp"
#include "stripe/beast_transport.hpp"
#include "stripe/client.hpp"
#include "stripe/webhook_forwarder.hpp"
#include "stripe/webhook_signature.hpp"
#include "pipeline/database.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace reconciler {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr const char* escalation_team = "billing_engineering";
constexpr const char* escalation_kind = "webhook_replay_failed";
constexpr int escalate_after_failures = 2;  // runbook §4: "if the event fails twice"
constexpr std::size_t body_head_bytes = 500;

// Runs one coroutine to completion on `ioc`; rethrows what it threw.
template <class T>
T run_sync(asio::io_context& ioc, asio::awaitable<T> op) {
    auto done = asio::co_spawn(ioc, std::move(op), asio::use_future);
    ioc.restart();
    ioc.run();
    return done.get();
}


bool valid_event_id(const std::string& id) {
    return !id.empty() && id.size() <= 255 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
           });
}

// The app's answer as shown on a terminal: no control characters but
// newlines and tabs, registered secrets masked.
std::string printable_head(const std::string& body) {
    std::string head = body.substr(0, std::min(body.size(), body_head_bytes));
    for (char& c : head) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\n' && c != '\t') || u == 0x7f) c = '?';
    }
    return log::redact(std::move(head));
}

std::optional<store::escalation> current_failures(store::store& db, const std::string& event_id) {
    for (auto& e : db.open_escalations())
        if (e.kind == escalation_kind && e.subject == event_id) return std::move(e);
    return std::nullopt;
}

}  // namespace

asio::awaitable<replay_result> replay_one(stripe::client& client, store::store& db, const std::string& webhook_secret,
                                          const replay_options& opts, std::chrono::milliseconds timeout) {
    replay_result r;
    r.event_id = opts.event_id;
    r.url_for_log = stripe::parse_forward_url(opts.forward_to).for_log;

    // 1. The event as Stripe has it. A failure here throws: the app was not
    //    tried, so nothing is recorded.
    json::object event;
    std::string request_id;
    try {
        std::tie(event, request_id) =
            co_await client.retrieve("/v1/events/" + stripe::detail::url_encode(opts.event_id));
    } catch (const stripe::stripe_error& e) {
        std::string hint;
        if (e.http_status() == 404)
            hint = " (no such event for this key: check the id, the account and test/live mode; Stripe keeps "
                   "events for 30 days)";
        throw std::runtime_error("cannot fetch event " + opts.event_id + " from Stripe, nothing was sent to the app: " +
                                 e.what() + hint);
    }
    r.stripe_request_id = request_id;
    if (const auto* t = event.if_contains("type"); t && t->is_string()) r.event_type = t->as_string();
    unix_seconds created = 0;
    if (const auto* c = event.if_contains("created"); c && c->is_int64()) created = c->as_int64();

    // 2. Exactly these bytes are signed and sent.
    const std::string body = json::serialize(event);
    const std::int64_t t = now_unix();
    stripe::header_list headers{
        {"Content-Type", "application/json"},
        {"Stripe-Signature", stripe::stripe_signature_header(webhook_secret, t, body)},
        {"User-Agent", "stripe-reconciler/0.1 (replay)"},
        {"Accept", "*/*"},
    };
    const auto before = current_failures(db, opts.event_id);
    const stripe::forward_result answer =
        co_await stripe::forward_webhook(opts.forward_to, body, std::move(headers), opts.ca_file, timeout);

    r.delivered = answer.delivered;
    r.status = answer.status;
    r.body_head = printable_head(answer.body);
    r.error = log::redact(answer.error);
    r.attempt = before ? static_cast<int>(before->occurrences) + 1 : 1;

    // 3. A failed attempt is escalation input: the second one opens it.
    if (!r.succeeded()) {
        json::object evidence{{"event_id", r.event_id},
                              {"event_type", r.event_type},
                              {"url", r.url_for_log},
                              {"status", r.delivered ? json::value(r.status) : json::value(nullptr)},
                              {"error", r.error},
                              {"response", r.body_head.substr(0, 200)},
                              {"attempted_at", format_rfc3339(t)}};
        r.escalation = db.raise(store::escalation_input{escalation_team, escalation_kind, r.event_id,
                                                        json::serialize(evidence), created},
                                0, escalate_after_failures);
        r.attempt = static_cast<int>(r.escalation->occurrences);
    }

    json::object line{{"event_id", r.event_id},
                      {"event_type", r.event_type},
                      {"url", r.url_for_log},
                      {"status", r.delivered ? json::value(r.status) : json::value(nullptr)},
                      {"attempt", r.attempt},
                      {"succeeded", r.succeeded()},
                      {"stripe_request_id", r.stripe_request_id}};
    if (!r.error.empty()) line["error"] = r.error;
    if (r.escalation) {
        line["escalation_id"] = r.escalation->id;
        line["escalation_status"] = r.escalation->status;
    }
    if (r.succeeded()) log::info("webhook_replayed", std::move(line));
    else log::warn("webhook_replayed", std::move(line));
    co_return r;
}

replay_result replay_event(const config& cfg, const replay_options& opts) {
    // Everything that can be refused is refused before Stripe or the app is contacted.
    if (!valid_event_id(opts.event_id))
        throw std::invalid_argument("EVENT_ID must be a Stripe event id such as evt_1AbC (letters, digits, _), got \"" +
                                    log::redact(opts.event_id) + "\"");
    (void)stripe::parse_forward_url(opts.forward_to);
    if (!opts.ca_file.empty() && !std::ifstream(opts.ca_file))
        throw std::invalid_argument("--ca-file " + opts.ca_file + ": cannot be read");

    const std::string key = read_secret(cfg.stripe.key, "stripe key", "stripe.key");
    log::add_secret(key);
    const std::string webhook_secret = read_secret(cfg.webhook.secret, "webhook secret", "webhook.secret");
    log::add_secret(webhook_secret);

    auto db = open_store(cfg);
    db->check_schema();

    asio::io_context ioc;
    auto transport = stripe::make_beast_transport(ioc, stripe_transport_options(cfg, key));
    stripe::client_options copts = stripe_client_options(cfg, key);
    copts.concurrency = 1;  // one object, one request
    copts.redact.push_back(webhook_secret);
    stripe::client client(*transport, copts);
    return run_sync(ioc, replay_one(client, *db, webhook_secret, opts, cfg.stripe.request_timeout));
}

std::string format_replay(const replay_result& r) {
    std::ostringstream out;
    out << "replayed " << r.event_id << " (" << (r.event_type.empty() ? "unknown type" : r.event_type) << ") to "
        << r.url_for_log << ", attempt " << r.attempt << "\n";
    if (r.delivered) {
        out << "app answered: " << r.status << (r.succeeded() ? " (accepted)" : " (rejected)") << "\n";
        if (!r.error.empty()) out << "note: " << r.error << "\n";
        out << "body (first " << body_head_bytes << " bytes):\n" << r.body_head;
        if (r.body_head.empty() || r.body_head.back() != '\n') out << "\n";
    } else {
        out << "app unreachable: " << r.error << "\n";
    }
    if (r.escalation) {
        const auto& e = *r.escalation;
        if (e.status == "open")
            out << "escalation " << e.id << " open for " << e.team << " (" << e.kind << ", failed " << e.occurrences
                << " times): hand it to the billing engineering rotation (runbook §4)\n";
        else
            out << "failure recorded (escalation " << e.id << " watching, " << e.occurrences << " of "
                << escalate_after_failures << "): a second failure escalates to " << e.team << "\n";
    } else if (r.succeeded()) {
        out << "check the app's logs for the handling (\"action\":\"subscription_updated\")\n";
    }
    return out.str();
}

}  // namespace reconciler
