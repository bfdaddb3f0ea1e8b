// The JSON documents of offset translation, shared by
// `longhaul offsets translate|failover --json` and the admin API's
// /api/v1/offsets/translate, so that a script can read either.
#pragma once

#include <string>
#include <string_view>

#include "longhaul/mirror/offset_translation.h"

namespace longhaul::gateway {

// `s` as a JSON string literal, quotes included.
std::string JsonString(std::string_view s);

// The fields of one partition's translation, without braces:
// "source_topic":...,"partition":...,"source_offset":...,"target_topic":...,
// "target_offset":...,"status":...,"replicated_source_offset":...
void AppendTranslationJson(std::string* out, const mirror::PartitionTranslation& t);

// {"pipeline":P,"group":G,"partitions":[{...,"detail":...},...]}
std::string GroupTranslationJson(std::string_view pipeline, std::string_view group,
                                 const mirror::GroupTranslation& translation);

}  // namespace longhaul::gateway
