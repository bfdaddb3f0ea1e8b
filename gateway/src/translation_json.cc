#include "translation_json.h"

#include "absl/strings/str_cat.h"
#include "longhaul/base/logging.h"

namespace longhaul::gateway {

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  AppendJsonEscaped(&out, s);
  out += '"';
  return out;
}

void AppendTranslationJson(std::string* out, const mirror::PartitionTranslation& t) {
  absl::StrAppend(out, "\"source_topic\":", JsonString(t.source_topic), ",\"partition\":", t.partition,
                  ",\"source_offset\":", t.source_offset, ",\"target_topic\":", JsonString(t.target_topic),
                  ",\"target_offset\":", t.target_offset, ",\"status\":",
                  JsonString(mirror::TranslationStatusName(t.status)),
                  ",\"replicated_source_offset\":", t.replicated_source_offset);
}

std::string GroupTranslationJson(std::string_view pipeline, std::string_view group,
                                 const mirror::GroupTranslation& translation) {
  std::string out =
      absl::StrCat("{\"pipeline\":", JsonString(pipeline), ",\"group\":", JsonString(group), ",\"partitions\":[");
  for (size_t i = 0; i < translation.partitions.size(); ++i) {
    const auto& t = translation.partitions[i];
    out += i ? ",{" : "{";
    AppendTranslationJson(&out, t);
    absl::StrAppend(&out, ",\"detail\":", JsonString(t.detail), "}");
  }
  out += "]}";
  return out;
}

}  // namespace longhaul::gateway
