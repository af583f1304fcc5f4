#include "report/report_writer.hpp"

#include "report/report_dir.hpp"
#include "report/report_items.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <optional>
#include <stdexcept>

namespace reconciler {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// Opens a spool of the run, truncated (`append`: kept) and 0640.
std::ofstream open_spool(const fs::path& file, bool append = false) {
    std::ofstream out(file, append ? std::ios::app : std::ios::binary | std::ios::trunc);
    detail::restrict_file(file);
    return out;
}

void flush_or_throw(std::ofstream& out, const fs::path& file) {
    out.flush();
    if (!out) throw std::runtime_error("write " + file.string() + ": write failed");
}

}  // namespace

report_writer::report_writer(const fs::path& run_dir)
    : run_dir_(run_dir),
      out_(open_spool(run_dir / "entitlement_changes.jsonl", true)),
      findings_(open_spool(run_dir / findings_spool)),
      corrections_(open_spool(run_dir / corrections_spool)),
      escalations_(open_spool(run_dir / "escalations.jsonl")),
      request_ids_(open_spool(run_dir / "request_ids.txt")) {}

void report_writer::request_id(const std::string& id) { request_ids_ << id << '\n'; }

void report_writer::request_ids_done() { flush_or_throw(request_ids_, run_dir_ / "request_ids.txt"); }

void report_writer::escalation(const store::escalation& e, const run_result& run) {
    json::object line = detail::escalation_fields(e);
    line["new"] = e.is_new;
    line["evidence"] = detail::evidence_of(e);
    detail::stamp(line, detail::run_stamp_of(run));
    escalations_ << json::serialize(line) << '\n';
    escalations_.flush();
}

void report_writer::entitlement_change(const json::object& line) {
    out_ << json::serialize(line) << '\n';
    out_.flush();
}

void report_writer::findings(run_result& r) {
    // Taken first: a spool that cannot be written leaves none to count twice.
    const std::vector<finding_outcome> outcomes = std::move(r.outcomes);
    r.outcomes.clear();
    r.outcomes.shrink_to_fit();
    const detail::run_stamp stamp = detail::run_stamp_of(r);
    for (const auto& o : outcomes) {
        std::optional<json::object> applied;
        const json::object item = detail::finding_item(o, applied, stamp);
        findings_ << json::serialize(item) << '\n';
        r.tally.add(o);
        if (applied) corrections_ << json::serialize(*applied) << '\n';
    }
    flush_or_throw(findings_, run_dir_ / findings_spool);
    flush_or_throw(corrections_, run_dir_ / corrections_spool);
}

namespace detail {

void each_spooled_line(const fs::path& file, const std::function<void(std::string_view line)>& visit) {
    std::ifstream in(file, std::ios::binary);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty()) visit(line);
}

item_source spooled_items(const fs::path& file) {
    return [file](const item_visitor& visit) {
        each_spooled_line(file, [&](std::string_view line) {
            boost::system::error_code ec;
            const json::value v = json::parse(line, ec);
            visit(ec ? nullptr : v.if_object());
        });
    };
}

}  // namespace detail

}  // namespace reconciler

