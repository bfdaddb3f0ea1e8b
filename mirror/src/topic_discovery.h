// Which source topics a pipeline mirrors, and which of their topic configs
// travel to the target: the part of topic discovery that the direct runner,
// the hub and the edge share. Pure functions; private to mirror/.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "kafka_client.h"
#include "longhaul/config/config.h"

namespace longhaul::mirror {

// Whether `pipeline` mirrors `topic`: matched by its include/exclude
// patterns, and never an internal "__" topic (checkpoints, offset syncs,
// Kafka's own). The hub applies it to every batch an edge sends.
bool MirrorsTopic(const config::PipelineConfig& pipeline, const std::string& topic);
bool IsInternalTopic(const std::string& topic);
// Kafka's rule for topic names: 1..249 of [A-Za-z0-9._-], not "." or "..".
// A hub checks names that arrive from edges with it before it creates or
// keys anything by them.
bool IsLegalTopicName(const std::string& topic);

// The topics of `all` (name -> partition count) that `pipeline` mirrors
// (MirrorsTopic).
std::map<std::string, int> SelectTopics(const config::PipelineConfig& pipeline, const std::map<std::string, int>& all);

// The subset of a source topic's explicitly set configs that travels to the
// target: the keys `keys` selects (pipelines.<p>.topic_configs; by default
// all but the broker-specific ones, config::DefaultExcludedTopicConfigs).
Properties SyncedTopicConfigs(const Properties& explicit_configs, const config::TopicFilter& keys);

// What to set on an existing target topic so that it follows the source:
// the target's explicit configs with every key `keys` selects taken from
// `source_synced` (removed when the source no longer sets it), and the
// target's other overrides kept, since AlterConfigs replaces the whole set.
// std::nullopt when the target already agrees.
std::optional<Properties> ReconciledTopicConfigs(const Properties& source_synced, const Properties& target_explicit,
                                                 const config::TopicFilter& keys);

}  // namespace longhaul::mirror
