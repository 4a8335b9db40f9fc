// The one translation unit that compiles Asio (with its OpenSSL layer) and Beast (BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION are defined on ticketd_http_server), so every other file that
// includes them only sees declarations and builds faster.
//
// Only third-party code lives here. GCC 12 with -fsanitize reports a false -Wmaybe-uninitialized
// inside Beast's basic_parser (boost::optional body limit) at an inlining site in this file, where
// the system-header exemption no longer applies; -Werror would fail the sanitizer builds on it.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// Asio's std::atomic_thread_fence: see server.cpp.
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
