// The help table: every command answers --help from it, and the man page
// and completions generated from it name every command and option.
#include "../../../gateway/src/command_help.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../../../gateway/src/service_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>

namespace longhaul::gateway {
namespace {

using ::testing::HasSubstr;

// The man page escapes '-' as '\-'.
std::string RoffText(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '-') out += "\\-";
    else out += c;
  }
  return out;
}

TEST(CommandHelp, EveryCommandHasHelpWithEachOptionAndTheManPageSaysTheSame) {
  const std::string man = ManPage();
  const std::string bash = BashCompletion();
  const std::string zsh = ZshCompletion();
  ASSERT_GE(Commands().size(), 8u);
  for (const auto& c : Commands()) {
    ASSERT_EQ(FindCommand(c.name), &c);
    std::string help = CommandHelpText(c);
    EXPECT_THAT(help, HasSubstr("usage: longhaul " + c.name)) << c.name;
    EXPECT_THAT(man, HasSubstr(".SS longhaul " + RoffText(c.name))) << c.name;
    EXPECT_THAT(GlobalHelpText(), HasSubstr(c.name));
    for (const auto& o : c.options) {
      EXPECT_THAT(help, HasSubstr(o.flag)) << c.name;
      EXPECT_THAT(man, HasSubstr(RoffText(o.flag))) << c.name << " " << o.flag;
      EXPECT_THAT(bash, HasSubstr(o.flag)) << c.name << " " << o.flag;
      EXPECT_THAT(zsh, HasSubstr(o.flag)) << c.name << " " << o.flag;
      for (const auto& choice : o.choices) EXPECT_THAT(bash, HasSubstr(choice));
    }
  }
  EXPECT_EQ(FindCommand("no-such-command"), nullptr);
}

TEST(CommandHelp, ManPageLinesNeverStartWithAControlCharacterFromTheText) {
  // A line of description starting with '.' or '\'' would be read as a roff
  // request; every text line must be escaped (\&) or a macro we wrote.
  std::string man = ManPage();
  size_t start = 0;
  while (start < man.size()) {
    size_t end = man.find('\n', start);
    std::string line = man.substr(start, end - start);
    if (!line.empty() && line[0] == '.') {
      EXPECT_TRUE(line.rfind(".TH ", 0) == 0 || line.rfind(".SH ", 0) == 0 || line.rfind(".SS ", 0) == 0 ||
                  line.rfind(".TP", 0) == 0 || line.rfind(".B ", 0) == 0 || line == ".br" || line == ".PP")
          << line;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

TEST(ServiceNotify, SendsTheStateToNotifySocketAndNothingWithoutOne) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(NotifyService("READY=1"));

  std::string path = ::testing::TempDir() + "/notify-" + std::to_string(getpid()) + ".sock";
  unlink(path.c_str());
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  std::copy(path.begin(), path.end(), addr.sun_path);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  setenv("NOTIFY_SOCKET", path.c_str(), 1);

  EXPECT_TRUE(NotifyService(StoppingState(std::chrono::milliseconds(35'000))));
  char buf[256] = {0};
  ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, n), "STOPPING=1\nEXTEND_TIMEOUT_USEC=35000000");
  unsetenv("NOTIFY_SOCKET");
  close(fd);
  unlink(path.c_str());
}

}  // namespace
}  // namespace longhaul::gateway
