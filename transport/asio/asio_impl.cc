// The one translation unit that compiles Boost.Asio (with its SSL part) and
// Boost.Beast, as the library longhaul_asio (transport/CMakeLists.txt).
// Everything else includes their headers with BOOST_ASIO_SEPARATE_COMPILATION
// and BOOST_BEAST_SEPARATE_COMPILATION (PUBLIC definitions of longhaul_asio,
// inherited by transport and gateway), so the heavy implementation is built
// once instead of in every file that uses a socket.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
