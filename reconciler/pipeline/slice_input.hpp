// A slice's diff input: its Stripe side (window_input) and the app's side
// of the same customers, invoices and events (local_snapshot).
#pragma once

#include "core/diff.hpp"
#include "pipeline/fetched.hpp"
#include "store/snapshot.hpp"

namespace reconciler::pipeline {

// Moves the slice's objects out of `f` (node by node, so the slice is never
// held twice while it is diffed).
window_input to_window_input(fetched& f, unix_seconds start, unix_seconds end);

// The app's rows the slice rules read for `in` (the window rules read theirs
// in chunks: window_rules.hpp).
local_snapshot load_local_for(store::snapshot& db, const window_input& in);

}  // namespace reconciler::pipeline
