// The config loader over any text: a config it cannot use is a ConfigError with
// FILE:LINE:COLUMN, never another exception or a crash.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    tandem::Config c = tandem::ParseConfig(text, "/fuzz/tandem.yaml");
    (void)tandem::ConfigToJson(c);
  } catch (const tandem::ConfigError& e) {
    if (std::string(e.what()).rfind("/fuzz/tandem.yaml:", 0) != 0) abort();
  }
  return 0;
}
