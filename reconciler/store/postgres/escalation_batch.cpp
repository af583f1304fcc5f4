// escalations::raise_all on PostgreSQL: a part's escalations in one
// transaction of a few statements. One transaction of three statements each
// (SELECT ... FOR UPDATE, INSERT, history) was most of the window part's time
// at 100k (3,957 escalations, ~20k round trips); the rows and their history
// are the same as raise()'s, moved by the same escalation_rules.
#include "store/postgres/escalations.hpp"

#include "store/escalation_rules.hpp"
#include "store/postgres/outbox.hpp"
#include "store/postgres/pg_transaction.hpp"

#include <map>
#include <set>
#include <utility>

namespace reconciler::store::postgres {

namespace {

using key = std::pair<std::string, std::string>;  // (kind, subject)

// The stored rows of `keys`, locked, by key.
std::map<key, escalation_rules::stored> lock_existing(session& s, const std::vector<key>& keys) {
    std::vector<std::string> kinds, subjects;
    for (const auto& [k, sub] : keys) {
        kinds.push_back(k);
        subjects.push_back(sub);
    }
    const auto r = s.run("SELECT e.kind, e.subject, e.id, e.occurrences, e.status, e.first_seen, e.last_run_id,"
                         " e.person_closes FROM @schema@.recon_escalations e"
                         " JOIN unnest($1::text[], $2::text[]) AS b(kind, subject)"
                         " ON e.kind = b.kind AND e.subject = b.subject FOR UPDATE OF e",
                         params().add(text_array(kinds)).add(text_array(subjects)));
    std::map<key, escalation_rules::stored> out;
    for (int i = 0; i < r.rows(); ++i)
        out.emplace(key{std::string(r.text(i, 0)), std::string(r.text(i, 1))},
                    escalation_rules::stored{r.int64(i, 2), r.int64(i, 3), std::string(r.text(i, 4)),
                                             std::string(r.text(i, 5)), r.opt_int64(i, 6), r.int64(i, 7) != 0});
    return out;
}

// The records seen again, in one UPDATE (as pg_raise_again's, row by row).
void update_seen_again(session& s, const std::vector<const raise_input*>& in, const std::vector<escalation*>& out,
                       std::int64_t run_id, const std::string& now) {
    if (in.empty()) return;
    std::vector<std::string> ids, occurrences, statuses, evidence, teams, subject_ats, person;
    for (std::size_t i = 0; i < in.size(); ++i) {
        ids.push_back(std::to_string(out[i]->id));
        occurrences.push_back(std::to_string(out[i]->occurrences));
        statuses.push_back(out[i]->status);
        evidence.push_back(in[i]->input.evidence);
        teams.push_back(in[i]->input.team);
        subject_ats.push_back(std::to_string(in[i]->input.subject_at));
        person.emplace_back(out[i]->person_closes ? "1" : "0");
    }
    s.run("UPDATE @schema@.recon_escalations e SET occurrences = v.occurrences, status = v.status, last_seen = $1,"
          " last_run_id = $2, evidence = v.evidence::json, team = v.team, subject_at = v.subject_at,"
          " person_closes = v.person_closes, resolved_at = NULL, resolved_by = NULL,"
          " acked_by = CASE WHEN v.status = 'acked' THEN e.acked_by END,"
          " acked_at = CASE WHEN v.status = 'acked' THEN e.acked_at END"
          " FROM unnest($3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[])"
          " AS v(id, occurrences, status, evidence, team, subject_at, person_closes) WHERE e.id = v.id",
          params().add(now).add(run_id).add(text_array(ids)).add(text_array(occurrences)).add(text_array(statuses))
              .add(text_array(evidence)).add(text_array(teams)).add(text_array(subject_ats)).add(text_array(person)));
}

// The records seen the first time, in one INSERT; fills each out.id.
void insert_first(session& s, const std::vector<const raise_input*>& in, const std::vector<escalation*>& out,
                  std::int64_t run_id, const std::string& now) {
    if (in.empty()) return;
    std::vector<std::string> teams, kinds, subjects, evidence, subject_ats, statuses, person;
    for (std::size_t i = 0; i < in.size(); ++i) {
        const auto& e = in[i]->input;
        teams.push_back(e.team);
        kinds.push_back(e.kind);
        subjects.push_back(e.subject);
        evidence.push_back(e.evidence);
        subject_ats.push_back(std::to_string(e.subject_at));
        statuses.push_back(out[i]->status);
        person.emplace_back(e.person_closes ? "1" : "0");
    }
    const auto r = s.run("INSERT INTO @schema@.recon_escalations(team, kind, subject, evidence, subject_at, first_seen,"
                         " last_seen, occurrences, status, first_run_id, last_run_id, person_closes)"
                         " SELECT team, kind, subject, evidence::json, subject_at, $1, $1, 1, status, $2, $2, person"
                         " FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[],"
                         " $9::bigint[]) AS v(team, kind, subject, evidence, subject_at, status, person)"
                         " RETURNING kind, subject, id",
                         params().add(now).add(run_id).add(text_array(teams)).add(text_array(kinds))
                             .add(text_array(subjects)).add(text_array(evidence)).add(text_array(subject_ats))
                             .add(text_array(statuses)).add(text_array(person)));
    std::map<key, std::int64_t> ids;
    for (int i = 0; i < r.rows(); ++i) ids.emplace(key{std::string(r.text(i, 0)), std::string(r.text(i, 1))}, r.int64(i, 2));
    for (std::size_t i = 0; i < in.size(); ++i) out[i]->id = ids.at(key{in[i]->input.kind, in[i]->input.subject});
}

// The history rows, in one INSERT (as record_change's); then a trigger for
// each escalation that opened or reopened, to its team's routes.
void record_changes(session& s, const std::vector<std::pair<escalation*, escalation_change>>& changes,
                    const std::string& now) {
    if (changes.empty()) return;
    std::vector<std::string> ids, ats, actors, actions, froms, tos, notes, runs;
    for (const auto& [e, ch] : changes) {
        ids.push_back(std::to_string(e->id));
        ats.push_back(ch.at);
        actors.push_back(ch.actor);
        actions.push_back(ch.action);
        froms.push_back(ch.from_status);
        tos.push_back(ch.to_status);
        notes.push_back(ch.note);
        runs.push_back(std::to_string(ch.run_id));
    }
    const auto r = s.run("INSERT INTO @schema@.recon_escalation_history(escalation_id, at, actor, action, from_status,"
                         " to_status, note, run_id) SELECT id, at, actor, action, NULLIF(from_status, ''), to_status,"
                         " note, NULLIF(run_id, 0) FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[],"
                         " $5::text[], $6::text[], $7::text[], $8::bigint[]) WITH ORDINALITY"
                         " AS v(id, at, actor, action, from_status, to_status, note, run_id, n) ORDER BY n"
                         " RETURNING escalation_id, id",
                         params().add(text_array(ids)).add(text_array(ats)).add(text_array(actors))
                             .add(text_array(actions)).add(text_array(froms)).add(text_array(tos))
                             .add(text_array(notes)).add(text_array(runs)));
    std::map<std::int64_t, std::int64_t> history;  // one change per escalation in a batch
    for (int i = 0; i < r.rows(); ++i) history[r.int64(i, 0)] = r.int64(i, 1);
    for (const auto& [e, ch] : changes)
        if (e->is_new) enqueue_triggers(s, e->id, e->team, history.at(e->id), now);
}

}  // namespace

std::vector<escalation> postgres_escalations::raise_all(const std::vector<raise_input>& batch, std::int64_t run_id) {
    std::vector<escalation> out(batch.size());
    if (batch.empty()) return out;
    // A (kind, subject) the batch names again is raised after the rest, row
    // by row, so it moves from what its first raise wrote.
    std::set<key> seen;
    std::vector<std::size_t> first, again;
    std::vector<key> keys;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (seen.insert(key{batch[i].input.kind, batch[i].input.subject}).second) {
            first.push_back(i);
            keys.emplace_back(batch[i].input.kind, batch[i].input.subject);
        } else {
            again.push_back(i);
        }
    }
    transaction tx(s_.conn());
    const std::string now = format_rfc3339(now_unix());
    const auto stored = lock_existing(s_, keys);
    std::vector<const raise_input*> old_in, new_in;
    std::vector<escalation*> old_out, new_out;
    std::vector<std::pair<escalation*, escalation_change>> changes;
    for (std::size_t i : first) {
        const auto& e = batch[i].input;
        escalation& o = out[i];
        if (auto it = stored.find(key{e.kind, e.subject}); it != stored.end()) {
            if (auto ch = escalation_rules::seen_again(it->second, e, run_id, batch[i].watch_until, now, o))
                changes.emplace_back(&o, std::move(*ch));
            old_in.push_back(&batch[i]);
            old_out.push_back(&o);
        } else {
            changes.emplace_back(&o, escalation_rules::first_seen(e, run_id, batch[i].watch_until, now, o));
            new_in.push_back(&batch[i]);
            new_out.push_back(&o);
        }
        escalation_rules::fill_from_input(e, now, o);
    }
    update_seen_again(s_, old_in, old_out, run_id, now);
    insert_first(s_, new_in, new_out, run_id, now);
    record_changes(s_, changes, now);
    for (std::size_t i : again) out[i] = raise_in_transaction(s_, batch[i].input, run_id, batch[i].watch_until);
    tx.commit();
    return out;
}

}  // namespace reconciler::store::postgres
