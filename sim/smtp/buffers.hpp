// sim/smtp/buffers.hpp: how the SMTP machines give back buffer capacity.
//
// Must never: depend on the trace, the engine or any transport (the reply
// parser uses it too).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace smtplab::smtp {

// A session holds its buffers between events, so every byte of capacity
// counts once per live connection. Buffers that grew for one large write or
// read (a message body) are given back when emptied: those bytes have gone to
// the network or to the policy, and the next command or reply needs little.
// Small ones are kept, so the usual short exchange reuses them.
inline constexpr size_t kKeptBufferCapacity = 128;

// Empties `s`, releasing its storage when it grew beyond `keep` octets.
inline void clear_buffer(std::string& s, size_t keep = kKeptBufferCapacity) {
  if (s.capacity() > keep) std::string().swap(s);
  else s.clear();
}
// Empties `v`, releasing its storage when it grew beyond `keep` elements.
template <class T>
void clear_vector(std::vector<T>& v, size_t keep) {
  if (v.capacity() > keep) std::vector<T>().swap(v);
  else v.clear();
}

}  // namespace smtplab::smtp
