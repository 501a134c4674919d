// File descriptors are a budget: listeners, client connections, upstream
// connections and files all draw on RLIMIT_NOFILE, and running out makes every
// one of them fail at once. Services size their connection caps from it.
#pragma once

#include <cstdint>

namespace tandem {

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force.
uint64_t RaiseDescriptorLimit();

}  // namespace tandem
