#include "compare/loss_bound.h"

#include <boost/math/distributions/beta.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <cmath>

namespace tandem::compare {

double LossUpperBound(uint64_t lost, uint64_t events, double confidence) {
  if (events == 0) return 1.0;
  if (lost >= events) return 1.0;
  // Boost.Math's beta quantile is exact to double precision; it never throws
  // for these arguments (a > 0, b > 0, p in (0, 1)).
  boost::math::beta_distribution<double> beta(static_cast<double>(lost) + 1.0,
                                              static_cast<double>(events - lost));
  return boost::math::quantile(beta, confidence);
}

std::optional<uint64_t> EventsNeeded(uint64_t lost, uint64_t events, double max_ratio,
                                     double confidence) {
  if (max_ratio <= 0) return std::nullopt;
  double rate = events == 0 ? 0.0 : static_cast<double>(lost) / static_cast<double>(events);
  if (rate >= max_ratio) return std::nullopt;
  auto bound_at = [&](uint64_t n) {
    auto k = static_cast<uint64_t>(std::llround(rate * static_cast<double>(n)));
    return LossUpperBound(k, n, confidence);
  };
  if (events > 0 && bound_at(events) <= max_ratio) return events;
  // The bound falls as n grows at a fixed rate: double, then bisect.
  uint64_t lo = events, hi = std::max<uint64_t>(events, 16);
  while (bound_at(hi) > max_ratio) {
    lo = hi;
    if (hi > (uint64_t{1} << 50)) return std::nullopt;  // rate too close to the threshold
    hi *= 2;
  }
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    (bound_at(mid) <= max_ratio ? hi : lo) = mid;
  }
  return hi;
}

double LossAboveLimitPValue(uint64_t lost, uint64_t events, double max_ratio) {
  if (lost == 0) return 1.0;
  if (max_ratio <= 0 || lost > events) return 0.0;
  if (max_ratio >= 1) return 1.0;
  // P(X >= k) = I_p(k, n - k + 1), the regularized incomplete beta function.
  return boost::math::ibeta(static_cast<double>(lost), static_cast<double>(events - lost) + 1.0,
                            max_ratio);
}

}  // namespace tandem::compare
