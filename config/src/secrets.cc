#include "secrets.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace longhaul::config::internal {
namespace {

constexpr std::string_view kFilePrefix = "file:";

bool IsEnvName(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_';
    if (!ok) return false;
  }
  return true;
}

absl::Status StatusFromErrno(int err, std::string message) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(std::move(message));
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(std::move(message));
    default:
      return absl::UnavailableError(std::move(message));
  }
}

}  // namespace

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, absl::string_view what) {
  auto fail = [&](int err) {
    return StatusFromErrno(err, absl::StrCat("cannot read ", what, " ", path, ": ", std::strerror(err)));
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (file == nullptr) return fail(errno);
  std::string content;
  char buffer[8192];
  while (true) {
    const size_t n = std::fread(buffer, 1, sizeof(buffer), file.get());
    content.append(buffer, n);
    if (n < sizeof(buffer)) break;
  }
  // A directory opens fine on Linux and fails here with EISDIR.
  if (std::ferror(file.get())) return fail(errno);
  return content;
}

absl::StatusOr<Expanded> ExpandSecrets(std::string_view text, const EnvLookup& env) {
  Expanded out;
  std::vector<std::string> errors;
  size_t i = 0;
  while (i < text.size()) {
    const size_t dollar = text.find('$', i);
    if (dollar == std::string_view::npos) {
      out.value.append(text.substr(i));
      break;
    }
    out.value.append(text.substr(i, dollar - i));
    std::string_view rest = text.substr(dollar);
    if (rest.substr(0, 3) == "$${") {
      out.value.append("${");
      i = dollar + 3;
      continue;
    }
    if (rest.substr(0, 2) != "${") {
      out.value.push_back('$');
      i = dollar + 1;
      continue;
    }
    const size_t close = text.find('}', dollar + 2);
    if (close == std::string_view::npos) {
      errors.push_back("unterminated \"${\" (write \"$${\" for a literal \"${\")");
      break;
    }
    const std::string_view ref = text.substr(dollar + 2, close - dollar - 2);
    i = close + 1;
    out.expanded = true;
    if (ref.substr(0, kFilePrefix.size()) == kFilePrefix) {
      const std::string path(ref.substr(kFilePrefix.size()));
      if (path.empty()) {
        errors.push_back("empty path in \"${file:}\" (expected ${file:/path/to/secret})");
        continue;
      }
      absl::StatusOr<std::string> content = ReadWholeFile(path, "secret file");
      if (!content.ok()) {
        errors.emplace_back(content.status().message());
        continue;
      }
      std::string_view secret = *content;
      if (secret.size() >= 2 && secret.substr(secret.size() - 2) == "\r\n") {
        secret.remove_suffix(2);
      } else if (!secret.empty() && secret.back() == '\n') {
        secret.remove_suffix(1);
      }
      out.value.append(secret);
      continue;
    }
    if (!IsEnvName(ref)) {
      errors.push_back(absl::StrCat("\"${", absl::string_view(ref.data(), ref.size()),
                                    "}\" is not a valid reference (expected ${NAME} with NAME made "
                                    "of letters, digits and _, or ${file:PATH})"));
      continue;
    }
    std::optional<std::string> value = env ? env(ref) : std::nullopt;
    if (!value.has_value()) {
      errors.push_back(absl::StrCat("environment variable ", absl::string_view(ref.data(), ref.size()),
                                    " is not set"));
      continue;
    }
    out.value.append(*value);
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
  return out;
}

}  // namespace longhaul::config::internal
