// The two network namespaces of an emulated link and the TUN devices that
// join them through longhaul-linkemu. Private to the emulator executable.
//
//   NAME-edge: lo, lh0 (TUN) EDGE_ADDR peer HUB_ADDR
//   NAME-hub:  lo, lh0 (TUN) HUB_ADDR  peer EDGE_ADDR
//
// Each namespace gets TCP buffer limits large enough for one flow to fill the
// bandwidth-delay product of any profile (64 MiB), bbr as congestion control
// where the kernel has it, and no IPv6 (no router solicitations on the link).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace longhaul::soak {

struct NamespacePlan {
  std::string name;
  std::string edge_ns;
  std::string hub_ns;
  std::string device = "lh0";
  std::string edge_addr = "10.201.0.1";
  std::string hub_addr = "10.201.0.2";
  int mtu = 1500;
};

// NAME-edge / NAME-hub. Names are checked (letters, digits, - _ .).
absl::StatusOr<NamespacePlan> PlanNamespaces(std::string_view name, std::string_view edge_addr,
                                             std::string_view hub_addr);

bool NamespaceExists(const std::string& ns);

// Creates both namespaces (removing leftovers of the same name first), the
// TUN devices, addresses and sysctls. `notes` receives warnings (e.g. bbr
// unavailable). On error, what was created is removed again.
absl::Status CreateNamespaces(const NamespacePlan& plan, std::string* notes);

// Deletes both namespaces; missing ones are fine. Processes still inside keep
// theirs alive until they exit.
absl::Status DestroyNamespaces(const NamespacePlan& plan);

// Opens the TUN device `device` of namespace `ns` (IFF_TUN | IFF_NO_PI),
// non-blocking. The descriptor works from any namespace.
absl::StatusOr<int> OpenTun(const std::string& ns, const std::string& device);

// A socket created inside namespace `ns` (it stays there).
absl::StatusOr<int> SocketIn(const std::string& ns, int domain, int type);

// Packets the kernel of namespace `ns` dropped because `device`'s queue to
// the forwarder was full (the forwarder did not read in time).
absl::StatusOr<int64_t> TunQueueDrops(const std::string& ns, const std::string& device);

// Reads a sysctl of namespace `ns`, e.g. "net/ipv4/tcp_congestion_control".
absl::StatusOr<std::string> ReadSysctlIn(const std::string& ns, const std::string& key);

}  // namespace longhaul::soak
