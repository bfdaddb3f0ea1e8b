// The pipeline graph of one config: clusters are its nodes, pipelines its
// edges. The loader uses it to resolve `provenance: auto` (on for pipelines
// on a cycle) and to refuse cycles that nothing would stop: records copied
// round and round (active/active without provenance, or renames and topic
// filters that let a copy be selected again). Pure; no Kafka involved.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "longhaul/config/config.h"

namespace longhaul::config {

// Names of the pipelines that lie on a cycle: from their target cluster,
// following pipelines, their source cluster can be reached again.
std::set<std::string> PipelinesOnCycles(const std::map<std::string, PipelineConfig>& pipelines);

// A cycle of pipelines along which some record would come back to the
// cluster it started from (or, for a pipeline whose source is its target,
// be copied again by the same pipeline).
struct OpenCycle {
  // In the order a record travels, starting with the pipeline it crosses first.
  std::vector<std::string> pipelines;
  // The example record's way round, e.g.
  // "'orders' on 'a' -> 'orders' on 'b' (a-to-b) -> 'orders' on 'a' (b-to-a)".
  std::string trail;
};

// Walks example records (topic names drawn from the pipelines' include
// patterns, ExampleTopicNames) round every simple cycle, through each
// pipeline's topic filter, rename and provenance rule (a record whose
// provenance header names a pipeline's target is not written there), and
// returns one OpenCycle per cycle some example gets round. Pipelines with an
// empty source or target (an earlier config error) are left out. At most
// 256 cycles of at most 16 pipelines are walked.
std::vector<OpenCycle> FindOpenCycles(const std::map<std::string, PipelineConfig>& pipelines);

// Topic names `pattern` (an ECMAScript regex over the whole name) matches,
// made by taking one path through it: each alternative of the top level, the
// first of inner groups, one character per class or wildcard, one occurrence
// per quantifier. Only names the regex really matches are returned; empty
// when none was found (the walk then cannot judge that pattern).
std::vector<std::string> ExampleTopicNames(const std::string& pattern);

}  // namespace longhaul::config
