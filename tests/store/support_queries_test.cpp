// The store (either backend), support_queries: the support commands' look-ups.
#include "store/store_fixture.hpp"

BOOST_AUTO_TEST_SUITE(store_support_queries)

BOOST_AUTO_TEST_CASE(finds_a_user_by_email_whatever_its_case) {
    temp_db t;
    auto s = t.open();
    store::support_queries& support = *s;
    const auto u = support.find_user_by_email("A@Example.COM");
    BOOST_REQUIRE(u.has_value());
    BOOST_TEST(u->id == 1);
    BOOST_TEST(u->stripe_customer_id == "cus_1");
    BOOST_TEST(u->ai_credits == 50);
    BOOST_TEST(!support.find_user_by_email("nobody@example.com").has_value());
}

// A user's escalations: about its email, or with its customer in the evidence.
BOOST_AUTO_TEST_CASE(escalations_for_a_user_by_email_or_customer) {
    temp_db t;
    auto s = t.open();
    s->raise(store::escalation_input{"support", "balance_drift", "a@example.com", "{}", 0}, 1, 1);
    s->raise(store::escalation_input{"billing", "unpaid", "in_9", R"({"customer":"cus_1"})", 0}, 1, 1);
    s->raise(store::escalation_input{"billing", "unpaid", "in_8", R"({"customer":"cus_2"})", 0}, 1, 1);
    const auto a = s->find_user_by_email("a@example.com").value();
    std::set<std::string> subjects;
    for (const auto& e : s->escalations_for(a)) subjects.insert(e.subject);
    BOOST_TEST((subjects == std::set<std::string>{"a@example.com", "in_9"}));
    const auto b = s->find_user_by_email("b@example.com").value();  // no customer id
    BOOST_TEST(s->escalations_for(b).empty());
}

// The report's trend and runs index: the newest runs, oldest first, each
// with its findings counted by kind (and how many of them were applied).
BOOST_AUTO_TEST_CASE(run_trend_newest_kept_oldest_first_counted_by_kind) {
    temp_db t;
    auto s = t.open();
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 4; ++i) {
        const auto id = s->begin_run(store::run_record{100 * i, 100 * i + 100, i == 2, "hash", "2025-03-31.basil"});
        ids.push_back(id);
        finding f;
        f.subject_type = "invoice";
        f.subject_id = "in_" + std::to_string(i);
        f.kind = finding_kind::credits_not_granted;
        for (int k = 0; k <= i; ++k) s->record_finding(id, f, store::disposition::applied, 0);
        f.kind = finding_kind::tier_mismatch;
        s->record_finding(id, f, store::disposition::flagged, 0);
        if (i != 3) s->finish_run(id, i != 1, store::run_totals{1, 2, i + 2, i + 1}, i == 1 ? "boom" : "");
    }
    const auto runs = s->run_trend(3);
    BOOST_REQUIRE(runs.size() == 3u);
    BOOST_TEST(runs[0].id == ids[1]);  // the oldest run is beyond the limit
    BOOST_TEST(runs[2].id == ids[3]);
    BOOST_TEST(runs[0].status == "failed");
    BOOST_TEST(runs[1].mode == "dry_run");
    BOOST_TEST(runs[2].status == "running");
    BOOST_TEST(runs[2].finished_at.empty());
    BOOST_TEST(runs[1].window_start == 200);
    BOOST_TEST(runs[1].window_end == 300);
    BOOST_TEST(runs[1].findings == 4);
    BOOST_TEST(runs[1].corrections_applied == 3);
    BOOST_TEST(runs[1].by_kind.at("credits_not_granted").findings == 3);
    BOOST_TEST(runs[1].by_kind.at("credits_not_granted").applied == 3);
    BOOST_TEST(runs[1].by_kind.at("tier_mismatch").findings == 1);
    BOOST_TEST(runs[1].by_kind.at("tier_mismatch").applied == 0);
    BOOST_TEST(runs[2].by_kind.size() == 2u);
    BOOST_TEST(s->run_trend(10).size() == 4u);
}

BOOST_AUTO_TEST_SUITE_END()
