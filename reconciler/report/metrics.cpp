#include "report/metrics.hpp"

#include "report/report_dir.hpp"

#include <fstream>
#include <map>
#include <sstream>

namespace reconciler {

std::string metrics_text(const run_result& r, std::optional<unix_seconds> last_success) {
    std::ostringstream s;
    auto gauge = [&](const char* name, const char* help, auto value) {
        s << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " gauge\n" << name << ' ' << value << '\n';
    };
    gauge("stripe_reconciler_last_run_success", "1 if the last run succeeded", r.succeeded ? 1 : 0);
    gauge("stripe_reconciler_last_run_timestamp_seconds", "when the last run finished", r.finished_at);
    if (last_success)
        gauge("stripe_reconciler_last_success_timestamp_seconds", "when a run last succeeded", *last_success);
    gauge("stripe_reconciler_last_run_duration_seconds", "duration of the last run", r.finished_at - r.started_at);
    gauge("stripe_reconciler_last_run_pages", "list pages fetched by the last run", r.pages);
    gauge("stripe_reconciler_last_run_objects", "Stripe objects fetched by the last run", r.objects);
    gauge("stripe_reconciler_last_run_requests", "Stripe requests of the last run", r.requests);
    gauge("stripe_reconciler_last_run_corrections_applied", "corrections applied by the last run", r.applied());
    gauge("stripe_reconciler_escalations_open", "open escalations after the last run",
          r.open_escalations);
    // Every kind gets a series, 0 when the run had none: a rate of 0 is a value.
    std::map<std::string, std::int64_t> by_kind;
    for (int k = 0; k < finding_kind_count; ++k) by_kind[to_string(static_cast<finding_kind>(k))] = 0;
    for (const auto& [kind, n] : r.tally.by_kind) by_kind[kind] = n;
    s << "# HELP stripe_reconciler_last_run_findings findings of the last run by kind\n"
         "# TYPE stripe_reconciler_last_run_findings gauge\n";
    for (const auto& [kind, n] : by_kind) s << "stripe_reconciler_last_run_findings{kind=\"" << kind << "\"} " << n << '\n';
    return s.str();
}

void write_metrics(const std::filesystem::path& output_dir, const run_result& r) {
    // A failed run keeps the previous success time, so "time since last
    // success" alerts keep counting.
    std::optional<unix_seconds> last_success;
    if (r.succeeded) last_success = r.finished_at;
    else {
        std::ifstream in(output_dir / "reconciler.prom");
        std::string line;
        const std::string key = "stripe_reconciler_last_success_timestamp_seconds ";
        while (std::getline(in, line))
            if (line.rfind(key, 0) == 0) last_success = std::stoll(line.substr(key.size()));
    }
    detail::write_file(output_dir / "reconciler.prom", metrics_text(r, last_success));
}

}  // namespace reconciler
