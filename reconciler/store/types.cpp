#include "store/types.hpp"

namespace reconciler::store {

const char* to_string(apply_outcome o) noexcept {
    switch (o) {
    case apply_outcome::applied: return "applied";
    case apply_outcome::already_applied: return "already_applied";
    case apply_outcome::superseded: return "superseded";
    case apply_outcome::conflict: return "conflict";
    }
    return "unknown";
}

const char* to_string(disposition d) noexcept {
    switch (d) {
    case disposition::applied: return "applied";
    case disposition::already_applied: return "already_applied";
    case disposition::replayed: return "replayed";
    case disposition::superseded: return "superseded";
    case disposition::flagged: return "flagged";
    case disposition::failed: return "failed";
    }
    return "unknown";
}

}  // namespace reconciler::store
