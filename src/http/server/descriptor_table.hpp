// reserve_descriptor_table: Linux grows a process's descriptor table by
// doubling it when a new descriptor does not fit, and in a process with
// several threads each growth waits for an RCU grace period: the thread
// that opens the socket stalls for several milliseconds (measured here: 9 to
// 13 ms in socket() at descriptors 256 and 512). A gateway opening
// connections under load would stall a worker, and every call on it, at
// each doubling. Growing the table once at start-up moves that cost out of
// the traffic.
#pragma once

#include <cstddef>

namespace tailcut::http::detail {

// The most reserved: the table costs about 8 bytes per descriptor.
inline constexpr std::size_t max_reserved_descriptors = 65536;

// Makes room for `descriptors` descriptors (at most the open-files limit
// and max_reserved_descriptors). Best effort: failures are ignored.
void reserve_descriptor_table(std::size_t descriptors);

}  // namespace tailcut::http::detail
