// The one-screen summary printed at the end of `reconciler run`.
#pragma once

#include "report/run_result.hpp"

#include <string>

namespace reconciler {

std::string format_summary(const run_result& r);

}  // namespace reconciler
