#include "status_json.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "longhaul/base/logging.h"
#include "run_command.h"

namespace longhaul::gateway {
namespace {

void AppendString(std::string* out, const std::string& s) {
  out->push_back('"');
  AppendJsonEscaped(out, s);
  out->push_back('"');
}

void AppendNumber(std::string* out, double v) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  out->append(buf);
}

int Severity(const std::string& state) { return mirror::PartitionStateRank(state); }

}  // namespace

std::string PipelineState(const mirror::PipelineStatus& st) {
  if (st.role == "edge") {
    // An edge owns no lane; it is in error while its link is down with an
    // error to show, else as its worst partition.
    const bool up = st.link && st.link->state == "up";
    if (!up && !st.last_error.empty()) return "error";
    std::string worst = "ok";
    for (const auto& p : st.partitions) {
      if (Severity(p.state) > Severity(worst)) worst = p.state;
    }
    return worst;
  }
  if (!st.last_error.empty() && (st.lanes_owned.empty() || !st.target_reachable)) return "error";
  if (st.lanes_owned.empty()) return "stopped";
  std::string worst = "ok";
  for (const auto& p : st.partitions) {
    if (Severity(p.state) > Severity(worst)) worst = p.state;
  }
  return worst;
}

bool PipelinesReady(const std::vector<mirror::PipelineStatus>& pipelines, std::string* reason) {
  for (const auto& st : pipelines) {
    if (st.role == "edge") {
      if (!st.link || st.link->state != "up") {
        *reason = absl::StrCat("pipeline '", st.name, "': the edge's link to the hub is not up",
                               st.last_error.empty() ? "" : absl::StrCat(" (", st.last_error, ")"));
        return false;
      }
      continue;
    }
    if (!st.checkpoint_topic_ready) {
      *reason = absl::StrCat("pipeline '", st.name, "': internal topics not ready on the target yet",
                             st.last_error.empty() ? "" : absl::StrCat(" (", st.last_error, ")"));
      return false;
    }
    if (!st.target_reachable) {
      *reason = absl::StrCat("pipeline '", st.name, "': target cluster not reachable");
      return false;
    }
    if (!st.lane_group_joined) {
      *reason = absl::StrCat("pipeline '", st.name, "': not yet a member of its lane group");
      return false;
    }
  }
  return true;
}

namespace {

void AppendLink(std::string* out, const mirror::LinkStatus& l) {
  out->append("{\"name\":");
  AppendString(out, l.name);
  out->append(",\"role\":");
  AppendString(out, l.role);
  out->append(",\"state\":");
  AppendString(out, l.state);
  out->append(",\"peer\":");
  AppendString(out, l.peer);
  out->append(",\"rtt_ms\":");
  if (l.rtt_ms < 0) out->append("null");
  else AppendNumber(out, l.rtt_ms);
  out->append(",\"bytes_in\":").append(std::to_string(l.bytes_in));
  out->append(",\"bytes_out\":").append(std::to_string(l.bytes_out));
  out->append(",\"compression_ratio\":");
  AppendNumber(out, l.compression_ratio);
  if (l.role == "edge") {
    out->append(",\"reconnects\":").append(std::to_string(l.reconnects));
    out->append(",\"buffered_bytes\":").append(std::to_string(l.buffered_bytes));
    out->append(",\"buffer_budget_bytes\":").append(std::to_string(l.buffer_budget_bytes));
  } else {
    out->append(",\"sessions\":").append(std::to_string(l.sessions));
  }
  out->append(",\"last_error\":");
  if (l.last_error.empty()) out->append("null");
  else AppendString(out, l.last_error);
  out->push_back('}');
}

// A hub's edges: connected or since when not, and the backlog each last
// reported (docs/observability.md).
void AppendEdges(std::string* out, const std::vector<mirror::EdgeStatus>& edges) {
  out->append(",\"edges\":[");
  for (size_t i = 0; i < edges.size(); ++i) {
    const mirror::EdgeStatus& e = edges[i];
    if (i) out->push_back(',');
    out->append("{\"name\":");
    AppendString(out, e.name);
    out->append(",\"connected\":").append(e.connected ? "true" : "false");
    out->append(",\"since_ms\":").append(std::to_string(e.since_ms));
    out->append(",\"last_report_ms\":");
    if (e.last_report_ms < 0) out->append("null");
    else out->append(std::to_string(e.last_report_ms));
    out->append(",\"backlog_records\":").append(std::to_string(e.backlog_records));
    out->append(",\"lag_seconds\":");
    AppendNumber(out, e.lag_seconds);
    out->append(",\"lost_records\":").append(std::to_string(e.lost_records));
    out->append(",\"buffered_bytes\":").append(std::to_string(e.buffered_bytes));
    out->append(",\"buffer_budget_bytes\":").append(std::to_string(e.buffer_budget_bytes));
    out->append(",\"partitions\":").append(std::to_string(e.partitions.size()));
    out->push_back('}');
  }
  out->push_back(']');
}

}  // namespace

std::string StatusJson(const std::vector<mirror::PipelineStatus>& pipelines, const std::string& worker_id,
                       double seconds_since_last, const std::vector<int64_t>& records_then,
                       const std::vector<int64_t>& bytes_then) {
  std::string out;
  out.reserve(4096);
  out.append("{\"version\":");
  AppendString(&out, kLonghaulVersion);
  out.append(",\"worker\":");
  AppendString(&out, worker_id);
  out.append(",\"pipelines\":[");
  for (size_t i = 0; i < pipelines.size(); ++i) {
    const auto& st = pipelines[i];
    int64_t records = 0, bytes = 0, lag = 0, filtered = 0;
    double lag_seconds = 0;
    for (const auto& p : st.partitions) {
      records += p.records_total;
      filtered += p.records_filtered;
      bytes += p.bytes_total;
      lag += p.lag_records;
      lag_seconds = std::max(lag_seconds, p.lag_seconds);
    }
    double rate = 0, byte_rate = 0;
    if (seconds_since_last > 0 && i < records_then.size()) {
      rate = std::max<double>(0, (records - records_then[i]) / seconds_since_last);
      byte_rate = std::max<double>(0, (bytes - bytes_then[i]) / seconds_since_last);
    }
    if (i) out.push_back(',');
    out.append("{\"name\":");
    AppendString(&out, st.name);
    out.append(",\"role\":");
    AppendString(&out, st.role);
    out.append(",\"link\":");
    if (st.link) AppendLink(&out, *st.link);
    else out.append("null");
    out.append(",\"state\":");
    AppendString(&out, PipelineState(st));
    out.append(",\"delivery\":");
    AppendString(&out, st.delivery);
    out.append(",\"lanes_total\":").append(std::to_string(st.lanes_total));
    out.append(",\"lanes_owned\":[");
    for (size_t j = 0; j < st.lanes_owned.size(); ++j) {
      if (j) out.push_back(',');
      out.append(std::to_string(st.lanes_owned[j]));
    }
    out.append("],\"lag_records\":").append(std::to_string(lag));
    out.append(",\"lag_seconds\":");
    AppendNumber(&out, lag_seconds);
    out.append(",\"records_per_second\":");
    AppendNumber(&out, rate);
    out.append(",\"bytes_per_second\":");
    AppendNumber(&out, byte_rate);
    out.append(",\"records_total\":").append(std::to_string(records));
    out.append(",\"records_filtered\":").append(std::to_string(filtered));
    out.append(",\"target_reachable\":").append(st.target_reachable ? "true" : "false");
    out.append(",\"last_error\":");
    if (st.last_error.empty()) out.append("null");
    else AppendString(&out, st.last_error);
    if (st.role == "hub") AppendEdges(&out, st.edges);
    out.append(",\"partitions\":[");
    for (size_t j = 0; j < st.partitions.size(); ++j) {
      const auto& p = st.partitions[j];
      if (j) out.push_back(',');
      out.append("{\"topic\":");
      AppendString(&out, p.topic);
      if (!p.edge.empty()) {
        out.append(",\"edge\":");
        AppendString(&out, p.edge);
      }
      out.append(",\"target_topic\":");
      AppendString(&out, p.target_topic);
      out.append(",\"partition\":").append(std::to_string(p.partition));
      out.append(",\"lane\":").append(std::to_string(p.lane));
      out.append(",\"state\":");
      AppendString(&out, p.state);
      out.append(",\"source_end_offset\":").append(std::to_string(p.source_end_offset));
      out.append(",\"replicated_offset\":").append(std::to_string(p.replicated_offset));
      out.append(",\"lag_records\":").append(std::to_string(p.lag_records));
      out.append(",\"lag_seconds\":");
      AppendNumber(&out, p.lag_seconds);
      out.append(",\"records_total\":").append(std::to_string(p.records_total));
      out.append(",\"records_filtered\":").append(std::to_string(p.records_filtered));
      if (st.role == "edge") out.append(",\"sent_offset\":").append(std::to_string(p.sent_offset));
      out.append(",\"error\":");
      if (p.error.empty()) out.append("null");
      else AppendString(&out, p.error);
      // The newest range of source records lost before they were copied
      // (inclusive offsets, as an operator reads them), and the count.
      out.append(",\"source_gap\":");
      if (p.source_gap_records == 0 && p.source_gap_end <= p.source_gap_first) {
        out.append("null");
      } else {
        out.append("{\"records_total\":").append(std::to_string(p.source_gap_records));
        if (p.source_gap_end > p.source_gap_first) {
          out.append(",\"first_offset\":").append(std::to_string(p.source_gap_first));
          out.append(",\"last_offset\":").append(std::to_string(p.source_gap_end - 1));
        }
        out.push_back('}');
      }
      out.append(",\"retention_remaining_seconds\":");
      if (p.retention_remaining_seconds < 0) out.append("null");
      else AppendNumber(&out, p.retention_remaining_seconds);
      out.push_back('}');
    }
    out.append("]}");
  }
  // The process's link at a glance: its edge's when it runs one (the
  // direction data flows), else its hub's; each pipeline carries its own.
  const mirror::LinkStatus* link = nullptr;
  for (const auto& st : pipelines) {
    if (st.link && (link == nullptr || (st.link->role == "edge" && link->role != "edge"))) link = &*st.link;
  }
  out.append("],\"link\":");
  if (link) AppendLink(&out, *link);
  else out.append("null");
  out.push_back('}');
  return out;
}

}  // namespace longhaul::gateway
