// The setup every loopback test server here shares (the Stripe simulator, the
// delivery receiver): a TLS server context holding a generated identity, and
// a listening acceptor. `who` names the server in errors
// ("start delivery receiver: listen on 127.0.0.1:8443: Address already in use").
//
// Contract: each throws std::runtime_error naming `who` and the step that
// failed; neither leaves a half-configured object that is then used.
#pragma once

#include "stripe_sim/tls_identity.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <string>
#include <string_view>

namespace reconciler::sim {

// TLS 1.2 or later, the identity's leaf chain and key.
void use_server_identity(boost::asio::ssl::context& ctx, const tls_identity& identity, std::string_view who);

// Opens, binds (address reuse on) and listens; returns the bound port (an
// ephemeral one when `port` is 0).
unsigned short listen_on(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address, unsigned short port,
                         std::string_view who);

}  // namespace reconciler::sim
