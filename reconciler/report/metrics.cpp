#include "report/metrics.hpp"

#include "core/json_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace reconciler {

const char* to_string(run_mode m) noexcept {
    switch (m) {
    case run_mode::scheduled: return "scheduled";
    case run_mode::manual: return "manual";
    case run_mode::dry_run: return "dry_run";
    }
    return "scheduled";
}

run_mode run_mode_of(bool dry_run, bool window_given) noexcept {
    if (dry_run) return run_mode::dry_run;
    return window_given ? run_mode::manual : run_mode::scheduled;
}

std::optional<database_gauges> read_database_gauges(store::escalations& db) {
    try {
        database_gauges g;
        g.escalations_open = db.count_open_escalations();
        g.escalations_open_by_team = db.count_open_escalations_by_team();
        return g;
    } catch (const std::exception& e) {
        log::warn("metrics_database_unread", {{"error", log::redact(e.what())}});
        return std::nullopt;
    }
}

namespace {

constexpr std::string_view last_success_name = "stripe_reconciler_last_success_timestamp_seconds";

// A sample line's metric name and its mode label ("" when it has none).
std::pair<std::string_view, std::string_view> name_and_mode(std::string_view line) {
    const auto end = line.find_first_of("{ ");
    const std::string_view name = line.substr(0, end);
    if (end == std::string_view::npos || line[end] != '{') return {name, {}};
    const auto close = line.find('}', end);
    const std::string_view labels = line.substr(end, close == std::string_view::npos ? line.size() - end : close - end);
    const auto at = labels.find("mode=\"");
    if (at == std::string_view::npos) return {name, {}};
    const std::string_view rest = labels.substr(at + 6);
    return {name, rest.substr(0, rest.find('"'))};
}

// The file as it was: the other modes' samples by metric name, and this
// mode's last success time.
struct previous_file {
    std::map<std::string, std::vector<std::string>, std::less<>> kept;
    std::optional<unix_seconds> last_success;
};

previous_file read_previous(std::string_view text, run_mode mode) {
    previous_file p;
    const std::string_view mine = to_string(mode);
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        const auto [name, line_mode] = name_and_mode(line);
        // A file from before modes: its unlabelled success time was the scheduled run's.
        const bool legacy = line_mode.empty() && name == last_success_name && mode == run_mode::scheduled;
        if (name == last_success_name && (line_mode == mine || legacy)) {
            try {
                p.last_success = std::stoll(line.substr(line.rfind(' ') + 1));
            } catch (const std::exception&) {  // a damaged line: no success time to keep
            }
        } else if (!line_mode.empty() && line_mode != mine) {
            p.kept[std::string(name)].push_back(line);
        }
    }
    return p;
}

class prom_writer {
public:
    prom_writer(const previous_file& prev, run_mode mode) : prev_(prev), mode_(to_string(mode)) {}

    // One family: HELP, TYPE, this run's samples, then the other modes' (kept).
    // Each sample is (labels after mode, value).
    // A family with no sample at all is left out.
    void per_mode(const std::string& name, const char* help,
                  const std::vector<std::pair<std::string, std::int64_t>>& samples) {
        const auto kept = prev_.kept.find(name);
        if (samples.empty() && kept == prev_.kept.end()) return;
        head(name, help);
        for (const auto& [labels, value] : samples)
            s_ << name << "{mode=\"" << mode_ << '"' << labels << "} " << value << '\n';
        if (kept != prev_.kept.end())
            for (const auto& line : kept->second) s_ << line << '\n';
    }
    void per_mode(const std::string& name, const char* help, std::int64_t value) { per_mode(name, help, {{"", value}}); }

    // A family of the database or of the file as a whole: no mode, all samples now.
    void global(const std::string& name, const char* help,
                const std::vector<std::pair<std::string, std::int64_t>>& samples) {
        head(name, help);
        for (const auto& [labels, value] : samples)
            s_ << name << (labels.empty() ? "" : "{" + labels + "}") << ' ' << value << '\n';
    }

    std::string text() const { return s_.str(); }

private:
    void head(const std::string& name, const char* help) {
        s_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " gauge\n";
    }

    const previous_file& prev_;
    std::string mode_;
    std::ostringstream s_;
};

std::string quoted_label(const char* key, const std::string& value) {
    std::string out = std::string(key) + "=\"";
    for (const char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') out += "\\n";
        else out += c;
    }
    return out + '"';
}

void database_families(prom_writer& w, const database_gauges& db) {
    w.global("stripe_reconciler_escalations_open", "open escalations in the database (all runs), read after the last run",
             {{"", db.escalations_open}});
    // Every team a finding can go to, 0 when it has none: a missing series is not a zero.
    std::map<std::string, std::int64_t> by_team;
    for (const team t : {team::billing_engineering, team::backend_engineering, team::data_platform, team::devops,
                         team::stripe_support})
        by_team[to_string(t)] = 0;
    for (const auto& [t, n] : db.escalations_open_by_team) by_team[t] = n;
    std::vector<std::pair<std::string, std::int64_t>> samples;
    for (const auto& [t, n] : by_team) samples.emplace_back(quoted_label("team", t), n);
    w.global("stripe_reconciler_escalations_open_by_team", "open escalations in the database by team", samples);
}

// Deliveries (escalations.routes): pending and failed in the outbox, sent
// by the last run; every route that has any, each status 0 when it has none.
void delivery_family(prom_writer& w, const run_result& r) {
    if (!r.deliveries_configured) return;
    std::map<std::string, std::map<std::string, std::int64_t>> by_route;
    for (const auto& [route, c] : r.deliveries_by_route) by_route[route]["sent"] = c.sent;
    for (const auto& c : r.outbox_counts)
        if (c.status != "sent") by_route[c.route][c.status] = c.count;
    std::vector<std::pair<std::string, std::int64_t>> samples;
    for (auto& [route, statuses] : by_route)
        for (const char* status : {"failed", "pending", "sent"})
            samples.emplace_back(quoted_label("route", route) + "," + quoted_label("status", status), statuses[status]);
    w.global("stripe_reconciler_escalation_deliveries",
             "escalation deliveries by route: pending and failed in the outbox, sent by the last run", samples);
}

}  // namespace

std::string metrics_text(const run_result& r, const metrics_input& in, std::string_view previous) {
    const previous_file prev = read_previous(previous, in.mode);
    prom_writer w(prev, in.mode);
    std::vector<std::pair<std::string, std::int64_t>> modes;
    for (const run_mode m : {run_mode::scheduled, run_mode::manual, run_mode::dry_run})
        modes.emplace_back(quoted_label("mode", to_string(m)), m == in.mode ? 1 : 0);
    w.global("stripe_reconciler_last_run_mode", "1 for the mode of the most recent run, of any mode", modes);
    w.per_mode("stripe_reconciler_last_run_success", "1 if the mode's last run succeeded", r.succeeded ? 1 : 0);
    w.per_mode("stripe_reconciler_last_run_timestamp_seconds", "when the mode's last run finished", r.finished_at);
    const std::optional<unix_seconds> last_success = r.succeeded ? std::optional(r.finished_at) : prev.last_success;
    // No success of this mode yet: the family still carries the other modes'.
    w.per_mode(std::string(last_success_name), "when a run of the mode last succeeded",
               last_success ? std::vector<std::pair<std::string, std::int64_t>>{{"", *last_success}}
                            : std::vector<std::pair<std::string, std::int64_t>>{});
    w.per_mode("stripe_reconciler_last_run_duration_seconds", "duration of the mode's last run", r.finished_at - r.started_at);
    w.per_mode("stripe_reconciler_last_run_pages", "list pages fetched by the mode's last run", r.pages);
    w.per_mode("stripe_reconciler_last_run_objects", "Stripe objects fetched by the mode's last run", r.objects);
    w.per_mode("stripe_reconciler_last_run_requests", "Stripe requests (attempts) of the mode's last run", r.requests);
    w.per_mode("stripe_reconciler_last_run_retries", "Stripe requests retried by the mode's last run", r.retries);
    w.per_mode("stripe_reconciler_last_run_rate_limited", "429 responses from Stripe in the mode's last run",
               static_cast<std::int64_t>(in.rate_limited));
    w.per_mode("stripe_reconciler_last_run_corrections_applied", "corrections applied by the mode's last run",
               r.applied());
    // Runs killed mid-way that this run found and closed (recon_runs.status
    // 'abandoned'): > 0 means something kills the job; alert on it.
    w.per_mode("stripe_reconciler_last_run_abandoned_runs_found",
               "earlier runs the mode's last run found killed mid-way and marked abandoned", r.abandoned_runs);
    // Every kind gets a series, 0 when the run had none: a rate of 0 is a value.
    std::map<std::string, std::int64_t> by_kind;
    for (int k = 0; k < finding_kind_count; ++k) by_kind[to_string(static_cast<finding_kind>(k))] = 0;
    for (const auto& [kind, n] : r.tally.by_kind) by_kind[kind] = n;
    std::vector<std::pair<std::string, std::int64_t>> kinds;
    for (const auto& [kind, n] : by_kind) kinds.emplace_back("," + quoted_label("kind", kind), n);
    w.per_mode("stripe_reconciler_last_run_findings", "findings of the mode's last run by kind", kinds);
    if (in.database) database_families(w, *in.database);
    delivery_family(w, r);
    return w.text();
}

namespace {

// <file>.tmp beside it (not *.prom: the collector never reads it half
// written), 0644: node_exporter runs as another user, and the file holds
// counts, no customer data. Then rename, atomic in one directory.
void write_atomically(const std::filesystem::path& file, const std::string& text) {
    const std::string tmp = file.string() + ".tmp";
    const auto fail = [&](const char* step) {
        const std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        throw std::runtime_error("write metrics file " + file.string() + ": " + step + ": " + why);
    };
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail("open its temporary file");
    bool ok = ::fchmod(fd, 0644) == 0;  // whatever the umask
    for (std::size_t done = 0; ok && done < text.size();) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) done += static_cast<std::size_t>(n);
    }
    if (!ok) {
        const int saved = errno;
        ::close(fd);
        errno = saved;
        fail("write");
    }
    if (::close(fd) != 0) fail("close");
    if (::rename(tmp.c_str(), file.c_str()) != 0) fail("rename into place");
}

}  // namespace

void write_metrics(const std::filesystem::path& file, const run_result& r, const metrics_input& in) {
    std::ostringstream previous;
    if (std::ifstream old(file); old) previous << old.rdbuf();
    write_atomically(file, metrics_text(r, in, previous.str()));
}

}  // namespace reconciler
