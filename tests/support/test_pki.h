// Keys and certificates a test makes for itself with the openssl command: a CA,
// a server certificate for 127.0.0.1 signed by it, and a service-account key.
#pragma once

#include <string>

#include "tests/support/process.h"

namespace tandem::testing {

struct TestPki {
  TestPki();
  TempDir dir;
  std::string ca_cert, server_cert, server_key;
  std::string sa_key_pem, sa_public_pem;
  // A service-account JSON key file (client_email, private_key, token_uri).
  std::string WriteServiceAccount(const std::string& token_uri) const;
};

}  // namespace tandem::testing
