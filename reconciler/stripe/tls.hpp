// The TLS client rules shared by the Stripe transport and the webhook
// forwarder, so that both verify peers the same way.
//
// Contract:
//  - make_client_context(): TLS 1.2 minimum, no compression, peers verified
//    against `ca_file` (PEM bundle) or, when it is empty, the system store.
//    Throws std::invalid_argument naming the caller's setting: "<who> TLS:
//    cannot load the system CA store (...)", "<who> <ca label> \"<file>\":
//    cannot load CA certificates (...); point <ca setting> at a readable PEM
//    bundle".
//  - expect_peer(): the certificate must name the host dialled, as a DNS
//    name (and SNI is sent: RFC 6066 allows DNS names only) or as an IP
//    address SAN; no partial wildcards. false: OpenSSL refused the name.
//  - error_text(): OpenSSL's reason for a failed handshake, plus the X.509
//    verification result, which says *why* a certificate was refused.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include <string>

namespace reconciler::stripe::tls {

// How a caller's messages name things.
struct context_names {
    std::string who;         // "stripe", "webhook forward"
    std::string ca_label;    // "ca_file", "CA file"
    std::string ca_setting;  // "ca_file", "--ca-file"
    std::string ca_advice;   // what fixes a missing system store: "set ca_file", "pass --ca-file"
};

boost::asio::ssl::context make_client_context(const std::string& ca_file, const context_names& names);

bool expect_peer(SSL* ssl, const std::string& host, bool host_is_ip);

std::string error_text(const boost::system::error_code& ec, SSL* ssl);

}  // namespace reconciler::stripe::tls
