// The splitter's sampling decision (MirrorSample::Includes) per request, on
// Sparrow bodies shaped like the bundled sample: at 1.0 (nothing read), and at
// 0.3 for a plain body (one scan and a SHA-256), a body whose deviceId has an
// escape (the full parse), and a body that is not JSON (both, then the id).
// Each case runs `--rounds` timed rounds of `--iterations` decisions; the
// median and the spread of ns per decision are printed.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "splitter/mirror_sample.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string Body(int i, bool escaped) {
  std::string device = "device-" + std::to_string(i % 5000);
  if (escaped) device.replace(0, 1, "\\u0064");
  return R"({"event":"pageview","deviceId":")" + device + R"(","userId":"user-)" +
         std::to_string(i % 2000) +
         R"(","properties":{"path":"/dashboard","referrer":"https://www.example.com/search?q=tandem&utm_source=news","title":"Dashboard"}})";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cost of the splitter's sampling decision"};
  int rounds = 9, iterations = 200000;
  app.add_option("--rounds", rounds);
  app.add_option("--iterations", iterations);
  CLI11_PARSE(app, argc, argv);
  const std::string id = "0190a1b2-c3d4-7e5f-8a9b-000000000001";
  struct Case {
    const char* name;
    double fraction;
    std::vector<std::string> bodies;
  };
  std::vector<Case> cases = {{"1.0 (nothing read)", 1.0, {}},
                             {"0.3, plain body", 0.3, {}},
                             {"0.3, escaped deviceId (full parse)", 0.3, {}},
                             {"0.3, not JSON (scan, parse, id)", 0.3, {}}};
  for (int i = 0; i < 1024; ++i) {
    cases[0].bodies.push_back(Body(i, false));
    cases[1].bodies.push_back(Body(i, false));
    cases[2].bodies.push_back(Body(i, true));
    cases[3].bodies.push_back(Body(i, false).substr(0, 60) + " broken");
  }
  std::printf("body size %zu bytes; %d rounds of %d decisions\n", cases[1].bodies[0].size(), rounds,
              iterations);
  for (const Case& c : cases) {
    tandem::splitter::MirrorSample sample(c.fraction);
    std::vector<double> ns;
    size_t in = 0;
    for (int r = 0; r < rounds; ++r) {
      auto start = Clock::now();
      for (int i = 0; i < iterations; ++i) in += sample.Includes(c.bodies[i & 1023], id);
      ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
                   iterations);
    }
    std::sort(ns.begin(), ns.end());
    std::printf("%-36s median %7.1f ns  (min %.1f, max %.1f)  sampled %.1f%%\n", c.name,
                ns[ns.size() / 2], ns.front(), ns.back(),
                100.0 * static_cast<double>(in) / (static_cast<double>(rounds) * iterations));
  }
}
