#include "stripe_sim/compare.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace reconciler::sim {

namespace json = boost::json;

namespace {

using key = std::pair<std::string, std::string>;

json::array findings_of(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("read " + file.string() + ": cannot open it");
    std::ostringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    json::value doc = json::parse(text.str(), ec);
    const json::value* f = ec || !doc.is_object() ? nullptr : doc.as_object().if_contains("findings");
    if (!f || !f->is_array()) throw std::runtime_error("read " + file.string() + ": no \"findings\" array");
    return f->as_array();
}

std::map<key, json::object> by_subject(const json::array& findings, const std::filesystem::path& file) {
    std::map<key, json::object> out;
    for (const auto& v : findings) {
        const auto* o = v.if_object();
        const auto* kind = o ? o->if_contains("kind") : nullptr;
        const auto* subject = o ? o->if_contains("subject_id") : nullptr;
        if (!kind || !kind->is_string() || !subject || !subject->is_string())
            throw std::runtime_error("read " + file.string() + ": a finding without kind or subject_id");
        out.emplace(key{std::string(kind->as_string()), std::string(subject->as_string())}, *o);
    }
    return out;
}

const json::object* revoke_of(const json::object& f) {
    const auto* c = f.if_contains("correction");
    if (!c || !c->is_object()) return nullptr;
    const auto* kind = c->as_object().if_contains("kind");
    return kind && kind->is_string() && kind->as_string() == "revoke_credits" ? &c->as_object() : nullptr;
}

}  // namespace

truth_comparison compare_with_truth(const std::filesystem::path& ground_truth, const std::filesystem::path& report_json) {
    const auto want = by_subject(findings_of(ground_truth), ground_truth);
    const auto found = by_subject(findings_of(report_json), report_json);
    truth_comparison r;
    r.seeded = want.size();
    r.found = found.size();
    for (const auto& [k, t] : want) {
        auto it = found.find(k);
        if (it == found.end()) {
            r.missed.push_back(k);
            continue;
        }
        // A clawback's numbers are the point of a refund finding: both the
        // credits revoked and the part already spent must match.
        const json::object* seeded = revoke_of(t);
        const json::object* got = revoke_of(it->second);
        if (seeded && (!got || got->at("credits") != seeded->at("credits") ||
                       got->at("unrecovered") != seeded->at("unrecovered")))
            r.wrong_clawbacks.push_back(k.first + " " + k.second);
    }
    for (const auto& [k, f] : found)
        if (!want.contains(k)) r.extra.push_back(k);
    return r;
}

}  // namespace reconciler::sim
