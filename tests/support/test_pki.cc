#include "tests/support/test_pki.h"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/file_util.h"

namespace tandem::testing {
namespace {
void Run(const std::string& cmd) {
  if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0)
    throw std::runtime_error("failed: " + cmd);
}
}  // namespace

TestPki::TestPki() {
  const std::string d = dir.path();
  Run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=tandem-test-ca -keyout " + d +
      "/ca.key -out " + d + "/ca.pem");
  Run("openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " + d + "/server.key -out " +
      d + "/server.csr");
  dir.Write("san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  Run("openssl x509 -req -days 2 -in " + d + "/server.csr -CA " + d + "/ca.pem -CAkey " + d +
      "/ca.key -CAcreateserial -extfile " + d + "/san.ext -out " + d + "/server.pem");
  Run("openssl genrsa -out " + d + "/sa.key 2048");
  Run("openssl rsa -in " + d + "/sa.key -pubout -out " + d + "/sa.pub");
  ca_cert = d + "/ca.pem";
  server_cert = d + "/server.pem";
  server_key = d + "/server.key";
  if (!ReadFile(d + "/sa.key", sa_key_pem) || !ReadFile(d + "/sa.pub", sa_public_pem))
    throw std::runtime_error("no test key");
}

std::string TestPki::WriteServiceAccount(const std::string& token_uri) const {
  nlohmann::json j = {{"type", "service_account"},
                      {"project_id", "test-project"},
                      {"private_key_id", "k1"},
                      {"private_key", sa_key_pem},
                      {"client_email", "tandem@test-project.iam.gserviceaccount.com"},
                      {"token_uri", token_uri}};
  return dir.Write("sa.json", j.dump());
}

}  // namespace tandem::testing
