// client::impl, shared by client.cpp (operations, retrieve),
// client_retry.cpp (one request with the retry rules) and client_paging.cpp
// (list_all's pieces and workers). Internal to reconciler/stripe.
//
// Threading: one io_context on one thread (client.hpp); the shared state
// below needs no lock.
#pragma once

#include "stripe/client.hpp"
#include "stripe/rate_limiter.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace reconciler::stripe {

namespace detail {
// "action (req_123)": the Request-Id when there is one.
std::string with_request_id(std::string s, const std::string& request_id);
}  // namespace detail

struct client::impl {
    impl(transport& t, client_options o, sleeper s, clock c);

    transport& transport_;
    client_options opts;
    sleeper sleep;
    detail::rate_limiter limiter;
    std::mt19937_64 rng;
    client_stats stats;

    // Cursors of every list_all (and retrieve_all) running on this client:
    // pieces queued or being paged, and retrieve workers. Splitting a piece
    // adds a cursor, and every cursor ends in a partial page; so a list
    // splits only while the client as a whole has fewer than `concurrency`,
    // which is all the parallelism the budget can use. (Per list, six lists
    // in flight would keep six times that, and pay for it in partial pages.)
    int cursors = 0;
    struct list_run;
    std::vector<list_run*> runs;  // idle workers to wake when a cursor ends

    void cursor_ended();
    bool may_split() const { return cursors < opts.concurrency; }

    // ---- one request (client_retry.cpp)

    // Waits for this request's slot in the shared budget.
    boost::asio::awaitable<void> throttle();
    std::chrono::milliseconds backoff(int n, const transport_result& r);
    [[noreturn]] void fail(const std::string& action, const transport_result& r,
                           const std::optional<stripe_error_body>& body, const std::string& parse_problem,
                           bool exhausted, int retries) const;
    // Stores a 2xx body's value where the caller wants it; throws on a
    // malformed body (which is retried).
    using body_parser = std::function<void(const std::string& body)>;
    // One logical request with the retry rules of client.hpp.
    boost::asio::awaitable<http_response> request(std::string action, std::string target, body_parser parse);

    // ---- list_all (client_paging.cpp)

    // One list_all's shared state. Work is a set of disjoint pieces of the
    // window; each is paged newest-first by one worker at a time. A piece that
    // has proven dense (its last page said has_more) can be split by an idle
    // worker: the remaining range [gte, cursor's created] is halved, the older
    // half becomes a new piece, and the busy piece's next request asks for
    // created >= the split point. Pages already in flight may bring objects
    // below the new bound: they are dropped there (the new piece owns them)
    // and the piece ends. So requests go where the objects are: a sparse
    // list costs one request, a dense one keeps every worker busy to the end.
    struct piece {
        std::int64_t gte = 0, lt = 0;  // [gte, lt); gte rises when split
        std::string after;             // starting_after cursor ("" on the first page)
        std::optional<std::int64_t> after_created;  // the cursor object's created
        bool dense = false;            // its last page said has_more
        std::int64_t page_span = 0;    // seconds its last page spanned
        bool done = false;
        int page_no = 0;
    };

    struct list_run {
        const list_query& q;
        const std::string& fixed_query;
        const page_sink& sink;
        int workers;
        std::deque<piece> pieces;       // stable references on push_back
        std::deque<std::size_t> queue;  // pieces no worker has started
        std::vector<std::size_t> active;  // pieces being paged
        bool first_page_seen = false;
        bool failed = false;
        boost::asio::steady_timer wake;  // never expires: cancel() wakes every idle worker

        void notify() { wake.cancel(); }
    };

    static std::optional<std::int64_t> created_of(const boost::json::value& v);
    // Pages a piece still holds, judged by how many seconds its last page
    // spanned (0: not worth splitting, or unknown).
    static double pages_left(const piece& p);
    std::optional<std::size_t> steal(list_run& run);
    void initial_split(list_run& run, piece& p);
    boost::asio::awaitable<void> page_piece(list_run& run, std::size_t index);
    boost::asio::awaitable<void> worker(list_run& run);

    // ---- retrieve (client.cpp)

    static void check_retrieve_path(const std::string& path);
    boost::asio::awaitable<std::pair<boost::json::object, std::string>> retrieve_one(std::string path);
    boost::asio::awaitable<void> retrieve_worker(const std::vector<std::string>& paths, std::vector<retrieved>& out,
                                                 std::size_t& next, bool allow_missing);
};

}  // namespace reconciler::stripe
