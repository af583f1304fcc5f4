// stripe/tls.hpp: the TLS client context and peer-name rules shared by the
// Stripe transport and the webhook forwarder.
#include "stripe/tls.hpp"

#include "stripe_sim/tls_identity.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <unistd.h>

using namespace reconciler::stripe;
namespace fs = std::filesystem;

namespace {

const tls::context_names names{"webhook forward", "CA file", "--ca-file", "pass --ca-file"};

std::string context_error(const std::string& ca_file) {
    try {
        (void)tls::make_client_context(ca_file, names);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

struct temp_dir {
    fs::path path = fs::temp_directory_path() / ("tls_test-" + std::to_string(::getpid()));
    temp_dir() { fs::create_directories(path); }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

using ssl_ptr = std::unique_ptr<SSL, decltype(&SSL_free)>;

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_rules)

BOOST_AUTO_TEST_CASE(context_requires_tls12_and_verifies_peers) {
    auto ctx = tls::make_client_context("", names);  // the system store (ca-certificates)
    BOOST_TEST(SSL_CTX_get_min_proto_version(ctx.native_handle()) == TLS1_2_VERSION);
    BOOST_TEST((SSL_CTX_get_verify_mode(ctx.native_handle()) & SSL_VERIFY_PEER) != 0);

    temp_dir dir;
    const fs::path ca = dir.path / "ca.pem";
    std::ofstream(ca) << reconciler::sim::generate_tls_identity({"localhost"}, {"127.0.0.1"}).ca_cert_pem;
    BOOST_CHECK_NO_THROW(tls::make_client_context(ca.string(), names));
}

BOOST_AUTO_TEST_CASE(an_unusable_ca_file_is_refused_naming_the_setting) {
    temp_dir dir;
    const fs::path garbage = dir.path / "garbage.pem";
    std::ofstream(garbage) << "not a certificate\n";
    const std::string msg = context_error(garbage.string());
    BOOST_TEST(msg.starts_with("webhook forward CA file \"" + garbage.string() + "\": cannot load CA certificates ("), msg);
    BOOST_TEST(msg.ends_with("); point --ca-file at a readable PEM bundle"), msg);
    BOOST_TEST(context_error((dir.path / "missing.pem").string()).find("cannot load CA certificates") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_peer_must_match_the_host_dialled) {
    auto ctx = tls::make_client_context("", names);
    ssl_ptr by_name(SSL_new(ctx.native_handle()), &SSL_free);
    BOOST_TEST(tls::expect_peer(by_name.get(), "api.stripe.com", false));
    // SNI for a DNS name...
    BOOST_TEST(std::string(SSL_get_servername(by_name.get(), TLSEXT_NAMETYPE_host_name)) == "api.stripe.com");

    ssl_ptr by_ip(SSL_new(ctx.native_handle()), &SSL_free);
    BOOST_TEST(tls::expect_peer(by_ip.get(), "127.0.0.1", true));
    // ...never for an IP literal (RFC 6066).
    BOOST_TEST(SSL_get_servername(by_ip.get(), TLSEXT_NAMETYPE_host_name) == nullptr);
    ssl_ptr bad_ip(SSL_new(ctx.native_handle()), &SSL_free);
    BOOST_TEST(!tls::expect_peer(bad_ip.get(), "not-an-ip", true));
}

BOOST_AUTO_TEST_CASE(error_text_adds_the_verification_result) {
    auto ctx = tls::make_client_context("", names);
    ssl_ptr ssl(SSL_new(ctx.native_handle()), &SSL_free);
    const auto refused = make_error_code(boost::asio::error::connection_refused);
    BOOST_TEST(tls::error_text(refused, ssl.get()) == refused.message());
    SSL_set_verify_result(ssl.get(), X509_V_ERR_CERT_HAS_EXPIRED);
    BOOST_TEST(tls::error_text(refused, ssl.get()) == refused.message() + " (certificate has expired)");
}

BOOST_AUTO_TEST_SUITE_END()
