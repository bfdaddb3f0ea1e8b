#include "longhaul/testing/child_process.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace longhaul::testing {
namespace {

std::string OutputDir() {
  const char* dir = std::getenv("LONGHAUL_TEST_OUTPUT_DIR");
  std::string out = dir != nullptr && *dir != '\0' ? dir : ::testing::TempDir();
  if (!out.empty() && out.back() != '/') out.push_back('/');
  return out;
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Resolved in the parent: after fork() in a threaded process only
// async-signal-safe calls are allowed, so the child only calls execve().
absl::StatusOr<std::string> ResolveProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path != nullptr ? path : "/usr/bin:/bin", ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? absl::string_view(".") : dir, "/", program);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::NotFoundError(absl::StrCat("cannot start '", program, "': not found in PATH"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(
    std::string program, std::vector<std::string> args, std::map<std::string, std::string> env) {
  absl::StatusOr<std::string> path = ResolveProgram(program);
  if (!path.ok()) return path.status();

  static std::atomic<int> sequence{0};
  std::string output_path = absl::StrCat(OutputDir(), "longhaul-child-", getpid(), "-", ++sequence, "-",
                                         BaseName(program), ".log");
  const int out_fd = open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (out_fd < 0) {
    return absl::InternalError(absl::StrCat("cannot start '", program, "': cannot create output file ",
                                            output_path, ": ", std::strerror(errno)));
  }
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

  // argv and envp are built before fork (no allocation in the child).
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    const std::string name(entry.substr(0, entry.find('=')));
    if (!env.contains(name)) env_strings.emplace_back(entry);
  }
  for (const auto& [name, value] : env) env_strings.push_back(absl::StrCat(name, "=", value));
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  argv.push_back(program.data());
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // The child reports a failed execve() through this pipe; a successful one
  // closes it (O_CLOEXEC) and the parent reads EOF.
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) {
    close(out_fd);
    if (null_fd >= 0) close(null_fd);
    return absl::InternalError(absl::StrCat("cannot start '", program, "': pipe: ", std::strerror(errno)));
  }

  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(out_fd);
    if (null_fd >= 0) close(null_fd);
    close(exec_pipe[0]);
    close(exec_pipe[1]);
    return absl::InternalError(absl::StrCat("cannot start '", program, "': fork: ", std::strerror(err)));
  }
  if (pid == 0) {
    setpgid(0, 0);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);
    // Keep the parent's sockets and files (librdkafka's among them) out of
    // the child; the exec pipe is CLOEXEC and must stay open until execve.
    const unsigned keep = static_cast<unsigned>(exec_pipe[1]);
    if (keep > 3) close_range(3, keep - 1, 0);
    close_range(keep + 1, ~0U, 0);
    // librdkafka's threads block signals; the forking thread may too.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    execve(path->c_str(), argv.data(), envp.data());
    const int err = errno;
    (void)!write(exec_pipe[1], &err, sizeof(err));
    _exit(127);
  }
  setpgid(pid, pid);  // also in the parent, so Kill() never races the child's own call
  close(exec_pipe[1]);
  close(out_fd);
  if (null_fd >= 0) close(null_fd);
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(exec_pipe[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  close(exec_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof(child_errno))) {
    int status;
    waitpid(pid, &status, 0);
    unlink(output_path.c_str());
    return absl::FailedPreconditionError(
        absl::StrCat("cannot execute '", *path, "': ", std::strerror(child_errno)));
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(std::move(program), pid, std::move(output_path)));
}

ChildProcess::~ChildProcess() {
  if (!exit_code_.has_value()) {
    kill(-pid_, SIGKILL);
    int status;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  } else {
    // Grandchildren left in the group (the leader is gone) go too.
    kill(-pid_, SIGKILL);
  }
}

bool ChildProcess::Reap() {
  if (exit_code_.has_value()) return true;
  int status;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return false;
  if (r < 0) {
    // Not our child any more (someone else reaped it): treat as gone.
    exit_code_ = -1;
    return true;
  }
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

void ChildProcess::Kill(int signal) {
  if (Reap()) return;
  kill(-pid_, signal);
}

std::optional<int> ChildProcess::WaitForExit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (!Reap()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
  return exit_code_;
}

bool ChildProcess::IsRunning() { return !Reap(); }

std::string ChildProcess::Output() const {
  std::ifstream in(output_path_, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string ChildProcess::Describe() const {
  return absl::StrCat(program_, " (pid ", pid_, "), output in ", output_path_);
}

std::string LonghaulBinary() {
  const char* override_path = std::getenv("LONGHAUL_BINARY");
  if (override_path != nullptr && *override_path != '\0') return override_path;
  return LONGHAUL_BINARY_DIR "/bin/longhaul";
}

}  // namespace longhaul::testing
