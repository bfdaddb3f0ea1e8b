// Private to longhaul_mirror: the edge link's traffic classes from the
// config (`links.<l>.edge.priorities`), as the transport wants them: the
// classes in order with their weights, and which class a topic is in.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "longhaul/config/config.h"
#include "longhaul/transport/link_options.h"

namespace longhaul::mirror {

struct LinkClasses {
  std::vector<transport::PriorityClass> classes;  // empty: one class
  // Thread-safe; remembers each topic's answer (the regexes run once per
  // topic, not per batch).
  std::function<size_t(std::string_view topic)> class_of;
};

// A topic goes to the first class whose topics match it, else to the class
// that lists no topics, else to an implicit last class "default" (weight
// 1). InvalidArgument only for a pattern that does not compile (the config
// loader has checked them already).
absl::StatusOr<LinkClasses> LinkClassesFor(const std::vector<config::LinkPriorityClass>& priorities);

}  // namespace longhaul::mirror
