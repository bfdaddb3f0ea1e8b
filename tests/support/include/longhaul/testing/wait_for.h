// Bounded waiting for integration tests. An asynchronous effect (a record
// replicated, a process listening) is polled for with a deadline, never
// awaited with a bare sleep, so a broken build fails fast and says so.
#pragma once

#include <chrono>
#include <functional>

namespace longhaul::testing {

// Calls `condition` every `poll_interval` until it returns true or `timeout`
// has passed, and once more at the deadline. Returns whether it became true.
// Runs on the calling thread.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds poll_interval = std::chrono::milliseconds(50));

}  // namespace longhaul::testing
