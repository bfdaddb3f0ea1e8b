// Private to longhaul_transport: the HTTP CONNECT handshake that opens a
// tunnel through a forward proxy (the edge may only be allowed out through
// one). Templated on the stream so that the unit tests drive it over
// boost::beast::test::stream with fail_count.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace longhaul::transport {

// The verdict on a proxy's answer to "CONNECT target" once its header is
// parsed, `leftover` bytes having come after it (see HttpConnectTunnel).
inline absl::Status ConnectAnswerStatus(const boost::beast::http::response_header<>& response, size_t leftover,
                                        const std::string& target) {
  const unsigned status = response.result_int();
  if (status == 407) {
    return absl::PermissionDeniedError(absl::StrCat("proxy CONNECT ", target, ": 407 ", std::string(response.reason()),
                                                    " (check the proxy authorization)"));
  }
  if (status < 200 || status > 299) {
    return absl::UnavailableError(
        absl::StrCat("proxy CONNECT ", target, ": refused with ", status, " ", std::string(response.reason())));
  }
  if (leftover != 0) {
    // We speak first in the tunnel (TLS client hello): nothing may be here.
    return absl::UnavailableError(
        absl::StrCat("proxy CONNECT ", target, ": ", leftover, " unexpected bytes after the answer"));
  }
  return absl::OkStatus();
}

// The parser HttpConnectTunnel reads the answer with (and the fuzz target
// feeds): header only, since a CONNECT answer has no body.
inline void PrepareConnectAnswerParser(boost::beast::http::response_parser<boost::beast::http::empty_body>& parser) {
  parser.skip(true);
  parser.header_limit(16 * 1024);
}

// Writes "CONNECT host:port" (with Proxy-Authorization when `authorization`
// is set) and reads the proxy's answer. OK on a 2xx; PermissionDenied on
// 407 (credentials), Unavailable on any other status or I/O error; every
// message starts with "proxy " and names the target. Leaves `stream`
// positioned at the start of the tunnel.
template <class Stream>
boost::asio::awaitable<absl::Status> HttpConnectTunnel(Stream& stream, std::string host, uint16_t port,
                                                       std::string authorization) {
  namespace http = boost::beast::http;
  constexpr auto kNoThrow = boost::asio::as_tuple(boost::asio::use_awaitable);
  const std::string target = absl::StrCat(host, ":", port);
  http::request<http::empty_body> request{http::verb::connect, target, 11};
  request.set(http::field::host, target);
  request.set(http::field::user_agent, "longhaul-edge");
  if (!authorization.empty()) request.set(http::field::proxy_authorization, authorization);
  auto [write_error, written] = co_await http::async_write(stream, request, kNoThrow);
  if (write_error) {
    co_return absl::UnavailableError(absl::StrCat("proxy CONNECT ", target, ": writing the request: ", write_error.message()));
  }
  boost::beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  PrepareConnectAnswerParser(parser);  // a CONNECT answer has no body: the tunnel follows
  auto [read_error, read] = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
  if (read_error) {
    co_return absl::UnavailableError(
        absl::StrCat("proxy CONNECT ", target, ": reading the answer: ", read_error.message()));
  }
  co_return ConnectAnswerStatus(parser.get(), buffer.size(), target);
}

}  // namespace longhaul::transport
