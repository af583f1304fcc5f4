#include "store/escalation_rules.hpp"

namespace reconciler::store::escalation_rules {

escalation_change by_reconciler(const char* action, std::string from, std::string to, std::string note,
                                std::int64_t run_id, const std::string& now) {
    return escalation_change{0, now, "reconciler", action, std::move(from), std::move(to), std::move(note), run_id};
}

std::optional<escalation_change> seen_again(const stored& old, const escalation_input& e, std::int64_t run_id,
                                            int watch_until, const std::string& now, escalation& out) {
    out.id = old.id;
    const bool same_run = run_id != 0 && old.last_run_id == run_id;
    out.occurrences = old.occurrences + (same_run ? 0 : 1);
    out.first_seen = old.first_seen;
    out.person_closes = e.person_closes || old.person_closes;
    if (old.status == "acked") out.status = "acked";
    else if (old.status == "open" || out.occurrences >= watch_until) out.status = "open";
    else out.status = "watching";
    out.is_new = out.status == "open" && old.status != "open";
    if (old.status == out.status) return std::nullopt;
    const bool reopened = old.status == "resolved";
    return by_reconciler(reopened ? "reopened" : "opened", old.status, out.status,
                         reopened ? "seen again by run " + std::to_string(run_id) : "", run_id, now);
}

escalation_change first_seen(const escalation_input& e, std::int64_t run_id, int watch_until, const std::string& now,
                             escalation& out) {
    out.occurrences = 1;
    out.first_seen = now;
    out.status = watch_until <= 1 ? "open" : "watching";
    out.is_new = out.status == "open";
    out.person_closes = e.person_closes;
    return by_reconciler(out.status == "open" ? "opened" : "watching", "", out.status, "", run_id, now);
}

void fill_from_input(const escalation_input& e, const std::string& now, escalation& out) {
    out.team = e.team;
    out.kind = e.kind;
    out.subject = e.subject;
    out.evidence = e.evidence;
    out.last_seen = now;
    out.subject_at = e.subject_at;
}

}  // namespace reconciler::store::escalation_rules
