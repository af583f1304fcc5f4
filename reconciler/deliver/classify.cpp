#include "deliver/classify.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

namespace reconciler::deliver {

namespace {

std::chrono::seconds capped(std::int64_t seconds) {
    if (seconds <= 0) return std::chrono::seconds(0);
    return std::min(std::chrono::seconds(seconds), retry_after_cap);
}

// "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate) as unix seconds; -1 if not one.
std::int64_t parse_http_date(std::string_view value) {
    std::tm tm{};
    const std::string text(value);
    const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end != '\0') return -1;
    return static_cast<std::int64_t>(::timegm(&tm));
}

// A short, printable excerpt of the receiver's answer ("invalid_payload").
std::string excerpt(std::string_view body) {
    std::string out;
    for (char c : body.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? c : ' ';
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

}  // namespace

std::chrono::seconds parse_retry_after(std::string_view value, std::int64_t now_unix) {
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    if (value.empty()) return std::chrono::seconds(0);
    std::int64_t seconds = 0;
    const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc{} && p == value.data() + value.size()) return capped(seconds);
    if (ec == std::errc::result_out_of_range) return retry_after_cap;
    const std::int64_t at = parse_http_date(value);
    return at < 0 ? std::chrono::seconds(0) : capped(at - now_unix);
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
    for (const auto& secret : secrets) {
        if (secret.size() < 4) continue;  // "/" or "?a=1" would blank half the text, and are no credential
        for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 10))
            text.replace(at, secret.size(), "[redacted]");
    }
    return text;
}

attempt classify(const std::string& route, const stripe::post_result& r, std::int64_t now_unix,
                 const std::vector<std::string>& secrets) {
    attempt a;
    const std::string who = "deliver " + route + ": ";
    if (!r.delivered) {
        a.result = outcome::retry;
        a.error = redact(who + r.error, secrets);
        return a;
    }
    a.http_status = static_cast<int>(r.status);
    a.retry_after = parse_retry_after(r.retry_after, now_unix);
    if (r.status >= 200 && r.status < 300) {
        a.result = outcome::sent;
        return a;
    }
    const bool transient = r.status == 408 || r.status == 429 || r.status >= 500;
    a.result = transient ? outcome::retry : outcome::failed;
    std::string text = who + std::to_string(r.status) + " from receiver";
    if (r.status >= 300 && r.status < 400) text += " (redirects are not followed)";
    if (const std::string said = excerpt(r.body); !said.empty()) text += ": " + said;
    a.error = redact(std::move(text), secrets);
    return a;
}

}  // namespace reconciler::deliver
