#include "report/stdout_summary.hpp"

#include "core/timeutil.hpp"

#include <sstream>

namespace reconciler {

std::string format_summary(const run_result& r) {
    std::ostringstream s;
    s << "stripe-reconciler run " << r.run_id << ": " << (r.succeeded ? "succeeded" : "FAILED")
      << (r.dry_run ? " (dry run: nothing applied)" : "") << "\n";
    s << "  window   " << format_rfc3339(r.window_start) << " .. " << format_rfc3339(r.window_end) << "\n";
    s << "  fetched  " << r.objects << " objects in " << r.pages << " pages (" << r.requests << " requests, "
      << r.retries << " retries) in " << (r.finished_at - r.started_at) << " s\n";
    if (!r.succeeded) s << "  error    " << r.error << "\n";
    // Unknown prices come first: until they are mapped, the rest of the summary is incomplete for their customers.
    const auto unknown_price = [](const std::string& n) { return n.rfind("unknown price ", 0) == 0; };
    for (const auto& n : r.notes)
        if (unknown_price(n)) s << "  note     " << n << "\n";
    const auto& table = r.tally.by_kind_and_disposition;
    s << "  findings " << r.tally.total << " (applied " << r.applied() << ", flagged " << r.flagged() << ")\n";
    for (const auto& [kind, dispositions] : table) {
        s << "    " << kind << ":";
        for (const auto& [d, n] : dispositions) s << " " << d << " " << n;
        s << "\n";
    }
    if (!r.dry_run && r.succeeded)
        s << "  escalations " << r.new_escalations << " new, " << r.escalations_resolved << " resolved, "
          << r.open_escalations << " open\n";
    if (!r.cap_reached.empty()) s << "  CAP      " << r.cap_reached << " reached: remaining corrections flagged\n";
    for (const auto& n : r.notes)
        if (!unknown_price(n)) s << "  note     " << n << "\n";
    s << "  report   " << (r.report_dir / "report.json").string() << "\n";
    return s.str();
}

}  // namespace reconciler
