// A slice too full to diff whole is cut into parts, each finished like a
// slice of its own.
#pragma once

#include "pipeline/fetched.hpp"

#include <cstdint>
#include <vector>

namespace reconciler::pipeline {

struct slice_part {
    fetched lists;
    unix_seconds s = 0, e = 0;
};

// A slice's length comes from the density of the slice before it, so a burst
// nothing foretold (a renewal wave on the 1st of the month) can fill one
// slice with several times `part_objects`; diffed whole, its app rows and the
// diff's indexes over them would be the run's peak memory. So a slice with
// over 1.5x `part_objects` objects is cut into parts of about `part_objects`
// each, at the times that divide its objects evenly (no part shorter than
// slice_margin). An object belongs to a part by the time a slice would place
// it by: an invoice when it was paid (as fetcher::finish_slice defers it), an
// event of one of the slice's invoices or charge cases with that object,
// anything else when it was created. Objects move into their part, with
// their Request-Ids; nothing is copied. Otherwise the slice is the one part.
std::vector<slice_part> split_overfull(fetched f, unix_seconds s, unix_seconds e, std::int64_t part_objects);

}  // namespace reconciler::pipeline
