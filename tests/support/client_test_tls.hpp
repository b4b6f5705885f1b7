// TestCertificate: a self-signed TLS certificate made at run time with
// OpenSSL, for the HTTP client's TLS tests (no files checked in, no CLI).
#pragma once

#include <filesystem>
#include <string>

namespace tailcut::test {

class TestCertificate {
 public:
  // A new EC P-256 key and a certificate for `subject_alt_names` (OpenSSL
  // syntax), valid from an hour ago for a day; it is its own CA. The
  // certificate is also written to a new temporary directory.
  explicit TestCertificate(const std::string& subject_alt_names = "IP:127.0.0.1,DNS:localhost");
  // Removes the temporary directory.
  ~TestCertificate();
  TestCertificate(const TestCertificate&) = delete;
  TestCertificate& operator=(const TestCertificate&) = delete;

  [[nodiscard]] const std::string& certificate_pem() const noexcept { return certificate_pem_; }
  [[nodiscard]] const std::string& private_key_pem() const noexcept { return private_key_pem_; }
  // The certificate as a CA file, for SessionOptions::ca_file.
  [[nodiscard]] const std::filesystem::path& ca_file() const noexcept { return ca_file_; }

 private:
  std::string certificate_pem_;
  std::string private_key_pem_;
  std::filesystem::path directory_;
  std::filesystem::path ca_file_;
};

}  // namespace tailcut::test
