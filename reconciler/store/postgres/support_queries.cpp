#include "store/postgres/support_queries.hpp"

#include "store/postgres/escalations.hpp"
#include "store/postgres/users.hpp"

#include <algorithm>

namespace reconciler::store::postgres {

std::optional<local_user> postgres_support_queries::find_user_by_email(const std::string& email) {
    const auto r = s_.run(std::string(user_columns) + "WHERE lower(@users.email@) = lower($1) ORDER BY @users.id@ LIMIT 1",
                          params().add(email));
    if (r.rows() == 0) return std::nullopt;
    return read_user(r, 0);
}

// Filtered in SQL: the subject is the email, or the evidence (a JSON object)
// names the user's customer.
std::vector<escalation> postgres_support_queries::escalations_for(const local_user& u) {
    return select_open_escalations(s_, "AND (subject = $1 OR ($2 <> '' AND evidence::jsonb->>'customer' = $2))",
                                   params().add(u.email).add(u.stripe_customer_id));
}

std::vector<run_summary> postgres_support_queries::run_trend(int limit) {
    const auto r = s_.run("SELECT id, status, mode, started_at, COALESCE(finished_at, ''), window_start, window_end"
                          " FROM @schema@.recon_runs ORDER BY id DESC LIMIT $1",
                          params().add(limit));
    std::vector<run_summary> out;
    std::vector<std::string> ids;
    for (int i = r.rows() - 1; i >= 0; --i) {  // oldest first
        run_summary x;
        x.id = r.int64(i, 0);
        x.status = r.text(i, 1);
        x.mode = r.text(i, 2);
        x.started_at = r.text(i, 3);
        x.finished_at = r.text(i, 4);
        x.window_start = r.int64(i, 5);
        x.window_end = r.int64(i, 6);
        ids.push_back(std::to_string(x.id));
        out.push_back(std::move(x));
    }
    if (out.empty()) return out;
    // Every run's findings by kind in one statement (recon_findings_run serves
    // each id); the totals are counted from them, not read from the run row:
    // the run being reported writes its row last.
    const auto k = s_.run("SELECT run_id, kind, count(*), count(*) FILTER (WHERE disposition = 'applied')"
                          " FROM @schema@.recon_findings WHERE run_id = ANY($1::bigint[]) GROUP BY run_id, kind",
                          params().add(text_array(ids)));
    for (int i = 0; i < k.rows(); ++i) {
        const auto run = std::find_if(out.begin(), out.end(), [&](const run_summary& x) { return x.id == k.int64(i, 0); });
        if (run == out.end()) continue;
        run->by_kind[std::string(k.text(i, 1))] = {k.int64(i, 2), k.int64(i, 3)};
        run->findings += k.int64(i, 2);
        run->corrections_applied += k.int64(i, 3);
    }
    return out;
}

}  // namespace reconciler::store::postgres
