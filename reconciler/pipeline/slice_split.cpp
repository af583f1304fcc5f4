#include "pipeline/slice_split.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace reconciler::pipeline {

std::vector<slice_part> split_overfull(fetched f, unix_seconds s, unix_seconds e, std::int64_t part_objects) {
    std::vector<slice_part> parts;
    const auto whole = [&] {
        parts.push_back(slice_part{std::move(f), s, e});
        return std::move(parts);
    };
    if (2 * f.objects <= 3 * part_objects || e - s < 2 * slice_margin) return whole();
    const auto at = [&](unix_seconds t) { return std::clamp(t, s, e - 1); };
    const auto invoice_time = [&](const invoice& inv) { return at(inv.paid_at.value_or(inv.created)); };
    // An event goes with its object: an invoice's, or a charge case's.
    std::vector<unix_seconds> event_times;
    {
        std::unordered_map<std::string_view, unix_seconds> case_time;  // views f.charge_cases
        for (const auto& cc : f.charge_cases) case_time.emplace(cc.event_id, at(cc.created));
        event_times.reserve(f.events.size());
        for (const auto& ev : f.events) {
            if (auto inv = f.invoices.find(ev.object_id); inv != f.invoices.end())
                event_times.push_back(invoice_time(inv->second));
            else if (auto cc = case_time.find(ev.id); cc != case_time.end())
                event_times.push_back(cc->second);
            else
                event_times.push_back(at(ev.created));
        }
    }

    std::vector<unix_seconds> times(event_times);
    times.reserve(f.invoices.size() + f.events.size() + f.customers.size() + f.charge_cases.size());
    for (const auto& [id, inv] : f.invoices) times.push_back(invoice_time(inv));
    for (const auto& [id, c] : f.customers) times.push_back(at(c.created));
    for (const auto& cc : f.charge_cases) times.push_back(at(cc.created));
    std::sort(times.begin(), times.end());
    const std::size_t n = static_cast<std::size_t>((f.objects + part_objects - 1) / part_objects);
    std::vector<unix_seconds> bounds{s};
    for (std::size_t k = 1; k < n && !times.empty(); ++k) {
        const unix_seconds cut = times[k * times.size() / n];
        if (cut - bounds.back() >= slice_margin && e - cut >= slice_margin) bounds.push_back(cut);
    }
    if (bounds.size() == 1) return whole();
    bounds.push_back(e);

    parts.resize(bounds.size() - 1);
    for (std::size_t i = 0; i < parts.size(); ++i) parts[i].s = bounds[i], parts[i].e = bounds[i + 1];
    const auto part_of = [&](unix_seconds t) -> fetched& {
        const auto cuts_before = std::upper_bound(bounds.begin() + 1, bounds.end() - 1, t) - (bounds.begin() + 1);
        return parts[static_cast<std::size_t>(cuts_before)].lists;
    };
    // The part of time `t` gets an object of id `id`: its count, and the
    // Request-Id of the response that brought it (the finding's evidence).
    const auto place = [&](unix_seconds t, const std::string& id) -> fetched& {
        fetched& to = part_of(t);
        if (auto node = f.request_ids.extract(id)) to.request_ids.insert(std::move(node));
        ++to.objects;
        return to;
    };
    for (std::size_t i = 0; i < f.events.size(); ++i)
        place(event_times[i], f.events[i].id).events.push_back(std::move(f.events[i]));
    for (auto& cc : f.charge_cases) place(at(cc.created), cc.event_id).charge_cases.push_back(std::move(cc));
    while (!f.invoices.empty()) {
        auto node = f.invoices.extract(f.invoices.begin());
        place(invoice_time(node.mapped()), node.key()).invoices.insert(std::move(node));
    }
    while (!f.customers.empty()) {
        auto node = f.customers.extract(f.customers.begin());
        place(at(node.mapped().created), node.key()).customers.insert(std::move(node));
    }
    // The slice's invoice links are stored with its first part, before the
    // others are linked.
    parts.front().lists.invoice_links = std::move(f.invoice_links);
    // Ids of nothing kept (none today) stay with the slice's last part.
    parts.back().lists.request_ids.merge(f.request_ids);
    return parts;
}

}  // namespace reconciler::pipeline
