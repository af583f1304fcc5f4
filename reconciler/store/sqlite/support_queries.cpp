#include "store/sqlite/support_queries.hpp"

#include "store/sqlite/escalations.hpp"
#include "store/sqlite/users.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace reconciler::store::sqlite {

namespace json = boost::json;

std::optional<local_user> sqlite_support_queries::find_user_by_email(const std::string& email) {
    SQLite::Statement q(c_.db(), c_.sql(std::string(user_columns) + "WHERE @users.email@ = ? COLLATE NOCASE"));
    q.bind(1, email);
    if (!q.executeStep()) return std::nullopt;
    return read_user(q);
}

std::vector<escalation> sqlite_support_queries::escalations_for(const local_user& u) {
    std::vector<escalation> out;
    for (auto& e : open_escalations(c_)) {
        boost::system::error_code ec;
        json::value ev = json::parse(e.evidence, ec);
        const json::object* o = !ec && ev.is_object() ? &ev.get_object() : nullptr;
        const bool mine =
            e.subject == u.email || (o && !u.stripe_customer_id.empty() && str_field(*o, "customer") == u.stripe_customer_id);
        if (mine) out.push_back(std::move(e));
    }
    return out;
}

std::vector<run_summary> sqlite_support_queries::run_trend(int limit) {
    std::vector<run_summary> out;
    SQLite::Statement q(c_.db(),
                        "SELECT id, status, mode, started_at, COALESCE(finished_at, ''), window_start, window_end"
                        " FROM recon_runs ORDER BY id DESC LIMIT ?");
    q.bind(1, limit);
    while (q.executeStep()) {
        run_summary r;
        r.id = q.getColumn(0).getInt64();
        r.status = q.getColumn(1).getString();
        r.mode = q.getColumn(2).getString();
        r.started_at = q.getColumn(3).getString();
        r.finished_at = q.getColumn(4).getString();
        r.window_start = q.getColumn(5).getInt64();
        r.window_end = q.getColumn(6).getInt64();
        out.push_back(std::move(r));
    }
    // Per run, not one GROUP BY over all: each uses recon_findings_run, and a
    // trend reads a few dozen runs.
    auto kinds = c_.cached("SELECT kind, count(*), sum(disposition = 'applied') FROM recon_findings"
                           " WHERE run_id = ? GROUP BY kind");
    // The totals too are counted from the findings, not read from the run
    // row: the run being reported writes its row last.
    for (auto& r : out) {
        kinds->reset();
        kinds->bind(1, r.id);
        r.findings = r.corrections_applied = 0;
        while (kinds->executeStep()) {
            const run_summary::kind_count n{kinds->getColumn(1).getInt64(), kinds->getColumn(2).getInt64()};
            r.by_kind[kinds->getColumn(0).getString()] = n;
            r.findings += n.findings;
            r.corrections_applied += n.applied;
        }
    }
    std::reverse(out.begin(), out.end());
    return out;
}

}  // namespace reconciler::store::sqlite
