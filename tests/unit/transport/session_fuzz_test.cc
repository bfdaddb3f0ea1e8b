// Runs the libFuzzer bodies for the hub session engine and the HTTP CONNECT
// answer (transport/fuzz/*_fuzz.h) under g++: over the committed seed
// corpora, then over random step sequences / mutations for a bounded number
// of iterations. Nothing may crash or break the checked promises.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "http_connect_fuzz.h"
#include "hub_engine_fuzz.h"

namespace longhaul::transport {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Seeds(const std::string& name) {
  const fs::path root(LONGHAUL_SOURCE_DIR);
  std::vector<std::string> seeds;
  for (const auto& entry : fs::directory_iterator(root / "transport" / "fuzz" / "corpus" / name)) {
    std::ifstream in(entry.path(), std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return seeds;
}

void Mutate(std::mt19937_64& rng, std::string* input) {
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !input->empty(); ++e) {
    const size_t at = rng() % input->size();
    switch (rng() % 4) {
      case 0: (*input)[at] = static_cast<char>(rng()); break;
      case 1: input->insert(at, 1, static_cast<char>(rng())); break;
      case 2: input->erase(at, 1); break;
      default: input->append(input->substr(at, rng() % 16)); break;
    }
  }
}

int Feed(int (*body)(const uint8_t*, size_t), const std::string& input) {
  return body(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

TEST(HubEngineFuzz, SurvivesSeedsAndRandomSequencesOfFramesAndHandlerCalls) {
  const std::vector<std::string> seeds = Seeds("hub_engine_fuzz");
  ASSERT_GE(seeds.size(), 5u);
  for (const std::string& s : seeds) Feed(fuzz::FuzzHubEngine, s);
  std::mt19937_64 rng(17);
  int closed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string input = seeds[rng() % seeds.size()];
    Mutate(rng, &input);
    closed += Feed(fuzz::FuzzHubEngine, input);
  }
  EXPECT_GT(closed, 100);  // mutations reached the engine's refusals
}

TEST(HttpConnectFuzz, SurvivesSeedsAndMutatedProxyAnswers) {
  const std::vector<std::string> seeds = Seeds("http_connect_fuzz");
  ASSERT_GE(seeds.size(), 5u);
  int opened = 0;
  for (const std::string& s : seeds) opened += Feed(fuzz::FuzzConnectAnswer, s);
  EXPECT_EQ(opened, 2);  // the two clean 200 answers
  std::mt19937_64 rng(23);
  for (int i = 0; i < 20000; ++i) {
    std::string input = seeds[rng() % seeds.size()];
    Mutate(rng, &input);
    Feed(fuzz::FuzzConnectAnswer, input);
  }
}

}  // namespace
}  // namespace longhaul::transport
