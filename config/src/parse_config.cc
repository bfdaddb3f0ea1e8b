// The schema: walks the YAML tree into a Config, checking every key and
// value, and collecting every problem before giving up. The reference for
// the schema is config/examples/longhaul.yaml; keep the two in step.
#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "longhaul/base/host_port.h"
#include "longhaul/config/config.h"
#include "longhaul/config/pipeline_graph.h"
#include "secrets.h"
#include "yaml_reader.h"

namespace longhaul::config {
namespace {

using internal::Field;
using internal::Reader;
using internal::Section;
using internal::Text;
using std::chrono::milliseconds;

constexpr int64_t kKiB = int64_t{1} << 10;
constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kGiB = int64_t{1} << 30;
constexpr int64_t kTiB = int64_t{1} << 40;
constexpr milliseconds kDay = std::chrono::hours(24);

constexpr absl::string_view kRegexList =
    "a list of regular expressions, each matched against the whole name";

// Cluster names, pipeline names and topic names share Kafka's topic charset.
bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-'; }

bool IsValidName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

// Absent, empty, or `{}`: as opposed to a value of the wrong type.
bool IsEmptyMap(const YAML::Node& node) {
  return !node.IsDefined() || node.IsNull() || (node.IsMap() && node.size() == 0);
}


// host:port, [v6]:port. The reason never repeats the input.
absl::Status CheckHostPort(absl::string_view address, bool allow_port_zero) {
  return ParseHostPort(std::string_view(address.data(), address.size()), allow_port_zero).status();
}

absl::Status CheckBootstrap(absl::string_view list) {
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (absl::Status s = CheckHostPort(item, /*allow_port_zero=*/false); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// A rename template: {source}, {topic}, {edge}, and topic-name characters.
// *has_edge tells whether {edge} is used.
absl::Status CheckRename(absl::string_view rename, bool* has_edge) {
  bool has_topic = false;
  *has_edge = false;
  for (size_t i = 0; i < rename.size(); ++i) {
    const char c = rename[i];
    if (c == '{') {
      const size_t close = rename.find('}', i);
      if (close == absl::string_view::npos) return absl::InvalidArgumentError("unclosed '{'");
      const absl::string_view placeholder = rename.substr(i, close - i + 1);
      if (placeholder == "{topic}") {
        has_topic = true;
      } else if (placeholder == "{edge}") {
        *has_edge = true;
      } else if (placeholder != "{source}") {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown placeholder ", placeholder, "; use {source}, {topic} or {edge}"));
      }
      i = close;
    } else if (c == '}') {
      return absl::InvalidArgumentError("'}' without '{'");
    } else if (!IsNameChar(c)) {
      return absl::InvalidArgumentError(
          "topic names allow only letters, digits, '.', '_' and '-'");
    }
  }
  if (!has_topic) {
    return absl::InvalidArgumentError("without {topic} every topic would map to the same one");
  }
  return absl::OkStatus();
}

class ConfigParser {
 public:
  ConfigParser(Reader& reader, Config& config) : r_(reader), config_(config) {}

  void Parse(const std::vector<YAML::Node>& documents) {
    const Field root = r_.Root(documents.empty() ? YAML::Node() : documents.front());
    if (documents.size() > 1) {
      r_.Error(internal::ToLocation(documents[1].Mark()), "",
               absl::StrCat("found ", documents.size(),
                            " YAML documents (expected one; remove the extra '---')"));
    }
    const Section top = r_.Keys(root, {"clusters", "pipelines", "links", "worker", "admin"});
    // Links before pipelines: pipelines refer to them.
    if (const Field* f = top.Get("links")) Links(*f);
    // Clusters first, wherever they are in the file: pipelines refer to them.
    if (auto f = r_.Require(top, root, "clusters", "a map of cluster name to cluster")) {
      Clusters(*f);
    }
    if (auto f = r_.Require(top, root, "pipelines", "a map of pipeline name to pipeline")) {
      Pipelines(*f);
    }
    if (const Field* f = top.Get("worker")) Worker(*f);
    if (const Field* f = top.Get("admin")) Admin(*f);
  }

 private:
  void CheckName(const Field& entry, absl::string_view what) {
    if (!IsValidName(entry.key)) {
      r_.Error(entry.key_location, entry.path,
               absl::StrCat("invalid ", what, " name (expected letters, digits, '.', '_' and '-')"));
    }
  }

  void Clusters(const Field& field) {
    const std::vector<Field> entries = r_.Entries(field, "a map of cluster name to cluster");
    if (IsEmptyMap(field.node)) {
      r_.Error(field, "no clusters defined (expected at least one cluster)");
    }
    for (const Field& entry : entries) {
      ClusterConfig cluster;
      cluster.name = entry.key;
      Cluster(entry, cluster);
      // Kept even when invalid, so pipelines naming it get no second error.
      config_.clusters.emplace(cluster.name, std::move(cluster));
    }
  }

  void Cluster(const Field& entry, ClusterConfig& cluster) {
    CheckName(entry, "cluster");
    const Section s = r_.Keys(entry, {"bootstrap", "properties", "consumer", "producer", "admin"});
    static constexpr absl::string_view kBootstrap = "a comma-separated list of host:port";
    if (auto f = r_.Require(s, entry, "bootstrap", kBootstrap)) {
      if (auto text = r_.Scalar(*f, kBootstrap)) {
        if (absl::Status valid = CheckBootstrap(text->value); !valid.ok()) {
          r_.Invalid(*f, *text, kBootstrap, valid.message());
        }
        cluster.bootstrap = std::move(text->value);
        if (text->expanded) cluster.secret_keys.insert("bootstrap.servers");
      }
    }
    PropertyMap(s.Get("properties"), cluster.properties, cluster.secret_keys);
    PropertyMap(s.Get("consumer"), cluster.consumer, cluster.secret_keys);
    PropertyMap(s.Get("producer"), cluster.producer, cluster.secret_keys);
    PropertyMap(s.Get("admin"), cluster.admin, cluster.secret_keys);
  }

  void PropertyMap(const Field* field, Properties& out, std::set<std::string>& secret_keys) {
    if (field == nullptr) return;
    for (const Field& entry : r_.Entries(*field, "a map of librdkafka property to value")) {
      if (entry.key == "bootstrap.servers") {
        r_.Error(entry.key_location, entry.path,
                 "set by the cluster's bootstrap key (expected it there, not here)");
        continue;
      }
      std::optional<Text> text = r_.Scalar(entry, "a string, number or boolean value");
      if (!text) continue;
      if (text->expanded) secret_keys.insert(entry.key);
      WarnIfInsecure(entry, *text);
      out[entry.key] = std::move(text->value);
    }
  }

  // Settings that turn off what TLS and SASL are for. Allowed (a lab, a
  // migration), but said out loud.
  void WarnIfInsecure(const Field& entry, const Text& text) {
    const std::string key = absl::AsciiStrToLower(entry.key);
    const std::string value = absl::AsciiStrToLower(text.value);
    if (key == "enable.ssl.certificate.verification" && (value == "false" || value == "0")) {
      r_.Warning(entry,
                 "TLS certificate verification is off: any server can pose as this cluster and read "
                 "everything, credentials included (remove it and set ssl.ca.location to the cluster's CA)");
    } else if (key == "ssl.endpoint.identification.algorithm" && value == "none") {
      r_.Warning(entry,
                 "the broker's host name is not checked against its certificate: any certificate of a "
                 "trusted CA is accepted for this cluster (use https, librdkafka's default)");
    } else if (key == "security.protocol" && value == "sasl_plaintext") {
      r_.Warning(entry, "SASL over PLAINTEXT: credentials (PLAIN) and all records cross the network unencrypted "
                        "(use SASL_SSL)");
    }
  }

  void Pipelines(const Field& field) {
    const std::vector<Field> entries = r_.Entries(field, "a map of pipeline name to pipeline");
    if (IsEmptyMap(field.node)) {
      r_.Error(field, "no pipelines defined (expected at least one pipeline)");
    }
    std::map<std::string, const Field*> where;
    for (const Field& entry : entries) {
      PipelineConfig pipeline;
      pipeline.name = entry.key;
      Pipeline(entry, pipeline);
      where[pipeline.name] = &entry;
      config_.pipelines.emplace(pipeline.name, std::move(pipeline));
    }
    LoopPrevention(where);
  }

  // provenance: auto becomes on for pipelines on a cycle; then every cycle
  // along which a record would come back where it started is an error, at
  // the first pipeline the example record crosses.
  void LoopPrevention(const std::map<std::string, const Field*>& where) {
    const std::set<std::string> on_cycles = PipelinesOnCycles(config_.pipelines);
    for (auto& [name, p] : config_.pipelines) {
      p.stamps_provenance = p.provenance == Provenance::kOn ||
                            (p.provenance == Provenance::kAuto && on_cycles.count(name) > 0);
    }
    for (const OpenCycle& cycle : FindOpenCycles(config_.pipelines)) {
      auto at = where.find(cycle.pipelines.front());
      if (at == where.end()) continue;
      r_.Error(at->second->key_location, at->second->path,
               absl::StrCat("pipelines ", absl::StrJoin(cycle.pipelines, " -> "),
                            " form a loop that nothing stops: ", cycle.trail,
                            ", and round again (expected provenance: auto or on, with one provenance_header, on "
                            "every pipeline of the cycle, or renames and topic filters that keep the copies apart; "
                            "docs/active-active.md)"));
    }
  }

  void Pipeline(const Field& entry, PipelineConfig& p) {
    CheckName(entry, "pipeline");
    const Section s = r_.Keys(
        entry, {"source", "target", "via", "topics", "rename", "lanes", "delivery", "commit_interval",
                "min_commit_interval", "max_transaction_bytes", "start", "discovery_interval",
                "sync_topic_configs", "topic_configs", "replication_factor", "groups", "offset_syncs",
                "on_source_gap", "lag_thresholds", "edges", "edge_header", "max_partitions", "max_topics",
                "provenance", "provenance_header", "sync_topic_acls", "acl_principals"});
    if (const Field* f = s.Get("via")) {
      if (auto text = r_.Scalar(*f, "the name of a link")) {
        if (!config_.links.count(text->value)) {
          std::vector<std::string> known;
          for (const auto& [name, _] : config_.links) known.push_back(name);
          r_.Error(*f, absl::StrCat("no link named '", text->value, "' (known links: ",
                                    known.empty() ? "none" : absl::StrJoin(known, ", "), ")"));
        } else {
          p.via = std::move(text->value);
        }
      }
    }
    std::optional<std::string> source;
    std::optional<std::string> target;
    if (auto f = r_.Require(s, entry, "source", "the name of a cluster")) source = ClusterName(*f);
    if (auto f = r_.Require(s, entry, "target", "the name of a cluster")) target = ClusterName(*f);
    if (source) p.source = *source;
    if (target) p.target = *target;

    if (auto f = r_.Require(s, entry, "topics", "a map with an include list")) {
      const Section t = r_.Keys(*f, {"include", "exclude"});
      if (auto include = r_.Require(t, *f, "include", kRegexList)) {
        if (auto filter = Filter(*include, t.Get("exclude"), /*include_required=*/true)) {
          p.topics = std::move(*filter);
        }
      }
    }

    if (const Field* f = s.Get("edges")) {
      if (auto v = r_.Choice<Edges>(*f, {{"one", Edges::kOne}, {"many", Edges::kMany}})) {
        p.edges = *v;
        if (p.edges == Edges::kMany && s.Get("via") == nullptr) {
          r_.Error(*f, "edges: many is for pipelines that run via a link (expected a `via` key, or edges: one)");
        }
      }
    }
    bool rename_ok = true;
    if (const Field* f = s.Get("rename")) {
      static constexpr absl::string_view kRename = "a topic name template with {topic}";
      rename_ok = false;
      if (auto text = r_.Scalar(*f, kRename)) {
        bool has_edge = false;
        if (absl::Status valid = CheckRename(text->value, &has_edge); !valid.ok()) {
          r_.Invalid(*f, *text, kRename, valid.message());
        } else if (has_edge && p.edges != Edges::kMany) {
          r_.Invalid(*f, *text, kRename, "{edge} needs edges: many (one edge has no name to put there)");
        } else {
          p.rename = std::move(text->value);
          rename_ok = true;
        }
      }
    }
    if (const Field* f = s.Get("edge_header")) {
      static constexpr absl::string_view kHeader = "a record header name";
      if (auto text = r_.Scalar(*f, kHeader)) {
        if (p.edges != Edges::kMany) {
          r_.Error(*f, "edge_header needs edges: many (expected edges: many, or no edge_header)");
        } else if (text->value.empty() || text->value.size() > 255) {
          r_.Invalid(*f, *text, kHeader, "1 to 255 bytes");
        } else {
          p.edge_header = std::move(text->value);
        }
      }
    }
    if (const Field* f = s.Get("provenance")) {
      if (auto v = r_.Choice<Provenance>(*f, {{"auto", Provenance::kAuto},
                                              {"on", Provenance::kOn},
                                              {"off", Provenance::kOff}})) {
        p.provenance = *v;
      }
    }
    if (const Field* f = s.Get("provenance_header")) {
      static constexpr absl::string_view kHeader = "a record header name";
      if (auto text = r_.Scalar(*f, kHeader)) {
        if (text->value.empty() || text->value.size() > 255) {
          r_.Invalid(*f, *text, kHeader, "1 to 255 bytes");
        } else if (!p.edge_header.empty() && text->value == p.edge_header) {
          r_.Error(*f, "the same header as edge_header (expected another name)");
        } else {
          p.provenance_header = std::move(text->value);
        }
      }
    }
    if (const Field* f = s.Get("max_partitions")) {
      if (auto v = r_.Integer(*f, 1, 100'000)) p.max_partitions = static_cast<int>(*v);
    }
    if (const Field* f = s.Get("max_topics")) {
      if (auto v = r_.Integer(*f, 1, 100'000)) p.max_topics = static_cast<int>(*v);
    }
    if (source && target && rename_ok && *source == *target && p.rename == "{topic}") {
      r_.Error(*s.Get("target"),
               "same cluster as the source while rename keeps topic names, so topics would be "
               "copied onto themselves (expected another cluster, or a rename such as "
               "\"{source}.{topic}\")");
    }

    if (const Field* f = s.Get("lanes")) {
      if (auto v = r_.Integer(*f, 1, 1024)) p.lanes = static_cast<int>(*v);
    }
    if (const Field* f = s.Get("delivery")) {
      if (auto v = r_.Choice<Delivery>(*f, {{"exactly-once", Delivery::kExactlyOnce},
                                            {"at-least-once", Delivery::kAtLeastOnce}})) {
        p.delivery = *v;
      }
    }
    if (const Field* f = s.Get("commit_interval")) {
      if (auto v = r_.Duration(*f, milliseconds(10), std::chrono::minutes(10))) {
        p.commit_interval = *v;
      }
    }
    if (const Field* f = s.Get("min_commit_interval")) {
      if (auto v = r_.Duration(*f, milliseconds(0), std::chrono::minutes(10))) p.min_commit_interval = *v;
    }
    if (const Field* f = s.Get("max_transaction_bytes")) {
      if (auto v = r_.ByteSize(*f, kKiB, kGiB)) p.max_transaction_bytes = *v;
    }
    if (const Field* f = s.Get("start")) {
      if (auto v = r_.Choice<StartPosition>(*f, {{"earliest", StartPosition::kEarliest},
                                                 {"latest", StartPosition::kLatest}})) {
        p.start = *v;
      }
    }
    if (const Field* f = s.Get("discovery_interval")) {
      if (auto v = r_.Duration(*f, std::chrono::seconds(1), kDay)) p.discovery_interval = *v;
    }
    if (const Field* f = s.Get("sync_topic_configs")) {
      if (auto v = r_.Bool(*f)) p.sync_topic_configs = *v;
    }
    if (const Field* f = s.Get("sync_topic_acls")) {
      if (auto v = r_.Bool(*f)) {
        if (*v && s.Get("via") != nullptr) {
          r_.Error(*f, "topic-ACL sync reads the source cluster's ACLs, which a hub cannot see (expected a direct "
                       "pipeline, or sync_topic_acls: false)");
        } else {
          p.sync_topic_acls = *v;
        }
      }
    }
    if (const Field* f = s.Get("acl_principals")) {
      for (const Field& entry : r_.Entries(*f, "a map of source principal to target principal")) {
        if (auto text = r_.Scalar(entry, "a principal such as \"User:alice\"")) {
          if (entry.key.find(':') == std::string::npos || text->value.find(':') == std::string::npos) {
            r_.Invalid(entry, *text, "principals as TYPE:NAME, e.g. \"User:alice\"", "no ':'");
          } else {
            p.acl_principals[entry.key] = std::move(text->value);
          }
        }
      }
    }
    if (const Field* f = s.Get("topic_configs")) {
      // include defaults to everything, exclude to the broker-specific keys;
      // an exclude list given here replaces that default.
      const Section t = r_.Keys(*f, {"include", "exclude"});
      std::optional<std::vector<std::string>> include = std::vector<std::string>{".*"};
      std::optional<std::vector<std::string>> exclude = DefaultExcludedTopicConfigs();
      if (const Field* i = t.Get("include")) include = Patterns(*i);
      if (const Field* e = t.Get("exclude")) exclude = Patterns(*e);
      if (include && exclude) {
        if (auto filter = TopicFilter::Create(std::move(*include), std::move(*exclude)); filter.ok()) {
          p.topic_configs = std::move(*filter);
        }
      }
    }
    if (const Field* f = s.Get("replication_factor")) {
      // -1 (the broker's default) or 1..32767, Kafka's int16 range.
      if (auto v = r_.Integer(*f, -1, 32767)) {
        if (*v == 0) {
          r_.Error(*f, "expected -1 (the target broker's default) or 1 to 32767, got 0");
        } else {
          p.replication_factor = static_cast<int>(*v);
        }
      }
    }
    if (const Field* f = s.Get("groups")) {
      const Section g = r_.Keys(*f, {"include", "exclude", "interval"});
      if (const Field* include = g.Get("include")) {
        if (auto filter = Filter(*include, g.Get("exclude"), /*include_required=*/false)) {
          p.groups.filter = std::move(*filter);
        }
      } else if (const Field* exclude = g.Get("exclude")) {
        (void)Patterns(*exclude);  // still checked, though nothing is included
      }
      if (const Field* interval = g.Get("interval")) {
        if (auto v = r_.Duration(*interval, std::chrono::seconds(1), kDay)) p.groups.interval = *v;
      }
    }
    if (const Field* f = s.Get("on_source_gap")) {
      if (auto v = r_.Choice<SourceGapPolicy>(*f, {{"stop", SourceGapPolicy::kStop},
                                                   {"skip", SourceGapPolicy::kSkip}})) {
        p.on_source_gap = *v;
      }
    }
    if (const Field* f = s.Get("lag_thresholds")) {
      const Section l = r_.Keys(*f, {"lagging_after", "stalled_after"});
      if (const Field* lagging = l.Get("lagging_after")) {
        if (auto v = r_.Duration(*lagging, std::chrono::seconds(1), kDay)) p.lagging_after = *v;
      }
      if (const Field* stalled = l.Get("stalled_after")) {
        if (auto v = r_.Duration(*stalled, std::chrono::seconds(1), kDay)) p.stalled_after = *v;
      }
    }
    if (const Field* f = s.Get("offset_syncs")) {
      const Section o = r_.Keys(*f, {"retention"});
      if (const Field* retention = o.Get("retention")) {
        if (auto v = r_.Duration(*retention, std::chrono::hours(1), 3650 * kDay)) {
          p.offset_sync_retention = *v;
        }
      }
    }
  }

  // A cluster reference: must name a cluster under `clusters`.
  std::optional<std::string> ClusterName(const Field& field) {
    std::optional<Text> text = r_.Scalar(field, "the name of a cluster");
    if (!text) return std::nullopt;
    if (config_.clusters.count(text->value) == 0) {
      std::vector<absl::string_view> known;
      for (const auto& [name, cluster] : config_.clusters) known.push_back(name);
      r_.Error(field, absl::StrCat("no cluster named ", text->Shown(),
                                   known.empty() ? " (no clusters are defined)"
                                                 : absl::StrCat(" (expected one of: ",
                                                                absl::StrJoin(known, ", "), ")")));
      return std::nullopt;
    }
    return std::move(text->value);
  }

  // The patterns of a regex list; nullopt when any is invalid.
  std::optional<std::vector<std::string>> Patterns(const Field& list) {
    std::optional<std::vector<Field>> entries = r_.List(list, kRegexList);
    if (!entries) return std::nullopt;
    std::vector<std::string> patterns;
    bool ok = true;
    for (const Field& entry : *entries) {
      std::optional<Text> text = r_.Scalar(entry, "a regular expression");
      if (!text) {
        ok = false;
        continue;
      }
      if (absl::Status valid = TopicFilter::CheckPattern(text->value); !valid.ok()) {
        r_.Invalid(entry, *text, "a valid ECMAScript regular expression", valid.message());
        ok = false;
        continue;
      }
      patterns.push_back(std::move(text->value));
    }
    if (!ok) return std::nullopt;
    return patterns;
  }

  std::optional<TopicFilter> Filter(const Field& include_field, const Field* exclude_field,
                                    bool include_required) {
    std::optional<std::vector<std::string>> include = Patterns(include_field);
    std::optional<std::vector<std::string>> exclude =
        exclude_field != nullptr ? Patterns(*exclude_field) : std::vector<std::string>{};
    if (include_required && include && include->empty()) {
      r_.Error(include_field,
               absl::StrCat("expected at least one regular expression, got ",
                            include_field.node.IsSequence() ? "an empty list" : "nothing"));
      return std::nullopt;
    }
    if (!include || !exclude) return std::nullopt;
    absl::StatusOr<TopicFilter> filter = TopicFilter::Create(std::move(*include), std::move(*exclude));
    if (!filter.ok()) {  // cannot happen: every pattern was checked above
      r_.Error(include_field, filter.status().message());
      return std::nullopt;
    }
    return std::move(*filter);
  }

  void Links(const Field& field) {
    for (const Field& entry : r_.Entries(field, "a map of link name to link")) {
      CheckName(entry, "link");
      LinkConfig link;
      link.name = entry.key;
      const Section s = r_.Keys(entry, {"edge", "hub"});
      if (const Field* f = s.Get("edge")) link.edge = LinkEdge(*f);
      if (const Field* f = s.Get("hub")) link.hub = LinkHub(*f);
      if (!link.edge && !link.hub) r_.Error(entry, "a link needs an edge or a hub section (or both)");
      config_.links.emplace(link.name, std::move(link));
    }
  }

  void TlsFile(const Section& s, absl::string_view key, std::string* out) {
    if (const Field* f = s.Get(key)) {
      if (auto text = r_.Scalar(*f, "a path to a PEM file")) *out = std::move(text->value);
    }
  }

  LinkEdgeConfig LinkEdge(const Field& field) {
    LinkEdgeConfig e;
    const Section s = r_.Keys(field, {"hub", "hubs", "server_name", "ca_file", "cert_file", "key_file", "proxy",
                                      "proxy_authorization", "connections", "compression", "compression_level",
                                      "buffer_bytes", "heartbeat_interval", "dead_link_timeout", "report_interval",
                                      "priorities", "rate_limit"});
    const Field* hubs = s.Get("hubs");
    if (hubs != nullptr && s.Get("hub") != nullptr) {
      r_.Error(*hubs, "give either hub or hubs (the same setting), not both");
    } else if (hubs != nullptr) {
      e.hubs = HubList(*hubs);
    } else if (auto f = r_.Require(s, field, "hub", kHubList)) {
      e.hubs = HubList(*f);
    }
    if (const Field* f = s.Get("server_name")) {
      if (auto text = r_.Scalar(*f, "a host name")) e.server_name = std::move(text->value);
    }
    TlsFile(s, "ca_file", &e.ca_file);
    TlsFile(s, "cert_file", &e.cert_file);
    TlsFile(s, "key_file", &e.key_file);
    if (const Field* f = s.Get("proxy")) {
      if (auto text = r_.Scalar(*f, "host:port of an HTTP CONNECT proxy")) {
        if (absl::Status valid = CheckHostPort(text->value, /*allow_port_zero=*/false); !valid.ok()) {
          r_.Invalid(*f, *text, "host:port of an HTTP CONNECT proxy", valid.message());
        } else {
          e.proxy = std::move(text->value);
        }
      }
    }
    if (const Field* f = s.Get("proxy_authorization")) {
      if (auto text = r_.Scalar(*f, "a Proxy-Authorization header value")) e.proxy_authorization = std::move(text->value);
    }
    if (const Field* f = s.Get("connections")) {
      if (auto v = r_.Integer(*f, 1, 64)) e.connections = static_cast<int>(*v);
    }
    if (const Field* f = s.Get("compression")) {
      if (auto v = r_.Choice<std::string>(*f, {{"zstd", std::string("zstd")}, {"lz4", std::string("lz4")},
                                                {"none", std::string("none")}})) {
        e.compression = *v;
      }
    }
    if (const Field* f = s.Get("compression_level")) {
      if (auto v = r_.Integer(*f, 1, 19)) e.compression_level = static_cast<int>(*v);
    }
    if (const Field* f = s.Get("buffer_bytes")) {
      if (auto v = r_.ByteSize(*f, kMiB, kTiB)) e.buffer_bytes = *v;
    }
    if (const Field* f = s.Get("heartbeat_interval")) {
      if (auto v = r_.Duration(*f, milliseconds(100), std::chrono::minutes(1))) e.heartbeat_interval = *v;
    }
    if (const Field* f = s.Get("dead_link_timeout")) {
      if (auto v = r_.Duration(*f, std::chrono::seconds(1), std::chrono::minutes(10))) e.dead_link_timeout = *v;
    }
    if (const Field* f = s.Get("report_interval")) {
      if (auto v = r_.Duration(*f, milliseconds(100), std::chrono::minutes(10))) e.report_interval = *v;
    }
    if (const Field* f = s.Get("priorities")) e.priorities = Priorities(*f);
    if (const Field* f = s.Get("rate_limit")) {
      if (auto v = r_.BitRate(*f, 8'000, int64_t{100'000'000'000}, /*allow_zero=*/true)) {
        e.rate_limit_bits_per_second = *v;
      }
    }
    return e;
  }

  // links.<l>.edge.priorities: a list of {class, weight, topics}.
  std::vector<LinkPriorityClass> Priorities(const Field& field) {
    std::vector<LinkPriorityClass> classes;
    std::optional<std::vector<Field>> entries = r_.List(field, "a list of priority classes");
    if (!entries) return classes;
    bool catch_all_seen = false;
    for (const Field& entry : *entries) {
      const Section c = r_.Keys(entry, {"class", "weight", "topics"});
      LinkPriorityClass pc;
      if (auto f = r_.Require(c, entry, "class", "a class name")) {
        if (auto text = r_.Scalar(*f, "a class name")) {
          const std::string& name = text->value;
          const bool legal = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char ch) {
            return absl::ascii_isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-';
          });
          if (!legal) {
            r_.Invalid(*f, *text, "a class name of 1..64 letters, digits, '.', '_' or '-'");
          } else if (std::any_of(classes.begin(), classes.end(),
                                 [&](const LinkPriorityClass& o) { return o.name == text->value; })) {
            r_.Error(*f, absl::StrCat("priority class '", text->value, "' is listed twice"));
          } else {
            pc.name = std::move(text->value);
          }
        }
      }
      if (const Field* f = c.Get("weight")) {
        if (auto v = r_.Integer(*f, 1, 1000)) pc.weight = static_cast<uint32_t>(*v);
      }
      if (const Field* f = c.Get("topics")) {
        if (auto patterns = Patterns(*f)) pc.topics = std::move(*patterns);
      }
      if (pc.topics.empty()) {
        if (catch_all_seen) r_.Error(entry, "only one priority class may leave out topics (it takes every other topic)");
        catch_all_seen = true;
      }
      classes.push_back(std::move(pc));
    }
    if (classes.size() > 16) r_.Error(field, absl::StrCat("lists ", classes.size(), " priority classes, at most 16"));
    return classes;
  }

  static constexpr absl::string_view kHubList = "host:port of the hub, or a list of them";

  // One hub address or several: a YAML list, or a comma-separated string.
  std::vector<std::string> HubList(const Field& field) {
    std::vector<std::string> hubs;
    auto add = [&](const Field& at, const Text& text, absl::string_view address) {
      address = absl::StripAsciiWhitespace(address);
      if (absl::Status valid = CheckHostPort(address, /*allow_port_zero=*/false); !valid.ok()) {
        r_.Invalid(at, text, kHubList, valid.message());
      } else if (std::find(hubs.begin(), hubs.end(), address) != hubs.end()) {
        r_.Error(at, absl::StrCat("hub address '", address, "' is listed twice"));
      } else {
        hubs.emplace_back(address);
      }
    };
    if (field.node.IsSequence()) {
      std::optional<std::vector<Field>> entries = r_.List(field, kHubList);
      if (!entries) return hubs;
      if (entries->empty()) r_.Error(field, "expected at least one host:port of a hub, got an empty list");
      for (const Field& entry : *entries) {
        if (auto text = r_.Scalar(entry, "host:port of a hub")) add(entry, *text, text->value);
      }
    } else if (auto text = r_.Scalar(field, kHubList)) {
      for (absl::string_view address : absl::StrSplit(text->value, ',')) add(field, *text, address);
    }
    if (hubs.size() > 64) r_.Error(field, absl::StrCat("lists ", hubs.size(), " hubs, at most 64"));
    return hubs;
  }

  LinkHubConfig LinkHub(const Field& field) {
    LinkHubConfig h;
    const Section s = r_.Keys(field, {"listen", "ca_file", "cert_file", "key_file", "require_client_cert",
                                      "identities", "receive_window_bytes", "identity_match", "crl_file",
                                      "max_sessions", "max_sessions_per_identity",
                                      "max_pending_handshakes_per_address", "max_records_per_batch",
                                      "max_outbound_bytes", "forget_edges_after"});
    if (auto f = r_.Require(s, field, "listen", "host:port to accept edges on")) {
      if (auto text = r_.Scalar(*f, "host:port to accept edges on")) {
        if (absl::Status valid = CheckHostPort(text->value, /*allow_port_zero=*/true); !valid.ok()) {
          r_.Invalid(*f, *text, "host:port to accept edges on", valid.message());
        } else {
          h.listen = std::move(text->value);
        }
      }
    }
    TlsFile(s, "ca_file", &h.ca_file);
    TlsFile(s, "cert_file", &h.cert_file);
    TlsFile(s, "key_file", &h.key_file);
    if (const Field* f = s.Get("require_client_cert")) {
      if (auto v = r_.Bool(*f)) h.require_client_cert = *v;
    }
    if (const Field* f = s.Get("identities")) {
      for (const Field& id : r_.Entries(*f, "a map of certificate identity to a list of pipelines")) {
        std::vector<std::string> pipelines;
        if (auto items = r_.List(id, "a list of pipeline names (\"*\" for all)")) {
          for (const Field& item : *items) {
            if (auto text = r_.Scalar(item, "a pipeline name")) pipelines.push_back(std::move(text->value));
          }
        }
        h.identities[id.key] = std::move(pipelines);
      }
    }
    if (const Field* f = s.Get("receive_window_bytes")) {
      if (auto v = r_.ByteSize(*f, kMiB, kGiB)) h.receive_window_bytes = *v;
    }
    if (const Field* f = s.Get("identity_match")) {
      if (auto v = r_.Choice<bool>(*f, {{"any", false}, {"uri", true}})) h.identity_uri_only = *v;
    }
    TlsFile(s, "crl_file", &h.crl_file);
    if (const Field* f = s.Get("max_sessions")) {
      if (auto v = r_.Integer(*f, 1, 1'000'000)) h.max_sessions = *v;
    }
    if (const Field* f = s.Get("max_sessions_per_identity")) {
      if (auto v = r_.Integer(*f, 1, 65'536)) h.max_sessions_per_identity = *v;
    }
    if (const Field* f = s.Get("max_pending_handshakes_per_address")) {
      if (auto v = r_.Integer(*f, 1, 4096)) h.max_pending_handshakes_per_address = *v;
    }
    if (const Field* f = s.Get("max_records_per_batch")) {
      if (auto v = r_.Integer(*f, 1000, 10'000'000)) h.max_records_per_batch = *v;
    }
    if (const Field* f = s.Get("max_outbound_bytes")) {
      if (auto v = r_.ByteSize(*f, kMiB, kGiB)) h.max_outbound_bytes = *v;
    }
    if (const Field* f = s.Get("forget_edges_after")) {
      if (auto v = r_.Duration(*f, std::chrono::minutes(1), 365 * kDay)) h.forget_edges_after = *v;
    }
    return h;
  }

  void Worker(const Field& field) {
    const Section s = r_.Keys(field, {"drain_timeout", "buffer_bytes", "log_level"});
    if (const Field* f = s.Get("drain_timeout")) {
      if (auto v = r_.Duration(*f, std::chrono::seconds(1), std::chrono::hours(1))) {
        config_.worker.drain_timeout = *v;
      }
    }
    if (const Field* f = s.Get("buffer_bytes")) {
      if (auto v = r_.ByteSize(*f, kMiB, kTiB)) config_.worker.buffer_bytes = *v;
    }
    if (const Field* f = s.Get("log_level")) {
      if (auto v = r_.Choice<std::string>(
              *f, {{"debug", "debug"}, {"info", "info"}, {"warn", "warn"}, {"error", "error"}})) {
        config_.worker.log_level = *v;
      }
    }
  }

  void Admin(const Field& field) {
    const Section s = r_.Keys(field, {"listen", "per_partition_metrics"});
    if (const Field* f = s.Get("listen")) {
      static constexpr absl::string_view kListen = "host:port (port 0 picks a free port)";
      if (auto text = r_.Scalar(*f, kListen)) {
        if (absl::Status valid = CheckHostPort(text->value, /*allow_port_zero=*/true); !valid.ok()) {
          r_.Invalid(*f, *text, kListen, valid.message());
        } else {
          config_.admin.listen = std::move(text->value);
        }
      }
    }
    if (const Field* f = s.Get("per_partition_metrics")) {
      if (auto v = r_.Bool(*f)) config_.admin.per_partition_metrics = *v;
    }
  }

  Reader& r_;
  Config& config_;
};

}  // namespace

absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view file_name,
                                   EnvLookup env) {
  Config config;
  config.file = std::string(file_name);
  Reader reader(config.file, std::move(env));
  try {
    const std::vector<YAML::Node> documents = YAML::LoadAll(std::string(yaml));
    ConfigParser(reader, config).Parse(documents);
  } catch (const YAML::Exception& e) {
    // Syntax errors; yaml-cpp's mark says where.
    reader.Error(internal::ToLocation(e.mark), "", absl::StrCat("invalid YAML: ", e.msg));
  }
  if (absl::Status status = reader.Finish(); !status.ok()) return status;
  config.warnings = reader.Warnings();
  return config;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path, EnvLookup env) {
  absl::StatusOr<std::string> content = internal::ReadWholeFile(path, "config file");
  if (!content.ok()) return content.status();
  return ParseConfig(*content, path, std::move(env));
}

}  // namespace longhaul::config
