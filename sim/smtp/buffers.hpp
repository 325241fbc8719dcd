// sim/smtp/buffers.hpp: how the SMTP machines give back buffer capacity.
//
// Must never: depend on the trace, the engine or any transport (the reply
// parser uses it too).
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>
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

// Output buffers go further: a session's output is handed over and emptied
// after every step, so between events it holds nothing at all. Small
// storage is parked in one spare per thread and buffer type (shared by every
// session driven on that thread) and taken back by the next step that
// writes, so the usual short exchange still reuses storage instead of
// allocating, while 10,000 idle sessions hold no output buffer between them.
template <class B>
B& spare_buffer() {
  thread_local B spare;
  return spare;
}
// Capacity that owns no heap storage: 0 for a vector; for a string, what
// libstdc++ holds inline (with another library a few more octets may count
// as owned: they are parked, harmlessly).
template <class B>
inline constexpr size_t kInlineCapacity = std::is_same_v<B, std::string> ? 15 : 0;

// Empties `b`: storage of at most `keep` (capacity units of B) goes to the
// spare when the spare has less, larger storage is released. Cheap when `b`
// owns no storage (an empty vector, a short string): nothing to park.
template <class B>
void park_owned_buffer(B& b, size_t keep) {
  b.clear();
  if (b.capacity() <= keep) {
    B& spare = spare_buffer<B>();
    if (spare.capacity() < b.capacity()) {
      spare.swap(b);
      if (b.capacity() <= kInlineCapacity<B>) return;
    }
  }
  B().swap(b);
}
template <class B>
inline void park_buffer(B& b, size_t keep) {
  if (b.capacity() > kInlineCapacity<B>) park_owned_buffer(b, keep);
  else b.clear();
}
// Before writing: an empty `b` without storage of its own takes the spare's.
template <class B>
inline void unpark_buffer(B& b) {
  if (b.capacity() > kInlineCapacity<B> || !b.empty()) return;
  B& spare = spare_buffer<B>();
  if (spare.capacity() > kInlineCapacity<B>) b.swap(spare);
}

}  // namespace smtplab::smtp
