#include "pipeline/slice_scheduler.hpp"

#include <algorithm>
#include <cmath>

namespace reconciler::pipeline {

slice_scheduler::slice_scheduler(unix_seconds start, unix_seconds end, std::chrono::seconds max_slice,
                                 std::int64_t slice_objects)
    : end_(end), max_slice_(std::max<unix_seconds>(max_slice.count(), 2 * slice_margin)),
      slice_objects_(slice_objects), slice_(std::min<unix_seconds>(max_slice_, 3600)), next_start_(start) {}

unix_seconds slice_scheduler::slice_end(unix_seconds s) const { return std::min(end_, s + slice_); }

std::int64_t slice_scheduler::expected_in(unix_seconds s, unix_seconds e) const {
    if (density_ < 0) return slice_objects_;
    return std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(density_ * static_cast<double>(e - s))), 1,
                                    slice_objects_);
}

bool slice_scheduler::room_ahead() const {
    const std::int64_t budget = (slices_ahead + (window_rules_running_ ? 1 : 0)) * slice_objects_;
    return ahead_objects_ + in_flight_ + expected_in(next_start_, slice_end(next_start_)) <= budget;
}

slice_scheduler::slot& slice_scheduler::claim() {
    slot& me = ahead_.emplace_back();
    me.s = next_start_;
    me.e = slice_end(next_start_);
    me.expected = expected_in(me.s, me.e);
    next_start_ = me.e;
    in_flight_ += me.expected;
    return me;
}

void slice_scheduler::fetched_into(slot& me) {
    in_flight_ -= me.expected;
    ahead_objects_ += me.lists.objects;
    me.ready = true;
    const auto len = std::max<unix_seconds>(1, me.e - me.s);
    density_ = static_cast<double>(me.lists.objects) / static_cast<double>(len);
    const double scale = static_cast<double>(slice_objects_) / static_cast<double>(std::max<std::int64_t>(1, me.lists.objects));
    const double next = std::min(static_cast<double>(me.e - me.s) * scale, 4.0 * static_cast<double>(me.e - me.s));
    slice_ = std::clamp(static_cast<unix_seconds>(next), 2 * slice_margin, max_slice_);
}

slice_scheduler::slot slice_scheduler::take_front() {
    slot cur = std::move(ahead_.front());
    ahead_.pop_front();
    ahead_objects_ -= cur.lists.objects;
    return cur;
}

}  // namespace reconciler::pipeline
