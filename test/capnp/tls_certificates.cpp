// Test certificates through the openssl command-line tool (see tls_certificates.h).
#include "tls_certificates.h"

#include <cstdlib>

namespace moonpool::rpc_testing {

namespace {

constexpr const char* kKeyOptions = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

}  // namespace

TestCertificates::TestCertificates(std::string dir) : dir_(std::move(dir)) {
  makeCa("ca");
  makeCa("rogue-ca");
  for (const char* name : {"kv-1", "kv-2", "kv-3", "client-1"}) makeSigned(name, "ca");
  makeSigned("rogue", "rogue-ca");
}

void TestCertificates::run(const std::string& command) {
  if (!error_.empty()) return;
  const std::string quiet = "cd '" + dir_ + "' && " + command + " >> openssl.log 2>&1";
  if (std::system(quiet.c_str()) != 0) error_ = "failed: " + command + " (see openssl.log)";
}

void TestCertificates::makeCa(const std::string& name) {
  run("openssl req -x509 " + std::string(kKeyOptions) + " -keyout " + name + ".key -out " +
      name + ".pem -days 2 -subj /CN=" + name);
}

void TestCertificates::makeSigned(const std::string& name, const std::string& ca) {
  run("openssl req " + std::string(kKeyOptions) + " -keyout " + name + ".key -out " + name +
      ".csr -subj /CN=" + name + " -addext subjectAltName=DNS:" + kServerName);
  run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
      ".key -CAcreateserial -out " + name + ".pem -days 2 -copy_extensions copy");
}

}  // namespace moonpool::rpc_testing
