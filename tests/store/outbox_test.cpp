// The store (either backend), the escalation outbox (issue 20): deliveries
// enqueued in the escalation change's own transaction, once per open.
#include "store/store_fixture.hpp"

namespace {

const std::map<std::string, std::vector<std::string>> routes{
    {"data_platform", {"data_platform/pagerduty", "data_platform/slack"}},
    {"devops", {"devops/webhook"}},
};

long long rows(temp_db& t, const std::string& where) {
    return t.count("SELECT COUNT(*) FROM recon_escalation_outbox WHERE " + where);
}

// A BEFORE INSERT trigger that fails the insert of a devops/webhook row.
void refuse_devops_webhook(temp_db& t) {
    if (t.pg_conn) {
        t.exec("CREATE FUNCTION recon.refuse_row() RETURNS trigger LANGUAGE plpgsql AS"
               " $$ BEGIN RAISE EXCEPTION 'outbox refused'; END $$");
        t.exec("CREATE TRIGGER refuse BEFORE INSERT ON recon.recon_escalation_outbox FOR EACH ROW"
               " WHEN (NEW.route = 'devops/webhook') EXECUTE FUNCTION recon.refuse_row()");
    } else {
        t.exec("CREATE TRIGGER refuse BEFORE INSERT ON recon_escalation_outbox"
               " WHEN NEW.route = 'devops/webhook' BEGIN SELECT RAISE(ABORT, 'outbox refused'); END");
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_outbox)

BOOST_AUTO_TEST_CASE(no_routes_no_rows_and_nothing_due) {
    temp_db t;
    auto s = t.open();
    s->raise({"data_platform", "balance_drift", "a@example.com", "{}", 0}, 1, 1);
    BOOST_TEST(rows(t, "1 = 1") == 0);
    BOOST_TEST(s->due_deliveries(now_unix() + 10, 10).empty());
}

BOOST_AUTO_TEST_CASE(an_open_triggers_each_route_of_its_team_once) {
    temp_db t;
    auto s = t.open();
    s->set_delivery_routes(routes);
    const store::escalation_input drift{"data_platform", "balance_drift", "a@example.com", "{\"n\":1}", 0};
    const auto e = s->raise(drift, 1, 1);
    BOOST_TEST(rows(t, "action = 'trigger' AND status = 'pending'") == 2);
    // A rerun (and the same run again) only counts an occurrence: no second page.
    s->raise(drift, 1, 1);
    s->raise(drift, 2, 1);
    BOOST_TEST(rows(t, "1 = 1") == 2);
    // Another team's escalation goes to its own route only.
    s->raise({"devops", "webhook_failed_twice", "evt_1", "{}", 0, true}, 2, 1);
    BOOST_TEST(rows(t, "route = 'devops/webhook'") == 1);
    // A team without routes: nothing.
    s->raise({"billing_engineering", "tier_mismatch", "sub_1", "{}", 10}, 2, 1);
    BOOST_TEST(rows(t, "1 = 1") == 3);

    const auto due = s->due_deliveries(now_unix(), 10);
    BOOST_TEST_REQUIRE(due.size() == 3u);
    BOOST_TEST(due[0].route == "data_platform/pagerduty");
    BOOST_TEST(due[0].action == "trigger");
    BOOST_TEST(due[0].esc.id == e.id);
    BOOST_TEST(due[0].esc.kind == "balance_drift");
    BOOST_TEST(due[0].esc.evidence.find("\"n\"") != std::string::npos);
    BOOST_TEST(s->due_deliveries(now_unix(), 1).size() == 1u);
    // Only the routes this run knows are due.
    s->set_delivery_routes({{"devops", {"devops/webhook"}}});
    BOOST_TEST(s->due_deliveries(now_unix(), 10).size() == 1u);
}

BOOST_AUTO_TEST_CASE(watching_and_acked_escalations_are_not_paged) {
    temp_db t;
    auto s = t.open();
    s->set_delivery_routes(routes);
    const store::escalation_input tier{"devops", "tier_mismatch", "sub_1", "{}", 1000};
    BOOST_TEST(s->raise(tier, 1, 2).status == "watching");
    BOOST_TEST(rows(t, "1 = 1") == 0);
    BOOST_TEST(s->raise(tier, 2, 2).status == "open");  // escalated on the second sighting
    BOOST_TEST(rows(t, "action = 'trigger'") == 1);
    // Acked: seen again and again, never re-paged.
    const store::escalation_input drift{"data_platform", "balance_drift", "a@example.com", "{}", 0};
    const auto e = s->raise(drift, 1, 1);
    s->ack_escalation(e.id, "alice", "on it");
    BOOST_TEST(s->raise(drift, 2, 1).status == "acked");
    BOOST_TEST(s->raise(drift, 3, 1).status == "acked");
    BOOST_TEST(rows(t, "escalation_id = " + std::to_string(e.id)) == 2);  // its first open's two
}

BOOST_AUTO_TEST_CASE(resolve_goes_to_the_routes_that_got_a_trigger_and_reopen_triggers_again) {
    temp_db t;
    auto s = t.open();
    // data_platform delivered to pagerduty only when this one opened.
    s->set_delivery_routes({{"data_platform", {"data_platform/pagerduty"}}});
    const store::escalation_input stuck{"data_platform", "negative_or_stuck_balance", "a@example.com", "{}", 100};
    const auto e = s->raise(stuck, 1, 1);
    s->set_delivery_routes(routes);
    // The run re-checked a@ and found it clear.
    BOOST_TEST(s->resolve_rechecked(2, {"negative_or_stuck_balance"}, {"a@example.com"}, 0, 900) == 1);
    BOOST_TEST(rows(t, "action = 'resolve'") == 1);
    BOOST_TEST(rows(t, "action = 'resolve' AND route = 'data_platform/pagerduty'") == 1);
    // A resolve waits for its trigger.
    auto due = s->due_deliveries(now_unix(), 10);
    BOOST_TEST_REQUIRE(due.size() == 1u);
    BOOST_TEST(due[0].action == "trigger");
    s->mark_delivery_sent(due[0].id);
    due = s->due_deliveries(now_unix(), 10);
    BOOST_TEST_REQUIRE(due.size() == 1u);
    BOOST_TEST(due[0].action == "resolve");
    BOOST_TEST(due[0].esc.status == "resolved");
    // It comes back: reopened, a new trigger on both routes now; a person resolves it.
    BOOST_TEST(s->raise(stuck, 3, 1).is_new);
    BOOST_TEST(rows(t, "action = 'trigger'") == 3);
    s->resolve_escalation(e.id, "bob", "fixed by hand");
    BOOST_TEST(rows(t, "action = 'resolve'") == 3);
    // Resolved again with nothing new: no second resolve.
    BOOST_TEST(s->resolve_rechecked(4, {"negative_or_stuck_balance"}, {"a@example.com"}, 0, 900) == 0);
    BOOST_TEST(rows(t, "1 = 1") == 6);
    // A resolve by a run that never paged: none.
    const auto quiet = s->raise({"billing_engineering", "tier_mismatch", "sub_9", "{}", 50}, 5, 1);
    BOOST_TEST(s->resolve_absent(6, 0, 100, {"tier_mismatch"}) == 1);
    BOOST_TEST(rows(t, "escalation_id = " + std::to_string(quiet.id)) == 0);
}

BOOST_AUTO_TEST_CASE(a_raise_rolled_back_leaves_no_outbox_row_and_no_escalation) {
    temp_db t;
    auto s = t.open();
    s->set_delivery_routes({{"devops", {"devops/pagerduty", "devops/webhook"}}});
    refuse_devops_webhook(t);
    // The pagerduty row is written, then the webhook's fails: all of it rolls back.
    BOOST_CHECK_THROW(s->raise({"devops", "webhook_failed_twice", "evt_1", "{}", 0, true}, 1, 1), std::exception);
    BOOST_TEST(rows(t, "1 = 1") == 0);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_escalations") == 0);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_escalation_history") == 0);
    // The same with a correction: the grant, its ledger row and its escalation go with it.
    const auto escalate = [](const store::apply_result&) {
        return std::optional<store::escalation_request>(
            store::escalation_request{{"devops", "credits_not_granted", "in_1", "{}", 10}, 1, false});
    };
    BOOST_CHECK_THROW(s->apply(grant(), 1, "corr_1", escalate), std::exception);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_corrections") == 0);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_escalations") == 0);
    BOOST_TEST(t.metadata(1).at("ai_credits").as_int64() == 50);
}

BOOST_AUTO_TEST_CASE(attempts_backoff_and_giving_up) {
    temp_db t;
    auto s = t.open();
    s->set_delivery_routes(routes);
    s->raise({"devops", "webhook_failed_twice", "evt_1", "{}", 0, true}, 1, 1);
    const auto now = now_unix();
    auto due = s->due_deliveries(now, 10);
    BOOST_TEST_REQUIRE(due.size() == 1u);
    const auto id = due[0].id;
    BOOST_TEST(s->mark_delivery_failed(id, now + 60, "devops/webhook: HTTP 503", false, 3) == "pending");
    BOOST_TEST(s->due_deliveries(now, 10).empty());  // not before its next attempt
    due = s->due_deliveries(now + 60, 10);
    BOOST_TEST_REQUIRE(due.size() == 1u);
    BOOST_TEST(due[0].attempts == 1);
    BOOST_TEST(s->mark_delivery_failed(id, now + 120, "devops/webhook: HTTP 503", false, 3) == "pending");
    BOOST_TEST(s->mark_delivery_failed(id, now + 240, "devops/webhook: timeout", false, 3) == "failed");
    BOOST_TEST(s->due_deliveries(now + 1000, 10).empty());
    BOOST_TEST(t.count("SELECT attempts FROM recon_escalation_outbox WHERE id = " + std::to_string(id)) == 3);
    // A refusal for good fails at once; sent is counted as sent.
    s->raise({"data_platform", "balance_drift", "a@example.com", "{}", 0}, 1, 1);
    due = s->due_deliveries(now, 10);
    BOOST_TEST_REQUIRE(due.size() == 2u);
    BOOST_TEST(s->mark_delivery_failed(due[0].id, now, "data_platform/pagerduty: HTTP 400", true, 8) == "failed");
    s->mark_delivery_sent(due[1].id);
    const auto counts = s->count_deliveries();
    BOOST_TEST_REQUIRE(counts.size() == 3u);
    BOOST_TEST(counts[0].route == "data_platform/pagerduty");
    BOOST_TEST(counts[0].status == "failed");
    BOOST_TEST(counts[1].route == "data_platform/slack");
    BOOST_TEST(counts[1].status == "sent");
    BOOST_TEST(counts[2].route == "devops/webhook");
    BOOST_TEST(counts[2].count == 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(store_escalation_counts)

BOOST_AUTO_TEST_CASE(by_team_new_open_acked_and_resolved_by_the_run) {
    temp_db t;
    auto s = t.open();
    s->raise({"data_platform", "balance_drift", "a@example.com", "{}", 0}, 1, 1);
    const auto b = s->raise({"data_platform", "balance_drift", "b@example.com", "{}", 0}, 1, 1);
    s->raise({"devops", "tier_mismatch", "sub_1", "{}", 100}, 1, 1);
    s->ack_escalation(b.id, "alice", "");
    s->raise({"data_platform", "balance_drift", "c@example.com", "{}", 0}, 2, 1);
    BOOST_TEST(s->resolve_absent(2, 0, 1000, {"tier_mismatch"}) == 1);
    const auto c = s->count_escalations_by_team(2);
    BOOST_TEST_REQUIRE(c.size() == 2u);
    BOOST_TEST(c.at("data_platform").opened == 1);  // c@ only: a@ and b@ were run 1's
    BOOST_TEST(c.at("data_platform").open == 2);
    BOOST_TEST(c.at("data_platform").acked == 1);
    BOOST_TEST(c.at("data_platform").resolved == 0);
    BOOST_TEST(c.at("devops").opened == 0);
    BOOST_TEST(c.at("devops").open == 0);
    BOOST_TEST(c.at("devops").resolved == 1);
    BOOST_TEST(s->count_escalations_by_team(1).at("data_platform").opened == 2);
}

BOOST_AUTO_TEST_SUITE_END()
