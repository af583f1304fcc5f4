#include "store/postgres/escalations.hpp"

#include "store/postgres/pg_transaction.hpp"

#include <algorithm>

namespace reconciler::store::postgres {

namespace {

constexpr const char* pg_escalation_columns =
    "SELECT id, team, kind, subject, evidence::text, first_seen, last_seen, occurrences, status, subject_at"
    " FROM @schema@.recon_escalations ";
constexpr const char* pg_escalation_columns_without_evidence =
    "SELECT id, team, kind, subject, '' AS evidence, first_seen, last_seen, occurrences, status, subject_at"
    " FROM @schema@.recon_escalations ";

escalation read_escalation(const result& r, int i) {
    escalation e;
    e.id = r.int64(i, 0);
    e.team = r.text(i, 1);
    e.kind = r.text(i, 2);
    e.subject = r.text(i, 3);
    e.evidence = r.text(i, 4);
    e.first_seen = r.text(i, 5);
    e.last_seen = r.text(i, 6);
    e.occurrences = r.int64(i, 7);
    e.status = r.text(i, 8);
    e.subject_at = r.int64(i, 9);
    return e;
}

}  // namespace

std::vector<escalation> select_open_escalations(session& s, const std::string& and_where, const params& p) {
    const auto r = s.run(std::string(pg_escalation_columns) + "WHERE status IN ('open','watching') " + and_where +
                             " ORDER BY first_seen COLLATE \"C\", id",
                         p);
    std::vector<escalation> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_escalation(r, i));
    return out;
}

escalation postgres_escalations::raise(const escalation_input& e, std::int64_t run_id, int watch_until) {
    transaction tx(s_.conn());
    const std::string now = format_rfc3339(now_unix());
    escalation out;
    const auto sel = s_.run("SELECT id, occurrences, status, first_seen FROM @schema@.recon_escalations"
                            " WHERE kind = $1 AND subject = $2 FOR UPDATE",
                            params().add(e.kind).add(e.subject));
    if (sel.rows() > 0) {  // seen again: occurrences + 1, reopened when it reaches watch_until
        out.id = sel.int64(0, 0);
        out.occurrences = sel.int64(0, 1) + 1;
        const std::string old_status(sel.text(0, 2));
        out.first_seen = sel.text(0, 3);
        out.status = out.occurrences >= watch_until ? "open" : "watching";
        out.is_new = out.status == "open" && old_status != "open";
        s_.run("UPDATE @schema@.recon_escalations SET occurrences = $1, status = $2, last_seen = $3, last_run_id = $4,"
               " evidence = $5::json, team = $6, subject_at = $7, resolved_at = NULL WHERE id = $8",
               params().add(out.occurrences).add(out.status).add(now).add(run_id).add(e.evidence).add(e.team)
                   .add(static_cast<std::int64_t>(e.subject_at)).add(out.id));
    } else {
        out.occurrences = 1;
        out.first_seen = now;
        out.status = watch_until <= 1 ? "open" : "watching";
        out.is_new = out.status == "open";
        const auto ins = s_.run("INSERT INTO @schema@.recon_escalations(team, kind, subject, evidence, subject_at,"
                                " first_seen, last_seen, occurrences, status, first_run_id, last_run_id)"
                                " VALUES ($1, $2, $3, $4::json, $5, $6, $6, 1, $7, $8, $8) RETURNING id",
                                params().add(e.team).add(e.kind).add(e.subject).add(e.evidence)
                                    .add(static_cast<std::int64_t>(e.subject_at)).add(now).add(out.status).add(run_id));
        out.id = ins.int64(0, 0);
    }
    tx.commit();
    out.team = e.team;
    out.kind = e.kind;
    out.subject = e.subject;
    out.evidence = e.evidence;
    out.last_seen = now;
    out.subject_at = e.subject_at;
    return out;
}

int postgres_escalations::resolve_absent(std::int64_t run_id, unix_seconds start, unix_seconds end,
                                         const std::vector<std::string>& kinds) {
    if (kinds.empty()) return 0;
    // One statement: the open escalations are never read into memory.
    const auto r = s_.run("UPDATE @schema@.recon_escalations SET status = 'resolved', resolved_at = $1, last_run_id = $2"
                          " WHERE status IN ('open','watching') AND last_run_id IS DISTINCT FROM $2"
                          " AND (subject_at = 0 OR (subject_at >= $3 AND subject_at < $4))"
                          " AND kind = ANY($5::text[])",
                          params().add(format_rfc3339(now_unix())).add(run_id).add(static_cast<std::int64_t>(start))
                              .add(static_cast<std::int64_t>(end)).add(text_array(kinds)));
    return static_cast<int>(r.affected());
}

std::vector<escalation> postgres_escalations::open_escalations() { return select_open_escalations(s_, "", {}); }

std::int64_t postgres_escalations::count_open_escalations() {
    return s_.run("SELECT COUNT(*) FROM @schema@.recon_escalations WHERE status IN ('open','watching')").int64(0, 0);
}

void postgres_escalations::each_open_escalation(const std::function<void(const escalation&)>& visit) {
    for (const auto& e : open_escalations()) visit(e);
}

void postgres_escalations::each_open_escalation_by_age(unix_seconds now,
                                                       const std::function<void(const escalation&)>& visit) {
    // Sorted here by escalation_age_days() itself, so the order is exactly
    // the age a report shows (PostgreSQL would parse first_seen its own way);
    // the rows are short: the evidence is left out.
    const auto r = s_.run(std::string(pg_escalation_columns_without_evidence) +
                          "WHERE status IN ('open','watching') ORDER BY first_seen COLLATE \"C\", id");
    struct keyed {
        bool watching;
        std::int64_t age;
        escalation e;
    };
    std::vector<keyed> rows;
    rows.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        auto e = read_escalation(r, i);
        rows.push_back(keyed{e.status != "open", escalation_age_days(e.first_seen, now), std::move(e)});
    }
    std::stable_sort(rows.begin(), rows.end(), [](const keyed& a, const keyed& b) {
        return a.watching != b.watching ? !a.watching : a.age > b.age;
    });
    for (const auto& k : rows) visit(k.e);
}

}  // namespace reconciler::store::postgres
