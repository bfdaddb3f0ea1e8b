#include "yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "secrets.h"

namespace longhaul::config::internal {
namespace {

// Double-quoted, with quotes and control characters escaped so that an
// error line stays one line.
std::string Quote(absl::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') {
      out.append("\\\"");
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\t') {
      out.append("\\t");
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out.append(absl::StrFormat("\\x%02x", static_cast<unsigned char>(c)));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

// What a node is, for "got ..." when it has the wrong shape. Scalars are
// shown as written (before expansion), which never reveals a secret.
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return Quote(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

bool IsEmpty(const YAML::Node& node) { return !node.IsDefined() || node.IsNull(); }

std::string ChildPath(absl::string_view parent, absl::string_view key) {
  return parent.empty() ? std::string(key) : absl::StrCat(parent, ".", key);
}

}  // namespace

Location ToLocation(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return Location{};
  return Location{mark.line + 1, mark.column + 1};
}

std::string Text::Shown() const {
  return expanded ? std::string("a value from ${...} (not shown)") : Quote(value);
}

const Field* Section::Get(absl::string_view key) const {
  auto it = fields_.find(key);
  return it == fields_.end() ? nullptr : &it->second;
}

int EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diagonal = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

Reader::Reader(absl::string_view file, EnvLookup env) : file_(file), env_(std::move(env)) {}

Field Reader::Root(const YAML::Node& node) const {
  Field root;
  root.node = node;
  root.key_location = Location{1, 1};
  root.location = IsEmpty(node) ? root.key_location : ToLocation(node.Mark());
  return root;
}

void Reader::Error(Location where, absl::string_view path, absl::string_view message) {
  errors_.push_back(
      Diagnostic{where, path.empty() ? std::string(message) : absl::StrCat(path, ": ", message)});
}

void Reader::Invalid(const Field& field, const Text& text, absl::string_view expected,
                     absl::string_view reason) {
  std::string message = absl::StrCat("expected ", expected, ", got ", text.Shown());
  if (!reason.empty() && !text.expanded) absl::StrAppend(&message, " (", reason, ")");
  Error(field, message);
}

void Reader::Warning(const Field& field, absl::string_view message) {
  warnings_.push_back(Diagnostic{field.location, field.path.empty() ? std::string(message)
                                                                    : absl::StrCat(field.path, ": ", message)});
}

std::vector<std::string> Reader::Warnings() const { return Format(warnings_); }

absl::Status Reader::Finish() const {
  if (errors_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(Format(errors_), "\n"));
}

std::vector<std::string> Reader::Format(const std::vector<Diagnostic>& diagnostics) const {
  std::vector<const Diagnostic*> sorted;
  for (const Diagnostic& d : diagnostics) sorted.push_back(&d);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic* a, const Diagnostic* b) {
    return std::pair(a->where.line, a->where.column) < std::pair(b->where.line, b->where.column);
  });
  std::vector<std::string> lines;
  for (const Diagnostic* d : sorted) {
    lines.push_back(d->where.line > 0
                        ? absl::StrCat(file_, ":", d->where.line, ":", d->where.column, ": ", d->text)
                        : absl::StrCat(file_, ": ", d->text));
  }
  return lines;
}

std::vector<Field> Reader::Entries(const Field& map, absl::string_view expected) {
  std::vector<Field> entries;
  if (IsEmpty(map.node)) return entries;
  if (!map.node.IsMap()) {
    Error(map, absl::StrCat("expected ", expected, ", got ", Describe(map.node)));
    return entries;
  }
  std::map<std::string, Location, std::less<>> seen;
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    const YAML::Node& key = it->first;
    const Location key_location = ToLocation(key.Mark());
    if (!key.IsScalar()) {
      Error(key_location, map.path,
            absl::StrCat("expected a name as key, got ", Describe(key)));
      continue;
    }
    Field entry;
    entry.key = key.Scalar();
    entry.path = ChildPath(map.path, entry.key);
    entry.node = it->second;
    entry.key_location = key_location;
    entry.location = IsEmpty(entry.node) ? key_location : ToLocation(entry.node.Mark());
    if (entry.location.line == 0) entry.location = key_location;
    if (auto [first, inserted] = seen.emplace(entry.key, key_location); !inserted) {
      Error(key_location, entry.path,
            absl::StrCat("duplicate key (first set at line ", first->second.line, ")"));
      continue;
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

Section Reader::Keys(const Field& map, std::initializer_list<absl::string_view> known) {
  Section section;
  for (Field& entry : Entries(map, "a map")) {
    if (std::find(known.begin(), known.end(), entry.key) == known.end()) {
      absl::string_view best;
      int best_distance = 3;  // suggest only within edit distance 2
      for (absl::string_view candidate : known) {
        const int d = EditDistance(entry.key, candidate);
        if (d < best_distance) {
          best = candidate;
          best_distance = d;
        }
      }
      Error(entry.key_location, entry.path,
            best.empty() ? absl::StrCat("unknown key (expected one of: ", absl::StrJoin(known, ", "), ")")
                         : absl::StrCat("unknown key (did you mean \"", best, "\"?)"));
      continue;
    }
    std::string key = entry.key;
    section.fields_.emplace(std::move(key), std::move(entry));
  }
  return section;
}

std::optional<Field> Reader::Require(const Section& section, const Field& parent,
                                     absl::string_view key, absl::string_view expected) {
  if (const Field* field = section.Get(key)) return *field;
  Error(parent.key_location, ChildPath(parent.path, key),
        absl::StrCat("required key is missing (expected ", expected, ")"));
  return std::nullopt;
}

std::optional<std::vector<Field>> Reader::List(const Field& list, absl::string_view expected) {
  std::vector<Field> entries;
  if (IsEmpty(list.node)) return entries;
  if (!list.node.IsSequence()) {
    Error(list, absl::StrCat("expected ", expected, ", got ", Describe(list.node)));
    return std::nullopt;
  }
  size_t index = 0;
  for (auto it = list.node.begin(); it != list.node.end(); ++it, ++index) {
    Field entry;
    entry.path = absl::StrCat(list.path, "[", index, "]");
    entry.node = static_cast<const YAML::Node&>(*it);
    entry.key_location = list.location;
    entry.location = IsEmpty(entry.node) ? list.location : ToLocation(entry.node.Mark());
    if (entry.location.line == 0) entry.location = list.location;
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::optional<Text> Reader::Scalar(const Field& field, absl::string_view expected) {
  if (!field.node.IsScalar()) {
    Error(field, absl::StrCat("expected ", expected, ", got ", Describe(field.node)));
    return std::nullopt;
  }
  absl::StatusOr<Expanded> expanded = ExpandSecrets(field.node.Scalar(), env_);
  if (!expanded.ok()) {
    Error(field, expanded.status().message());
    return std::nullopt;
  }
  return Text{std::move(expanded->value), expanded->expanded};
}

std::optional<int64_t> Reader::Integer(const Field& field, int64_t min, int64_t max) {
  const std::string expected =
      min >= 1 ? absl::StrCat("a positive integer between ", min, " and ", max)
               : absl::StrCat("an integer between ", min, " and ", max);
  std::optional<Text> text = Scalar(field, expected);
  if (!text) return std::nullopt;
  int64_t value = 0;
  const char* begin = text->value.data();
  const char* end = begin + text->value.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || value < min || value > max) {
    Invalid(field, *text, expected);
    return std::nullopt;
  }
  return value;
}

std::optional<bool> Reader::Bool(const Field& field) {
  static constexpr absl::string_view kExpected = "true or false";
  std::optional<Text> text = Scalar(field, kExpected);
  if (!text) return std::nullopt;
  // YAML 1.2 spellings, plus the YAML 1.1 ones yaml-cpp itself accepts.
  const std::string lower = absl::AsciiStrToLower(text->value);
  if (lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "no" || lower == "off") return false;
  Invalid(field, *text, kExpected);
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> Reader::Duration(const Field& field,
                                                          std::chrono::milliseconds min,
                                                          std::chrono::milliseconds max) {
  const std::string expected =
      absl::StrCat("a duration between ", FormatDuration(min), " and ", FormatDuration(max));
  std::optional<Text> text = Scalar(field, expected);
  if (!text) return std::nullopt;
  absl::StatusOr<std::chrono::milliseconds> value = ParseDuration(text->value);
  if (!value.ok()) {
    Invalid(field, *text, expected, value.status().message());
    return std::nullopt;
  }
  if (*value < min || *value > max) {
    Invalid(field, *text, expected);
    return std::nullopt;
  }
  return *value;
}

std::optional<int64_t> Reader::ByteSize(const Field& field, int64_t min, int64_t max) {
  const std::string expected =
      absl::StrCat("a size between ", FormatByteSize(min), " and ", FormatByteSize(max));
  std::optional<Text> text = Scalar(field, expected);
  if (!text) return std::nullopt;
  absl::StatusOr<int64_t> value = ParseByteSize(text->value);
  if (!value.ok()) {
    Invalid(field, *text, expected, value.status().message());
    return std::nullopt;
  }
  if (*value < min || *value > max) {
    Invalid(field, *text, expected);
    return std::nullopt;
  }
  return *value;
}

std::optional<int64_t> Reader::BitRate(const Field& field, int64_t min, int64_t max, bool allow_zero) {
  const std::string expected = absl::StrCat(allow_zero ? "0 (none) or " : "", "a rate between ", FormatBitRate(min),
                                            " and ", FormatBitRate(max), ", e.g. 2Mbit");
  std::optional<Text> text = Scalar(field, expected);
  if (!text) return std::nullopt;
  if (allow_zero && text->value == "0") return 0;
  absl::StatusOr<int64_t> value = ParseBitRate(text->value);
  if (!value.ok()) {
    Invalid(field, *text, expected, value.status().message());
    return std::nullopt;
  }
  if (*value < min || *value > max) {
    Invalid(field, *text, expected);
    return std::nullopt;
  }
  return *value;
}

}  // namespace longhaul::config::internal
