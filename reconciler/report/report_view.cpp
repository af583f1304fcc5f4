#include "report/report_view.hpp"

#include "report/json_read.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <map>

namespace reconciler {

namespace json = boost::json;

namespace detail {

finding_source findings_of(const json::array* findings) {
    return [findings](const finding_visitor& visit) {
        if (findings == nullptr) return;
        for (const auto& item : *findings) visit(item.if_object());
    };
}

namespace {

bool is_flagged(std::string_view disposition) { return disposition == "flagged" || disposition == "failed"; }

// ---------------------------------------------------------------------------
// Totals

std::map<std::string, std::int64_t> count_findings(const json::array* findings, std::string_view key,
                                                   bool flagged_only) {
    std::map<std::string, std::int64_t> counts;
    if (findings == nullptr) return counts;
    for (const auto& item : *findings) {
        const json::object* f = item.if_object();
        if (f == nullptr) continue;
        if (flagged_only && !is_flagged(str_at(f, "disposition"))) continue;
        std::string k = str_at(f, key);
        if (!k.empty()) ++counts[std::move(k)];
    }
    return counts;
}

breakdown make_breakdown(const json::object* given, const std::map<std::string, std::int64_t>& derived) {
    breakdown rows;
    if (given != nullptr) {
        for (const auto& kv : *given) {
            const std::string k(kv.key());
            auto it = derived.find(k);
            rows.emplace_back(k, integral(&kv.value()).value_or(it == derived.end() ? 0 : it->second));
        }
    } else {
        rows.assign(derived.begin(), derived.end());
    }
    // Largest first: the chart and the tables read top-down by weight.
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    return rows;
}

totals_model make_totals(const json::object& report) {
    const json::object* totals = object_at(&report, "totals");
    const json::array* findings = array_at(&report, "findings");
    totals_model t;
    std::int64_t n = 0, applied = 0, flagged = 0;
    if (findings != nullptr) {
        for (const auto& item : *findings) {
            ++n;
            const std::string d = str_at(item.if_object(), "disposition");
            if (d == "applied") ++applied;
            if (is_flagged(d)) ++flagged;
        }
    }
    t.findings = integral(field(totals, "findings")).value_or(n);
    t.applied = integral(field(totals, "applied")).value_or(applied);
    t.flagged = integral(field(totals, "flagged")).value_or(flagged);
    t.by_kind = make_breakdown(object_at(totals, "by_kind"), count_findings(findings, "kind", false));
    t.by_disposition =
        make_breakdown(object_at(totals, "by_disposition"), count_findings(findings, "disposition", false));
    t.by_team = make_breakdown(object_at(totals, "by_team"), count_findings(findings, "team", false));
    t.flagged_by_team = make_breakdown(object_at(totals, "flagged_by_team"), count_findings(findings, "team", true));
    return t;
}

// ---------------------------------------------------------------------------
// Corrections

// One corrections[] item.
correction_row correction_row_of(const json::object* c) {
    return {str_at(c, "id"),         str_at(c, "kind"),      str_at(c, "ledger_key"), str_at(c, "user_email"),
            str_at(c, "credits"),    str_at(c, "tier_from"), str_at(c, "tier_to"),    str_at(c, "correlation_id"),
            str_at(c, "status"),     flag_at(c, "record_payment")};
}

// An applied finding's correction, for a report without corrections[].
correction_row correction_row_of_finding(const json::object* f, const json::object* c) {
    return {str_at(f, "correction_id"), str_at(c, "kind"),      str_at(c, "ledger_key"), str_at(f, "user_email"),
            str_at(c, "credits"),       str_at(c, "tier_from"), str_at(c, "tier_to"),    str_at(f, "correlation_id"),
            "applied",                  flag_at(c, "record_payment")};
}

std::vector<correction_row> make_corrections(const json::object& report) {
    std::vector<correction_row> rows;
    if (const json::array* given = array_at(&report, "corrections")) {
        for (const auto& item : *given)
            if (const json::object* c = item.if_object()) rows.push_back(correction_row_of(c));
        return rows;
    }
    if (const json::array* findings = array_at(&report, "findings")) {
        for (const auto& item : *findings) {
            const json::object* f = item.if_object();
            if (f == nullptr || str_at(f, "disposition") != "applied") continue;
            if (const json::object* c = object_at(f, "correction")) rows.push_back(correction_row_of_finding(f, c));
        }
    }
    return rows;
}

// ---------------------------------------------------------------------------
// Escalations

// One escalations[] item.
escalation_row escalation_row_of(const json::object* e) {
    return {str_at(e, "id"),         str_at(e, "team"),      str_at(e, "kind"),        str_at(e, "subject"), {},
            str_at(e, "first_seen"), str_at(e, "last_seen"), str_at(e, "occurrences"), str_at(e, "status"),
            number(field(e, "age_days")),
            field(e, "new") != nullptr && field(e, "new")->is_bool() ? std::optional<bool>(flag_at(e, "new"))
                                                                      : std::nullopt};
}

// A flagged or failed finding, for a report without escalations[].
escalation_row escalation_row_of_finding(const json::object* f) {
    std::string subject = str_at(f, "subject_type");
    const std::string id = str_at(f, "subject_id");
    if (!id.empty()) subject += subject.empty() ? id : " " + id;
    return {{}, str_at(f, "team"), str_at(f, "kind"), std::move(subject), str_at(f, "user_email"),
            {}, {}, {}, str_at(f, "disposition"), std::nullopt, std::nullopt};
}

// The rows in the order the pages list them (report_streams::escalations).
std::vector<escalation_row> make_escalations(const json::object& report) {
    std::vector<escalation_row> rows;
    if (const json::array* given = array_at(&report, "escalations")) {
        for (const auto& item : *given)
            if (const json::object* e = item.if_object()) rows.push_back(escalation_row_of(e));
    } else if (const json::array* findings = array_at(&report, "findings")) {
        for (const auto& item : *findings) {
            const json::object* f = item.if_object();
            if (f != nullptr && is_flagged(str_at(f, "disposition"))) rows.push_back(escalation_row_of_finding(f));
        }
    }
    // Open first, oldest first: what needs attention leads.
    auto rank = [](const std::string& s) {
        if (s == "open" || s == "flagged" || s == "failed") return 0;
        if (s == "watching") return 1;
        if (s == "resolved") return 3;
        return 2;
    };
    std::stable_sort(rows.begin(), rows.end(), [&](const escalation_row& a, const escalation_row& b) {
        if (rank(a.status) != rank(b.status)) return rank(a.status) < rank(b.status);
        return a.age_days.value_or(-1) > b.age_days.value_or(-1);
    });
    return rows;
}

// A stream's items as rows, null items skipped.
template <class Row>
row_source<Row> rows_of(const item_source& items, Row (*row_of)(const json::object*)) {
    return [&items, row_of](const std::function<void(const Row&)>& visit) {
        items([&](const json::object* item) {
            if (item != nullptr) visit(row_of(item));
        });
    };
}

// Held rows as a source.
template <class Row>
row_source<Row> rows_of(const std::vector<Row>& held) {
    return [&held](const std::function<void(const Row&)>& visit) {
        for (const auto& row : held) visit(row);
    };
}

}  // namespace

}  // namespace detail

report_view::report_view(const json::object& report_json, report_streams streams)
    : report(report_json),
      run(detail::object_at(&report, "run")),
      window(detail::object_at(run, "window")),
      run_id(detail::str_at(run, "id")),
      status(detail::str_at(run, "status")),
      mode(detail::str_at(run, "mode")),
      error(detail::str_at(run, "error")),
      window_start(detail::str_at(window, "start")),
      window_end(detail::str_at(window, "end")),
      totals(detail::make_totals(report)),
      streams_(std::move(streams)) {
    using namespace detail;
    if (streams_.findings) {
        findings = streams_.findings;
        finding_count = streams_.finding_count;
    } else {
        const json::array* given = array_at(&report, "findings");
        findings = findings_of(given);
        finding_count = given != nullptr ? given->size() : 0;
    }
    if (streams_.corrections) {
        corrections = rows_of(streams_.corrections, &correction_row_of);
    } else {
        held_corrections_ = make_corrections(report);
        corrections = rows_of(held_corrections_);
    }
    if (streams_.escalations) {
        escalation_records = true;
        escalations = rows_of(streams_.escalations, &escalation_row_of);
    } else {
        escalation_records = array_at(&report, "escalations") != nullptr;
        held_escalations_ = make_escalations(report);
        escalations = rows_of(held_escalations_);
    }
}

}  // namespace reconciler
