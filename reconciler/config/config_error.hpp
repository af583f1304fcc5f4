// The one exception type configuration problems are reported with.
#pragma once

#include <stdexcept>

namespace reconciler {

// Its message names the file (and the line and key, when there is one):
// "config /etc/reconciler.yaml:3: stripe.concurrency: expected ...".
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace reconciler
