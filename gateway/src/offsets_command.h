// `longhaul offsets translate|failover`: translate a consumer group's
// committed source offsets to the target cluster and print them, or commit
// them there once (failing consumers over). Output is a table or, with
// --json, one JSON object.
#pragma once

#include <string>
#include <vector>

namespace longhaul::gateway {

// `args` follow the word "offsets" on the command line. Exit status: 0 done
// (failover: every partition now at its exact translation), 1 error, 2
// usage, 3 failover left some partition unsynced (the output says why).
int OffsetsCommand(const std::vector<std::string>& args);

}  // namespace longhaul::gateway
