// Makes self-signed certificates with OpenSSL 3's APIs for the client tests.
#include "support/client_test_tls.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>

namespace tailcut::test {

namespace {

struct Free {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  void operator()(X509* certificate) const { X509_free(certificate); }
  void operator()(BIO* bio) const { BIO_free(bio); }
  void operator()(X509_EXTENSION* extension) const { X509_EXTENSION_free(extension); }
};

void check(bool ok, const char* step) {
  if (!ok) throw std::runtime_error{std::string{"making the test certificate failed at "} + step};
}

void add_extension(X509* certificate, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Free> extension{
      X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str())};
  check(extension != nullptr, "X509V3_EXT_conf_nid");
  check(X509_add_ext(certificate, extension.get(), -1) == 1, "X509_add_ext");
}

template <typename Write>
std::string to_pem(Write write) {
  std::unique_ptr<BIO, Free> bio{BIO_new(BIO_s_mem())};
  check(bio && write(bio.get()) == 1, "PEM_write");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string{data, static_cast<std::size_t>(size)};
}

}  // namespace

TestCertificate::TestCertificate(const std::string& subject_alt_names) {
  std::unique_ptr<EVP_PKEY, Free> key{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
  check(key != nullptr, "EVP_PKEY_Q_keygen");
  std::unique_ptr<X509, Free> certificate{X509_new()};
  X509* cert = certificate.get();
  check(X509_set_version(cert, 2) == 1, "X509_set_version");
  std::random_device random;
  check(ASN1_INTEGER_set(X509_get_serialNumber(cert), static_cast<long>(random() >> 1)) == 1,
        "serial");
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  check(X509_set_pubkey(cert, key.get()) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert);
  const std::string common_name = "tailcut client test";
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                   -1, 0) == 1,
        "CN");
  check(X509_set_issuer_name(cert, name) == 1, "X509_set_issuer_name");
  add_extension(cert, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert, NID_key_usage, "critical,digitalSignature,keyCertSign");
  add_extension(cert, NID_subject_key_identifier, "hash");
  add_extension(cert, NID_subject_alt_name, subject_alt_names);
  check(X509_sign(cert, key.get(), EVP_sha256()) > 0, "X509_sign");

  certificate_pem_ = to_pem([&](BIO* bio) { return PEM_write_bio_X509(bio, cert); });
  private_key_pem_ = to_pem([&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });

  static std::atomic<unsigned> counter{0};
  directory_ =
      std::filesystem::temp_directory_path() /
      ("tailcut-client-test-" + std::to_string(random()) + "-" + std::to_string(++counter));
  std::filesystem::create_directories(directory_);
  ca_file_ = directory_ / "ca.pem";
  std::ofstream{ca_file_} << certificate_pem_;
}

TestCertificate::~TestCertificate() {
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

}  // namespace tailcut::test
