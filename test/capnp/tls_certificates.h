// Certificates for the TLS tests, made by the `openssl` command-line tool (rpc_tls_test,
// rpc_tls_cluster_test): a CA; servers kv-1..kv-3 and a client `client-1` signed by it
// (each with subjectAltName DNS:kv-cluster); and a rogue CA with a client `rogue` it signed.
// EC P-256 keys, valid two days.
#pragma once

#include <string>

namespace moonpool::rpc_testing {

struct CertificateFiles {
  std::string certificate;
  std::string key;
};

class TestCertificates {
 public:
  static constexpr const char* kServerName = "kv-cluster";

  // Makes every file under `dir` (which must exist); ok() says whether openssl succeeded.
  explicit TestCertificates(std::string dir);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string ca() const { return dir_ + "/ca.pem"; }
  // kv-1, kv-2, kv-3, client-1 (by the CA) or rogue (by the rogue CA).
  CertificateFiles of(const std::string& name) const {
    return {dir_ + "/" + name + ".pem", dir_ + "/" + name + ".key"};
  }

 private:
  void run(const std::string& command);
  void makeCa(const std::string& name);
  void makeSigned(const std::string& name, const std::string& ca);

  std::string dir_;
  std::string error_;
};

}  // namespace moonpool::rpc_testing
