// list_all's paging (client.hpp): the window as pieces paged newest-first,
// split while the client has room for more cursors.
#include "stripe/client_impl.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <optional>

namespace reconciler::stripe {

namespace asio = boost::asio;
using namespace detail;

std::optional<std::int64_t> client::impl::created_of(const boost::json::value& v) {
    const auto* o = v.if_object();
    const auto* c = o ? o->if_contains("created") : nullptr;
    if (!c) return std::nullopt;
    if (c->is_int64()) return c->get_int64();
    if (c->is_uint64() && c->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(c->get_uint64());
    return std::nullopt;
}

double client::impl::pages_left(const piece& p) {
    if (p.done || !p.dense || !p.after_created || *p.after_created <= p.gte) return 0;
    return static_cast<double>(*p.after_created - p.gte) / static_cast<double>(std::max<std::int64_t>(1, p.page_span));
}

namespace {

// A piece's last page is usually partial: pieces of fewer pages than
// this cost more in partial pages than their parallelism saves (the
// run keeps other lists in flight beside this one). 4, not 3: fewer
// partial pages, and still ~10 in flight at 100 ms (bench/RESULTS.md).
constexpr double min_pages_per_piece = 4;

}  // namespace

void client::impl::cursor_ended() {
    --cursors;
    for (auto* r : runs) r->notify();
}

// Splits off the older half of the busy piece with the most pages left,
// when each half keeps min_pages_per_piece (else splitting costs a
// partial page and saves little); the new piece's index.
std::optional<std::size_t> client::impl::steal(list_run& run) {
    if (!may_split()) return std::nullopt;
    std::size_t best = 0;
    double most = 0;
    for (std::size_t i : run.active) {
        const double left = pages_left(run.pieces[i]);
        if (left > most) most = left, best = i;
    }
    if (most < 2 * min_pages_per_piece) return std::nullopt;
    piece& victim = run.pieces[best];
    const std::int64_t mid = victim.gte + (*victim.after_created - victim.gte + 1) / 2;  // gte < mid <= cursor's created
    piece older;
    older.gte = victim.gte;
    older.lt = mid;
    victim.gte = mid;
    run.pieces.push_back(std::move(older));
    ++cursors;
    return run.pieces.size() - 1;
}

// After the window's first page: how dense the list is says how many
// pieces to start with (at most one per worker), so the workers start
// at once instead of splitting one by one.
void client::impl::initial_split(list_run& run, piece& p) {
    if (run.workers < 2 || !p.dense || !p.after_created || *p.after_created <= p.gte) return;
    const std::int64_t parts = std::min<std::int64_t>(
        {static_cast<std::int64_t>(pages_left(p) / min_pages_per_piece) + 1, run.workers,
         *p.after_created + 1 - p.gte, 1 + std::max(0, opts.concurrency - cursors)});
    if (parts < 2) return;
    const auto windows = detail::split_window(p.gte, *p.after_created + 1, static_cast<int>(parts));
    p.gte = windows.front().first;  // the busy piece keeps the newest part
    for (std::size_t k = 1; k < windows.size(); ++k) {
        piece next;
        next.gte = windows[k].first;
        next.lt = windows[k].second;
        run.pieces.push_back(std::move(next));
        run.queue.push_back(run.pieces.size() - 1);
        ++cursors;
    }
}

asio::awaitable<void> client::impl::page_piece(list_run& run, std::size_t index) {
    piece& p = run.pieces[index];
    for (;;) {
        ++p.page_no;
        const std::string window = "[" + std::to_string(p.gte) + ", " + std::to_string(p.lt) + ")";
        const std::string action = "fetch " + run.q.resource + " created " + window + " page " +
                                   std::to_string(p.page_no);
        std::string target = run.q.resource + "?" + run.fixed_query + "&created%5Bgte%5D=" +
                             std::to_string(p.gte) + "&created%5Blt%5D=" + std::to_string(p.lt);
        if (!p.after.empty()) target += "&starting_after=" + detail::url_encode(p.after);

        // Built in place: assigned, its JSON (on the parser's storage) would be copied.
        std::optional<list_envelope> parsed;
        const http_response response = co_await request(
            action, target, [&parsed](const std::string& body) { parsed.emplace(parse_list_envelope(body)); });
        list_envelope& envelope = *parsed;

        // A split while this page was in flight moved p.gte up: what lies
        // below it now belongs to the older piece, and so does the rest.
        bool more = envelope.has_more;
        auto& data = envelope.data;
        for (std::size_t k = 0; k < data.size(); ++k) {
            const auto created = created_of(data[k]);
            if (created && *created < p.gte) {
                data.erase(data.begin() + static_cast<std::ptrdiff_t>(k), data.end());
                more = false;
                break;
            }
        }

        // The cursor must come out before the envelope is handed over.
        if (more) {
            // Paging on would loop or skip: a broken peer, not worth a retry.
            auto bad_page = [&](const std::string& why) {
                stripe_error::details d;
                d.action = action;
                d.http_status = response.status;
                d.request_id = response.request_id;
                d.message = why;
                return stripe_error(with_request_id(action, response.request_id) + ": " + why, std::move(d));
            };
            if (data.empty()) throw bad_page("has_more is true on an empty page");
            const auto* last = data.back().if_object();
            const auto* id = last ? last->if_contains("id") : nullptr;
            if (!id || !id->is_string() || id->as_string().empty())
                throw bad_page("the last object has no string id to continue from");
            std::string next(id->as_string());
            if (next == p.after) throw bad_page("the page ends at the cursor it started after (" + next + ")");
            p.after = std::move(next);
            const auto top = p.after_created.value_or(p.lt);
            p.after_created = created_of(data.back());
            p.page_span = p.after_created ? top - *p.after_created : 0;
        }
        p.dense = more;
        p.done = !more;
        if (!run.first_page_seen) {
            run.first_page_seen = true;
            initial_split(run, p);
        }
        if (more) run.notify();  // idle workers may split this piece now

        list_page_info info;
        info.resource = run.q.resource;
        info.page_no = p.page_no;
        info.request_id = response.request_id;
        info.object_count = data.size();
        info.has_more = more;
        ++stats.pages;
        stats.objects += data.size();
        run.sink(info, std::move(envelope));
        if (!more) co_return;
    }
}

asio::awaitable<void> client::impl::worker(list_run& run) {
    // Single-threaded: the shared state needs no lock.
    for (;;) {
        if (run.failed) co_return;
        std::optional<std::size_t> index;
        if (!run.queue.empty()) {
            index = run.queue.front();
            run.queue.pop_front();
        } else {
            index = steal(run);
        }
        if (index) {
            run.active.push_back(*index);
            std::exception_ptr error;
            try {
                co_await page_piece(run, *index);
            } catch (...) {
                error = std::current_exception();
            }
            std::erase(run.active, *index);
            cursor_ended();  // wakes idle workers here and in every other list
            if (error) {
                run.failed = true;  // idle workers stop; the group reports this error
                std::rethrow_exception(error);
            }
            continue;
        }
        if (run.active.empty()) co_return;  // nothing left to page or split
        co_await run.wake.async_wait(asio::as_tuple(asio::use_awaitable));
        auto cs = co_await asio::this_coro::cancellation_state;
        if (cs.cancelled() != asio::cancellation_type::none) co_return;
    }
}

}  // namespace reconciler::stripe
