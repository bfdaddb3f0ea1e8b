// The systemd notification protocol (sd_notify(3)) without libsystemd: one
// datagram to $NOTIFY_SOCKET. `longhaul run` under a Type=notify unit says
// READY=1 once its pipelines started, STOPPING=1 when the drain begins and
// EXTEND_TIMEOUT_USEC so that a drain_timeout longer than the unit's
// TimeoutStopSec is honoured. Without NOTIFY_SOCKET every call does nothing.
#pragma once

#include <chrono>
#include <string>

namespace longhaul::gateway {

// Sends `state` ("READY=1", ...) to $NOTIFY_SOCKET (a path, or "@name" for
// an abstract socket). Returns false when there is no socket or the send
// failed; the caller carries on either way (notification is advisory).
bool NotifyService(const std::string& state);

// "STOPPING=1\nEXTEND_TIMEOUT_USEC=<how_long in µs>".
std::string StoppingState(std::chrono::milliseconds how_long);

}  // namespace longhaul::gateway
