// The one translation unit that compiles Asio, Asio's SSL and Beast
// (BOOST_*_SEPARATE_COMPILATION is defined project-wide).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
