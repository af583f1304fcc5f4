#include "stripe_sim/loopback_server.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/system/system_error.hpp>

#include <stdexcept>

namespace reconciler::sim {

namespace net = boost::asio;

void use_server_identity(net::ssl::context& ctx, const tls_identity& identity, std::string_view who) {
    try {
        ctx.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                        net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
        ctx.use_certificate_chain(net::buffer(identity.cert_pem));
        ctx.use_private_key(net::buffer(identity.key_pem), net::ssl::context::pem);
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error("start " + std::string(who) + ": load TLS certificate and key: " + e.what());
    }
}

unsigned short listen_on(net::ip::tcp::acceptor& acceptor, const std::string& address, unsigned short port,
                         std::string_view who) {
    try {
        const net::ip::tcp::endpoint endpoint(net::ip::make_address(address), port);
        acceptor.open(endpoint.protocol());
        acceptor.set_option(net::socket_base::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(net::socket_base::max_listen_connections);
        return acceptor.local_endpoint().port();
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error("start " + std::string(who) + ": listen on " + address + ":" + std::to_string(port) +
                                 ": " + e.code().message());
    }
}

}  // namespace reconciler::sim
