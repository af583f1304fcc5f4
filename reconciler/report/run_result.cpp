#include "report/run_result.hpp"

namespace reconciler {

namespace {

// What a team has to look at: every disposition but those where the app
// already holds the right state.
bool counts_as_flagged(store::disposition d) {
    return d != store::disposition::applied && d != store::disposition::already_applied &&
           d != store::disposition::superseded && d != store::disposition::replayed;
}

}  // namespace

void finding_tally::add(const finding_outcome& o) {
    ++total;
    const std::string kind = to_string(o.f.kind), team_name = to_string(o.f.owner),
                      disposition = store::to_string(o.disposition);
    ++by_kind[kind];
    ++by_team[team_name];
    ++by_disposition[disposition];
    ++by_kind_and_disposition[kind][disposition];
    if (counts_as_flagged(o.disposition)) ++flagged_by_team[team_name];
    if (o.disposition == store::disposition::applied) ++applied;
    if (o.disposition == store::disposition::flagged || o.disposition == store::disposition::failed) ++flagged;
}

std::int64_t run_result::applied() const { return tally.applied; }

std::int64_t run_result::flagged() const { return tally.flagged; }

}  // namespace reconciler
