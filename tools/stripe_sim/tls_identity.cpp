#include "stripe_sim/tls_identity.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace reconciler::sim {
namespace {

struct pkey_deleter { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct x509_deleter { void operator()(X509* p) const { X509_free(p); } };
struct bio_deleter { void operator()(BIO* p) const { BIO_free(p); } };
struct ext_deleter { void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); } };
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
using x509_ptr = std::unique_ptr<X509, x509_deleter>;
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;
using ext_ptr = std::unique_ptr<X509_EXTENSION, ext_deleter>;

[[noreturn]] void fail(const std::string& step) {
    throw std::runtime_error("generate TLS identity: " + step + " failed");
}

pkey_ptr make_ec_key() {
    pkey_ptr key{EVP_EC_gen("P-256")};
    if (!key) fail("generating an EC P-256 key");
    return key;
}

void set_name(X509* cert, const char* common_name, bool subject) {
    X509_NAME* name = X509_NAME_new();
    if (!name) fail("allocating an X509 name");
    bool ok = X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                         reinterpret_cast<const unsigned char*>("stripe-sim"), -1, -1, 0) == 1 &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                         reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0) == 1;
    if (ok) ok = (subject ? X509_set_subject_name(cert, name) : X509_set_issuer_name(cert, name)) == 1;
    X509_NAME_free(name);
    if (!ok) fail(std::string("setting the certificate ") + (subject ? "subject" : "issuer") + " name");
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    ext_ptr ext{X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str())};
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
        fail(std::string("adding extension ") + OBJ_nid2sn(nid) + "=" + value);
}

// A random positive 127-bit serial: unique serials matter because clients may
// cache by issuer+serial across restarts of the simulator.
void set_serial(X509* cert) {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) fail("drawing a random serial");
    bytes[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
    bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr;
    BN_free(bn);
    if (!ok) fail("setting the certificate serial");
}

x509_ptr new_cert(EVP_PKEY* key, long not_before_offset, long not_after_offset) {
    x509_ptr cert{X509_new()};
    if (!cert) fail("allocating an X509 certificate");
    if (X509_set_version(cert.get(), 2) != 1) fail("setting the certificate version");
    set_serial(cert.get());
    if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), not_before_offset) ||
        !X509_gmtime_adj(X509_getm_notAfter(cert.get()), not_after_offset))
        fail("setting the certificate validity");
    if (X509_set_pubkey(cert.get(), key) != 1) fail("setting the certificate public key");
    return cert;
}

std::string cert_pem(X509* cert) {
    bio_ptr bio{BIO_new(BIO_s_mem())};
    if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) fail("writing a certificate as PEM");
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

std::string key_pem(EVP_PKEY* key) {
    bio_ptr bio{BIO_new(BIO_s_mem())};
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        fail("writing the private key as PEM");
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

constexpr long day = 24L * 60 * 60;

}  // namespace

tls_identity generate_tls_identity(const std::vector<std::string>& dns_names,
                                   const std::vector<std::string>& ip_addresses,
                                   bool expired) {
    if (dns_names.empty() && ip_addresses.empty())
        throw std::invalid_argument("generate TLS identity: at least one DNS name or IP address is required");

    // CA: valid from an hour ago (clock skew) for ten years.
    pkey_ptr ca_key = make_ec_key();
    x509_ptr ca = new_cert(ca_key.get(), -3600, 3650 * day);
    set_name(ca.get(), "stripe-sim test CA", true);
    set_name(ca.get(), "stripe-sim test CA", false);
    add_ext(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
    add_ext(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
    add_ext(ca.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
    if (X509_sign(ca.get(), ca_key.get(), EVP_sha256()) <= 0) fail("self-signing the CA certificate");

    // Leaf: an expired one was valid for a day that ended a day ago, so only
    // its notAfter is wrong and verification fails with "certificate has expired".
    pkey_ptr leaf_key = make_ec_key();
    x509_ptr leaf = expired ? new_cert(leaf_key.get(), -2 * day, -day)
                            : new_cert(leaf_key.get(), -3600, 825 * day);
    const std::string cn = !dns_names.empty() ? dns_names.front() : ip_addresses.front();
    set_name(leaf.get(), cn.c_str(), true);
    if (X509_set_issuer_name(leaf.get(), X509_get_subject_name(ca.get())) != 1)
        fail("setting the leaf issuer name");

    std::string san;
    for (const auto& d : dns_names) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
    for (const auto& ip : ip_addresses) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
    add_ext(leaf.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_ext(leaf.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
    add_ext(leaf.get(), ca.get(), NID_ext_key_usage, "serverAuth");
    add_ext(leaf.get(), ca.get(), NID_subject_alt_name, san);
    add_ext(leaf.get(), ca.get(), NID_subject_key_identifier, "hash");
    add_ext(leaf.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
    if (X509_sign(leaf.get(), ca_key.get(), EVP_sha256()) <= 0) fail("signing the leaf certificate");

    return tls_identity{cert_pem(ca.get()), cert_pem(leaf.get()), key_pem(leaf_key.get())};
}

}  // namespace reconciler::sim
