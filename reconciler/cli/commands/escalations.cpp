// `reconciler escalations ACTION`: people close the loop. list, show, ack and
// resolve the escalations the runs raised; every change is kept in the
// escalation's history (who, when, what, note), which `show` prints.
#include "cli/commands/commands.hpp"

#include "config/config.hpp"
#include "core/finding.hpp"
#include "core/text.hpp"
#include "cli/support.hpp"
#include "store/store.hpp"
#include "pipeline/database.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>

namespace reconciler::cli {

namespace {

namespace json = boost::json;

struct escalations_args {
    std::string config, action, id, team, status, by, note;
    bool json = false;
};

const std::vector<std::string> actions{"list", "show", "ack", "resolve"};
const std::vector<std::string> statuses{"unresolved", "open", "watching", "acked", "resolved", "all"};

std::string suggest_among(const std::string& typed, const std::vector<std::string>& names) {
    const auto best = closest_name(typed, std::vector<std::string_view>(names.begin(), names.end()));
    return best ? "; did you mean " + std::string(*best) + "?" : "";
}

std::string listed(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

// A person's name or note as given: one line of text, bounded.
void check_text(const std::string& text, const char* option, std::size_t max) {
    if (text.size() > max) throw usage_error(std::string(option) + " is longer than " + std::to_string(max) + " characters");
    if (std::any_of(text.begin(), text.end(), [](unsigned char ch) { return ch < 0x20 && ch != '\t'; }))
        throw usage_error(std::string(option) + " must be one line of text, got " + quote(text));
}

json::object to_json(const store::escalation& e, bool with_evidence) {
    json::object o{{"id", e.id},
                   {"key", store::escalation_key(e)},
                   {"team", e.team},
                   {"kind", e.kind},
                   {"subject", e.subject},
                   {"status", e.status},
                   {"closed_by", e.person_closes ? "person" : "person or reconciler"},
                   {"first_seen", e.first_seen},
                   {"last_seen", e.last_seen},
                   {"occurrences", e.occurrences},
                   {"acked_by", e.acked_by.empty() ? json::value(nullptr) : json::value(e.acked_by)},
                   {"resolved_by", e.resolved_by.empty() ? json::value(nullptr) : json::value(e.resolved_by)}};
    if (with_evidence) {
        json::error_code ec;
        auto evidence = json::parse(e.evidence, ec);
        o["evidence"] = ec ? json::value(e.evidence) : std::move(evidence);
    }
    return o;
}

json::array history_json(const std::vector<store::escalation_change>& changes) {
    json::array out;
    for (const auto& c : changes)
        out.push_back(json::object{{"at", c.at},
                                   {"actor", c.actor},
                                   {"action", c.action},
                                   {"from", c.from_status.empty() ? json::value(nullptr) : json::value(c.from_status)},
                                   {"to", c.to_status},
                                   {"note", c.note},
                                   {"run_id", c.run_id ? json::value(c.run_id) : json::value(nullptr)}});
    return out;
}

std::string history_text(const std::vector<store::escalation_change>& changes, const std::string& indent) {
    std::ostringstream s;
    for (const auto& c : changes) {
        s << indent << c.at << "  " << c.action << " by " << c.actor;
        if (c.run_id) s << " (run " << c.run_id << ")";
        if (!c.note.empty()) s << ": " << c.note;
        s << "\n";
    }
    return s.str();
}

void print_list(const std::vector<store::escalation>& list, bool as_json) {
    if (as_json) {
        json::array out;
        for (const auto& e : list) out.push_back(to_json(e, false));
        std::cout << json::serialize(out) << "\n";
        return;
    }
    if (list.empty()) std::cout << "no escalations\n";
    for (const auto& e : list)
        std::cout << "#" << e.id << "  " << e.status << "  " << e.team << "  " << e.kind << "  " << e.subject
                  << "  (seen " << e.occurrences << "x since " << e.first_seen << ")"
                  << (e.person_closes ? "  [closed by a person]" : "") << "\n";
}

void print_one(store::store& db, const store::escalation& e, bool as_json) {
    const auto changes = db.escalation_history(e.id);
    if (as_json) {
        auto o = to_json(e, true);
        o["history"] = history_json(changes);
        std::cout << json::serialize(o) << "\n";
        return;
    }
    std::cout << "escalation #" << e.id << " (" << store::escalation_key(e) << ")\n"
              << "team         " << e.team << "\n"
              << "status       " << e.status << (e.acked_by.empty() ? "" : " (acked by " + e.acked_by + ")")
              << (e.resolved_by.empty() ? "" : " (resolved by " + e.resolved_by + ")") << "\n"
              << "closed by    " << (e.person_closes ? "a person only" : "a person, or a run that re-checks it") << "\n"
              << "seen         " << e.occurrences << "x, first " << e.first_seen << ", last " << e.last_seen << "\n"
              << "evidence     " << e.evidence << "\n"
              << "history:\n"
              << history_text(changes, "  ");
}

store::escalation existing(store::store& db, const escalations_args& a) {
    if (a.id.empty()) throw usage_error("`escalations " + a.action + "` needs an escalation ID (see `escalations list`)");
    const std::int64_t id = whole_number(a.id, "ID", "a positive integer (an escalation's id from `escalations list`)");
    auto e = db.find_escalation(id);
    if (!e) throw support_refusal("no escalation #" + a.id + " (`reconciler escalations list --status all` lists them)");
    return *e;
}

void check_filter(store::store& db, const escalations_args& a) {
    if (!a.status.empty() && std::find(statuses.begin(), statuses.end(), a.status) == statuses.end())
        throw usage_error("unknown status " + quote(a.status) + " (statuses: " + listed(statuses) + ")" +
                          suggest_among(a.status, statuses));
    if (a.team.empty()) return;
    std::vector<std::string> teams;
    for (auto t : {team::billing_engineering, team::backend_engineering, team::data_platform, team::devops,
                   team::stripe_support})
        teams.emplace_back(to_string(t));
    for (auto& t : db.escalation_teams())
        if (std::find(teams.begin(), teams.end(), t) == teams.end()) teams.push_back(std::move(t));
    if (std::find(teams.begin(), teams.end(), a.team) == teams.end())
        throw usage_error("unknown team " + quote(a.team) + " (teams: " + listed(teams) + ")" + suggest_among(a.team, teams));
}

// Options that only some actions take are refused elsewhere, not ignored.
void check_options(const escalations_args& a) {
    const bool list = a.action == "list", change = a.action == "ack" || a.action == "resolve";
    if (!list && (!a.team.empty() || !a.status.empty()))
        throw usage_error("--team and --status are options of `escalations list`");
    if (list && !a.id.empty()) throw usage_error("`escalations list` takes no ID (filter with --team, --status)");
    if (!change && (!a.by.empty() || !a.note.empty()))
        throw usage_error("--by and --note are options of `escalations ack` and `escalations resolve`");
    if (change && a.json) throw usage_error("--json is an option of `escalations list` and `escalations show`");
    if (change && a.by.empty()) throw usage_error("`escalations " + a.action + "` needs --by NAME (who did it)");
    if (a.action == "resolve" && a.note.empty())
        throw usage_error("`escalations resolve` needs --note TEXT (what was done about it)");
    check_text(a.by, "--by", 80);
    check_text(a.note, "--note", 1000);
}

int run_action(const escalations_args& a) {
    const config cfg = load_config(a.config);
    auto db = open_store(cfg);
    db->check_schema();
    if (a.action == "list") {
        check_filter(*db, a);
        print_list(db->list_escalations({a.team, a.status.empty() ? "unresolved" : a.status == "all" ? "" : a.status}),
                   a.json);
        return int(exit_success);
    }
    const auto e = existing(*db, a);
    if (a.action == "show") {
        print_one(*db, e, a.json);
        return int(exit_success);
    }
    if (a.action == "ack" && e.status != "open" && e.status != "watching")
        throw support_refusal("escalation #" + a.id + " is " + e.status + " already" +
                              (e.status == "acked" ? " by " + e.acked_by : ""));
    if (a.action == "resolve" && e.status == "resolved")
        throw support_refusal("escalation #" + a.id + " is resolved already by " + e.resolved_by);
    const auto changed = a.action == "ack" ? db->ack_escalation(e.id, a.by, a.note)
                                           : db->resolve_escalation(e.id, a.by, a.note);
    std::cout << "escalation #" << changed.id << " (" << store::escalation_key(changed) << ") " << changed.status
              << " by " << a.by << "\n";
    return int(exit_success);
}

}  // namespace

action add_escalations(CLI::App& app, const environment& env) {
    auto a = std::make_shared<escalations_args>();
    auto* cmd = app.add_subcommand("escalations",
                                   "Work the escalations: list [--team T] [--status S] [--json], show ID [--json], "
                                   "ack ID --by NAME [--note TEXT], resolve ID --by NAME --note TEXT.");
    add_config_option(*cmd, a->config, env);
    cmd->add_option("ACTION", a->action, "list, show, ack or resolve");
    cmd->add_option("ID", a->id, "The escalation's id (show, ack, resolve)");
    cmd->add_option("--team", a->team, "list: only this team's")->type_name("TEAM");
    cmd->add_option("--status", a->status, "list: " + listed(statuses) + " (default unresolved)")->type_name("STATUS");
    cmd->add_flag("--json", a->json, "list, show: print JSON");
    cmd->add_option("--by", a->by, "ack, resolve: who (kept in the history)")->type_name("NAME");
    cmd->add_option("--note", a->note, "ack, resolve: what was done (required to resolve)")->type_name("TEXT");
    return [a] {
        if (a->action.empty()) throw usage_error("`escalations` needs an action: " + listed(actions));
        if (std::find(actions.begin(), actions.end(), a->action) == actions.end())
            throw usage_error("unknown action " + quote(a->action) + " for `escalations` (actions: " + listed(actions) +
                              ")" + suggest_among(a->action, actions));
        check_options(*a);
        return run_action(*a);
    };
}

}  // namespace reconciler::cli
