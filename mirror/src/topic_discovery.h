// Which source topics a pipeline mirrors, and which of their topic configs
// travel to the target: the part of topic discovery that the direct runner,
// the hub and the edge share. Pure functions; private to mirror/.
#pragma once

#include <map>
#include <string>

#include "kafka_client.h"
#include "longhaul/config/config.h"

namespace longhaul::mirror {

// Whether `pipeline` mirrors `topic`: matched by its include/exclude
// patterns, and never an internal "__" topic (checkpoints, offset syncs,
// Kafka's own). The hub applies it to every batch an edge sends.
bool MirrorsTopic(const config::PipelineConfig& pipeline, const std::string& topic);
bool IsInternalTopic(const std::string& topic);

// The topics of `all` (name -> partition count) that `pipeline` mirrors
// (MirrorsTopic).
std::map<std::string, int> SelectTopics(const config::PipelineConfig& pipeline, const std::map<std::string, int>& all);

// The subset of a source topic's explicitly set configs worth carrying to
// the target. Left out on purpose: message.timestamp.type (LogAppendTime on
// the target would overwrite the source timestamps we carry), replication
// and ISR settings (the target cluster's own business), and
// leader-election/placement settings.
Properties SyncedTopicConfigs(const Properties& explicit_configs);

}  // namespace longhaul::mirror
