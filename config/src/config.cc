// The model's behaviour: merged client properties, topic filters, renames
// and redaction. Parsing lives in parse_config.cc.
#include "longhaul/config/config.h"

#include <array>
#include <cstdlib>
#include <regex>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "longhaul/base/check.h"

namespace longhaul::config {

std::string_view ToString(ClientRole role) {
  switch (role) {
    case ClientRole::kConsumer:
      return "consumer";
    case ClientRole::kProducer:
      return "producer";
    case ClientRole::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::string_view ToString(Delivery delivery) {
  switch (delivery) {
    case Delivery::kExactlyOnce:
      return "exactly-once";
    case Delivery::kAtLeastOnce:
      return "at-least-once";
  }
  return "unknown";
}

std::string_view ToString(StartPosition start) {
  switch (start) {
    case StartPosition::kEarliest:
      return "earliest";
    case StartPosition::kLatest:
      return "latest";
  }
  return "unknown";
}

std::string_view ToString(Edges edges) {
  switch (edges) {
    case Edges::kOne:
      return "one";
    case Edges::kMany:
      return "many";
  }
  return "unknown";
}

std::string_view ToString(SourceGapPolicy policy) {
  switch (policy) {
    case SourceGapPolicy::kStop:
      return "stop";
    case SourceGapPolicy::kSkip:
      return "skip";
  }
  return "unknown";
}

std::string_view ToString(Provenance provenance) {
  switch (provenance) {
    case Provenance::kAuto:
      return "auto";
    case Provenance::kOn:
      return "on";
    case Provenance::kOff:
      return "off";
  }
  return "unknown";
}

Properties ClusterConfig::ClientProperties(ClientRole role) const {
  Properties merged = properties;
  merged["bootstrap.servers"] = bootstrap;
  const Properties* overrides = nullptr;
  switch (role) {
    case ClientRole::kConsumer:
      overrides = &consumer;
      break;
    case ClientRole::kProducer:
      overrides = &producer;
      break;
    case ClientRole::kAdmin:
      overrides = &admin;
      break;
  }
  LH_CHECK(overrides != nullptr);
  for (const auto& [key, value] : *overrides) merged[key] = value;
  return merged;
}

namespace {

// Throws std::regex_error on a bad pattern; callers turn that into a Status.
std::regex CompilePattern(const std::string& pattern) {
  return std::regex(pattern, std::regex::ECMAScript);
}

bool AnyFullMatch(const std::vector<std::regex>& regexes, std::string_view name) {
  for (const std::regex& re : regexes) {
    if (std::regex_match(name.begin(), name.end(), re)) return true;
  }
  return false;
}

}  // namespace

absl::Status TopicFilter::CheckPattern(const std::string& pattern) {
  try {
    CompilePattern(pattern);
  } catch (const std::regex_error& e) {
    return absl::InvalidArgumentError(e.what());
  }
  return absl::OkStatus();
}

struct TopicFilter::Compiled {
  std::vector<std::regex> include;
  std::vector<std::regex> exclude;
};

absl::StatusOr<TopicFilter> TopicFilter::Create(std::vector<std::string> include,
                                                std::vector<std::string> exclude) {
  auto compiled = std::make_shared<Compiled>();
  auto compile = [](const std::vector<std::string>& patterns, absl::string_view list,
                    std::vector<std::regex>* out) -> absl::Status {
    for (size_t i = 0; i < patterns.size(); ++i) {
      try {
        out->push_back(CompilePattern(patterns[i]));
      } catch (const std::regex_error& e) {
        return absl::InvalidArgumentError(
            absl::StrCat(list, "[", i, "]: invalid regular expression: ", e.what()));
      }
    }
    return absl::OkStatus();
  };
  if (absl::Status s = compile(include, "include", &compiled->include); !s.ok()) return s;
  if (absl::Status s = compile(exclude, "exclude", &compiled->exclude); !s.ok()) return s;
  TopicFilter filter;
  filter.compiled_ = std::move(compiled);
  filter.include_ = std::move(include);
  filter.exclude_ = std::move(exclude);
  return filter;
}

bool TopicFilter::Matches(std::string_view name) const {
  // libstdc++ can throw error_complexity/error_stack while matching a
  // pathological pattern; Kafka names are at most 249 characters, so this
  // does not happen in practice, and a name we cannot decide is not copied.
  if (compiled_ == nullptr) return false;
  try {
    return AnyFullMatch(compiled_->include, name) && !AnyFullMatch(compiled_->exclude, name);
  } catch (const std::regex_error&) {
    return false;
  }
}

std::string PipelineConfig::TargetTopic(std::string_view source_topic, std::string_view edge) const {
  static constexpr absl::string_view kSource = "{source}";
  static constexpr absl::string_view kTopic = "{topic}";
  static constexpr absl::string_view kEdge = "{edge}";
  std::string out;
  absl::string_view rest = rename;
  while (!rest.empty()) {
    if (absl::StartsWith(rest, kSource)) {
      out.append(source);
      rest.remove_prefix(kSource.size());
    } else if (absl::StartsWith(rest, kTopic)) {
      out.append(source_topic.data(), source_topic.size());
      rest.remove_prefix(kTopic.size());
    } else if (absl::StartsWith(rest, kEdge)) {
      out.append(edge.data(), edge.size());
      rest.remove_prefix(kEdge.size());
    } else {
      out.push_back(rest.front());
      rest.remove_prefix(1);
    }
  }
  return out;
}

const std::vector<std::string>& DefaultExcludedTopicConfigs() {
  static const std::vector<std::string> keys = {
      "follower\\.replication\\.throttled\\.replicas",
      "leader\\.replication\\.throttled\\.replicas",
      "min\\.insync\\.replicas",
      "unclean\\.leader\\.election\\.enable",
      "message\\.timestamp\\.type",
      "message\\.timestamp\\.difference\\.max\\.ms",
      "message\\.timestamp\\.(before|after)\\.max\\.ms",
      "remote\\.storage\\.enable",
      "local\\.retention\\.(ms|bytes)",
      "confluent\\..*",
  };
  return keys;
}

TopicFilter DefaultTopicConfigFilter() {
  static const TopicFilter filter = [] {
    absl::StatusOr<TopicFilter> f = TopicFilter::Create({".*"}, DefaultExcludedTopicConfigs());
    LH_CHECK(f.ok());
    return *std::move(f);
  }();
  return filter;
}

const ClusterConfig& Config::Cluster(std::string_view name) const {
  auto it = clusters.find(std::string(name));
  LH_CHECK(it != clusters.end());
  return it->second;
}

EnvLookup SystemEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

bool LooksSecret(std::string_view property_name) {
  static constexpr std::array<absl::string_view, 13> kSecretFragments = {
      "password",      "passwd",          "secret",      "token",         "credential",
      "sasl.jaas",     "oauthbearer",     "ssl.key.pem", "ssl.keystore",  "private",
      "api.key",       "apikey",          "ssl_key",
  };
  const std::string lower =
      absl::AsciiStrToLower(absl::string_view(property_name.data(), property_name.size()));
  for (absl::string_view fragment : kSecretFragments) {
    if (absl::StrContains(lower, fragment)) return true;
  }
  return false;
}

Properties RedactedProperties(const Properties& properties,
                              const std::set<std::string>& secret_keys) {
  Properties out = properties;
  for (auto& [key, value] : out) {
    if (LooksSecret(key) || secret_keys.count(key) > 0) value = std::string(kRedacted);
  }
  return out;
}

}  // namespace longhaul::config
