// make_https_sender: one POST per send() through stripe::post_once (the
// same dialling, TLS and loopback rules as the webhook forwarder), with the
// channel's payload and one deadline for the whole attempt.
#include "deliver/classify.hpp"
#include "deliver/payloads.hpp"
#include "deliver/sender.hpp"

#include "stripe/https_post.hpp"
#include "stripe/tls.hpp"
#include "stripe/url.hpp"

#include <chrono>
#include <optional>
#include <stdexcept>
#include <vector>

namespace reconciler::deliver {

namespace asio = boost::asio;

namespace {

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

attempt refused(outcome o, const endpoint& to, const std::string& why) {
    attempt a;
    a.result = o;
    a.error = "deliver " + to.name + ": " + why;
    return a;
}

// The request one channel sends: its body and headers.
struct request {
    std::string body;
    stripe::header_list headers{{"Content-Type", "application/json"}, {"User-Agent", "stripe-reconciler"}};
};

request build_request(const endpoint& to, const escalation_event& e) {
    request r;
    switch (to.kind) {
    case channel::pagerduty: r.body = pagerduty_payload(to.secret, e); break;
    case channel::slack: r.body = slack_payload(e); break;
    case channel::webhook: {
        r.body = webhook_payload(e);
        for (auto& h : webhook_headers(to.secret, unix_now(), r.body, e)) r.headers.push_back(std::move(h));
        break;
    }
    }
    return r;
}

class https_sender final : public sender {
public:
    explicit https_sender(https_sender_options options) : options_(std::move(options)) {}

    asio::awaitable<attempt> send(const endpoint& to, const escalation_event& e) override {
        stripe::http_url url;
        try {
            url = stripe::parse_http_url(to.url);
        } catch (const stripe::url_error& err) {  // what() is the reason only: no URL in it
            co_return refused(outcome::failed, to, std::string("endpoint URL is not usable: ") + err.what());
        }
        if (url.has_userinfo) co_return refused(outcome::failed, to, "endpoint URL carries user info (refused)");
        if (!url.tls && !stripe::is_loopback_host(url.host))
            co_return refused(outcome::failed, to, "endpoint URL is http:// to a host that is not loopback (https required)");
        // The path and query may be the credential (a Slack webhook's path is).
        std::string target = url.path.empty() ? "/" : url.path;
        if (url.has_query) target += "?" + url.query;
        const std::vector<std::string> secrets{to.secret, target, url.path, url.query};

        if (url.tls && !tls_) {
            try {
                tls_.emplace(stripe::tls::make_client_context(
                    options_.ca_file, {"deliver", "escalations.delivery.ca_file", "escalations.delivery.ca_file",
                                       "set escalations.delivery.ca_file"}));
            } catch (const std::invalid_argument& err) {
                co_return refused(outcome::retry, to, err.what());  // a local setup problem: keep the delivery
            }
        }

        request req = build_request(to, e);
        stripe::post_options post;
        post.tls = tls_ ? &*tls_ : nullptr;
        post.step_timeout = options_.deadline;
        post.deadline = std::chrono::steady_clock::now() + options_.deadline;
        post.timeout_text = "no answer within the " + std::to_string(options_.deadline.count()) + " ms deadline";
        post.max_body_bytes = 64 * 1024;
        stripe::post_result r;
        try {
            r = co_await stripe::post_once(url, target, std::move(req.body), req.headers, post);
        } catch (const std::exception& err) {  // setup refused by post_once: nothing was sent
            co_return attempt{outcome::retry, 0, redact("deliver " + to.name + ": " + err.what(), secrets), {}};
        }
        co_return classify(to.name, r, unix_now(), secrets);
    }

private:
    https_sender_options options_;
    std::optional<asio::ssl::context> tls_;
};

}  // namespace

std::unique_ptr<sender> make_https_sender(asio::any_io_executor /*ex*/, const https_sender_options& options) {
    if (options.deadline <= std::chrono::milliseconds::zero())
        throw std::invalid_argument("deliver: the per-attempt deadline must be positive");
    return std::make_unique<https_sender>(options);
}

}  // namespace reconciler::deliver
