// corrections, limits, output, window: what the run may correct on its own,
// where it writes its reports, and how it walks time (database: database_section.cpp).
#include "config/sections.hpp"

#include "core/text.hpp"

namespace reconciler::config_detail {

void read_corrections(const yaml_reader& r, const YAML::Node& n, const webhook_config& webhook,
                      corrections_config& out) {
    const yaml_reader::section c =
        r.open_section(n, "corrections", {"credits_not_granted", "tier_mismatch", "refund_or_dispute"});
    // `replay` non-null: "replay" is a third choice (re-deliver the missed event).
    auto choice = [&](const char* key, const char* yes, bool& enabled, bool* replay) {
        const auto f = c.find(key);
        if (f == c.end()) return;
        const std::string path = std::string("corrections.") + key;
        const std::string what =
            std::string("\"") + yes + (replay ? "\", \"replay\" or \"flag\"" : "\" or \"flag\"");
        const std::string& v = r.scalar(f->second, path, what);
        if (v != yes && v != "flag" && !(replay && v == "replay")) r.expected(f->second, path, what);
        enabled = v != "flag";
        if (!replay || v != "replay") return;
        *replay = true;
        if (webhook.forward_to.empty())
            r.fail(f->second, path + ": replay needs webhook.forward_to (the URL of the app's webhook endpoint) "
                                     "and webhook.secret");
    };
    choice("credits_not_granted", "apply", out.grant_missing_credits, &out.replay_missing_credits);
    choice("tier_mismatch", "apply", out.fix_tiers, &out.replay_tiers);
    choice("refund_or_dispute", "clawback", out.clawback_refunds, nullptr);
}

void read_limits(const yaml_reader& r, const YAML::Node& n, limits_config& out) {
    const yaml_reader::section l =
        r.open_section(n, "limits", {"max_corrections_per_run", "max_credits_per_run", "max_credits_per_user"});
    constexpr std::int64_t big = 1'000'000'000'000;
    if (const auto f = l.find("max_corrections_per_run"); f != l.end())
        out.max_corrections_per_run = r.integer(f->second, "limits.max_corrections_per_run", 0, big, "an integer >= 0");
    if (const auto f = l.find("max_credits_per_run"); f != l.end())
        out.max_credits_per_run = r.integer(f->second, "limits.max_credits_per_run", 0, big, "an integer >= 0");
    if (const auto f = l.find("max_credits_per_user"); f != l.end())
        out.max_credits_per_user = r.integer(f->second, "limits.max_credits_per_user", 0, big, "an integer >= 0");
}

void read_output(const yaml_reader& r, const YAML::Node& n, output_config& out) {
    const yaml_reader::section o = r.open_section(n, "output", {"dir", "metrics_file"});
    r.require(o, "dir", n, "output.dir", "the directory reports are written to");
    out.dir = r.path_value(o.at("dir"), "output.dir", "the path of the report directory");
    out.metrics_file = out.dir / "reconciler.prom";
    if (const auto f = o.find("metrics_file"); f != o.end()) {
        out.metrics_file = r.path_value(f->second, "output.metrics_file", "the path of the metrics file");
        // node_exporter's textfile collector reads only *.prom; the temporary
        // file the metrics are written to first must not end so.
        if (out.metrics_file.extension() != ".prom")
            r.fail(f->second, "output.metrics_file: must end in .prom (node_exporter's textfile collector reads only "
                              "those), got " + quote(out.metrics_file.string()));
    }
}

void read_window(const yaml_reader& r, const YAML::Node& n, config& out) {
    const yaml_reader::section w = r.open_section(n, "window", {"default_lookback", "overlap", "slice", "slice_objects"});
    if (const auto f = w.find("slice_objects"); f != w.end())
        out.slice_objects = r.integer(f->second, "window.slice_objects", 100, 1000000, "an integer in 100..1000000");
    if (const auto f = w.find("overlap"); f != w.end())
        out.overlap = r.duration(f->second, "window.overlap", std::chrono::hours(24 * 7), "7d");
    if (const auto f = w.find("slice"); f != w.end()) {
        out.slice = r.duration(f->second, "window.slice", std::chrono::hours(24 * 30), "30d");
        if (out.slice < std::chrono::minutes(10))
            r.fail(f->second, "window.slice: at least 10m (each slice ends with a 5-minute margin)");
    }
    if (const auto f = w.find("default_lookback"); f != w.end()) {
        out.default_lookback = r.duration(f->second, "window.default_lookback", std::chrono::hours(24 * 3650), "3650d");
    }
}

}  // namespace reconciler::config_detail
