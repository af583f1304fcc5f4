// Port: the app's side of a window, as the diff reads it.
#pragma once

#include "store/types.hpp"

namespace reconciler::store {

class snapshot {
public:
    virtual ~snapshot() = default;

    // The app's side of a window (see local_query).
    virtual local_snapshot load_local(const local_query& q) = 0;
};

}  // namespace reconciler::store
