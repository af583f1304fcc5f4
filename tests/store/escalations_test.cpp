// The store (either backend), escalations: escalations: raise, watch, resolve, list.
#include "store/store_fixture.hpp"

#include "store/embedded_sql.hpp"

BOOST_AUTO_TEST_SUITE(store_escalations)

BOOST_AUTO_TEST_CASE(escalations_count_occurrences_watch_and_resolve) {
    temp_db t;
    auto s = t.open();
    store::escalation_input e{"data_platform", "balance_drift", "a@example.com", "{}", 0};
    auto first = s->raise(e, 1, 1);
    BOOST_TEST(first.is_new);
    auto second = s->raise(e, 2, 1);
    BOOST_TEST(!second.is_new);
    BOOST_TEST(second.id == first.id);
    BOOST_TEST(second.occurrences == 2);
    // Escalated only on the second failure.
    store::escalation_input tier{"billing_engineering", "tier_mismatch", "sub_1", "{}", 1000};
    BOOST_TEST(s->raise(tier, 1, 2).status == "watching");
    auto again = s->raise(tier, 2, 2);
    BOOST_TEST(again.status == "open");
    BOOST_TEST(again.is_new);
    // A run over [0, 500) did not look at sub_1 (at 1000), and the drift has
    // no subject time: no window range ever covers it. Nothing resolves.
    BOOST_TEST(s->resolve_absent(3, 0, 500, {"balance_drift", "tier_mismatch"}) == 0);
    BOOST_TEST(s->resolve_absent(3, 0, 5000, {"balance_drift"}) == 0);
    BOOST_TEST(s->open_escalations().size() == 2u);
    // Run 4 raised sub_1 again (in any part of the run): still present.
    BOOST_TEST(s->raise(tier, 4, 2).status == "open");
    BOOST_TEST(s->resolve_absent(4, 0, 2000, {"tier_mismatch"}) == 0);
    BOOST_TEST(s->resolve_absent(5, 0, 2000, {"tier_mismatch"}) == 1);
    BOOST_TEST(s->open_escalations().size() == 1u);
}

// The lifecycle of docs/findings.md: what only a person closes, users
// re-checked, reopening, acks kept across runs, each change in the history.
BOOST_AUTO_TEST_CASE(lifecycle_person_only_rechecked_users_reopen_and_acks) {
    temp_db t;
    auto s = t.open();
    store::escalation_input webhook{"billing_engineering", "missed_webhook", "evt_1", "{}", 1000, true};
    store::escalation_input stuck{"data_platform", "negative_or_stuck_balance", "a@example.com", "{}", 100};
    store::escalation_input other{"data_platform", "negative_or_stuck_balance", "b@example.com", "{}", 100};
    const auto w = s->raise(webhook, 1, 1);
    BOOST_TEST(w.person_closes);
    s->raise(stuck, 1, 1);
    s->raise(other, 1, 1);
    BOOST_TEST(s->raise(stuck, 1, 1).occurrences == 1);  // seen twice by one run: one occurrence
    // Run 2 covers evt_1's time and did not see it: still open, a person closes it.
    BOOST_TEST(s->resolve_absent(2, 0, 2000, {"missed_webhook"}) == 0);
    // Run 2 re-checked a@ only, over a window that starts after where it was seen: nothing.
    const std::vector<std::string> kinds{"negative_or_stuck_balance"};
    BOOST_TEST(s->resolve_rechecked(2, kinds, {"a@example.com"}, 500, 900) == 0);
    // Over its window: a@ resolves, b@ (not re-checked) stays open.
    BOOST_TEST(s->resolve_rechecked(2, kinds, {"a@example.com"}, 100, 900) == 1);
    BOOST_TEST(s->find_escalation(s->raise(other, 2, 1).id)->status == "open");
    // The problem comes back: reopened (new again), with the history.
    const auto again = s->raise(stuck, 3, 1);
    BOOST_TEST(again.status == "open");
    BOOST_TEST(again.is_new);
    std::vector<std::string> actions;
    for (const auto& c : s->escalation_history(again.id)) actions.push_back(c.action + "/" + c.actor);
    BOOST_TEST(actions == (std::vector<std::string>{"opened/reconciler", "resolved/reconciler", "reopened/reconciler"}),
               boost::test_tools::per_element());
    // Acked by a person: the next runs keep it acked, not new.
    const auto acked = s->ack_escalation(w.id, "alice", "looking at the endpoint");
    BOOST_TEST(acked.status == "acked");
    BOOST_TEST(acked.acked_by == "alice");
    const auto seen = s->raise(webhook, 4, 1);
    BOOST_TEST(seen.status == "acked");
    BOOST_TEST(!seen.is_new);
    BOOST_CHECK_THROW(s->ack_escalation(w.id, "bob", ""), store::store_error);
    // A person resolves it; history has who, what and the note.
    const auto done = s->resolve_escalation(w.id, "alice", "endpoint fixed, event re-sent");
    BOOST_TEST(done.status == "resolved");
    BOOST_TEST(done.resolved_by == "alice");
    const auto h = s->escalation_history(w.id);
    BOOST_REQUIRE_EQUAL(h.size(), 3u);
    BOOST_TEST(h[1].actor == "alice");
    BOOST_TEST(h[1].from_status == "open");
    BOOST_TEST(h[2].note == "endpoint fixed, event re-sent");
    BOOST_CHECK_THROW(s->resolve_escalation(w.id, "bob", "x"), store::store_error);
    BOOST_CHECK_THROW(s->ack_escalation(9999, "bob", ""), store::store_error);
    // Listing: by team and status.
    BOOST_TEST(s->list_escalations({"data_platform", "unresolved"}).size() == 2u);
    BOOST_TEST(s->list_escalations({"", "resolved"}).size() == 1u);
    BOOST_TEST(s->list_escalations({"billing_engineering", "open"}).empty());
    BOOST_TEST((s->escalation_teams() == std::vector<std::string>{"billing_engineering", "data_platform"}));
}

// The escalation a correction raises commits with it, or neither does.
BOOST_AUTO_TEST_CASE(an_escalation_raised_by_a_correction_is_in_its_transaction) {
    temp_db t;
    auto s = t.open();
    proposed_correction c;
    c.kind = correction_kind::grant_credits;
    c.ledger_key = "in_esc";
    c.user_id = 1;
    c.credits = 100;
    c.source = "in_esc";
    c.reason = "test";
    store::escalation_request req{
        store::escalation_input{"billing_engineering", "paid_without_entitlement_change", "in_esc", "{}", 10, true}, 1,
        false};
    // The escalation cannot be written (its evidence is not JSON): the grant is rolled back too.
    auto bad = req;
    bad.input.evidence = "not json";
    BOOST_CHECK_THROW(s->apply(c, 0, "corr-1", [&](const store::apply_result&) { return std::optional(bad); }),
                      store::store_error);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_corrections") == 0);
    BOOST_TEST(t.count("SELECT " + t.json_member("plan_metadata", "ai_credits") + " FROM users WHERE id = 1") == 50);
    // Written: both.
    const auto r = s->apply(c, 0, "corr-2", [&](const store::apply_result&) { return std::optional(req); });
    BOOST_REQUIRE(r.escalation_raised.has_value());
    BOOST_TEST(r.escalation_raised->is_new);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_corrections") == 1);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_escalations WHERE person_closes = 1") == 1);
    // A correction never leaves its own finding's escalation for a run to close.
    s->raise(store::escalation_input{"billing_engineering", "refund_or_dispute", "ch_1", "{}", 10}, 1, 1);
    proposed_correction revoke = c;
    revoke.kind = correction_kind::revoke_credits;
    revoke.ledger_key = revoke.source = "ch_1";
    revoke.credits = 10;
    store::escalation_request keep{store::escalation_input{"", "refund_or_dispute", "ch_1", "{}", 10}, 1, true};
    s->apply(revoke, 0, "corr-3", [&](const store::apply_result&) { return std::optional(keep); });
    BOOST_TEST(s->resolve_absent(3, 0, 100, {"refund_or_dispute"}) == 0);
    BOOST_TEST(t.count("SELECT person_closes FROM recon_escalations WHERE subject = 'ch_1'") == 1);
}

// A part's escalations in one transaction: one that cannot be written (its
// evidence is not JSON) leaves none of them, and the batch follows raise()'s
// rules for each.
BOOST_AUTO_TEST_CASE(raise_all_writes_a_batch_together_or_not_at_all) {
    temp_db t;
    auto s = t.open();
    std::vector<store::raise_input> batch{
        {store::escalation_input{"data_platform", "balance_drift", "a@example.com", "{}", 0}, 1},
        {store::escalation_input{"billing_engineering", "tier_mismatch", "sub_1", "{}", 1000}, 2},
        {store::escalation_input{"data_platform", "balance_drift", "b@example.com", "not json", 0}, 1}};
    BOOST_CHECK_THROW(s->raise_all(batch, 1), std::exception);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_escalations") == 0);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_escalation_history") == 0);
    batch.back().input.evidence = "{}";
    const auto first = s->raise_all(batch, 1);
    BOOST_REQUIRE_EQUAL(first.size(), 3u);
    BOOST_TEST(first[0].subject == "a@example.com");
    BOOST_TEST(first[0].is_new);
    BOOST_TEST(first[1].status == "watching");
    BOOST_TEST(first[2].subject == "b@example.com");
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_escalations") == 3);
    // The next run raises them again: counted once more, the watched one opens.
    const auto again = s->raise_all(batch, 2);
    BOOST_TEST(again[0].occurrences == 2);
    BOOST_TEST(!again[0].is_new);
    BOOST_TEST(again[1].status == "open");
    BOOST_TEST(again[1].is_new);
}

// A report's order: open before watching, then oldest first; evidence left out.
BOOST_AUTO_TEST_CASE(open_escalations_by_age_and_count) {
    temp_db t;
    auto s = t.open();
    s->raise(store::escalation_input{"support", "balance_drift", "new@example.com", R"({"x":1})", 0}, 1, 1);
    s->raise(store::escalation_input{"support", "balance_drift", "old@example.com", R"({"x":2})", 0}, 1, 1);
    s->raise(store::escalation_input{"support", "tier_mismatch", "sub_w", "{}", 0}, 1, 2);  // watching
    t.exec("UPDATE recon_escalations SET first_seen = '2026-01-01T00:00:00Z' WHERE subject = 'old@example.com'");
    t.exec("UPDATE recon_escalations SET first_seen = '2025-01-01T00:00:00Z' WHERE subject = 'sub_w'");
    BOOST_TEST(s->count_open_escalations() == 3);
    std::vector<std::string> order;
    s->each_open_escalation_by_age(now_unix(), [&](const store::escalation& e) {
        order.push_back(e.subject);
        BOOST_TEST(e.evidence.empty());
    });
    BOOST_TEST(order == (std::vector<std::string>{"old@example.com", "new@example.com", "sub_w"}),
               boost::test_tools::per_element());
    std::vector<std::string> evidence;
    s->each_open_escalation([&](const store::escalation& e) { evidence.push_back(e.evidence); });
    BOOST_TEST(evidence.at(0) == "{}");  // first_seen order, with the evidence
    BOOST_TEST(store::escalation_age_days("2026-01-01T00:00:00Z", parse_rfc3339("2026-01-03T12:00:00Z")) == 2);
    BOOST_TEST(store::escalation_age_days("not a time", 0) == 0);
}

// Migration 4 on a database with escalations: each keeps its row and status;
// the kinds only a person closes (and partial clawbacks) become person-only.
BOOST_AUTO_TEST_CASE(migration_4_keeps_escalations_and_marks_those_a_person_closes,
                     *boost::unit_test::precondition(sqlite_only)) {
    temp_db t;
    {
        SQLite::Database db(t.path.string(), SQLite::OPEN_READWRITE);
        db.exec("CREATE TABLE recon_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TEXT NOT NULL)");
        for (const auto& m : store::migrations()) {
            if (m.version > 3) break;
            db.exec(std::string(m.sql));
            db.exec("INSERT INTO recon_schema_migrations VALUES (" + std::to_string(m.version) + ", 'm', 'now')");
        }
        db.exec("INSERT INTO recon_escalations(team, kind, subject, evidence, subject_at, first_seen, last_seen, status)"
                " VALUES ('b', 'missed_webhook', 'evt_1', '{}', 5, 't', 't', 'open'),"
                " ('b', 'refund_or_dispute', 'ch_1', '{\"note\":\"40 credits were already spent and could not be "
                "taken back\"}', 5, 't', 't', 'open'),"
                " ('b', 'refund_or_dispute', 'ch_2', '{\"note\":\"policy\"}', 5, 't', 't', 'watching'),"
                " ('d', 'balance_drift', 'a@example.com', '{}', 0, 't', 't', 'resolved')");
    }
    auto s = store::open_sqlite_store({t.path, std::chrono::milliseconds(1000), false});
    BOOST_TEST(s->migrate() == s->latest_schema_version() - 3);
    const auto all = s->list_escalations({"", ""});
    BOOST_REQUIRE_EQUAL(all.size(), 4u);
    BOOST_TEST(all[0].person_closes);
    BOOST_TEST(all[1].person_closes);
    BOOST_TEST(!all[2].person_closes);
    BOOST_TEST(all[2].status == "watching");
    BOOST_TEST(all[3].status == "resolved");
    BOOST_TEST(s->ack_escalation(all[0].id, "alice", "").status == "acked");
}

// The metrics' by-team gauge: open and watching count, resolved do not.
BOOST_AUTO_TEST_CASE(open_escalations_by_team) {
    temp_db t;
    auto s = t.open();
    BOOST_TEST(s->count_open_escalations_by_team().empty());
    s->raise(store::escalation_input{"support", "balance_drift", "a@example.com", "{}", 0}, 1, 1);
    s->raise(store::escalation_input{"support", "balance_drift", "b@example.com", "{}", 0}, 1, 1);
    s->raise(store::escalation_input{"devops", "webhook_failed_twice", "evt_1", "{}", 0}, 1, 2);  // watching
    s->raise(store::escalation_input{"devops", "tier_mismatch", "sub_1", "{}", 1000}, 1, 1);
    BOOST_TEST(s->resolve_absent(2, 0, 2000, {"tier_mismatch"}) == 1);
    const auto by_team = s->count_open_escalations_by_team();
    BOOST_TEST(by_team.size() == 2u);
    BOOST_TEST(by_team.at("support") == 2);
    BOOST_TEST(by_team.at("devops") == 1);
}

// raise_all (a part's escalations at once; on PostgreSQL a few statements
// for the batch) leaves exactly what one raise() each would: new ones, ones
// seen again, a watched one escalating, a resolved one reopened, an acked
// one kept, and the same (kind, subject) twice in one batch.
BOOST_AUTO_TEST_CASE(raise_all_moves_each_as_one_raise_each_would) {
    using store::escalation_input;
    const escalation_input drift{"data_platform", "balance_drift", "a@example.com", R"({"n":1})", 0};
    const escalation_input tier{"billing_engineering", "tier_mismatch", "sub_1", "{}", 1000};
    const escalation_input stuck{"data_platform", "negative_or_stuck_balance", "b@example.com", "{}", 100};
    const escalation_input hook{"devops", "missed_webhook", "evt_1", "{}", 2000, true};
    const escalation_input fresh{"devops", "webhook_failed_twice", "evt_2", R"({"n":2})", 3000, true};
    const escalation_input fresh2{"support", "unknown_customer", "cus_9", "{}", 4000};
    const auto before = [&](store::store& s) {  // run 1, then a person's acts
        s.raise(drift, 1, 1);
        s.raise(tier, 1, 2);  // watching
        s.resolve_escalation(s.raise(stuck, 1, 1).id, "alice", "fixed");
        s.ack_escalation(s.raise(hook, 1, 1).id, "bob", "on it");
    };
    auto drift2 = drift;
    drift2.evidence = R"({"n":3})";
    const std::vector<store::raise_input> batch{{fresh, 1}, {drift, 1}, {fresh, 1},  {tier, 2},
                                                {stuck, 1}, {hook, 1},  {fresh2, 1}, {drift2, 1}};
    temp_db one_each_db, batched_db;
    auto one_each = one_each_db.open();
    auto batched = batched_db.open();
    before(*one_each);
    before(*batched);
    std::vector<store::escalation> want;
    for (const auto& r : batch) want.push_back(one_each->raise(r.input, 2, r.watch_until));
    const auto got = batched->raise_all(batch, 2);
    BOOST_REQUIRE_EQUAL(got.size(), batch.size());
    const auto row = [](const store::escalation& e) {
        return std::to_string(e.id) + " " + e.kind + ":" + e.subject + " " + e.status + " x" +
               std::to_string(e.occurrences) + (e.is_new ? " new" : "") + (e.person_closes ? " person" : "") + " " +
               e.team + " " + e.evidence + " at " + std::to_string(e.subject_at);
    };
    std::vector<std::string> want_rows, got_rows;
    for (const auto& e : want) want_rows.push_back(row(e));
    for (const auto& e : got) got_rows.push_back(row(e));
    BOOST_TEST(got_rows == want_rows, boost::test_tools::per_element());
    // What the cases mean (raise()'s own tests say the same one at a time).
    BOOST_TEST(got[0].is_new);
    BOOST_TEST(got[2].id == got[0].id);  // the same (kind, subject) again: one record, one occurrence
    BOOST_TEST(got[2].occurrences == 1);
    BOOST_TEST(!got[2].is_new);
    BOOST_TEST(got[1].occurrences == 2);
    BOOST_TEST((got[3].status == "open" && got[3].is_new));     // watched, seen the second time
    BOOST_TEST((got[4].status == "open" && got[4].is_new));     // resolved, reopened
    BOOST_TEST((got[5].status == "acked" && !got[5].is_new));   // acked: stays with the person
    // The stored rows and every history row alike (times aside).
    const auto stored = [](store::store& s) {
        std::vector<std::string> out;
        for (const auto& e : s.open_escalations()) {
            auto full = *s.find_escalation(e.id);
            out.push_back(std::to_string(full.id) + " " + full.status + " x" + std::to_string(full.occurrences) +
                          (full.person_closes ? " person " : " ") + full.team + " " + full.evidence + " acked_by=" +
                          full.acked_by + " resolved_by=" + full.resolved_by);
            for (const auto& h : s.escalation_history(e.id))
                out.push_back("  " + h.actor + " " + h.action + " " + h.from_status + "->" + h.to_status + " run " +
                              std::to_string(h.run_id) + " " + h.note);
        }
        return out;
    };
    const auto want_stored = stored(*one_each), got_stored = stored(*batched);
    BOOST_TEST(got_stored == want_stored, boost::test_tools::per_element());
    BOOST_TEST(batched->raise_all({}, 3).empty());
}

BOOST_AUTO_TEST_SUITE_END()
