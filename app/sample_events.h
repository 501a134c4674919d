// The bundled sample for `tandem replay`: realistic Sparrow events.
#pragma once

#include <cstdint>
#include <string>

namespace tandem::app {

// The i-th event of a fixed, repeatable sequence (pageviews, product events,
// identified and anonymous devices).
std::string SampleEvent(uint64_t i);

}  // namespace tandem::app
