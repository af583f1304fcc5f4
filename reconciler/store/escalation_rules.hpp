// How an escalation record moves when a run raises it, the same on every
// backend: occurrences counted once per run, the status it takes (watching
// until `watch_until` sightings, reopened when it was resolved, still acked
// when a person acked it) and the history row that says so. The backends
// (sqlite/escalations.cpp, postgres/escalations.cpp) read and write the rows.
#pragma once

#include "store/types.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace reconciler::store::escalation_rules {

// The stored record as the raise found it.
struct stored {
    std::int64_t id = 0;
    std::int64_t occurrences = 0;
    std::string status;
    std::string first_seen;
    std::optional<std::int64_t> last_run_id;
    bool person_closes = false;
};

// The reconciler's own history row.
escalation_change by_reconciler(const char* action, std::string from, std::string to, std::string note,
                                std::int64_t run_id, const std::string& now);

// Seen again by `run_id` (0: no run, a `replay` attempt, each of which
// counts): fills out's id, occurrences, status, first_seen, person_closes and
// is_new; the history row to write when the status changed.
std::optional<escalation_change> seen_again(const stored& old, const escalation_input& e, std::int64_t run_id,
                                            int watch_until, const std::string& now, escalation& out);

// Seen the first time: fills out's occurrences, first_seen, status,
// person_closes and is_new; the history row to write once out.id is known.
escalation_change first_seen(const escalation_input& e, std::int64_t run_id, int watch_until, const std::string& now,
                             escalation& out);

// What every raise sets from the input whatever the record's state: team,
// kind, subject, evidence, subject time, and `now` as last seen.
void fill_from_input(const escalation_input& e, const std::string& now, escalation& out);

}  // namespace reconciler::store::escalation_rules
