// The Stripe client's paging, retry and rate rules against a scripted fake
// transport on virtual time: sleeps advance a fake clock instead of waiting,
// so every delay the client chose is observable and the suite runs in
// milliseconds.
#include "stripe/client.hpp"
#include "stripe/rate_limiter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <ostream>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace reconciler::stripe {
// Lets BOOST_TEST print a transport_error it compares.
inline std::ostream& boost_test_print_type(std::ostream& os, transport_error e) { return os << to_string(e); }
}  // namespace reconciler::stripe

namespace asio = boost::asio;
namespace json = boost::json;
using namespace reconciler;
using namespace reconciler::stripe;
using std::chrono::milliseconds;
using time_point = std::chrono::steady_clock::time_point;

namespace {

// ------------------------------------------------------------ virtual time

// Sleeps park on a timer that only the driver releases, in wake-time order,
// after moving the clock forward: concurrent sleepers interleave exactly as
// they would in real time.
struct virtual_time {
    time_point now{std::chrono::hours(1)};
    std::uint64_t seq = 0;
    std::map<std::pair<time_point, std::uint64_t>, asio::steady_timer*> pending;
    std::vector<milliseconds> delays;  // every delay the client asked for

    client::sleeper sleeper() {
        return [this](milliseconds d) -> asio::awaitable<void> {
            delays.push_back(d);
            asio::steady_timer timer(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
            const auto key = std::make_pair(now + d, seq++);
            pending.emplace(key, &timer);
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            pending.erase(key);  // no-op when the driver released it
        };
    }
    client::clock clock() {
        return [this] { return now; };
    }
};

// Runs `aw` to completion, advancing virtual time whenever nothing is ready.
template <class T>
T run(asio::io_context& ioc, virtual_time& vt, asio::awaitable<T> aw) {
    bool done = false;
    std::exception_ptr error;
    std::optional<T> value;
    asio::co_spawn(ioc, std::move(aw), [&](std::exception_ptr e, T v) {
        done = true;
        error = e;
        if (!e) value.emplace(std::move(v));
    });
    for (;;) {
        ioc.restart();
        ioc.poll();
        if (done) break;
        if (vt.pending.empty()) throw std::logic_error("test stalled: nothing ready and nobody sleeping");
        auto it = vt.pending.begin();
        vt.now = std::max(vt.now, it->first.first);
        asio::steady_timer* timer = it->second;
        vt.pending.erase(it);
        timer->cancel();
    }
    if (error) std::rethrow_exception(error);
    return std::move(*value);
}

void run(asio::io_context& ioc, virtual_time& vt, asio::awaitable<void> aw) {
    auto wrapper = [](asio::awaitable<void> inner) -> asio::awaitable<int> {
        co_await std::move(inner);
        co_return 0;
    };
    (void)run<int>(ioc, vt, wrapper(std::move(aw)));
}

// ------------------------------------------------------------ fake Stripe

std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

struct parsed_target {
    std::string path;
    std::multimap<std::string, std::string> query;
    std::optional<std::int64_t> num(const std::string& key) const {
        auto it = query.find(key);
        if (it == query.end()) return std::nullopt;
        return std::stoll(it->second);
    }
    std::string str(const std::string& key) const {
        auto it = query.find(key);
        return it == query.end() ? std::string() : it->second;
    }
};

parsed_target parse_target(const std::string& target) {
    parsed_target t;
    const auto q = target.find('?');
    t.path = target.substr(0, q);
    if (q == std::string::npos) return t;
    std::string_view rest(target);
    rest.remove_prefix(q + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        const auto eq = pair.find('=');
        t.query.emplace(percent_decode(pair.substr(0, eq)),
                        eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1)));
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    return t;
}

transport_result http(unsigned status, std::string body, std::string request_id = {},
                      std::optional<bool> should_retry = {}, std::optional<milliseconds> retry_after = {}) {
    transport_result r;
    r.response.status = status;
    r.response.body = std::move(body);
    r.response.request_id = std::move(request_id);
    r.response.should_retry = should_retry;
    r.response.retry_after = retry_after;
    return r;
}

transport_result net_error(transport_error e, std::string detail) {
    transport_result r;
    r.error = e;
    r.detail = std::move(detail);
    return r;
}

std::string error_body(const std::string& type, const std::string& code, const std::string& message) {
    json::object inner{{"type", type}, {"message", message}};
    if (!code.empty()) inner["code"] = code;
    return json::serialize(json::object{{"error", inner}});
}

// Serves lists with Stripe's paging semantics (newest first; ties by id,
// descending; created[gte|gt|lt|lte]; starting_after exclusive; limit 1..100;
// has_more) and single objects, after any scripted faults.
class fake_stripe final : public transport {
public:
    explicit fake_stripe(virtual_time* vt = nullptr) : vt_(vt) {}

    void add(const std::string& resource, const std::string& id, std::int64_t created) {
        auto& list = lists_[resource];
        list.objects.push_back(json::object{{"id", id}, {"object", "thing"}, {"created", created}});
        list.sorted = false;
    }
    void add_single(const std::string& path, json::object o) { singles_[path] = std::move(o); }

    std::deque<transport_result> script;  // returned first, one per call
    // Consulted next: may answer a call instead of the data (call number is 1-based).
    std::function<std::optional<transport_result>(int call, const parsed_target&)> fault;

    std::vector<std::string> targets;
    std::vector<time_point> times;
    int calls = 0;
    int in_flight = 0;
    int max_in_flight = 0;

    asio::awaitable<transport_result> get(std::string target) override {
        ++calls;
        targets.push_back(target);
        if (vt_) times.push_back(vt_->now);
        ++in_flight;
        max_in_flight = std::max(max_in_flight, in_flight);
        // Yield once, like a network would, so concurrent workers interleave.
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        --in_flight;

        const std::string rid = "req_" + std::to_string(calls);
        if (!script.empty()) {
            transport_result r = std::move(script.front());
            script.pop_front();
            co_return r;
        }
        const parsed_target t = parse_target(target);
        if (fault)
            if (auto r = fault(calls, t)) co_return std::move(*r);
        if (auto it = singles_.find(t.path); it != singles_.end())
            co_return http(200, json::serialize(it->second), rid);
        auto it = lists_.find(t.path);
        if (it == lists_.end())
            co_return http(404, error_body("invalid_request_error", "resource_missing", "Unrecognized request URL"), rid);
        co_return serve_list(t, it->second, rid);
    }

private:
    struct list_data {
        std::vector<json::object> objects;
        bool sorted = true;
    };

    transport_result serve_list(const parsed_target& t, list_data& list, const std::string& rid) {
        if (!list.sorted) {
            std::stable_sort(list.objects.begin(), list.objects.end(), [](const json::object& a, const json::object& b) {
                if (a.at("created").as_int64() != b.at("created").as_int64())
                    return a.at("created").as_int64() > b.at("created").as_int64();
                return a.at("id").as_string() > b.at("id").as_string();
            });
            list.sorted = true;
        }
        const auto gte = t.num("created[gte]"), gt = t.num("created[gt]"), lt = t.num("created[lt]"),
                   lte = t.num("created[lte]");
        std::vector<const json::object*> filtered;
        for (const auto& o : list.objects) {
            const auto c = o.at("created").as_int64();
            if ((gte && c < *gte) || (gt && c <= *gt) || (lt && c >= *lt) || (lte && c > *lte)) continue;
            filtered.push_back(&o);
        }
        const std::int64_t limit = t.num("limit").value_or(10);
        if (limit < 1 || limit > 100)
            return http(400, error_body("invalid_request_error", "parameter_invalid_integer", "bad limit"), rid);
        std::size_t start = 0;
        if (const std::string after = t.str("starting_after"); !after.empty()) {
            auto pos = std::find_if(filtered.begin(), filtered.end(),
                                    [&](const json::object* o) { return o->at("id").as_string() == after; });
            if (pos == filtered.end())
                return http(400, error_body("invalid_request_error", "resource_missing", "No such object: " + after),
                            rid);
            start = static_cast<std::size_t>(pos - filtered.begin()) + 1;
        }
        json::array data;
        for (std::size_t i = start; i < filtered.size() && data.size() < static_cast<std::size_t>(limit); ++i)
            data.push_back(*filtered[i]);
        const bool has_more = start + data.size() < filtered.size();
        return http(200,
                    json::serialize(json::object{
                        {"object", "list"}, {"data", std::move(data)}, {"has_more", has_more}, {"url", t.path}}),
                    rid);
    }

    virtual_time* vt_;
    std::map<std::string, list_data> lists_;
    std::map<std::string, json::object> singles_;
};

// Options for rule tests: a budget so large the limiter never waits, so the
// sleeper sees only retry delays.
client_options rule_options() {
    client_options o;
    o.requests_per_second = 1e6;
    o.burst = 1e6;
    o.concurrency = 1;
    o.jitter_seed = 42;
    return o;
}

struct collected {
    std::vector<std::string> ids;
    std::vector<list_page_info> pages;
    page_sink sink() {
        return [this](const list_page_info& info, list_envelope&& env) {
            pages.push_back(info);
            for (const auto& v : env.data) ids.emplace_back(v.as_object().at("id").as_string());
        };
    }
};

// Every id exactly once and nothing else.
void check_exactly_once(std::vector<std::string> got, std::vector<std::string> want) {
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    const auto dup = std::adjacent_find(got.begin(), got.end());
    BOOST_TEST((dup == got.end()), "delivered twice: " << (dup == got.end() ? std::string() : *dup));
    BOOST_TEST(got == want, boost::test_tools::per_element());
}

struct harness {
    asio::io_context ioc;
    virtual_time vt;
    fake_stripe fake{&vt};
    collected out;

    void list(client& c, list_query q) { run(ioc, vt, c.list_all(std::move(q), out.sink())); }
    client make(client_options o) { return client(fake, std::move(o), vt.sleeper(), vt.clock()); }
};

list_query window(std::int64_t gte, std::int64_t lt, std::string resource = "/v1/events") {
    list_query q;
    q.resource = std::move(resource);
    q.created_gte = gte;
    q.created_lt = lt;
    return q;
}

std::string id_of(int i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "evt_%06d", i);
    return buf;
}

// Expects list_all to fail with stripe_error and returns it.
stripe_error expect_list_failure(harness& h, client& c, list_query q) {
    try {
        h.list(c, std::move(q));
    } catch (const stripe_error& e) {
        return e;
    }
    BOOST_FAIL("list_all did not throw stripe_error");
    throw std::logic_error("unreachable");
}

}  // namespace

// ================================================================ paging

BOOST_AUTO_TEST_SUITE(stripe_client_paging)

BOOST_AUTO_TEST_CASE(empty_list_is_one_empty_page) {
    harness h;
    h.fake.add("/v1/events", "evt_outside", 500);  // outside the window
    auto o = rule_options();
    client c = h.make(o);
    h.list(c, window(1000, 2000));
    BOOST_TEST(h.fake.calls == 1);
    BOOST_TEST(h.out.ids.empty());
    BOOST_REQUIRE(h.out.pages.size() == 1u);
    BOOST_TEST(h.out.pages[0].object_count == 0u);
    BOOST_TEST(!h.out.pages[0].has_more);
    BOOST_TEST(h.out.pages[0].request_id == "req_1");
    BOOST_TEST(c.stats().pages == 1u);
    BOOST_TEST(c.stats().objects == 0u);
}

BOOST_AUTO_TEST_CASE(exactly_100_objects_fit_one_page) {
    harness h;
    std::vector<std::string> want;
    for (int i = 0; i < 100; ++i) {
        h.fake.add("/v1/events", id_of(i), 1000 + i);
        want.push_back(id_of(i));
    }
    client c = h.make(rule_options());
    h.list(c, window(1000, 2000));
    BOOST_TEST(h.fake.calls == 1);
    BOOST_REQUIRE(h.out.pages.size() == 1u);
    BOOST_TEST(h.out.pages[0].object_count == 100u);
    BOOST_TEST(!h.out.pages[0].has_more);
    check_exactly_once(h.out.ids, want);
    // Newest first, as Stripe returns them.
    BOOST_TEST(h.out.ids.front() == id_of(99));
    const auto t = parse_target(h.fake.targets[0]);
    BOOST_TEST(t.path == "/v1/events");
    BOOST_TEST(t.str("limit") == "100");
    BOOST_TEST(t.str("created[gte]") == "1000");
    BOOST_TEST(t.str("created[lt]") == "2000");
    BOOST_TEST(t.query.count("starting_after") == 0u);
}

BOOST_AUTO_TEST_CASE(objects_101_take_two_pages_with_starting_after) {
    harness h;
    std::vector<std::string> want;
    for (int i = 0; i < 101; ++i) {
        h.fake.add("/v1/events", id_of(i), 1000 + i);
        want.push_back(id_of(i));
    }
    client c = h.make(rule_options());
    h.list(c, window(1000, 2000));
    BOOST_TEST(h.fake.calls == 2);
    BOOST_REQUIRE(h.out.pages.size() == 2u);
    BOOST_TEST(h.out.pages[0].page_no == 1);
    BOOST_TEST(h.out.pages[0].has_more);
    BOOST_TEST(h.out.pages[0].request_id == "req_1");
    BOOST_TEST(h.out.pages[1].page_no == 2);
    BOOST_TEST(h.out.pages[1].object_count == 1u);
    BOOST_TEST(!h.out.pages[1].has_more);
    BOOST_TEST(h.out.pages[1].request_id == "req_2");
    BOOST_TEST(h.out.pages[1].resource == "/v1/events");
    // The second page continues after the last id of the first (the 100th newest).
    BOOST_TEST(parse_target(h.fake.targets[1]).str("starting_after") == id_of(1));
    check_exactly_once(h.out.ids, want);
    BOOST_TEST(c.stats().pages == 2u);
    BOOST_TEST(c.stats().objects == 101u);
}

BOOST_AUTO_TEST_CASE(split_boundaries_count_each_object_once) {
    harness h;
    std::vector<std::string> want;
    // One object a second: wherever a split falls, objects lie on both
    // sides of it; 20 pages of 2, enough for the client to split.
    int n = 0;
    for (std::int64_t t = 1000; t < 1040; ++t) {
        h.fake.add("/v1/events", id_of(n), t);
        want.push_back(id_of(n++));
    }
    h.fake.add("/v1/events", "evt_before", 999);  // created_gte is inclusive...
    h.fake.add("/v1/events", "evt_at_end", 1040);  // ...created_lt exclusive
    auto o = rule_options();
    o.concurrency = 2;
    o.page_limit = 2;  // small pages: the window is split while paged
    client c = h.make(o);
    h.list(c, window(1000, 1040));
    check_exactly_once(h.out.ids, want);
    // More than one piece was paged, every one inside the window.
    std::set<std::pair<std::int64_t, std::int64_t>> pieces;
    for (const auto& target : h.fake.targets) {
        const auto t = parse_target(target);
        BOOST_TEST(*t.num("created[gte]") >= 1000);
        BOOST_TEST(*t.num("created[lt]") <= 1040);
        pieces.emplace(*t.num("created[gte]"), *t.num("created[lt]"));
    }
    BOOST_TEST(pieces.size() > 1u);
}

BOOST_AUTO_TEST_CASE(a_sparse_list_costs_one_request_whatever_the_concurrency) {
    harness h;
    for (int i = 0; i < 60; ++i) h.fake.add("/v1/invoices", "in_" + id_of(i), 1000 + i * 1000);
    auto o = rule_options();
    o.concurrency = 16;
    client c = h.make(o);
    h.list(c, window(0, 86400, "/v1/invoices"));
    BOOST_TEST(h.fake.calls == 1);
    BOOST_TEST(h.out.ids.size() == 60u);
}

BOOST_AUTO_TEST_CASE(requests_follow_the_objects) {
    // A long window whose objects crowd into a few minutes: pages stay full
    // and every worker stays busy, wherever the objects are.
    harness h;
    std::vector<std::string> want;
    std::mt19937 rng(3);
    std::uniform_int_distribution<std::int64_t> when(50'000, 50'300);
    for (int i = 0; i < 3000; ++i) {
        h.fake.add("/v1/events", id_of(i), when(rng));
        want.push_back(id_of(i));
    }
    for (int i = 3000; i < 3010; ++i) {  // and a few far away
        h.fake.add("/v1/events", id_of(i), (i - 2999) * 8000);
        want.push_back(id_of(i));
    }
    auto o = rule_options();
    o.concurrency = 4;
    client c = h.make(o);
    h.list(c, window(0, 86400));
    check_exactly_once(h.out.ids, want);
    BOOST_TEST(h.fake.max_in_flight == 4);
    // 31 full pages are the minimum; splits cost a few partial ones.
    BOOST_TEST(h.fake.calls <= 31 + 3 * 4, "requests: " << h.fake.calls);
}

BOOST_AUTO_TEST_CASE(same_second_objects_across_pages) {
    harness h;
    std::vector<std::string> want;
    for (int i = 0; i < 250; ++i) {
        h.fake.add("/v1/invoices", "in_" + id_of(i), 1500);
        want.push_back("in_" + id_of(i));
    }
    auto o = rule_options();
    o.concurrency = 4;  // a one-second window cannot be split: one slice
    client c = h.make(o);
    h.list(c, window(1500, 1501, "/v1/invoices"));
    BOOST_TEST(h.fake.calls == 3);
    check_exactly_once(h.out.ids, want);
}

BOOST_AUTO_TEST_CASE(concurrent_workers_deliver_every_object_once) {
    harness h;
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::int64_t> when(0, 86399);
    std::vector<std::string> want;
    for (int i = 0; i < 5000; ++i) {
        const std::int64_t t = 1'700'000'000 + when(rng);
        h.fake.add("/v1/events", id_of(i), t);
        want.push_back(id_of(i));
    }
    // A burst of same-second objects straddling pages inside one slice.
    for (int i = 5000; i < 5150; ++i) {
        h.fake.add("/v1/events", id_of(i), 1'700'000'000 + 43200);
        want.push_back(id_of(i));
    }
    auto o = rule_options();
    o.concurrency = 4;
    client c = h.make(o);
    h.list(c, window(1'700'000'000, 1'700'086'400));
    check_exactly_once(h.out.ids, want);
    BOOST_TEST(h.fake.max_in_flight > 1);
    BOOST_TEST(h.fake.max_in_flight <= 4);
    BOOST_TEST(c.stats().objects == want.size());
    // 52 full pages are the minimum; splits cost a few partial ones.
    BOOST_TEST(h.fake.max_in_flight == 4);
    BOOST_TEST(h.fake.calls <= 52 + 3 * 4, "requests: " << h.fake.calls);
}

BOOST_AUTO_TEST_CASE(lists_side_by_side_share_the_concurrency) {
    // Three dense lists at once (a run fetches a slice's events, invoices and
    // customers together): they split only while the client pages fewer
    // than `concurrency` pieces in all, so in-flight requests stay within
    // it and the partial pages that every extra piece costs stay few.
    harness h;
    std::mt19937 rng(11);
    std::uniform_int_distribution<std::int64_t> when(0, 86399);
    const std::vector<std::string> resources = {"/v1/events", "/v1/invoices", "/v1/customers"};
    std::vector<std::string> want;
    for (const auto& r : resources) {
        for (int i = 0; i < 1500; ++i) {
            const std::string id = r.substr(4, 3) + "_" + id_of(i);
            h.fake.add(r, id, when(rng));
            want.push_back(id);
        }
    }
    auto o = rule_options();
    o.concurrency = 4;
    client c = h.make(o);
    auto all = [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        int done = 0;
        asio::steady_timer finished(ex, asio::steady_timer::time_point::max());
        for (const auto& r : resources) {
            asio::co_spawn(ex, c.list_all(window(0, 86400, r), h.out.sink()), [&](std::exception_ptr e) {
                if (e) std::rethrow_exception(e);
                if (++done == 3) finished.cancel();
            });
        }
        co_await finished.async_wait(asio::as_tuple(asio::use_awaitable));
    };
    run(h.ioc, h.vt, all());
    check_exactly_once(h.out.ids, want);
    BOOST_TEST(h.fake.max_in_flight <= 4);
    // 45 full pages are the minimum; each list ends in one partial page and
    // each split adds one. Sixteen pieces per list would cost ~45 more.
    BOOST_TEST(h.fake.calls <= 45 + 3 + 2 * 4, "requests: " << h.fake.calls);
}

BOOST_AUTO_TEST_CASE(query_parameters_are_url_encoded) {
    harness h;
    h.fake.add("/v1/events", "evt_1", 1000);
    client c = h.make(rule_options());
    auto q = window(1000, 2000);
    q.params = {{"types[0]", "invoice.paid"}, {"types[1]", "customer.subscription.updated"}};
    h.list(c, q);
    const std::string& target = h.fake.targets.at(0);
    BOOST_TEST(target.find("types%5B0%5D=invoice.paid") != std::string::npos);
    BOOST_TEST(target.find("created%5Bgte%5D=1000") != std::string::npos);
    const auto t = parse_target(target);
    BOOST_TEST(t.str("types[1]") == "customer.subscription.updated");
}

BOOST_AUTO_TEST_CASE(bad_queries_are_refused) {
    harness h;
    client c = h.make(rule_options());
    BOOST_CHECK_THROW(h.list(c, window(2000, 2000)), std::invalid_argument);
    BOOST_CHECK_THROW(h.list(c, window(1000, 2000, "v1/events")), std::invalid_argument);
    auto q = window(1000, 2000);
    q.params = {{"limit", "10"}};
    BOOST_CHECK_THROW(h.list(c, q), std::invalid_argument);
    q.params = {{"created[gt]", "10"}};
    BOOST_CHECK_THROW(h.list(c, q), std::invalid_argument);
    BOOST_TEST(h.fake.calls == 0);
}

BOOST_AUTO_TEST_CASE(has_more_on_empty_page_is_an_error_not_a_loop) {
    harness h;
    h.fake.script.push_back(http(200, R"({"object":"list","data":[],"has_more":true,"url":"/v1/events"})", "req_x"));
    client c = h.make(rule_options());
    const stripe_error e = expect_list_failure(h, c, window(1000, 2000));
    BOOST_TEST(std::string(e.what()).find("has_more") != std::string::npos);
    BOOST_TEST(std::string(e.what()).find("req_x") != std::string::npos);
    BOOST_TEST(h.fake.calls == 1);
}

BOOST_AUTO_TEST_CASE(a_failing_slice_stops_the_run_with_its_own_error) {
    harness h;
    for (int i = 0; i < 2000; ++i) h.fake.add("/v1/events", id_of(i), 1000 + i);
    // The first page (1900..2999) shows ~19 pages more: the rest is cut in
    // two, [1951, 2901) and [1000, 1951); the older piece is refused, and the
    // other worker is cancelled.
    h.fake.fault = [](int call, const parsed_target& t) -> std::optional<transport_result> {
        if (call > 1 && t.num("created[gte]") == 1000)
            return http(403, error_body("invalid_request_error", "secret_key_required", "Not allowed"), "req_forbidden");
        return std::nullopt;
    };
    auto o = rule_options();
    o.concurrency = 2;
    client c = h.make(o);
    const stripe_error e = expect_list_failure(h, c, window(1000, 3000));
    BOOST_TEST(e.http_status() == 403u);
    BOOST_TEST(e.request_id() == "req_forbidden");
    BOOST_TEST(e.action() == "fetch /v1/events created [1000, 1951) page 1");
}

BOOST_AUTO_TEST_CASE(a_throwing_sink_stops_the_run) {
    harness h;
    for (int i = 0; i < 300; ++i) h.fake.add("/v1/events", id_of(i), 1000 + i);
    client c = h.make(rule_options());
    BOOST_CHECK_THROW(run(h.ioc, h.vt,
                          c.list_all(window(1000, 2000),
                                     [](const list_page_info&, list_envelope&&) { throw std::runtime_error("sink"); })),
                      std::runtime_error);
    BOOST_TEST(h.fake.calls == 1);
}

BOOST_AUTO_TEST_CASE(retrieve_returns_object_and_request_id) {
    harness h;
    h.fake.add_single("/v1/subscriptions/sub_1", json::object{{"id", "sub_1"}, {"object", "subscription"}});
    client c = h.make(rule_options());
    auto [object, request_id] = run(h.ioc, h.vt, c.retrieve("/v1/subscriptions/sub_1"));
    BOOST_TEST(object.at("id").as_string() == "sub_1");
    BOOST_TEST(request_id == "req_1");

    try {
        run(h.ioc, h.vt, c.retrieve("/v1/subscriptions/sub_missing"));
        BOOST_FAIL("expected stripe_error");
    } catch (const stripe_error& e) {
        BOOST_TEST(e.what() ==
                   std::string("retrieve /v1/subscriptions/sub_missing (req_2): 404 resource_missing "
                               "(invalid_request_error): Unrecognized request URL"));
        BOOST_TEST(!e.retries_exhausted());
        BOOST_TEST(e.code() == "resource_missing");
    }
}

BOOST_AUTO_TEST_CASE(retrieve_all_overlaps_requests_and_keeps_the_order) {
    harness h;
    std::vector<std::string> paths;
    for (int i = 0; i < 20; ++i) {
        const std::string id = "sub_" + std::to_string(i);
        h.fake.add_single("/v1/subscriptions/" + id, json::object{{"id", id}, {"object", "subscription"}});
        paths.push_back("/v1/subscriptions/" + id);
    }
    paths.push_back("/v1/subscriptions/sub_gone");
    auto o = rule_options();
    o.concurrency = 4;
    client c = h.make(o);
    const auto got = run(h.ioc, h.vt, c.retrieve_all(paths, true));
    BOOST_REQUIRE(got.size() == paths.size());
    for (int i = 0; i < 20; ++i) {
        BOOST_TEST(got[i].path == paths[i]);
        BOOST_REQUIRE(got[i].object.has_value());
        BOOST_TEST(got[i].object->at("id").as_string() == "sub_" + std::to_string(i));
        BOOST_TEST(got[i].request_id.starts_with("req_"));
    }
    BOOST_TEST(!got.back().object.has_value());  // 404: missing, not an error
    BOOST_TEST(!got.back().request_id.empty());
    BOOST_TEST(h.fake.max_in_flight == 4);
    BOOST_TEST(h.fake.calls == 21);

    // Without allow_missing the 404 fails the whole call.
    BOOST_CHECK_THROW(run(h.ioc, h.vt, c.retrieve_all({"/v1/subscriptions/sub_gone"})), stripe_error);
    BOOST_CHECK_THROW(run(h.ioc, h.vt, c.retrieve_all({"no-slash"})), std::invalid_argument);
    BOOST_TEST(run(h.ioc, h.vt, c.retrieve_all({})).empty());
}

BOOST_AUTO_TEST_SUITE_END()

// ================================================================ retries

BOOST_AUTO_TEST_SUITE(stripe_client_retries)

// Retry n's delay under the SDK rule: min(base·2^(n-1), max)·U[0.5,1], >= base.
void check_sdk_delay(milliseconds d, int n, milliseconds base = milliseconds(500), milliseconds cap = milliseconds(5000)) {
    const auto ceiling = std::min(base * (1 << (n - 1)), cap);
    BOOST_TEST(d.count() >= std::max(base, ceiling / 2).count(), "retry " << n << " delay " << d.count());
    BOOST_TEST(d.count() <= ceiling.count(), "retry " << n << " delay " << d.count());
}

BOOST_AUTO_TEST_CASE(transport_failures_are_retried_with_sdk_backoff) {
    harness h;
    h.fake.add("/v1/events", "evt_1", 1000);
    h.fake.script = {net_error(transport_error::connect, "connect 127.0.0.1:1: Connection refused"),
                     net_error(transport_error::reset, "read response: Connection reset by peer"),
                     net_error(transport_error::truncated, "read response: stream truncated"),
                     net_error(transport_error::timeout, "read response: timed out after 30000 ms")};
    client c = h.make(rule_options());
    h.list(c, window(1000, 2000));
    BOOST_TEST(h.out.ids == std::vector<std::string>{"evt_1"});
    BOOST_TEST(h.fake.calls == 5);
    BOOST_REQUIRE(h.vt.delays.size() == 4u);
    BOOST_TEST(h.vt.delays[0].count() == 500);  // 0.5 s · U[0.5,1], at least 0.5 s
    for (int n = 1; n <= 4; ++n) check_sdk_delay(h.vt.delays[static_cast<std::size_t>(n - 1)], n);
    const auto s = c.stats();
    BOOST_TEST(s.retries == 4u);
    BOOST_TEST(s.requests == 5u);
    BOOST_REQUIRE(s.retry_log.size() == 4u);
    BOOST_TEST(s.retry_log[0].reason.find("connect") == 0u);
    BOOST_TEST(s.retry_log[3].reason.find("timeout") == 0u);
    BOOST_TEST(s.retry_log[1].delay.count() == h.vt.delays[1].count());
}

BOOST_AUTO_TEST_CASE(conflict_and_server_errors_are_retried) {
    harness h;
    h.fake.add("/v1/events", "evt_1", 1000);
    h.fake.script = {http(409, error_body("idempotency_error", "", "conflict"), "req_a"),
                     http(500, error_body("api_error", "", "boom"), "req_b"),
                     http(502, "<html>bad gateway</html>", ""),
                     http(503, error_body("api_error", "", "unavailable"), "req_c")};
    auto o = rule_options();
    o.max_delay = milliseconds(1500);
    client c = h.make(o);
    h.list(c, window(1000, 2000));
    BOOST_TEST(h.out.ids.size() == 1u);
    BOOST_TEST(h.fake.calls == 5);
    BOOST_REQUIRE(h.vt.delays.size() == 4u);
    for (int n = 1; n <= 4; ++n)
        check_sdk_delay(h.vt.delays[static_cast<std::size_t>(n - 1)], n, milliseconds(500), milliseconds(1500));
    BOOST_TEST(c.stats().retry_log[0].reason == "409 idempotency_error (req_a)");
    BOOST_TEST(c.stats().rate_limited == 0u);
}

BOOST_AUTO_TEST_CASE(rate_limited_without_retry_after_uses_the_longer_ladder) {
    harness h;
    h.fake.add("/v1/events", "evt_1", 1000);
    for (int i = 0; i < 3; ++i)
        h.fake.script.push_back(http(429, error_body("invalid_request_error", "rate_limit", "Too many requests"),
                                     "req_rl" + std::to_string(i)));
    client c = h.make(rule_options());
    h.list(c, window(1000, 2000));
    BOOST_REQUIRE(h.vt.delays.size() == 3u);
    BOOST_TEST(h.vt.delays[0].count() == 1000);
    for (int n = 1; n <= 3; ++n)
        check_sdk_delay(h.vt.delays[static_cast<std::size_t>(n - 1)], n, milliseconds(1000), milliseconds(30000));
    BOOST_TEST(c.stats().rate_limited == 3u);
    BOOST_TEST(c.stats().retry_log[0].reason == "429 rate_limit (req_rl0)");
}

BOOST_AUTO_TEST_CASE(retry_after_is_honoured_and_capped) {
    harness h;
    h.fake.add("/v1/events", "evt_1", 1000);
    const auto body = error_body("invalid_request_error", "rate_limit", "Too many requests");
    h.fake.script = {http(429, body, "req_1", std::nullopt, milliseconds(7000)),
                     http(429, body, "req_2", std::nullopt, milliseconds(3'600'000)),
                     http(503, error_body("api_error", "", "later"), "req_3", std::nullopt, milliseconds(2000))};
    auto o = rule_options();
    o.max_retry_after = milliseconds(60000);
    client c = h.make(o);
    h.list(c, window(1000, 2000));
    std::vector<long> seen;
    for (auto d : h.vt.delays) seen.push_back(static_cast<long>(d.count()));
    BOOST_TEST(seen == (std::vector<long>{7000, 60000, 2000}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(should_retry_true_retries_any_status) {
    harness h;
    h.fake.add("/v1/events", "evt_1", 1000);
    h.fake.script = {http(400, error_body("invalid_request_error", "lock_timeout", "busy"), "req_1", true)};
    client c = h.make(rule_options());
    h.list(c, window(1000, 2000));
    BOOST_TEST(h.fake.calls == 2);
    BOOST_TEST(c.stats().retries == 1u);
    BOOST_TEST(c.stats().retry_log[0].reason == "400 lock_timeout (req_1), Stripe-Should-Retry: true");
}

BOOST_AUTO_TEST_CASE(should_retry_false_is_final_even_for_5xx_and_429) {
    for (unsigned status : {503u, 429u}) {
        harness h;
        h.fake.add("/v1/events", "evt_1", 1000);
        h.fake.script = {http(status, error_body("api_error", "x_code", "do not retry"), "req_nr", false)};
        client c = h.make(rule_options());
        const stripe_error e = expect_list_failure(h, c, window(1000, 2000));
        BOOST_TEST(h.fake.calls == 1);
        BOOST_TEST(e.http_status() == status);
        BOOST_TEST(!e.retries_exhausted());
        BOOST_TEST(std::string(e.what()).find("Stripe-Should-Retry: false") != std::string::npos);
        BOOST_TEST(h.vt.delays.empty());
    }
}

BOOST_AUTO_TEST_CASE(malformed_2xx_bodies_are_retried_and_counted) {
    harness h;
    h.fake.add("/v1/events", "evt_1", 1000);
    h.fake.script = {http(200, R"({"object":"list","data":[{"id":"evt_1")", "req_trunc"),
                     http(200, "<html>proxy error</html>", "req_html"),
                     http(200, R"({"object":"customer"})", "req_wrong")};
    client c = h.make(rule_options());
    h.list(c, window(1000, 2000));
    BOOST_TEST(h.out.ids == std::vector<std::string>{"evt_1"});
    BOOST_TEST(h.fake.calls == 4);
    const auto s = c.stats();
    BOOST_TEST(s.retries == 3u);
    BOOST_TEST(s.malformed == 3u);
    BOOST_REQUIRE(s.retry_log.size() == 3u);
    BOOST_TEST(s.retry_log[0].reason.find("200 malformed body (req_trunc)") == 0u);
}

BOOST_AUTO_TEST_CASE(tls_and_client_errors_are_final_immediately) {
    {
        harness h;
        h.fake.script = {net_error(transport_error::tls,
                                   "TLS handshake with 127.0.0.1:1: certificate verify failed "
                                   "(unable to get local issuer certificate)")};
        client c = h.make(rule_options());
        const stripe_error e = expect_list_failure(h, c, window(1000, 2000));
        BOOST_TEST(h.fake.calls == 1);
        BOOST_TEST(e.http_status() == 0u);
        BOOST_TEST(e.transport() == transport_error::tls);
        BOOST_TEST(e.what() == std::string("fetch /v1/events created [1000, 2000) page 1: tls: TLS handshake with "
                                           "127.0.0.1:1: certificate verify failed (unable to get local issuer "
                                           "certificate)"));
    }
    for (unsigned status : {400u, 401u, 403u, 404u}) {
        harness h;
        h.fake.script = {http(status, error_body("invalid_request_error", "some_code", "nope"), "req_final")};
        client c = h.make(rule_options());
        const stripe_error e = expect_list_failure(h, c, window(1000, 2000));
        BOOST_TEST(h.fake.calls == 1);
        BOOST_TEST(e.http_status() == status);
        BOOST_TEST(e.request_id() == "req_final");
        BOOST_TEST(e.type() == "invalid_request_error");
        BOOST_TEST(h.vt.delays.empty());
    }
    {
        harness h;
        h.fake.script = {net_error(transport_error::protocol, "read response: body exceeds the limit")};
        client c = h.make(rule_options());
        const stripe_error e = expect_list_failure(h, c, window(1000, 2000));
        BOOST_TEST(h.fake.calls == 1);
        BOOST_TEST(e.transport() == transport_error::protocol);
    }
}

BOOST_AUTO_TEST_CASE(retry_cap_gives_up_with_request_id_type_and_code) {
    harness h;
    h.fake.fault = [](int call, const parsed_target&) -> std::optional<transport_result> {
        return http(500, error_body("api_error", "internal_failure", "Something broke"), "req_" + std::to_string(call));
    };
    auto o = rule_options();
    o.max_retries = 3;
    client c = h.make(o);
    const stripe_error e = expect_list_failure(h, c, window(1000, 2000));
    BOOST_TEST(h.fake.calls == 4);
    BOOST_TEST(h.vt.delays.size() == 3u);
    BOOST_TEST(e.retries_exhausted());
    BOOST_TEST(e.retries() == 3);
    BOOST_TEST(e.request_id() == "req_4");
    BOOST_TEST(e.type() == "api_error");
    BOOST_TEST(e.code() == "internal_failure");
    BOOST_TEST(e.stripe_message() == "Something broke");
    BOOST_TEST(e.what() == std::string("fetch /v1/events created [1000, 2000) page 1 (req_4): 500 internal_failure "
                                       "(api_error): Something broke; gave up after 3 retries"));
}

BOOST_AUTO_TEST_CASE(zero_retries_means_one_attempt) {
    harness h;
    h.fake.script = {net_error(transport_error::reset, "read response: Connection reset by peer")};
    auto o = rule_options();
    o.max_retries = 0;
    client c = h.make(o);
    const stripe_error e = expect_list_failure(h, c, window(1000, 2000));
    BOOST_TEST(h.fake.calls == 1);
    BOOST_TEST(e.retries_exhausted());
    BOOST_TEST(e.transport() == transport_error::reset);
}

BOOST_AUTO_TEST_CASE(retrieve_follows_the_same_rules) {
    harness h;
    h.fake.add_single("/v1/customers/cus_1", json::object{{"id", "cus_1"}});
    h.fake.script = {net_error(transport_error::timeout, "read response: timed out"),
                     http(200, "not json", "req_bad")};
    client c = h.make(rule_options());
    auto [object, request_id] = run(h.ioc, h.vt, c.retrieve("/v1/customers/cus_1"));
    BOOST_TEST(object.at("id").as_string() == "cus_1");
    BOOST_TEST(request_id == "req_3");
    BOOST_TEST(c.stats().retries == 2u);
}

BOOST_AUTO_TEST_CASE(error_text_never_contains_the_api_key) {
    const std::string key = "sk_test_51SuperSecretKeyValue0123456789";
    // Stripe (or a misbehaving proxy) echoing the key verbatim, in a final
    // error, in a retried one and in a transport detail.
    {
        harness h;
        h.fake.script = {http(500, error_body("api_error", "", "upstream saw " + key), "req_1"),
                         http(401, error_body("invalid_request_error", "api_key_invalid",
                                              "Invalid API Key provided: " + key),
                              "req_2")};
        client c = h.make(rule_options());  // no redact list: the shape alone is masked
        const stripe_error e = expect_list_failure(h, c, window(1000, 2000));
        BOOST_TEST(std::string(e.what()).find(key) == std::string::npos);
        BOOST_TEST(std::string(e.what()).find("sk_test_[redacted]") != std::string::npos);
        BOOST_TEST(e.stripe_message().find(key) == std::string::npos);
        for (const auto& r : c.stats().retry_log) BOOST_TEST(r.reason.find(key) == std::string::npos);
    }
    {
        harness h;
        const std::string odd_key = "custom-proxy-token-XYZ";  // not Stripe-shaped: masked via redact
        h.fake.script = {net_error(transport_error::protocol, "proxy said: Authorization: Bearer " + odd_key)};
        auto o = rule_options();
        o.redact = {odd_key};
        client c = h.make(o);
        const stripe_error e = expect_list_failure(h, c, window(1000, 2000));
        BOOST_TEST(std::string(e.what()).find(odd_key) == std::string::npos);
        BOOST_TEST(e.stripe_message().find(odd_key) == std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ================================================================ rate

BOOST_AUTO_TEST_SUITE(stripe_client_rate)

// For request times t (sorted): every window [t_i, t_i + L) holds at most L·rate + burst.
void check_budget(std::vector<time_point> times, double rate, double burst, double window_seconds) {
    std::sort(times.begin(), times.end());
    const auto window = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(window_seconds));
    const double allowed = window_seconds * rate + burst;
    std::size_t worst = 0;
    for (std::size_t i = 0, j = 0; i < times.size(); ++i) {
        while (j < times.size() && times[j] < times[i] + window) ++j;
        worst = std::max(worst, j - i);
    }
    BOOST_TEST(static_cast<double>(worst) <= allowed + 1e-9,
               "window " << window_seconds << " s held " << worst << " requests, budget " << allowed);
}

BOOST_AUTO_TEST_CASE(limiter_unit_never_exceeds_budget_and_adapts) {
    time_point now{std::chrono::hours(1)};
    detail::rate_limiter limiter(25, 5, [&] { return now; });
    std::vector<time_point> sent;
    std::mt19937 rng(3);
    for (int i = 0; i < 5000; ++i) {
        now += limiter.reserve();
        sent.push_back(now);
        if (i % 97 == 0) now += milliseconds(rng() % 2000);  // idle gaps refill the bucket
        if (i % 500 == 250) limiter.on_rate_limited();
        else limiter.on_success();
    }
    for (double w : {0.1, 0.5, 1.0, 10.0, 60.0}) check_budget(sent, 25, 5, w);

    detail::rate_limiter slowing(8, 1, [&] { return now; });
    slowing.on_rate_limited();
    BOOST_TEST(slowing.current_rate() == 4.0);
    for (int i = 0; i < 10; ++i) slowing.on_rate_limited();
    BOOST_TEST(slowing.current_rate() == 1.0);  // floor
    for (int i = 0; i < 1000; ++i) slowing.on_success();
    BOOST_TEST(slowing.current_rate() == 8.0);  // back to, never above, the budget
}

BOOST_AUTO_TEST_CASE(long_concurrent_run_stays_within_budget) {
    harness h;
    for (int i = 0; i < 3000; ++i) h.fake.add("/v1/events", id_of(i), 1'700'000'000 + i * 7);
    auto o = rule_options();
    o.requests_per_second = 25;
    o.burst = 0;  // default: 25 / 4
    o.concurrency = 4;
    o.page_limit = 10;
    client c = h.make(o);
    h.list(c, window(1'700'000'000, 1'700'021'000));
    BOOST_TEST(h.out.ids.size() == 3000u);
    BOOST_TEST(h.fake.times.size() > 300u);
    for (double w : {0.2, 1.0, 5.0, 30.0}) check_budget(h.fake.times, 25, 6.25, w);
    // The long-run average: at most the budget once the initial burst is spent.
    const double span = std::chrono::duration<double>(h.fake.times.back() - h.fake.times.front()).count();
    // (Saturated, it is exactly the budget: allow for floating-point rounding.)
    BOOST_TEST((static_cast<double>(h.fake.times.size()) - 6.25) / span <= 25.0 * (1 + 1e-9));
    // ...and not wastefully below it.
    BOOST_TEST(static_cast<double>(h.fake.times.size()) / span >= 20.0);
}

BOOST_AUTO_TEST_CASE(a_429_slows_every_worker) {
    harness h;
    for (int i = 0; i < 400; ++i) h.fake.add("/v1/events", id_of(i), 1'700'000'000 + i * 10);
    h.fake.fault = [](int call, const parsed_target&) -> std::optional<transport_result> {
        if (call == 20)
            return http(429, error_body("invalid_request_error", "rate_limit", "Too many requests"), "req_rl",
                        std::nullopt, milliseconds(0));
        return std::nullopt;
    };
    auto o = rule_options();
    o.requests_per_second = 10;
    o.burst = 1;
    o.concurrency = 4;
    o.page_limit = 10;
    client c = h.make(o);
    h.list(c, window(1'700'000'000, 1'700'004'000));
    BOOST_TEST(h.out.ids.size() == 400u);
    BOOST_TEST(c.stats().rate_limited == 1u);
    const auto& t = h.fake.times;
    BOOST_REQUIRE(t.size() > 30u);
    auto count_in = [&](time_point from, time_point to) {
        return std::count_if(t.begin(), t.end(), [&](time_point x) { return x >= from && x < to; });
    };
    // Before: 10/s. After the 429 (call 20; slots already booked stand): about
    // 5/s for every worker, recovering slowly.
    BOOST_TEST(count_in(t[0] + milliseconds(500), t[0] + milliseconds(1500)) == 10);
    BOOST_TEST(count_in(t[19] + milliseconds(500), t[19] + milliseconds(1500)) <= 6);
    check_budget(t, 10, 1, 1.0);
}

BOOST_AUTO_TEST_SUITE_END()

// ================================================================ helpers

BOOST_AUTO_TEST_SUITE(stripe_client_helpers)

BOOST_AUTO_TEST_CASE(split_window_is_contiguous_disjoint_and_newest_first) {
    const auto s = detail::split_window(1000, 1043, 4);
    BOOST_REQUIRE(s.size() == 4u);
    BOOST_TEST(s.front().second == 1043);
    BOOST_TEST(s.back().first == 1000);
    for (std::size_t i = 1; i < s.size(); ++i) BOOST_TEST(s[i].second == s[i - 1].first);
    BOOST_TEST(detail::split_window(5, 7, 16).size() == 2u);  // never an empty slice
    const auto huge = detail::split_window(std::numeric_limits<std::int64_t>::min() / 2,
                                           std::numeric_limits<std::int64_t>::max() / 2, 3);
    BOOST_TEST(huge.size() == 3u);
    BOOST_CHECK_THROW(detail::split_window(7, 7, 2), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(url_encode_and_redact) {
    BOOST_TEST(detail::url_encode("types[0]") == "types%5B0%5D");
    BOOST_TEST(detail::url_encode("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9");
    BOOST_TEST(detail::url_encode("evt_1AbC-._~") == "evt_1AbC-._~");
    BOOST_TEST(detail::redact_secrets("key rk_live_abc123 and whsec_xyz") ==
               "key rk_live_[redacted] and whsec_[redacted]");
    BOOST_TEST(detail::redact_secrets("sk_test_********1234 sk_test_") == "sk_test_[redacted] sk_test_");
    BOOST_TEST(detail::redact_secrets("token=abc abc", {"abc"}) == "token=[redacted] [redacted]");
}

BOOST_AUTO_TEST_CASE(options_out_of_range_are_refused) {
    fake_stripe fake;
    auto make = [&](auto tweak) {
        client_options o;
        tweak(o);
        client c(fake, o);
    };
    BOOST_CHECK_THROW(make([](client_options& o) { o.concurrency = 0; }), std::invalid_argument);
    BOOST_CHECK_THROW(make([](client_options& o) { o.page_limit = 101; }), std::invalid_argument);
    BOOST_CHECK_THROW(make([](client_options& o) { o.requests_per_second = 0; }), std::invalid_argument);
    BOOST_CHECK_THROW(make([](client_options& o) { o.max_retries = -1; }), std::invalid_argument);
    BOOST_CHECK_NO_THROW(make([](client_options&) {}));
}

BOOST_AUTO_TEST_SUITE_END()
