#include "report/run_result.hpp"

namespace reconciler {

namespace {

// What a team has to look at: every disposition but those where the app
// already holds the right state.
bool counts_as_flagged(const std::string& d) {
    return d != "applied" && d != "already_applied" && d != "superseded" && d != "replayed";
}

}  // namespace

void finding_tally::add(const finding_outcome& o) {
    add(to_string(o.f.kind), to_string(o.f.owner), store::to_string(o.disposition));
}

void finding_tally::add(const std::string& kind, const std::string& team_name, const std::string& disposition) {
    ++total;
    ++by_kind[kind];
    ++by_team[team_name];
    ++by_disposition[disposition];
    ++by_kind_and_disposition[kind][disposition];
    if (counts_as_flagged(disposition)) ++flagged_by_team[team_name];
    if (disposition == "applied") ++applied;
    if (disposition == "flagged" || disposition == "failed") ++flagged;
}

std::int64_t run_result::applied() const { return tally.applied; }

std::int64_t run_result::flagged() const { return tally.flagged; }

}  // namespace reconciler
