// Command-line entry point of the longhaul process: parses the subcommand
// (run, validate, ...) and returns the process exit status.
#pragma once

namespace longhaul::gateway {
int RunCli(int argc, char** argv);
}  // namespace longhaul::gateway
