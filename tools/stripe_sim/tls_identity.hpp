// A throwaway TLS identity for the bundled Stripe simulator: a private CA and
// a leaf certificate signed by it. Clients are configured to trust ca_cert_pem
// only, so tests exercise real chain and hostname verification.
//
// Contract: generate_tls_identity never returns a partial identity; it throws
// std::runtime_error naming the OpenSSL step that failed.
#pragma once

#include <string>
#include <vector>

namespace reconciler::sim {

struct tls_identity {
    std::string ca_cert_pem;
    std::string cert_pem;
    std::string key_pem;  // the leaf's private key (PKCS#8 PEM)
};

// A fresh CA (EC P-256, basicConstraints CA:TRUE, keyCertSign) and a leaf cert signed by it
// with subjectAltName DNS:<dns_names...> and IP:<ip_addresses...>, serverAuth EKU.
// expired=true makes the leaf's notAfter lie in the past (for the expired-certificate test).
tls_identity generate_tls_identity(const std::vector<std::string>& dns_names,
                                   const std::vector<std::string>& ip_addresses,
                                   bool expired = false);

}  // namespace reconciler::sim
