// An escalations port that stores nothing: the base of the tests' fakes,
// which override only what their test looks at (a new port method is added
// here once, not in every fake).
#pragma once

#include "store/escalations.hpp"

namespace reconciler::test {

class null_escalations : public store::escalations {
public:
    store::escalation raise(const store::escalation_input&, std::int64_t, int) override { return {}; }
    int resolve_absent(std::int64_t, unix_seconds, unix_seconds, const std::vector<std::string>&) override {
        return 0;
    }
    int resolve_rechecked(std::int64_t, const std::vector<std::string>&, const std::vector<std::string>&,
                          unix_seconds, unix_seconds) override {
        return 0;
    }
    std::vector<store::escalation> open_escalations() override { return {}; }
    void each_open_escalation(const std::function<void(const store::escalation&)>&) override {}
    void each_open_escalation_by_age(unix_seconds, const std::function<void(const store::escalation&)>&) override {}
    std::int64_t count_open_escalations() override { return 0; }
    std::map<std::string, std::int64_t> count_open_escalations_by_team() override { return {}; }
    std::optional<store::escalation> find_escalation(std::int64_t) override { return std::nullopt; }
    std::vector<store::escalation> list_escalations(const store::escalation_filter&) override { return {}; }
    std::vector<std::string> escalation_teams() override { return {}; }
    store::escalation ack_escalation(std::int64_t, const std::string&, const std::string&) override { return {}; }
    store::escalation resolve_escalation(std::int64_t, const std::string&, const std::string&) override { return {}; }
    std::vector<store::escalation_change> escalation_history(std::int64_t) override { return {}; }
    std::map<std::string, store::team_escalation_counts> count_escalations_by_team(std::int64_t) override {
        return {};
    }
};

}  // namespace reconciler::test
