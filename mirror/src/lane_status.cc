// `longhaul status`: reads a pipeline's lane group, checkpoints and source
// bounds. Read-only: the lane group is only described (never joined), the
// checkpoints are read with a manually assigned consumer.
#include "longhaul/mirror/lane_status.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "kafka_admin.h"
#include "kafka_client.h"
#include "kafka_status.h"
#include "longhaul/offsets/lane.h"
#include "offset_sync_reader.h"
#include "pipeline_state.h"
#include "topic_discovery.h"

namespace longhaul::mirror {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kStatusTimeout{15'000};

absl::StatusOr<LaneGroupState> DescribeLaneGroup(const config::ClusterConfig& target, const std::string& group,
                                                 const std::string& checkpoint_topic) {
  const std::string what = absl::StrCat("target cluster '", target.name, "': describing lane group '", group, "'");
  auto conf = MakeConf({{"client.id", "longhaul-status"}}, target.ClientProperties(config::ClientRole::kAdmin), what);
  if (!conf.ok()) return conf.status();
  auto rk = MakeClient(RD_KAFKA_PRODUCER, std::move(*conf), what);
  if (!rk.ok()) return rk.status();
  KafkaQueue q(rd_kafka_queue_new(rk->get()));
  auto opts = MakeAdminOptions(rk->get(), RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, kStatusTimeout);
  const char* groups[] = {group.c_str()};
  rd_kafka_DescribeConsumerGroups(rk->get(), groups, 1, opts.get(), q.get());
  auto ev = AwaitAdminResult(q.get(), kStatusTimeout, what);
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_ConsumerGroupDescription_t** descs =
      rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    const rd_kafka_ConsumerGroupDescription_t* d = descs[i];
    if (group != rd_kafka_ConsumerGroupDescription_group_id(d)) continue;
    if (const rd_kafka_error_t* error = rd_kafka_ConsumerGroupDescription_error(d)) {
      // An unknown group: nobody runs the pipeline (some brokers answer
      // "Dead", some GROUP_ID_NOT_FOUND).
      if (rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) return LaneGroupState{"Dead", {}};
      return KafkaStatus(rd_kafka_error_code(error), absl::StrCat(what, ": ", rd_kafka_error_string(error)));
    }
    LaneGroupState out;
    out.state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(d));
    size_t members = rd_kafka_ConsumerGroupDescription_member_count(d);
    for (size_t m = 0; m < members; ++m) {
      const rd_kafka_MemberDescription_t* md = rd_kafka_ConsumerGroupDescription_member(d, m);
      LaneGroupMember member{rd_kafka_MemberDescription_consumer_id(md), rd_kafka_MemberDescription_client_id(md),
                             rd_kafka_MemberDescription_host(md), {}};
      const rd_kafka_topic_partition_list_t* assigned =
          rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(md));
      for (int p = 0; assigned != nullptr && p < assigned->cnt; ++p) {
        if (checkpoint_topic == assigned->elems[p].topic) member.lanes.push_back(assigned->elems[p].partition);
      }
      std::sort(member.lanes.begin(), member.lanes.end());
      out.members.push_back(std::move(member));
    }
    return out;
  }
  return absl::InternalError(absl::StrCat(what, ": the answer does not describe the group"));
}

// First retained offset and read_committed end of each partition; a
// partition that did not answer gets -1 (and the caller a warning).
absl::StatusOr<std::map<TopicPartition, std::pair<int64_t, int64_t>>> SourceBounds(
    const config::ClusterConfig& source, const std::vector<TopicPartition>& partitions) {
  std::map<TopicPartition, std::pair<int64_t, int64_t>> out;
  for (const auto& tp : partitions) out[tp] = {-1, -1};
  if (partitions.empty()) return out;
  const std::string what = absl::StrCat("source cluster '", source.name, "': reading partition bounds");
  auto conf = MakeConf({{"client.id", "longhaul-status"}, {"group.id", "__longhaul.status"},
                        {"isolation.level", "read_committed"}, {"enable.auto.commit", "false"}},
                       source.ClientProperties(config::ClientRole::kConsumer), what);
  if (!conf.ok()) return conf.status();
  auto rk = MakeClient(RD_KAFKA_CONSUMER, std::move(*conf), what);
  if (!rk.ok()) return rk.status();
  bool any = false;
  rd_kafka_resp_err_t last_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int64_t which : {RD_KAFKA_OFFSET_BEGINNING, RD_KAFKA_OFFSET_END}) {
    PartitionList list = MakePartitionList(static_cast<int>(partitions.size()) + 1);
    for (const auto& tp : partitions) {
      rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = which;
    }
    last_error = rd_kafka_offsets_for_times(rk->get(), list.get(), static_cast<int>(kStatusTimeout.count()));
    for (int i = 0; i < list->cnt; ++i) {
      const auto& e = list->elems[i];
      if (e.err != RD_KAFKA_RESP_ERR_NO_ERROR || e.offset < 0) continue;
      auto& b = out[TopicPartition{e.topic, e.partition}];
      (which == RD_KAFKA_OFFSET_BEGINNING ? b.first : b.second) = e.offset;
      any = true;
    }
  }
  rd_kafka_consumer_close(rk->get());
  if (!any && last_error != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaStatus(last_error, what);
  return out;
}

}  // namespace

PipelineLaneReport BuildLaneReport(const config::PipelineConfig& pipeline, const LaneStatusInputs& inputs) {
  PipelineNames names(pipeline);
  PipelineLaneReport r;
  r.pipeline = pipeline.name;
  r.source_cluster = pipeline.source;
  r.target_cluster = pipeline.target;
  r.via = pipeline.via;
  r.lane_group = names.lane_group;
  r.checkpoint_topic = names.checkpoint_topic;
  r.group_state = inputs.group.state;
  r.lanes = pipeline.lanes;
  r.members = static_cast<int>(inputs.group.members.size());
  r.lane_status.resize(pipeline.lanes);
  for (int lane = 0; lane < pipeline.lanes; ++lane) r.lane_status[lane].lane = lane;
  for (const auto& member : inputs.group.members) {
    for (int lane : member.lanes) {
      if (lane < 0 || lane >= pipeline.lanes) {
        r.warnings.push_back(absl::StrCat("member ", member.member_id, " holds partition ", lane, " of ",
                                          names.checkpoint_topic, ", which is not a lane (", pipeline.lanes,
                                          " lanes configured)"));
        continue;
      }
      LaneStatus& ls = r.lane_status[lane];
      if (ls.owned) {
        r.warnings.push_back(absl::StrCat("lane ", lane, " is assigned to two members: ", ls.owner.member_id, " and ",
                                          member.member_id));
        continue;
      }
      ls.owned = true;
      ls.owner = LaneGroupMember{member.member_id, member.client_id, member.host, {}};
    }
  }
  // Every partition on the source now, and every checkpointed one.
  std::map<TopicPartition, PartitionLaneStatus> partitions;
  for (const auto& [tp, bounds] : inputs.source_bounds) {
    PartitionLaneStatus& p = partitions[tp];
    p.source = tp;
    p.source_end_offset = bounds.second;
    if (bounds.first >= 0 && bounds.second >= 0) p.lag_records = bounds.second - bounds.first;
  }
  for (const auto& [tp, cp] : inputs.checkpoints) {
    PartitionLaneStatus& p = partitions[tp];
    p.source = tp;
    p.checkpointed = true;
    p.next_source_offset = cp.next_source_offset;
    p.commit_time_ms = cp.commit_time_ms;
    // An end older than the checkpoint (read before a commit landed) is
    // nothing behind, not a negative lag.
    p.lag_records = p.source_end_offset < 0 ? -1 : std::max<int64_t>(0, p.source_end_offset - cp.next_source_offset);
  }
  for (auto& [tp, p] : partitions) {
    p.lane = static_cast<int>(offsets::LaneOf(tp.topic, tp.partition, pipeline.lanes));
    LaneStatus& ls = r.lane_status[p.lane];
    ls.last_checkpoint_ms = std::max(ls.last_checkpoint_ms, p.commit_time_ms);
    if (p.lag_records > 0) ls.lag_records += p.lag_records;
    ls.partitions.push_back(std::move(p));
  }
  return r;
}

absl::StatusOr<PipelineLaneReport> ReadPipelineLaneStatus(const config::Config& config, const std::string& name) {
  auto it = config.pipelines.find(name);
  if (it == config.pipelines.end()) {
    return absl::NotFoundError(absl::StrCat("no pipeline named '", name, "' in ", config.file));
  }
  const config::PipelineConfig& pipeline = it->second;
  const config::ClusterConfig& source = config.clusters.at(pipeline.source);
  const config::ClusterConfig& target = config.clusters.at(pipeline.target);
  PipelineNames names(pipeline);
  LaneStatusInputs inputs;
  std::vector<std::string> warnings;

  auto group = DescribeLaneGroup(target, names.lane_group, names.checkpoint_topic);
  if (!group.ok()) return group.status();
  inputs.group = std::move(*group);

  auto target_admin = KafkaAdmin::Create(target.ClientProperties(config::ClientRole::kAdmin),
                                         absl::StrCat("target cluster '", target.name, "'"));
  if (!target_admin.ok()) return target_admin.status();
  auto target_topics = (*target_admin)->Topics(kStatusTimeout);
  if (!target_topics.ok()) return target_topics.status();
  auto cp_topic = target_topics->find(names.checkpoint_topic);
  if (cp_topic == target_topics->end()) {
    warnings.push_back(absl::StrCat("no checkpoint topic '", names.checkpoint_topic, "' on target cluster '",
                                    target.name, "': the pipeline has not run yet"));
  } else {
    if (cp_topic->second != pipeline.lanes) {
      warnings.push_back(absl::StrCat("checkpoint topic '", names.checkpoint_topic, "' has ", cp_topic->second,
                                      " partitions but the config says lanes: ", pipeline.lanes,
                                      "; workers refuse to run this pipeline"));
    }
    std::atomic<bool> stop{false};
    auto reader = CreateRdKafkaOffsetSyncReader(pipeline, source, target, &stop);
    if (!reader.ok()) return reader.status();
    for (int lane = 0; lane < std::min(cp_topic->second, pipeline.lanes); ++lane) {
      auto read = (*reader)->ReadCheckpoints(lane, 0, [&](const TopicPartition& tp, const offsets::Checkpoint* cp) {
        if (cp == nullptr) {
          inputs.checkpoints.erase(tp);
        } else {
          inputs.checkpoints[tp] = *cp;
        }
      });
      if (!read.ok()) return read.status();
    }
  }

  // The source: partitions the pipeline mirrors now and their bounds. With
  // the source out of reach the report still shows owners and checkpoints.
  std::vector<TopicPartition> wanted;
  auto source_admin = KafkaAdmin::Create(source.ClientProperties(config::ClientRole::kAdmin),
                                         absl::StrCat("source cluster '", source.name, "'"));
  if (!source_admin.ok()) return source_admin.status();
  auto source_topics = (*source_admin)->Topics(kStatusTimeout);
  if (!source_topics.ok()) {
    warnings.push_back(absl::StrCat("lag unknown: ", source_topics.status().message()));
  } else {
    for (const auto& [topic, count] : SelectTopics(pipeline, *source_topics)) {
      for (int p = 0; p < count; ++p) wanted.push_back(TopicPartition{topic, p});
    }
  }
  for (const auto& [tp, cp] : inputs.checkpoints) {
    if (std::find(wanted.begin(), wanted.end(), tp) == wanted.end() && source_topics.ok() &&
        source_topics->count(tp.topic) != 0) {
      wanted.push_back(tp);
    }
  }
  auto bounds = SourceBounds(source, wanted);
  if (!bounds.ok()) {
    warnings.push_back(absl::StrCat("lag unknown: ", bounds.status().message()));
  } else {
    inputs.source_bounds = std::move(*bounds);
    int unknown = 0;
    for (const auto& [tp, b] : inputs.source_bounds) unknown += b.second < 0;
    if (unknown > 0) warnings.push_back(absl::StrCat("end offset unknown for ", unknown, " source partitions"));
  }
  PipelineLaneReport report = BuildLaneReport(pipeline, inputs);
  report.warnings.insert(report.warnings.begin(), warnings.begin(), warnings.end());
  return report;
}

}  // namespace longhaul::mirror
