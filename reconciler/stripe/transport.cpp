#include "stripe/transport.hpp"

namespace reconciler::stripe {

const char* to_string(transport_error e) noexcept {
    switch (e) {
        case transport_error::none: return "none";
        case transport_error::connect: return "connect";
        case transport_error::tls: return "tls";
        case transport_error::timeout: return "timeout";
        case transport_error::reset: return "reset";
        case transport_error::truncated: return "truncated";
        case transport_error::protocol: return "protocol";
        case transport_error::cancelled: return "cancelled";
    }
    return "unknown";
}

boost::asio::awaitable<transport_result> transport::probe() { co_return transport_result{}; }

}  // namespace reconciler::stripe
