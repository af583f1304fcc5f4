#include "core/json_log.hpp"

#include "core/timeutil.hpp"

#include <boost/json/serialize.hpp>

#include <cstdio>
#include <mutex>
#include <vector>

namespace reconciler::log {

namespace detail {

struct state {
    std::mutex mutex;
    level min_level = level::info;
    std::function<void(std::string_view)> sink;
    std::vector<std::string> secrets;
};

state& global() {
    static state s;
    return s;
}

const char* name(level l) {
    switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
    }
    return "info";
}

std::string redact_locked(std::string text, const std::vector<std::string>& secrets) {
    for (const auto& s : secrets) {
        for (auto pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos))
            text.replace(pos, s.size(), "[redacted]");
    }
    return text;
}

}  // namespace detail

void set_min_level(level l) {
    auto& g = detail::global();
    std::lock_guard lock(g.mutex);
    g.min_level = l;
}

void set_sink(std::function<void(std::string_view)> sink) {
    auto& g = detail::global();
    std::lock_guard lock(g.mutex);
    g.sink = std::move(sink);
}

void add_secret(std::string secret) {
    // Short strings would redact ordinary words; real keys are long.
    if (secret.size() < 8) return;
    auto& g = detail::global();
    std::lock_guard lock(g.mutex);
    g.secrets.push_back(std::move(secret));
}

std::string redact(std::string text) {
    auto& g = detail::global();
    std::lock_guard lock(g.mutex);
    return detail::redact_locked(std::move(text), g.secrets);
}

void write(level l, std::string_view event, boost::json::object fields) {
    auto& g = detail::global();
    std::lock_guard lock(g.mutex);
    if (l < g.min_level) return;
    boost::json::object line;
    line["ts"] = format_rfc3339(now_unix());
    line["level"] = detail::name(l);
    line["event"] = event;
    for (auto& kv : fields) line[kv.key()] = std::move(kv.value());
    std::string text = detail::redact_locked(boost::json::serialize(line), g.secrets);
    if (g.sink) {
        g.sink(text);
    } else {
        text.push_back('\n');
        std::fwrite(text.data(), 1, text.size(), stderr);
        std::fflush(stderr);
    }
}

}  // namespace reconciler::log
