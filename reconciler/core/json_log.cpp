#include "core/json_log.hpp"

#include "core/timeutil.hpp"

#include <boost/json/serialize.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <ostream>
#include <streambuf>
#include <vector>

namespace reconciler::log {

namespace detail {

struct state {
    std::mutex mutex;
    level min_level = level::info;
    format fmt = format::json;
    bool priority_prefix = false;
    std::function<void(std::string_view)> sink, status_sink;
    std::vector<std::string> secrets;
    std::string status;  // the status line shown, empty when none
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

// syslog priorities, as sd-daemon(3)'s SD_ERR .. SD_DEBUG.
int priority(level l) {
    switch (l) {
    case level::debug: return 7;
    case level::info: return 6;
    case level::warn: return 4;
    case level::error: return 3;
    }
    return 6;
}

std::string redact_locked(std::string text, const std::vector<std::string>& secrets) {
    for (const auto& s : secrets) {
        for (auto pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos))
            text.replace(pos, s.size(), "[redacted]");
    }
    return text;
}

// A text value bare when it reads back unambiguously, else JSON-quoted.
void append_text_value(std::string& out, const boost::json::value& v) {
    if (!v.is_string()) {
        out += boost::json::serialize(v);
        return;
    }
    const std::string_view s = v.get_string();
    bool bare = !s.empty();
    for (const char c : s)
        if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) bare = false;
    if (bare) out += s;
    else out += boost::json::serialize(v);
}

std::string text_line(level l, std::int64_t ts, std::string_view event, const boost::json::object& fields) {
    const std::int64_t day = ((ts % 86400) + 86400) % 86400;
    char clock[16];
    std::snprintf(clock, sizeof clock, "%02d:%02d:%02d", static_cast<int>(day / 3600), static_cast<int>(day / 60 % 60),
                  static_cast<int>(day % 60));
    std::string out = clock;
    out += ' ';
    out += name(l);
    out += ' ';
    out += event;
    for (const auto& kv : fields) {
        out += ' ';
        out += kv.key();
        out += '=';
        append_text_value(out, kv.value());
    }
    return out;
}

void put(const std::function<void(std::string_view)>& sink, FILE* stream, std::string_view bytes) {
    if (sink) {
        sink(bytes);
        return;
    }
    std::fwrite(bytes.data(), 1, bytes.size(), stream);
    std::fflush(stream);
}

constexpr std::string_view clear_line = "\r\033[K";

// Passes characters on to `to`, with `prefix` before the first of each line.
class prefixing_buf : public std::streambuf {
public:
    prefixing_buf(std::streambuf* to, std::string prefix) : to_(to), prefix_(std::move(prefix)) {}

protected:
    int_type overflow(int_type c) override {
        if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
        if (at_line_start_ && to_->sputn(prefix_.data(), static_cast<std::streamsize>(prefix_.size())) !=
                                  static_cast<std::streamsize>(prefix_.size()))
            return traits_type::eof();
        at_line_start_ = traits_type::to_char_type(c) == '\n';
        return to_->sputc(traits_type::to_char_type(c));
    }
    int sync() override { return to_->pubsync(); }

private:
    std::streambuf* to_;
    std::string prefix_;
    bool at_line_start_ = true;
};

}  // namespace detail

std::string format_line(format f, bool priority_prefix, level l, std::int64_t ts, std::string_view event,
                        const boost::json::object& fields) {
    std::string out;
    if (priority_prefix) out = "<" + std::to_string(detail::priority(l)) + ">";
    if (f == format::text) return out + detail::text_line(l, ts, event, fields);
    boost::json::object line;
    line["ts"] = format_rfc3339(ts);
    line["level"] = detail::name(l);
    line["event"] = event;
    for (const auto& kv : fields) line[kv.key()] = kv.value();
    return out + boost::json::serialize(line);
}

void set_min_level(level l) {
    auto& g = detail::global();
    std::lock_guard lock(g.mutex);
    g.min_level = l;
}

void set_format(format f) {
    auto& g = detail::global();
    std::lock_guard lock(g.mutex);
    g.fmt = f;
}

std::optional<format> parse_format(std::string_view name) {
    if (name == "json") return format::json;
    if (name == "text") return format::text;
    return std::nullopt;
}

void set_priority_prefix(bool on) {
    auto& g = detail::global();
    std::lock_guard lock(g.mutex);
    g.priority_prefix = on;
}

bool stderr_is_journal() {
    const char* v = std::getenv("JOURNAL_STREAM");
    if (!v) return false;
    unsigned long long dev = 0, ino = 0;
    char extra = 0;
    if (std::sscanf(v, "%llu:%llu%c", &dev, &ino, &extra) != 2) return false;
    struct stat st{};
    if (::fstat(STDERR_FILENO, &st) != 0) return false;
    return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

void prefix_lines(std::ostream& os, level l) {
    // Never freed: std::cerr is flushed after every static is destroyed
    // (a static buffer here crashed the process at exit).
    os.rdbuf(new detail::prefixing_buf(os.rdbuf(), "<" + std::to_string(detail::priority(l)) + ">"));
}

format default_format() { return ::isatty(STDERR_FILENO) == 1 ? format::text : format::json; }

void set_sink(std::function<void(std::string_view)> sink) {
    auto& g = detail::global();
    std::lock_guard lock(g.mutex);
    g.sink = std::move(sink);
}

void set_status_sink(std::function<void(std::string_view)> sink) {
    auto& g = detail::global();
    std::lock_guard lock(g.mutex);
    g.status_sink = std::move(sink);
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

void show_status(std::string_view text) {
    auto& g = detail::global();
    std::lock_guard lock(g.mutex);
    g.status = detail::redact_locked(std::string(text), g.secrets);
    detail::put(g.status_sink, stdout, std::string(detail::clear_line) + g.status);
}

void clear_status() {
    auto& g = detail::global();
    std::lock_guard lock(g.mutex);
    if (g.status.empty()) return;
    g.status.clear();
    detail::put(g.status_sink, stdout, detail::clear_line);
}

void write(level l, std::string_view event, boost::json::object fields) {
    auto& g = detail::global();
    std::lock_guard lock(g.mutex);
    if (l < g.min_level) return;
    const std::string text =
        detail::redact_locked(format_line(g.fmt, g.priority_prefix, l, now_unix(), event, fields), g.secrets);
    // The status line is cleared for the log line and drawn again under it.
    if (!g.status.empty()) detail::put(g.status_sink, stdout, detail::clear_line);
    if (g.sink) g.sink(text);
    else detail::put({}, stderr, text + "\n");
    if (!g.status.empty()) detail::put(g.status_sink, stdout, g.status);
}

}  // namespace reconciler::log
