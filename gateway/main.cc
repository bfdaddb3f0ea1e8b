// The longhaul executable: everything lives in longhaul::gateway.
#include "longhaul/gateway/cli.h"

int main(int argc, char** argv) { return longhaul::gateway::RunCli(argc, argv); }
