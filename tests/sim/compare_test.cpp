// `stripe-sim compare`, the demo's check that a run found exactly what was
// seeded: it must notice a missed finding, an extra one and a clawback whose
// numbers are off, not only agree with itself.
#include "stripe_sim/compare.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace fs = std::filesystem;
using reconciler::sim::compare_with_truth;

namespace {

struct files {
    fs::path dir = fs::temp_directory_path() / ("compare_test_" + std::to_string(::getpid()));
    files() { fs::create_directories(dir); }
    ~files() { fs::remove_all(dir); }
    fs::path write(const std::string& name, const std::string& text) const {
        std::ofstream(dir / name) << text;
        return dir / name;
    }
};

const std::string truth = R"({"findings":[
  {"kind":"credits_not_granted","subject_id":"in_1","correction":{"kind":"grant_credits","credits":1000}},
  {"kind":"refund_or_dispute","subject_id":"ch_2","correction":{"kind":"revoke_credits","credits":500,"unrecovered":200}}]})";

}  // namespace

BOOST_AUTO_TEST_CASE(the_same_findings_are_exact) {
    files f;
    const auto r = compare_with_truth(f.write("t.json", truth), f.write("r.json", truth));
    BOOST_TEST(r.exact());
    BOOST_TEST(r.found == 2U);
}

BOOST_AUTO_TEST_CASE(a_missed_an_extra_and_a_wrong_clawback_are_each_named) {
    files f;
    const auto r = compare_with_truth(f.write("t.json", truth), f.write("r.json", R"({"findings":[
      {"kind":"refund_or_dispute","subject_id":"ch_2","correction":{"kind":"revoke_credits","credits":500,"unrecovered":0}},
      {"kind":"tier_mismatch","subject_id":"sub_3"}]})"));
    BOOST_TEST(!r.exact());
    BOOST_REQUIRE_EQUAL(r.missed.size(), 1U);
    BOOST_TEST(r.missed[0].second == "in_1");
    BOOST_REQUIRE_EQUAL(r.extra.size(), 1U);
    BOOST_TEST(r.extra[0].first == "tier_mismatch");
    BOOST_REQUIRE_EQUAL(r.wrong_clawbacks.size(), 1U);
    BOOST_TEST(r.wrong_clawbacks[0] == "refund_or_dispute ch_2");
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_report_names_the_file) {
    files f;
    const auto bad = f.write("r.json", R"({"run":{}})");
    BOOST_CHECK_EXCEPTION(compare_with_truth(f.write("t.json", truth), bad), std::runtime_error,
                          [&](const std::runtime_error& e) {
                              return std::string(e.what()).find(bad.string()) != std::string::npos;
                          });
}
