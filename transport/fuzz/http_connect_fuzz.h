// The fuzz body for the HTTP CONNECT answer a proxy sends the edge: the
// bytes go through the same Beast parser setup and verdict as
// HttpConnectTunnel (http_connect.h), without sockets or coroutines. Shared
// by the libFuzzer entry (http_connect_fuzz_main.cc) and a g++ unit test.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "http_connect.h"
#include "longhaul/base/check.h"

namespace longhaul::transport::fuzz {

// Returns 1 when the answer opened the tunnel.
inline int FuzzConnectAnswer(const uint8_t* data, size_t size) {
  namespace http = boost::beast::http;
  http::response_parser<http::empty_body> parser;
  PrepareConnectAnswerParser(parser);
  size_t used = 0;
  boost::beast::error_code ec;
  // Byte runs of varying size, as reads would deliver them.
  while (used < size && !parser.is_header_done()) {
    const size_t chunk = std::min<size_t>(size - used, 1 + data[used] % 64);
    const size_t n = parser.put(boost::asio::buffer(data + used, chunk), ec);
    if (ec == http::error::need_more) {
      if (chunk == size - used) return 0;  // the answer ends early
      // Beast wants the whole header in one buffer: offer more next time.
      const size_t all = parser.put(boost::asio::buffer(data + used, size - used), ec);
      if (ec && ec != http::error::need_more) return 0;
      if (ec == http::error::need_more) return 0;
      used += all;
      break;
    }
    if (ec) return 0;
    used += n;
  }
  if (!parser.is_header_done()) return 0;
  const absl::Status status = ConnectAnswerStatus(parser.get(), size - used, "hub:443");
  LH_CHECK(status.ok() || absl::StartsWith(status.message(), "proxy CONNECT hub:443: "));
  if (status.ok()) LH_CHECK(parser.get().result_int() >= 200 && parser.get().result_int() <= 299 && used == size);
  return status.ok() ? 1 : 0;
}

}  // namespace longhaul::transport::fuzz
