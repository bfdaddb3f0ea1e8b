// The typed model of the `longhaul` YAML config file and its loader. Loading
// validates the whole file and reports every problem at once, one per line,
// as `FILE:LINE:COL: KEY.PATH: what was wrong (what was expected)`.
// `${NAME}` and `${file:PATH}` in string values bring in secrets; the values
// they bring in never appear in errors, and RedactedProperties hides them
// (and anything that looks like a credential) before properties are logged.
// config/examples/longhaul.yaml is the documented reference of every key.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "longhaul/config/units.h"

namespace longhaul::config {

// librdkafka configuration properties: name -> value, values as strings.
using Properties = std::map<std::string, std::string>;

enum class ClientRole { kConsumer, kProducer, kAdmin };
enum class Delivery { kExactlyOnce, kAtLeastOnce };
enum class StartPosition { kEarliest, kLatest };
// Who feeds a `via` pipeline's hub: one edge (its partitions spread over
// every lane), or many edges (each edge's partitions kept apart and all on
// the lane of that edge; docs/edge-and-hub.md).
enum class Edges { kOne, kMany };
// What a partition does when the next offset to copy is below the source's
// log start (retention or DeleteRecords removed records not yet copied).
enum class SourceGapPolicy { kStop, kSkip };
// Whether a pipeline records provenance (origin cluster and the pipelines a
// record crossed) in a header of the records it writes: auto = only when
// the pipeline lies on a cycle of this config's pipeline graph (active/
// active), so one-way mirrors keep headers byte for byte. Records that
// already carry the header are never written into a cluster it names,
// whatever this setting (docs/active-active.md).
enum class Provenance { kAuto, kOn, kOff };

// Spelled as in the config file: "consumer", "exactly-once", "earliest".
std::string_view ToString(ClientRole role);
std::string_view ToString(Delivery delivery);
std::string_view ToString(StartPosition start);
std::string_view ToString(Edges edges);
std::string_view ToString(SourceGapPolicy policy);
std::string_view ToString(Provenance provenance);

inline constexpr std::string_view kDefaultProvenanceHeader = "longhaul-provenance";

struct ClusterConfig {
  std::string name;
  // Comma-separated host:port list; becomes bootstrap.servers.
  std::string bootstrap;
  // For every client of this cluster.
  Properties properties;
  // Role-specific; these override `properties` for that role only.
  Properties consumer;
  Properties producer;
  Properties admin;
  // Property names (in any of the maps above, plus "bootstrap.servers" when
  // `bootstrap` was expanded) whose values came from ${...}. They are
  // redacted by RedactedProperties whatever their name.
  std::set<std::string> secret_keys;

  // The librdkafka properties for one client: bootstrap.servers, then
  // `properties`, then the role's overrides. Contains secrets: pass it to
  // RedactedProperties(props, secret_keys) before showing it anywhere.
  Properties ClientProperties(ClientRole role) const;
};

// Selects Kafka names (topics, or consumer group ids) by regular expression.
// Each pattern is an ECMAScript std::regex that must match the whole name.
// A name is selected when some include pattern matches and no exclude
// pattern does: exclude wins. Patterns are compiled once, by Create;
// copies share the compiled form, and Matches is safe from any thread.
class TopicFilter {
 public:
  // Selects nothing.
  TopicFilter() = default;

  // Compiles the patterns. A bad pattern gives InvalidArgument naming its
  // list and index ("include[1]") and the regex error.
  static absl::StatusOr<TopicFilter> Create(std::vector<std::string> include,
                                            std::vector<std::string> exclude = {});

  // Checks one pattern the way Create compiles it; the error is the regex
  // library's message.
  static absl::Status CheckPattern(const std::string& pattern);

  bool Matches(std::string_view name) const;

  const std::vector<std::string>& include() const { return include_; }
  const std::vector<std::string>& exclude() const { return exclude_; }

 private:
  struct Compiled;  // std::regex stays out of this header

  std::vector<std::string> include_;
  std::vector<std::string> exclude_;
  std::shared_ptr<const Compiled> compiled_;  // null: selects nothing
};

// The topic config keys that are the target cluster's own business and do
// not travel by default (`pipelines.<p>.topic_configs.exclude`): replica
// placement and throttles, ISR and leader election, tiered storage, and
// message.timestamp.type (LogAppendTime on the target would overwrite the
// create times the mirror carries). Full-match regexes.
const std::vector<std::string>& DefaultExcludedTopicConfigs();

// Which explicitly set source topic configs are copied to the target, at
// creation and whenever they change: every key matched by `keys` (default:
// all but DefaultExcludedTopicConfigs).
TopicFilter DefaultTopicConfigFilter();

// Consumer-group offset sync. No include pattern means no group is synced.
struct GroupSyncConfig {
  TopicFilter filter;  // over group ids
  std::chrono::milliseconds interval = std::chrono::seconds(10);

  bool enabled() const { return !filter.include().empty(); }
};

struct PipelineConfig {
  std::string name;
  // Empty: direct (one process reads the source and writes the target).
  // Else the name of a link: an edge reads the source and ships batches to a
  // hub, which writes the target.
  std::string via;
  std::string source;  // a key of Config::clusters
  std::string target;  // a key of Config::clusters
  TopicFilter topics;
  // Target topic name template: {source} is the source cluster's name,
  // {topic} the source topic, {edge} the edge's name (edges: many only).
  // Always contains {topic}.
  std::string rename = "{topic}";
  // `via` pipelines: one edge feeds the pipeline, or many (each edge's
  // partitions are kept apart by the edge's name; see Edges).
  Edges edges = Edges::kOne;
  // edges: many: when not empty, the hub adds a header of this name with
  // the edge's name to every record (useful when rename has no {edge} and
  // the edges' records merge into shared topics).
  std::string edge_header;
  // Loop prevention (docs/active-active.md). `provenance` as configured;
  // `stamps_provenance` is what the lanes do: on, or auto and the pipeline
  // lies on a cycle of the config's pipeline graph (set by the loader).
  Provenance provenance = Provenance::kAuto;
  bool stamps_provenance = false;
  // The header carrying provenance; pipelines that should recognise each
  // other's records must use the same name.
  std::string provenance_header = std::string(kDefaultProvenanceHeader);
  // Hub-side caps on what an edge may make the hub create, enforced on
  // every batch: partitions per topic (partition numbers at or above are
  // refused) and topics per edge.
  int max_partitions = 1024;
  int max_topics = 1000;
  // Fixed for the life of a pipeline: partitions hash onto lanes, and each
  // lane has its own transactional.id.
  int lanes = 8;
  Delivery delivery = Delivery::kExactlyOnce;
  // A lane commits its transaction this often, or earlier once it has
  // written max_transaction_bytes.
  std::chrono::milliseconds commit_interval = std::chrono::seconds(1);
  // A lane that has read its partitions to the end commits at once instead
  // of waiting out commit_interval, but not sooner than this after its last
  // commit. At or above commit_interval: commit on the interval only.
  std::chrono::milliseconds min_commit_interval = std::chrono::milliseconds(100);
  int64_t max_transaction_bytes = int64_t{16} << 20;
  // Where a partition with no checkpoint starts.
  StartPosition start = StartPosition::kEarliest;
  std::chrono::milliseconds discovery_interval = std::chrono::seconds(30);
  // Copy topic configs to the target: at creation, and on every discovery
  // when a source topic's configs changed since (AlterConfigs on the target).
  bool sync_topic_configs = true;
  // Over config keys (topic_configs.include / exclude).
  TopicFilter topic_configs = DefaultTopicConfigFilter();
  // Grant the reading side of the source topics' ACLs on their target
  // topics (mirror/src/acl_sync.h has the rule: never WRITE), principals
  // mapped by acl_principals ("User:a" -> "User:b") or kept. Direct
  // pipelines only (a hub cannot see the source's ACLs).
  bool sync_topic_acls = false;
  std::map<std::string, std::string> acl_principals;
  // Replication factor of the target topics the pipeline creates, and of
  // its internal topics; -1: the target broker's default.replication.factor.
  int replication_factor = -1;
  GroupSyncConfig groups;
  // retention.ms of the offset-sync topic on the target.
  std::chrono::milliseconds offset_sync_retention = std::chrono::hours(24 * 7);
  // Records deleted at the source before they were copied are lost. stop
  // (the default): the partition stops in state "error" naming the range;
  // skip: it goes on from the log start and records the gap.
  SourceGapPolicy on_source_gap = SourceGapPolicy::kStop;
  // Status judgement per partition: behind for longer than `lagging_after`
  // (age of the oldest uncopied record) is "lagging"; behind with no
  // progress for `stalled_after` is "stalled". A slow link needs more.
  std::chrono::milliseconds lagging_after = std::chrono::seconds(30);
  std::chrono::milliseconds stalled_after = std::chrono::seconds(60);

  // The target topic for `source_topic`, by `rename`. The result can be
  // longer than Kafka's 249-character limit for very long source names; the
  // caller creating the topic reports that.
  // `edge` replaces {edge} (empty outside edges: many).
  std::string TargetTopic(std::string_view source_topic, std::string_view edge = {}) const;
};

struct WorkerConfig {
  // SIGTERM: stop reading, commit what is in flight, exit within this.
  std::chrono::milliseconds drain_timeout = std::chrono::seconds(30);
  // Byte budget for records in flight in the whole process.
  int64_t buffer_bytes = int64_t{64} << 20;
  // Least severe level logged, unless --log-level says otherwise; SIGHUP
  // applies a changed value without a restart. Empty: not set (info).
  std::string log_level;
};

struct AdminConfig {
  // host:port of the admin HTTP server (metrics, status); port 0 picks one.
  std::string listen = "127.0.0.1:9464";
  bool per_partition_metrics = true;
};

// The long-haul link a pipeline can run across (`pipelines.<p>.via`). One
// config file may describe both ends: the edge process reads `edge`, the hub
// process reads `hub` (see `longhaul run --role`).
// A traffic class of an edge link (`links.<l>.edge.priorities`, in order).
struct LinkPriorityClass {
  std::string name;
  uint32_t weight = 1;
  // Full-match regexes of the topics in the class; empty: every topic no
  // earlier class took (at most one such class).
  std::vector<std::string> topics;
  friend bool operator==(const LinkPriorityClass&, const LinkPriorityClass&) = default;
};

struct LinkEdgeConfig {
  // host:port of each hub the edge may dial, in order (`hub:` or `hubs:`, a
  // list or a comma-separated string). All connections go to one hub and
  // move to the next when it is unreachable or does not serve the edge.
  std::vector<std::string> hubs;
  std::string server_name;  // checked against the hub certificate; default: the dialled hub's host
  std::string ca_file, cert_file, key_file;
  // host:port of an HTTP CONNECT proxy to dial the hub through; empty: none.
  // TLS stays end to end (the proxy sees only the tunnel).
  std::string proxy;
  // Proxy-Authorization header value (e.g. "Basic ..."), a secret: give it
  // as ${ENV} or ${file:PATH}. Never logged.
  std::string proxy_authorization;
  int connections = 2;
  std::string compression = "zstd";  // zstd, lz4, none
  int compression_level = 3;
  int64_t buffer_bytes = int64_t{256} << 20;
  std::chrono::milliseconds heartbeat_interval = std::chrono::seconds(1);
  std::chrono::milliseconds dead_link_timeout = std::chrono::seconds(15);
  // How often the edge reports its backlog (per partition) to the hub.
  std::chrono::milliseconds report_interval = std::chrono::seconds(5);
  // Traffic classes: a saturated link sends them in weighted fair shares
  // (transport::PriorityClass). A topic belongs to the first class whose
  // `topics` match it, else to the class without `topics`, else to an
  // implicit "default" class of weight 1. Empty: one class.
  std::vector<LinkPriorityClass> priorities;
  // Cap on the link's rate in bits per second on the wire (0: none).
  int64_t rate_limit_bits_per_second = 0;
};
struct LinkHubConfig {
  std::string listen;  // host:port the hub accepts edges on
  std::string ca_file, cert_file, key_file;
  bool require_client_cert = true;
  // Certificate identity (CN or URI SAN) -> pipelines it may feed ("*": all).
  std::map<std::string, std::vector<std::string>> identities;
  int64_t receive_window_bytes = int64_t{64} << 20;
  // Match identity rules against the CN or any URI SAN ("any"), or URI SANs
  // only ("uri": a CN is easy to get from a careless CA).
  bool identity_uri_only = false;
  std::string crl_file;  // optional; re-read when it changes
  // Resource bounds for a fleet (transport/link_options.h has the reasons).
  int64_t max_sessions = 10'000;
  int64_t max_sessions_per_identity = 256;
  int64_t max_pending_handshakes_per_address = 16;
  int64_t max_records_per_batch = 250'000;
  int64_t max_outbound_bytes = int64_t{16} << 20;
  // An edge with no session for this long is forgotten with its last
  // report (its backlog and "disconnected since" are no longer shown).
  std::chrono::milliseconds forget_edges_after = std::chrono::hours(24 * 7);
};
struct LinkConfig {
  std::string name;
  std::optional<LinkEdgeConfig> edge;
  std::optional<LinkHubConfig> hub;
};

struct Config {
  std::string file;  // as given to LoadConfigFile / ParseConfig
  // Valid but unwise settings, as "FILE:LINE:COL: KEY.PATH: message"
  // (e.g. TLS certificate verification turned off). `validate` prints them,
  // `run` logs them at start.
  std::vector<std::string> warnings;
  std::map<std::string, LinkConfig> links;  // by name
  std::map<std::string, ClusterConfig> clusters;    // by name
  std::map<std::string, PipelineConfig> pipelines;  // by name; never empty
  WorkerConfig worker;
  AdminConfig admin;

  // The cluster called `name`. Every pipeline's source and target is one
  // (the loader checks); any other name is a caller bug and fails a CHECK.
  const ClusterConfig& Cluster(std::string_view name) const;
};

// Looks up an environment variable; std::nullopt when it is unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (getenv).
EnvLookup SystemEnv();

// Reads and parses the config file at `path`. NotFound (naming the path)
// when it does not exist, PermissionDenied when it cannot be read, else as
// ParseConfig with the path as file name.
absl::StatusOr<Config> LoadConfigFile(const std::string& path, EnvLookup env = SystemEnv());

// Parses and validates `yaml`; `file_name` only prefixes error messages.
// Errors: InvalidArgument with one line per problem, sorted by line. In
// string values, `${NAME}` is replaced by environment variable NAME (an
// error if unset), `${file:PATH}` by the content of file PATH minus one
// trailing newline (a relative PATH is relative to the working directory),
// and `$${` stands for a literal `${`.
absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view file_name,
                                   EnvLookup env = SystemEnv());

inline constexpr std::string_view kRedacted = "[redacted]";

// True for property names that carry credentials: passwords, secrets,
// tokens, SASL JAAS/OAUTHBEARER settings, private keys, keystores.
// Case-insensitive; errs on the side of hiding.
bool LooksSecret(std::string_view property_name);

// A copy of `properties` safe to log or show: the value of every name that
// LooksSecret, or that is in `secret_keys` (ClusterConfig::secret_keys), is
// replaced by kRedacted.
Properties RedactedProperties(const Properties& properties,
                              const std::set<std::string>& secret_keys = {});

}  // namespace longhaul::config
