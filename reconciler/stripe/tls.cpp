#include "stripe/tls.hpp"

#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <stdexcept>

namespace reconciler::stripe::tls {

namespace ssl = boost::asio::ssl;

ssl::context make_client_context(const std::string& ca_file, const context_names& names) {
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1)
        throw std::invalid_argument(names.who + " TLS: cannot require TLS 1.2 or newer");
    ctx.set_verify_mode(ssl::verify_peer);
    boost::system::error_code ec;
    if (ca_file.empty()) {
        ctx.set_default_verify_paths(ec);
        if (ec)
            throw std::invalid_argument(names.who + " TLS: cannot load the system CA store (" + ec.message() +
                                        "); install ca-certificates or " + names.ca_advice);
    } else {
        ctx.load_verify_file(ca_file, ec);
        if (ec)
            throw std::invalid_argument(names.who + " " + names.ca_label + " \"" + ca_file +
                                        "\": cannot load CA certificates (" + ec.message() + "); point " +
                                        names.ca_setting + " at a readable PEM bundle");
    }
    return ctx;
}

bool expect_peer(SSL* ssl, const std::string& host, bool host_is_ip) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (host_is_ip) return X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
    return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 &&
           X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1;
}

std::string error_text(const boost::system::error_code& ec, SSL* ssl) {
    std::string text;
    if (ec.category() == boost::asio::error::get_ssl_category()) {
        // Asio stores OpenSSL's packed error as int: widen without sign extension.
        const char* reason = ERR_reason_error_string(static_cast<unsigned long>(static_cast<unsigned int>(ec.value())));
        text = reason ? reason : ec.message();
    } else {
        text = ec.message();
    }
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) text += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
    return text;
}

}  // namespace reconciler::stripe::tls
