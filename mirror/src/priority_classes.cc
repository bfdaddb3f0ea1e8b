#include "priority_classes.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "edge_runner.h"

namespace longhaul::mirror {
namespace {

// Topic -> class, computed once per topic. A source has a bounded number of
// topics (the pipeline's max_topics), so the memo stays small.
class TopicClassifier {
 public:
  TopicClassifier(std::vector<config::TopicFilter> filters, size_t catch_all)
      : filters_(std::move(filters)), catch_all_(catch_all) {}

  size_t ClassOf(std::string_view topic) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = memo_.find(absl::string_view(topic.data(), topic.size()));
    if (it != memo_.end()) return it->second;
    size_t cls = catch_all_;
    for (size_t i = 0; i < filters_.size(); ++i) {
      if (filters_[i].Matches(topic)) {
        cls = i;
        break;
      }
    }
    memo_.emplace(std::string(topic), cls);
    return cls;
  }

 private:
  const std::vector<config::TopicFilter> filters_;  // per class; a class without topics selects nothing
  const size_t catch_all_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, size_t> memo_;
};

}  // namespace

absl::StatusOr<LinkClasses> LinkClassesFor(const std::vector<config::LinkPriorityClass>& priorities) {
  LinkClasses out;
  if (priorities.empty()) return out;
  std::vector<config::TopicFilter> filters;
  size_t catch_all = priorities.size();
  for (size_t i = 0; i < priorities.size(); ++i) {
    const config::LinkPriorityClass& p = priorities[i];
    out.classes.push_back(transport::PriorityClass{p.name, p.weight});
    if (p.topics.empty()) {
      catch_all = i;
      filters.emplace_back();
      continue;
    }
    absl::StatusOr<config::TopicFilter> filter = config::TopicFilter::Create(p.topics);
    if (!filter.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("priority class '", p.name, "': ", filter.status().message()));
    }
    filters.push_back(std::move(*filter));
  }
  if (catch_all == priorities.size()) out.classes.push_back(transport::PriorityClass{"default", 1});
  auto classifier = std::make_shared<TopicClassifier>(std::move(filters), catch_all);
  out.class_of = [classifier](std::string_view topic) { return classifier->ClassOf(topic); };
  return out;
}

EdgeBatching EdgeBatchingFor(const transport::EdgeLinkOptions& options) {
  EdgeBatching b;
  if (options.classes.empty() && options.rate_limit_bits_per_second == 0) return b;
  constexpr uint64_t kThinLinkBatchBytes = uint64_t{64} << 10;
  constexpr uint64_t kSmallestBatchBytes = uint64_t{16} << 10;
  b.max_bytes = kThinLinkBatchBytes;
  if (options.rate_limit_bits_per_second > 0) {
    const uint64_t tenth_of_a_second = options.rate_limit_bits_per_second / 8 / 10;
    b.max_bytes = std::clamp(tenth_of_a_second, kSmallestBatchBytes, kThinLinkBatchBytes);
  }
  return b;
}

}  // namespace longhaul::mirror
