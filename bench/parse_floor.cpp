// bench-parse-floor: what parsing Stripe list pages costs, against the least
// any parser of them could cost. A benchmark program (prints figures, asserts
// nothing); bench/RESULTS.md records what it printed and the command.
//
//   bench-parse-floor DATA/events.json DATA/invoices.json
//
// Each file is one of the simulator's datasets (a JSON array of Stripe
// objects, bench/run.sh generates them). Its objects are cut into pages of
// 100 in Stripe's list envelope, as the simulator serves them, and each page
// is parsed these ways, single-threaded, from memory:
//   pruned+models: what a run does per page: parse_list_envelope (a DOM of
//                  the members the models read, in one arena per page) and
//                  parse_event / parse_invoice per object;
//   full+models:   the same on a DOM of every member (parse_json; the run's
//                  path before the pruning);
//   pruned, full:  the DOM parses alone;
//   null:          Boost.JSON's basic_parser with a handler that keeps
//                  nothing: tokenising and validating only, the floor of any
//                  parse of these bytes whatever it keeps.
// It also checks that both paths give equal models for every object.
// No network, TLS or HTTP: those come on top (see RESULTS.md).
#include "core/stripe_parse.hpp"

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

namespace json = boost::json;

namespace {

// Accepts every token and keeps none.
struct null_handler {
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
    bool on_document_begin(json::error_code&) { return true; }
    bool on_document_end(json::error_code&) { return true; }
    bool on_object_begin(json::error_code&) { return true; }
    bool on_object_end(std::size_t, json::error_code&) { return true; }
    bool on_array_begin(json::error_code&) { return true; }
    bool on_array_end(std::size_t, json::error_code&) { return true; }
    bool on_key_part(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_key(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_number_part(json::string_view, json::error_code&) { return true; }
    bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
    bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
    bool on_double(double, json::string_view, json::error_code&) { return true; }
    bool on_bool(bool, json::error_code&) { return true; }
    bool on_null(json::error_code&) { return true; }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }
};

struct page_set {
    std::vector<std::string> bodies;
    std::size_t bytes = 0, objects = 0;
};

page_set pages_of(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(std::string("read ") + path + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    json::value all = json::parse(ss.str());
    if (!all.is_array()) throw std::runtime_error(std::string("read ") + path + ": not a JSON array");
    const auto& arr = all.get_array();
    page_set out;
    for (std::size_t i = 0; i < arr.size(); i += 100) {
        json::array data;
        for (std::size_t k = i; k < std::min(arr.size(), i + 100); ++k) data.push_back(arr[k]);
        out.objects += data.size();
        out.bodies.push_back(json::serialize(json::object{
            {"object", "list"}, {"data", std::move(data)}, {"has_more", true}, {"url", "/v1/list"}}));
        out.bytes += out.bodies.back().size();
    }
    return out;
}

template <typename F>
double seconds(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench-parse-floor DATA.json...  (the simulator's events.json, invoices.json)\n");
        return 2;
    }
    try {
        page_set all;
        for (int i = 1; i < argc; ++i) {
            page_set p = pages_of(argv[i]);
            all.bytes += p.bytes;
            all.objects += p.objects;
            for (auto& b : p.bodies) all.bodies.push_back(std::move(b));
        }
        std::size_t kept = 0;  // read back, so no parse is optimised away
        using model = std::variant<reconciler::event, reconciler::invoice>;
        const auto to_model = [](const json::object& o) -> model {
            const auto* type = o.if_contains("object");
            if (type && type->is_string() && type->get_string() == "event") return reconciler::parse_event(o);
            return reconciler::parse_invoice(o);
        };
        const auto full_envelope = [](const std::string& body) {
            return reconciler::parse_json(body, json::make_shared_resource<json::monotonic_resource>());
        };
        const double pruned_models = seconds([&] {
            for (const auto& body : all.bodies)
                for (const auto& v : reconciler::parse_list_envelope(body).data) kept += to_model(v.get_object()).index();
        });
        const double full_models = seconds([&] {
            for (const auto& body : all.bodies)
                for (const auto& v : full_envelope(body).at("data").get_array()) kept += to_model(v.get_object()).index();
        });
        const double pruned = seconds([&] {
            for (const auto& body : all.bodies) kept += reconciler::parse_list_envelope(body).data.size();
        });
        const double full = seconds([&] {
            for (const auto& body : all.bodies) kept += full_envelope(body).at("data").get_array().size();
        });
        const double null = seconds([&] {
            for (const auto& body : all.bodies) {
                json::basic_parser<null_handler> p(json::parse_options{});
                json::error_code ec;
                kept += p.write_some(false, body.data(), body.size(), ec);
                if (ec) throw std::runtime_error("null parse: " + ec.message());
            }
        });
        std::size_t differ = 0;
        for (const auto& body : all.bodies) {
            const auto env = reconciler::parse_list_envelope(body);
            const auto whole = full_envelope(body);
            const auto& data = whole.at("data").get_array();
            for (std::size_t i = 0; i < data.size(); ++i)
                if (to_model(env.data.at(i).get_object()) != to_model(data[i].get_object())) ++differ;
        }
        const double mb = static_cast<double>(all.bytes) / 1e6;
        const double per_100k = 100000.0 / static_cast<double>(all.objects);
        std::printf("%zu pages, %.1f MB, %zu objects (%.0f bytes each)\n", all.bodies.size(), mb, all.objects,
                    static_cast<double>(all.bytes) / static_cast<double>(all.objects));
        std::printf("%-14s %8s %8s %18s\n", "parse", "s", "MB/s", "CPU s /100k obj");
        for (const auto& [name, s] : {std::pair{"pruned+models", pruned_models}, std::pair{"full+models", full_models},
                                      std::pair{"pruned", pruned}, std::pair{"full", full}, std::pair{"null", null}})
            std::printf("%-14s %8.3f %8.0f %18.3f\n", name, s, mb / s, s * per_100k);
        std::printf("models from pruned and full pages: %s (%zu of %zu objects differ)\n",
                    differ == 0 ? "equal" : "DIFFERENT", differ, all.objects);
        std::fprintf(stderr, "(checksum %zu)\n", kept);
        if (differ != 0) return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench-parse-floor: %s\n", e.what());
        return 1;
    }
    return 0;
}
