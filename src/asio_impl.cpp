// The one translation unit that compiles Asio, Asio SSL and Beast
// (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION), so
// that the other TUs only parse their declarations.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>

// Asio allocates with plain operator new (see src/CMakeLists.txt), which
// gives the alignment Asio asks for by default.
static_assert(BOOST_ASIO_DEFAULT_ALIGN <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
