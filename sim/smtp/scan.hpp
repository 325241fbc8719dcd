// sim/smtp/scan.hpp: byte scanners for the hot paths of the SMTP machines.
//
// Message bodies are the bulk of what an SMTP session moves; finding line
// ends in them is most of the work of dot-stuffing (client) and of the data
// decoder (server). memchr per line costs a library call and a fixed setup
// for 70-octet lines, so these scan 16 octets at a time with SSE2 (part of
// every x86-64 CPU) and fall back to plain loops elsewhere. Results are the
// same either way; tests run the scalar tails through odd lengths.
//
// Must never: read outside [p, end).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace smtplab::smtp::scan {

// The first CR or LF in [p, end), or end.
inline const char* find_cr_or_lf(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
    if (m != 0) return p + __builtin_ctz(static_cast<unsigned>(m));
    p += 16;
  }
#endif
  while (p < end && *p != '\r' && *p != '\n') ++p;
  return p;
}

// The first LF in s at or after pos, or npos (reply lines).
inline size_t find_lf(std::string_view s, size_t pos) {
  const char* const b = s.data();
  const char* p = b + pos;
  const char* const end = b + s.size();
#if defined(__SSE2__)
  const __m128i lf = _mm_set1_epi8('\n');
  while (end - p >= 16) {
    const int m = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), lf));
    if (m != 0) return static_cast<size_t>(p - b) + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(m)));
    p += 16;
  }
#endif
  for (; p < end; ++p)
    if (*p == '\n') return static_cast<size_t>(p - b);
  return std::string_view::npos;
}

// True when `s` holds a CR or LF (command lines, reply texts).
inline bool has_cr_or_lf(std::string_view s) { return find_cr_or_lf(s.data(), s.data() + s.size()) != s.data() + s.size(); }

// s.find(c, pos) for short strings (command lines, reply lines): a plain
// loop, where the library calls memchr with its fixed setup cost.
inline size_t find_byte(std::string_view s, char c, size_t pos = 0) {
  for (size_t i = pos; i < s.size(); ++i)
    if (s[i] == c) return i;
  return std::string_view::npos;
}

// What a client needs to know about a message before MAIL FROM.
struct ContentFacts {
  int64_t crlf_size = 0;    // octets once every LF not preceded by CR travels as CRLF (SIZE=, RFC 1870)
  bool eight_bit = false;   // any octet >= 128 (needs 8BITMIME, RFC 6152)
  bool crlf_clean = false;  // every CR is followed by LF and every LF preceded by CR
  bool dot_line = false;    // some line starts with "." (dot-stuffing will change it)
};

// One pass over the content.
inline ContentFacts content_facts(std::string_view s) {
  const char* p = s.data();
  const char* const end = p + s.size();
  int64_t bare_lf = 0;
  bool bare_cr = false;
  bool prev_cr = false;  // the octet before p is a CR
  bool prev_lf = true;   // the octet before p ends a line (the start counts as one)
  bool dot_line = false;
  unsigned high = 0;
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i dot = _mm_set1_epi8('.');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    high |= static_cast<unsigned>(_mm_movemask_epi8(v));  // the top bit of every octet
    const __m128i lfv = _mm_cmpeq_epi8(v, lf), crv = _mm_cmpeq_epi8(v, cr), dotv = _mm_cmpeq_epi8(v, dot);
    if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(lfv, crv), dotv)) == 0) {  // most blocks: plain text
      prev_cr = prev_lf = false;
      p += 16;
      continue;
    }
    const unsigned lfm = static_cast<unsigned>(_mm_movemask_epi8(lfv));
    const unsigned crm = static_cast<unsigned>(_mm_movemask_epi8(crv));
    const unsigned dotm = static_cast<unsigned>(_mm_movemask_epi8(dotv));
    if ((lfm | crm) != 0) {
      // An LF without a CR just before it; a CR without an LF just after it
      // (for the last octet, the LF would be the next block's first).
      const unsigned lone_lf = lfm & ~(((crm << 1) | (prev_cr ? 1u : 0u)) & 0xFFFFu);
      if (lone_lf != 0) bare_lf += __builtin_popcount(lone_lf);  // rare: no popcount otherwise
      const unsigned lf_after = (lfm >> 1) | (end - p > 16 && p[16] == '\n' ? 0x8000u : 0u);
      if ((crm & ~lf_after) != 0) bare_cr = true;
    }
    if (dotm != 0 && (dotm & (((lfm << 1) | (prev_lf ? 1u : 0u)) & 0xFFFFu)) != 0) dot_line = true;
    prev_cr = p[15] == '\r';
    prev_lf = p[15] == '\n';
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    high |= c & 0x80u;
    if (c == '\n' && !prev_cr) ++bare_lf;
    if (c == '\r' && (p + 1 == end || p[1] != '\n')) bare_cr = true;
    if (c == '.' && prev_lf) dot_line = true;
    prev_cr = c == '\r';
    prev_lf = c == '\n';
  }
  return ContentFacts{static_cast<int64_t>(s.size()) + bare_lf, high != 0, bare_lf == 0 && !bare_cr, dot_line};
}

}  // namespace smtplab::smtp::scan
