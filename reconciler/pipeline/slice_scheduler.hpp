// The fetch-ahead plan: which slice of the window the fetchers claim next,
// how long it is, and how far ahead of the slice being finished they may go.
// Pure bookkeeping (no I/O, no coroutines): run.cpp drives it.
//
// Slices are fetched ahead, in window order, by several fetchers while one
// consumer finishes them one after another, so the lists, the diffing and
// the applying overlap with no batch boundary where the request budget
// idles. The slices claimed and not yet finished hold at most two slices'
// worth of objects (three while the window part's rules run, when nothing
// can be finished): fetched ones by their count, those in flight by what
// the last fetched slice's density says they will hold (slice_objects at
// most, and before any slice is fetched). So a quiet account's short slices
// are fetched further ahead than dense ones, and memory stays bounded by
// that plus the slice being finished.
//
// A slice is window.slice long at most; after each fetched slice the next
// is cut to hold about slice_objects at that slice's density (growing at
// most 4x a slice, never under two slice margins). The first, fetched
// before any density is known, is an hour at most.
#pragma once

#include "pipeline/fetched.hpp"

#include <chrono>
#include <cstdint>
#include <deque>

namespace reconciler::pipeline {

class slice_scheduler {
public:
    struct slot {
        fetched lists;
        unix_seconds s = 0, e = 0;
        std::int64_t expected = 0;  // objects, until fetched
        bool ready = false;
    };

    // Slices' worth of objects that may be claimed and not yet finished (one
    // more while the window part's rules run); as many fetchers run.
    static constexpr int slices_ahead = 2;

    slice_scheduler(unix_seconds start, unix_seconds end, std::chrono::seconds max_slice, std::int64_t slice_objects);

    // Whether every slice of the window has been claimed.
    bool all_claimed() const { return next_start_ >= end_; }
    // Whether the next slice fits in the objects allowed ahead.
    bool room_ahead() const;
    // Claims the next slice for a fetcher (all_claimed() must be false); the
    // reference stays valid until take_front() takes it.
    slot& claim();
    // The claimed slot's lists are in: its density sets the next slice's length.
    void fetched_into(slot& s);

    // The window part's rules are running (nothing can be finished meanwhile).
    void set_window_rules_running(bool running) { window_rules_running_ = running; }

    bool front_ready() const { return !ahead_.empty() && ahead_.front().ready; }
    // Nothing claimed is left and nothing is left to claim.
    bool done() const { return ahead_.empty() && all_claimed(); }
    // The oldest claimed slice, fetched (front_ready() must be true).
    slot take_front();

    unix_seconds next_slice_length() const { return slice_; }

private:
    unix_seconds slice_end(unix_seconds s) const;
    std::int64_t expected_in(unix_seconds s, unix_seconds e) const;

    unix_seconds end_;
    unix_seconds max_slice_;
    std::int64_t slice_objects_;
    unix_seconds slice_;
    unix_seconds next_start_;
    std::int64_t ahead_objects_ = 0;  // of the fetched slots
    std::int64_t in_flight_ = 0;      // objects expected in the slots being fetched
    double density_ = -1;             // objects per second of the last fetched slice; unknown yet
    bool window_rules_running_ = false;
    std::deque<slot> ahead_;  // claimed, oldest first; references stay valid at either end
};

}  // namespace reconciler::pipeline
