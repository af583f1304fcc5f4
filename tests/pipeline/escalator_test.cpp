// Who is told, and when (pipeline/escalator.hpp), against a recording
// escalations port: the rules the runbook's teams rely on.
#include "pipeline/escalator.hpp"
#include "support/null_escalations.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <optional>
#include <fstream>
#include <unistd.h>

using namespace reconciler;
using namespace reconciler::pipeline;

namespace {

struct recorded_raise {
    store::escalation_input e;
    int watch_until = 0;
};

// Records what the escalator asks of the store.
class recording_escalations : public test::null_escalations {
public:
    std::vector<recorded_raise> raised;
    std::vector<std::size_t> batches;  // raise_all()'s sizes: one transaction each
    std::vector<std::vector<std::string>> resolved_kinds;
    struct recheck {
        std::vector<std::string> kinds, subjects;
        unix_seconds start;
    };
    std::vector<recheck> rechecked;

    store::escalation raise(const store::escalation_input& e, std::int64_t, int watch_until) override {
        raised.push_back({e, watch_until});
        store::escalation out;
        out.id = static_cast<std::int64_t>(raised.size());
        out.team = e.team;
        out.kind = e.kind;
        out.subject = e.subject;
        out.is_new = true;
        return out;
    }
    std::vector<store::escalation> raise_all(const std::vector<store::raise_input>& requests,
                                             std::int64_t run_id) override {
        batches.push_back(requests.size());
        return escalations::raise_all(requests, run_id);
    }
    int resolve_absent(std::int64_t, unix_seconds, unix_seconds, const std::vector<std::string>& kinds) override {
        resolved_kinds.push_back(kinds);
        return 2;
    }
    int resolve_rechecked(std::int64_t, const std::vector<std::string>& kinds, const std::vector<std::string>& subjects,
                          unix_seconds start, unix_seconds) override {
        rechecked.push_back({kinds, subjects, start});
        return 1;
    }
};

struct fixture {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("escalator-test-" + std::to_string(::getpid()));
    recording_escalations db;
    run_result result;
    fixture() {
        std::filesystem::create_directories(dir);
        result.run_id = 7;
    }
    ~fixture() { std::filesystem::remove_all(dir); }

    finding_outcome& outcome(finding_kind kind, store::disposition d, std::string note = {}) {
        finding_outcome o;
        o.f.kind = kind;
        o.f.owner = team::billing_engineering;
        o.f.subject_id = "sub_" + std::to_string(result.outcomes.size());
        o.f.summary = "summary";
        o.disposition = d;
        o.note = std::move(note);
        result.outcomes.push_back(std::move(o));
        return result.outcomes.back();
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(escalator_rules, fixture)

BOOST_AUTO_TEST_CASE(flagged_and_failed_are_escalated_applied_ones_are_not) {
    report_writer report(dir);
    escalator esc(db, report);
    outcome(finding_kind::credits_not_granted, store::disposition::applied);
    outcome(finding_kind::credits_not_granted, store::disposition::flagged, "policy: flag");
    outcome(finding_kind::amount_mismatch, store::disposition::failed, "conflict");
    outcome(finding_kind::credits_not_granted, store::disposition::already_applied);
    esc.raise_for(result, 0);
    BOOST_REQUIRE_EQUAL(db.raised.size(), 2u);
    BOOST_TEST(db.raised[0].e.subject == "sub_1");
    BOOST_TEST(db.raised[1].e.subject == "sub_2");
    // The evidence carries the summary and why it was not applied.
    const auto ev = boost::json::parse(db.raised[0].e.evidence).as_object();
    BOOST_TEST(ev.at("note").as_string() == "policy: flag");
    BOOST_TEST(ev.at("summary").as_string() == "summary");
    BOOST_TEST(result.new_escalations == 2);
    BOOST_TEST(result.escalations_raised == 2);
}

// A part's escalations are raised a bounded batch per transaction, not one
// transaction each, and reach the report in the outcomes' order, those
// written with their corrections among them.
BOOST_AUTO_TEST_CASE(a_parts_escalations_are_raised_in_bounded_batches_in_order) {
    report_writer report(dir);
    escalator esc(db, report);
    for (int i = 0; i < 600; ++i) outcome(finding_kind::amount_mismatch, store::disposition::flagged, "conflict");
    outcome(finding_kind::paid_without_entitlement_change, store::disposition::applied);
    outcome(finding_kind::amount_mismatch, store::disposition::flagged, "conflict");
    store::escalation with_grant;
    with_grant.kind = "paid_without_entitlement_change";
    with_grant.subject = "sub_600";
    esc.raise_for(result, 0, {{"paid_without_entitlement_change:sub_600", with_grant}});
    BOOST_TEST(db.batches == (std::vector<std::size_t>{256, 256, 89}), boost::test_tools::per_element());
    BOOST_REQUIRE_EQUAL(db.raised.size(), 601u);
    BOOST_TEST(db.raised[599].e.subject == "sub_599");
    BOOST_TEST(db.raised[600].e.subject == "sub_601");
    BOOST_TEST(result.escalations_raised == 602);
    std::ifstream in(dir / "escalations.jsonl");
    std::vector<std::string> subjects;
    for (std::string line; std::getline(in, line);)
        subjects.emplace_back(boost::json::parse(line).as_object().at("subject").as_string());
    BOOST_REQUIRE_EQUAL(subjects.size(), 602u);
    BOOST_TEST(subjects[600] == "sub_600");
    BOOST_TEST(subjects[601] == "sub_601");
}

BOOST_AUTO_TEST_CASE(a_repaired_missing_entitlement_change_and_a_partial_clawback_still_reach_a_person) {
    report_writer report(dir);
    escalator esc(db, report);
    outcome(finding_kind::paid_without_entitlement_change, store::disposition::applied);
    auto& claw = outcome(finding_kind::refund_or_dispute, store::disposition::applied,
                         "300 credits were already spent and could not be taken back");
    claw.f.correction = proposed_correction{};
    claw.f.correction->kind = correction_kind::revoke_credits;
    esc.raise_for(result, 0);
    BOOST_REQUIRE_EQUAL(db.raised.size(), 2u);
    // Only a person closes either: the reconciler's own correction hid the symptom.
    BOOST_TEST(db.raised[0].e.person_closes);
    BOOST_TEST(db.raised[1].e.person_closes);
    // Already written with its correction: reported and counted, not raised again.
    store::escalation with_grant;
    with_grant.kind = "paid_without_entitlement_change";
    with_grant.subject = "sub_0";
    with_grant.is_new = true;
    esc.raise_for(result, 0, {{store::escalation_key(with_grant), with_grant}});
    BOOST_TEST(db.raised.size() == 3u);  // only the clawback again
    BOOST_TEST(result.escalations_raised == 4);
}

BOOST_AUTO_TEST_CASE(a_failed_tier_fix_waits_for_its_second_failure_and_a_cap_is_raised_once) {
    report_writer report(dir);
    escalator esc(db, report);
    outcome(finding_kind::tier_mismatch, store::disposition::failed, "conflict");
    result.cap_reached = "limits.max_credits_per_run";
    esc.raise_for(result, 0);
    BOOST_REQUIRE_EQUAL(db.raised.size(), 2u);
    BOOST_TEST(db.raised[0].watch_until == 2);
    BOOST_TEST(db.raised[1].e.kind == "blast_radius_cap");
    BOOST_TEST(db.raised[1].e.subject == "run-7");
    esc.raise_for(result, result.outcomes.size());  // a later part of the same run
    BOOST_TEST(db.raised.size() == 2u);
    // Only the earlier outcomes are left alone: from `first_outcome` on.
    outcome(finding_kind::orphan_local_payment, store::disposition::flagged);
    esc.raise_for(result, 1);
    BOOST_TEST(db.raised.size() == 3u);
}

BOOST_AUTO_TEST_CASE(resolving_names_the_kinds_and_counts_what_was_closed) {
    report_writer report(dir);
    escalator esc(db, report);
    // Only the kinds a run closes by the window's time: not a user's (no
    // time: re-checked users only), not the webhook path's (a person only).
    esc.resolve_absent(result, 0, 10,
                       {finding_kind::tier_mismatch, finding_kind::balance_drift, finding_kind::missed_webhook,
                        finding_kind::paid_without_entitlement_change, finding_kind::webhook_failed_twice,
                        finding_kind::credits_not_granted});
    BOOST_REQUIRE_EQUAL(db.resolved_kinds.size(), 1u);
    BOOST_TEST((db.resolved_kinds[0] == std::vector<std::string>{"tier_mismatch", "credits_not_granted"}));
    BOOST_TEST(result.escalations_resolved == 2);
    // The user kinds, for the users re-evaluated, over the window's time (a drift: up to its end).
    result.window_start = 100;
    result.window_end = 200;
    esc.resolve_rechecked_users(result, {"a@example.com"});
    BOOST_REQUIRE_EQUAL(db.rechecked.size(), 2u);
    BOOST_TEST((db.rechecked[0].kinds == std::vector<std::string>{"balance_drift"}));
    BOOST_TEST((db.rechecked[1].kinds ==
                std::vector<std::string>{"negative_or_stuck_balance", "credits_not_decrementing"}));
    BOOST_TEST(db.rechecked[1].start == 100);
    BOOST_TEST((db.rechecked[1].subjects == std::vector<std::string>{"a@example.com"}));
    // Each raised escalation is also in the report's escalations.jsonl.
    outcome(finding_kind::orphan_local_payment, store::disposition::flagged);
    esc.raise_for(result, 0);
    report.findings(result);
    std::ifstream in(dir / "escalations.jsonl");
    std::string line;
    BOOST_TEST(static_cast<bool>(std::getline(in, line)));
    BOOST_TEST(line.find("orphan_local_payment") != std::string::npos);
    // Stamped like findings.jsonl: a warehouse load needs no path parsing.
    BOOST_TEST(line.find("\"run_id\":" + std::to_string(result.run_id)) != std::string::npos);
    BOOST_TEST(line.find("\"window_start\":\"") != std::string::npos);
}

// A user-level finding has no time of its own: its escalation is tied to the
// start of the window it was seen in, so only a window that covers it closes it.
BOOST_AUTO_TEST_CASE(a_user_level_escalation_is_tied_to_its_window) {
    report_writer report(dir);
    escalator esc(db, report);
    result.window_start = 5000;
    outcome(finding_kind::negative_or_stuck_balance, store::disposition::flagged);
    outcome(finding_kind::amount_mismatch, store::disposition::flagged).f.at = 4200;
    esc.raise_for(result, 0);
    BOOST_REQUIRE_EQUAL(db.raised.size(), 2u);
    BOOST_TEST(db.raised[0].e.subject_at == 5000);
    BOOST_TEST(!db.raised[0].e.person_closes);
    BOOST_TEST(db.raised[1].e.subject_at == 4200);
}

BOOST_AUTO_TEST_SUITE_END()
