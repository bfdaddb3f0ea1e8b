// A raw link client for hostile-edge tests: it dials a hub over TLS 1.3 and
// WebSocket with a real (valid) client certificate, then sends whatever
// frames or bytes a test gives it, in any order, and reads what the hub
// answers. Frames are made with the transport's own encoder (EncodeFrame,
// EncodeRecords); a test that needs bytes the encoder refuses to make
// patches an encoded frame and re-seals its checksum (Reseal).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "longhaul/transport/crc32c.h"
#include "longhaul/transport/frame.h"

namespace longhaul::testing {

class RawEdgeConnection {
 public:
  struct Options {
    int port = 0;            // the hub, on 127.0.0.1
    std::string from = "127.0.0.2";  // our own loopback address: the hub's per-address limits hit us alone
    std::string ca_file, cert_file, key_file;
    std::string server_name = "localhost";
    std::string path = "/longhaul/v1";
    int receive_buffer_bytes = 0;  // SO_RCVBUF before connect (0: the kernel's)
  };

  // TCP, TLS and the WebSocket upgrade, each within `timeout`.
  static absl::StatusOr<std::unique_ptr<RawEdgeConnection>> Dial(const Options& options,
                                                                 std::chrono::milliseconds timeout) {
    // The certificate goes into the context before the stream exists:
    // OpenSSL copies it into each connection when the connection is made.
    boost::asio::ssl::context ssl(boost::asio::ssl::context::tls_client);
    boost::system::error_code ec;
    SSL_CTX_set_min_proto_version(ssl.native_handle(), TLS1_3_VERSION);
    ssl.load_verify_file(options.ca_file, ec);
    if (!ec) ssl.use_certificate_chain_file(options.cert_file, ec);
    if (!ec) ssl.use_private_key_file(options.key_file, boost::asio::ssl::context::pem, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("client certificate files: ", ec.message()));
    ssl.set_verify_mode(boost::asio::ssl::verify_peer);
    std::unique_ptr<RawEdgeConnection> c(new RawEdgeConnection(std::move(ssl)));
    if (absl::Status s = c->Open(options, timeout); !s.ok()) return s;
    return c;
  }

  ~RawEdgeConnection() {
    boost::system::error_code ignored;
    boost::beast::get_lowest_layer(ws_).close(ignored);
  }

  absl::Status Send(const transport::Frame& frame, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return SendBytes(transport::EncodeFrame(frame), timeout);
  }

  absl::Status SendBytes(const std::string& bytes, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto ec = Run([&](auto done) { ws_.async_write(boost::asio::buffer(bytes), done); }, timeout);
    if (ec) return absl::UnavailableError(absl::StrCat("sending a frame to the hub: ", ec.message()));
    return absl::OkStatus();
  }

  // The next frame the hub sends; Unavailable once the connection ended,
  // DeadlineExceeded when nothing came in time.
  absl::StatusOr<transport::Frame> Read(std::chrono::milliseconds timeout) {
    boost::beast::flat_buffer buffer;
    auto ec = Run([&](auto done) { ws_.async_read(buffer, done); }, timeout);
    if (ec == boost::asio::error::timed_out) return absl::DeadlineExceededError("no frame from the hub in time");
    if (ec) return absl::UnavailableError(absl::StrCat("the hub ended the connection: ", ec.message()));
    return transport::DecodeFrame(
        std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()));
  }

  // Sends hello and reads until the resume (credit frames are skipped);
  // an error frame from the hub comes back as its status.
  absl::StatusOr<transport::ResumeFrame> Hello(const transport::HelloFrame& hello, std::chrono::milliseconds timeout) {
    if (absl::Status s = Send(hello); !s.ok()) return s;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      absl::StatusOr<transport::Frame> f = Read(Left(deadline));
      if (!f.ok()) return f.status();
      if (auto* resume = std::get_if<transport::ResumeFrame>(&*f)) return *resume;
      if (auto* error = std::get_if<transport::ErrorFrame>(&*f)) return absl::Status(error->code, error->message);
    }
  }

  // Reads until the ack that names `batch_id`; an error frame comes back as
  // its status.
  absl::StatusOr<transport::AckFrame> AwaitAck(uint64_t batch_id, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      absl::StatusOr<transport::Frame> f = Read(Left(deadline));
      if (!f.ok()) return f.status();
      if (auto* ack = std::get_if<transport::AckFrame>(&*f)) {
        for (uint64_t id : ack->batch_ids) {
          if (id == batch_id) return *ack;
        }
      }
      if (auto* error = std::get_if<transport::ErrorFrame>(&*f)) return absl::Status(error->code, error->message);
    }
  }

  // Reads until the hub's error frame (skipping acks, credit, pongs): the
  // error it closed the connection with. NotFound when the connection ended
  // without one, DeadlineExceeded when nothing ended it in time.
  absl::StatusOr<transport::ErrorFrame> AwaitError(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      absl::StatusOr<transport::Frame> f = Read(Left(deadline));
      if (!f.ok()) {
        if (absl::IsUnavailable(f.status())) return absl::NotFoundError(f.status().message());
        return f.status();
      }
      if (auto* error = std::get_if<transport::ErrorFrame>(&*f)) return *error;
    }
  }

 private:
  explicit RawEdgeConnection(boost::asio::ssl::context ssl) : ssl_(std::move(ssl)), ws_(io_, ssl_) {}

  static std::chrono::milliseconds Left(std::chrono::steady_clock::time_point deadline) {
    return std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      deadline - std::chrono::steady_clock::now()));
  }

  // Runs one asynchronous operation for at most `timeout`; past it the
  // connection is closed (it is of no further use) and timed_out returned.
  template <typename Start>
  boost::system::error_code Run(Start start, std::chrono::milliseconds timeout) {
    std::optional<boost::system::error_code> result;
    struct Done {
      std::optional<boost::system::error_code>* result;
      void operator()(boost::system::error_code ec) const { *result = ec; }
      void operator()(boost::system::error_code ec, size_t) const { *result = ec; }
    };
    start(Done{&result});
    io_.restart();
    io_.run_for(timeout);
    if (result) return *result;
    boost::system::error_code ignored;
    boost::beast::get_lowest_layer(ws_).close(ignored);
    io_.restart();
    io_.run_for(std::chrono::seconds(5));
    return boost::asio::error::timed_out;
  }

  absl::Status Open(const Options& o, std::chrono::milliseconds timeout) {
    namespace asio = boost::asio;
    namespace ssl = asio::ssl;
    boost::system::error_code ec;
    auto& socket = boost::beast::get_lowest_layer(ws_);
    socket.open(asio::ip::tcp::v4(), ec);
    if (o.receive_buffer_bytes > 0 && !ec) socket.set_option(asio::socket_base::receive_buffer_size(o.receive_buffer_bytes), ec);
    if (!ec) socket.bind(asio::ip::tcp::endpoint(asio::ip::make_address(o.from), 0), ec);
    if (!ec) {
      socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(o.port)),
                     ec);
    }
    if (ec) return absl::UnavailableError(absl::StrCat("connecting from ", o.from, " to the hub: ", ec.message()));

    SSL_set_tlsext_host_name(ws_.next_layer().native_handle(), o.server_name.c_str());
    ws_.next_layer().set_verify_callback(ssl::host_name_verification(o.server_name));
    ec = Run([&](auto done) { ws_.next_layer().async_handshake(ssl::stream_base::client, done); }, timeout);
    if (ec) return absl::UnavailableError(absl::StrCat("TLS handshake with the hub: ", ec.message()));
    ws_.binary(true);
    ws_.read_message_max(transport::kDefaultMaxFrameBytes);
    ec = Run([&](auto done) { ws_.async_handshake(o.server_name, o.path, done); }, timeout);
    if (ec) return absl::UnavailableError(absl::StrCat("WebSocket upgrade at the hub: ", ec.message()));
    return absl::OkStatus();
  }

  boost::asio::io_context io_;
  boost::asio::ssl::context ssl_;
  boost::beast::websocket::stream<boost::beast::ssl_stream<boost::asio::ip::tcp::socket>> ws_;
};

// After a test changed bytes of an encoded frame: the checksum over the
// header and payload again, so the frame reaches the field decoder (which
// must refuse it) rather than failing at the checksum.
inline void Reseal(std::string* frame) {
  const size_t body = frame->size() - transport::kFrameTrailerBytes;
  const uint32_t crc = transport::Crc32c(std::string_view(*frame).substr(0, body));
  for (int i = 0; i < 4; ++i) (*frame)[body + i] = static_cast<char>(crc >> (24 - 8 * i));
}

}  // namespace longhaul::testing
