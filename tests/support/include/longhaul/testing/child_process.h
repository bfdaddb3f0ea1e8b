// A child process for integration tests (the longhaul binary, helper
// scripts): started in its own process group with stdout and stderr captured
// to a file that assertion messages can point at, and never outliving the
// test that owns it.
#pragma once

#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace longhaul::testing {

class ChildProcess {
 public:
  // Starts `program` (a path, or a name looked up in PATH) with `args`
  // (argv[1..]) and the test's environment plus `env` (overriding entries of
  // the same name). stdin is /dev/null; stdout and stderr both go to a new
  // file in LONGHAUL_TEST_OUTPUT_DIR or ::testing::TempDir(), kept after the
  // process ends. Returns an error naming the program when it cannot be
  // executed.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(
      std::string program, std::vector<std::string> args,
      std::map<std::string, std::string> env = {});

  // Sends SIGKILL to the whole process group if the child still runs, and
  // reaps it.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Sends `signal` to the child's process group. No-op once it was reaped.
  void Kill(int signal = SIGTERM);

  // Waits up to `timeout` for the child to exit. Returns its exit code, or
  // 128 + N when signal N ended it (the shell's convention); std::nullopt if
  // it still runs at the deadline.
  std::optional<int> WaitForExit(std::chrono::milliseconds timeout);

  bool IsRunning();
  int pid() const { return pid_; }
  const std::string& program() const { return program_; }

  // Everything the child wrote to stdout and stderr so far.
  std::string Output() const;
  const std::string& output_path() const { return output_path_; }

  // "program (pid N), output in PATH", for assertion messages.
  std::string Describe() const;

 private:
  ChildProcess(std::string program, int pid, std::string output_path)
      : program_(std::move(program)), pid_(pid), output_path_(std::move(output_path)) {}
  // Reaps the child without blocking; returns true once it has exited.
  bool Reap();

  std::string program_;
  int pid_;
  std::string output_path_;
  std::optional<int> exit_code_;
};

// The longhaul executable of this build: $LONGHAUL_BINARY when set, else
// ${LONGHAUL_BINARY_DIR}/bin/longhaul.
std::string LonghaulBinary();

}  // namespace longhaul::testing
