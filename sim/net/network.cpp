// sim/net/network.cpp: hosts, links, routing, packets, UDP and the TCP model.
//
// Invariants:
//   - A packet's fate (lost on which hop, or its arrival time) is decided when
//     it is sent, hop by hop, from per-link named RNG streams; a destination
//     that is down when the packet arrives loses it then. One engine event per
//     packet, whatever the path length.
//   - Per link direction, departures are FIFO (busy_until): serialisation
//     delay queues packets behind each other, as on a real interface.
//   - Connections and packets live in recycled slots (index + generation) of
//     chunked slabs: references stay valid while handlers open connections.
//     A connection is found through an open-addressing table of the 4-tuple:
//     O(1) per segment, no heap node per connection. Send buffers and
//     payloads borrow heap buffers from small pools by size class and
//     return them when empty (or free them when the pool has enough idle):
//     memory follows the bytes in flight.
//   - Connection deadlines (RTO, FIN-WAIT-2) sit in one min-heap with one
//     engine event for the earliest; TIME-WAIT entries expire lazily.
//   - A handler's sends and close on its own connection, issued inside a
//     callback, go out when the callback returns (InCallback).
//   - Sequence-number comparisons are modulo 2^32 (RFC 9293 3.4).
#include "sim/net/network.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <new>
#include <cstdio>
#include <tuple>
#include <limits>
#include <queue>
#include <stdexcept>
#include <unordered_map>

#include "sim/engine/rng.hpp"

namespace smtplab {

// ---------------------------------------------------------------- addresses

std::optional<Ipv4> parse_ipv4(std::string_view s) {
  Ipv4 out = 0;
  int parts = 0;
  size_t i = 0;
  while (parts < 4) {
    size_t j = i;
    uint32_t v = 0;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9' && j - i < 3) v = v * 10 + static_cast<uint32_t>(s[j++] - '0');
    if (j == i || v > 255) return std::nullopt;
    if (j - i > 1 && s[i] == '0') return std::nullopt;
    out = (out << 8) | v;
    ++parts;
    if (parts == 4) {
      if (j != s.size()) return std::nullopt;
      break;
    }
    if (j >= s.size() || s[j] != '.') return std::nullopt;
    i = j + 1;
  }
  return out;
}

std::string format_ipv4(Ipv4 a) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", (a >> 24) & 255u, (a >> 16) & 255u, (a >> 8) & 255u, a & 255u);
  return buf;
}

std::string_view close_reason_name(CloseReason r) {
  switch (r) {
    case CloseReason::normal: return "normal";
    case CloseReason::reset: return "reset";
    case CloseReason::refused: return "refused";
    case CloseReason::timeout: return "timeout";
  }
  return "?";
}

LinkParams link_params(const Link& l) {
  LinkParams p;
  p.latency = l.latency;
  p.bandwidth_bps = l.bandwidth_bps;
  p.loss = l.loss;
  p.jitter = l.jitter;
  p.reorder = l.reorder;
  p.burst = l.burst;
  p.up = l.up;
  return p;
}

std::vector<std::string> scenario_addresses(const Scenario& sc) {
  std::vector<std::string> out;
  std::unordered_map<std::string, bool> used;
  for (const Host& h : sc.hosts)
    if (!h.address.empty()) used[h.address] = true;
  uint32_t counter = 0;
  auto next_free = [&]() {
    for (;;) {
      const uint32_t k = counter++;
      Ipv4 a;
      // RFC 5737 documentation ranges first (hosts .1 - .254), then 10/8.
      if (k < 254) a = 0xC0000200u + k + 1;                    // 192.0.2.x
      else if (k < 508) a = 0xC6336400u + (k - 254) + 1;       // 198.51.100.x
      else if (k < 762) a = 0xCB007100u + (k - 508) + 1;       // 203.0.113.x
      else a = 0x0A000000u + (k - 762) + 1;                    // 10.0.0.1 ...
      std::string s = format_ipv4(a);
      if (!used.count(s)) {
        used[s] = true;
        return s;
      }
    }
  };
  bool have_internet = false;
  for (const Host& h : sc.hosts) {
    out.push_back(h.address.empty() ? next_free() : h.address);
    have_internet = have_internet || h.name == "internet";
  }
  if (!have_internet) out.push_back(next_free());
  return out;
}

// ---------------------------------------------------------------- internals

namespace {

enum : uint8_t { kFin = 1, kSyn = 2, kRst = 4, kPsh = 8, kAck = 16 };
enum : uint8_t { kProtoTcp = 6, kProtoUdp = 17 };

enum class St : uint8_t { free, syn_sent, syn_rcvd, established, fin_wait_1, fin_wait_2, close_wait, closing, last_ack, time_wait };

inline bool seq_lt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }
inline bool seq_le(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) <= 0; }
inline bool seq_gt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) > 0; }

std::string flag_text(uint8_t f) {
  std::string s;
  auto add = [&](uint8_t bit, const char* name) {
    if (f & bit) s += (s.empty() ? "" : ","), s += name;
  };
  add(kSyn, "SYN");
  add(kFin, "FIN");
  add(kRst, "RST");
  add(kPsh, "PSH");
  add(kAck, "ACK");
  return s;
}

struct ConnKey {
  Ipv4 laddr, raddr;
  uint16_t lport, rport;
  bool operator==(const ConnKey&) const = default;
};
struct ConnKeyHash {
  size_t operator()(const ConnKey& k) const {
    uint64_t x = (uint64_t{k.laddr} << 32 | k.raddr) ^ ((uint64_t{k.lport} << 16 | k.rport) * 0x9E3779B97F4A7C15ULL);
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 32;
    return static_cast<size_t>(x);
  }
};

struct OooSeg {
  uint32_t seq;
  bool fin;
  std::string data;
};

// Bytes in 8 bytes (a std::string takes 32): one heap block whose 12-byte
// header holds the end, the capacity and the offset of the first byte still
// held, each 32-bit (a buffer over 4 GiB throws std::length_error); no block
// while empty. A connection's send buffer drops acknowledged bytes
// from the front (consume); a packet's payload is assigned once. Blocks are
// lent from the network's pools (Impl::take_buf / give_buf).
class Bytes {
 public:
  Bytes() = default;
  Bytes(const Bytes&) = delete;
  Bytes& operator=(const Bytes&) = delete;
  Bytes(Bytes&& o) noexcept : b_(o.b_) { o.b_ = nullptr; }
  Bytes& operator=(Bytes&& o) noexcept {
    std::swap(b_, o.b_);
    return *this;
  }
  ~Bytes() { std::free(b_); }

  bool has_block() const { return b_ != nullptr; }
  size_t capacity() const { return b_ ? b_->cap : 0; }
  size_t heap_bytes() const { return b_ ? sizeof(Head) + b_->cap : 0; }
  size_t size() const { return b_ ? b_->end - b_->off : 0; }
  bool empty() const { return size() == 0; }
  const char* data() const { return b_ ? bytes() + b_->off : nullptr; }
  std::string_view view() const { return b_ ? std::string_view(bytes() + b_->off, b_->end - b_->off) : std::string_view(); }
  void assign(std::string_view v) {
    clear();
    append(v);
  }
  void reserve(size_t n) {
    if (n > capacity()) grow(n);
  }
  void append(std::string_view v) {
    if (v.empty()) return;
    const size_t end = b_ ? b_->end : 0;
    if (end + v.size() > capacity()) grow(end + v.size());
    std::memcpy(bytes() + end, v.data(), v.size());
    b_->end = static_cast<uint32_t>(end + v.size());
  }
  // Drops n bytes from the front (acknowledged ones). Returns true when
  // nothing is left (the caller gives the block back).
  bool consume(size_t n) {
    if (!b_) return true;
    b_->off += static_cast<uint32_t>(n);  // n <= size()
    if (b_->off == b_->end) return true;
    // Compact only when the acknowledged prefix is large and most of the
    // block, as std::string::erase(0, off) did before.
    if (b_->off > 4096 && size_t{b_->off} * 2 > b_->end) {
      std::memmove(bytes(), bytes() + b_->off, b_->end - b_->off);
      b_->end -= b_->off;
      b_->off = 0;
    }
    return false;
  }
  void clear() {
    if (b_) b_->end = b_->off = 0;
  }

 private:
  // 32-bit fields: 12 bytes, not 24, on every block (most hold one short
  // segment, so the header was a quarter of the block).
  struct Head {
    uint32_t end, off, cap;
  };
  static_assert(sizeof(Head) == 12);
  static constexpr size_t kMaxBytes = UINT32_MAX;
  char* bytes() const { return reinterpret_cast<char*>(b_ + 1); }
  void grow(size_t need) {
    if (need > kMaxBytes) throw std::length_error("network: a buffer over 4 GiB");
    // As std::string: at least double, so appends are amortised O(1).
    const size_t cap = std::min<size_t>(std::max<size_t>(need, 2 * capacity()), kMaxBytes);
    void* nb = std::realloc(b_, sizeof(Head) + cap);
    if (!nb) throw std::bad_alloc();
    const bool fresh = b_ == nullptr;
    b_ = static_cast<Head*>(nb);
    if (fresh) b_->end = b_->off = 0;
    b_->cap = static_cast<uint32_t>(cap);
  }
  Head* b_ = nullptr;
};

// Stable-address storage indexed by slot number: fixed-size chunks, so a
// reference survives growth (handlers open connections from inside
// callbacks) and indexing is a shift and a mask, not std::deque's walk.
template <class T>
class Slab {
 public:
  static constexpr uint32_t kShift = 8, kChunk = 1u << kShift;
  T& operator[](uint32_t i) { return chunks_[i >> kShift][i & (kChunk - 1)]; }
  const T& operator[](uint32_t i) const { return chunks_[i >> kShift][i & (kChunk - 1)]; }
  uint32_t size() const { return size_; }
  size_t allocated() const { return chunks_.size() * kChunk; }
  uint32_t grow() {
    if ((size_ >> kShift) == chunks_.size()) chunks_.push_back(std::make_unique<T[]>(kChunk));
    return size_++;
  }
  // For use as a stack (the timer heap): chunks stay allocated.
  bool empty() const { return size_ == 0; }
  void push_back(const T& v) { (*this)[grow()] = v; }
  T& back() { return (*this)[size_ - 1]; }
  void pop_back() { --size_; }

 private:
  std::vector<std::unique_ptr<T[]>> chunks_;
  uint32_t size_ = 0;
};

// Open addressing with linear probing and backward-shift deletion: one probe
// sequence in one flat array, no node per entry (std::unordered_map costs a
// heap node of ~40 bytes plus a bucket per connection). Slot must have
// `ConnKey key`, `bool used() const` and a default state that is unused.
template <class Slot>
class FlatTable {
 public:
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  size_t bytes() const { return slots_.capacity() * sizeof(Slot); }
  Slot* find(const ConnKey& k) {
    if (count_ == 0) return nullptr;
    for (size_t i = ConnKeyHash{}(k) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (!s.used()) return nullptr;
      if (s.key == k) return &s;
    }
  }
  // `k` must be absent. Returns the slot to fill (its key is set).
  Slot& insert(const ConnKey& k) {
    if ((count_ + 1) * 4 > slots_.size() * 3) rehash(slots_.empty() ? 16 : slots_.size() * 2);
    size_t i = ConnKeyHash{}(k) & mask_;
    while (slots_[i].used()) i = (i + 1) & mask_;
    ++count_;
    slots_[i] = Slot{};
    slots_[i].key = k;
    return slots_[i];
  }
  void erase(Slot* s) {
    size_t hole = static_cast<size_t>(s - slots_.data());
    --count_;
    // Backward shift: pull later members of the probe run into the hole.
    for (size_t j = (hole + 1) & mask_; slots_[j].used(); j = (j + 1) & mask_) {
      const size_t home = ConnKeyHash{}(slots_[j].key) & mask_;
      // Move slot j if its home is not cyclically within (hole, j].
      const bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (stays) continue;
      slots_[hole] = slots_[j];
      hole = j;
    }
    slots_[hole] = Slot{};
  }
  void erase(const ConnKey& k) {
    if (Slot* s = find(k)) erase(s);
  }
  // Erases every slot for which pred(slot) is true; calls keep(slot) on the others.
  template <class Pred, class Keep>
  void sweep(Pred pred, Keep keep) {
    for (size_t i = 0; i < slots_.size();) {
      Slot& s = slots_[i];
      if (s.used() && pred(s)) {
        erase(&s);  // a later slot may move into i: look at i again
        continue;
      }
      if (s.used()) keep(s);
      ++i;
    }
  }

 private:
  void rehash(size_t n) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(n, Slot{});
    mask_ = n - 1;
    count_ = 0;
    for (Slot& s : old)
      if (s.used()) insert(s.key) = s;
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

struct ConnSlot {
  ConnKey key{};
  uint32_t index = UINT32_MAX;
  bool used() const { return index != UINT32_MAX; }
};

// TIME-WAIT shrinks a connection to a table slot and a TwInfo (as Linux's
// tcp_timewait_sock): enough to re-acknowledge a retransmitted FIN and to
// refuse old segments. The hosts are found again from the addresses when a
// segment arrives (rare).
//
// Every entry lives exactly 2*MSL from when it was last set, so expiry order
// is the order entries were set: the TwInfo records sit in a FIFO (Impl::
// tw_ring) in that order, numbered by a running id, and a slot holds only
// the 4-tuple and its record's id, 16 bytes (the table runs between 3/8 and
// 3/4 full, so slots cost 1.3 to 2.7 times their size per entry; the FIFO
// costs its records' size). A sweep pops expired records off the front and
// erases the slots whose id is now before the front: no per-entry compare
// of times, no scan for the earliest.
//
// A record keeps what the re-acknowledgement needs (RFC 9293 3.10.7.4): its
// sequence and acknowledgement numbers; the ISNs only give the segment's
// relative numbers (its trace text, and the drop hook's PacketView), and the
// serial its trace records' session. So the record holds the ISNs as the
// sequence space used each way (snd_nxt - iss: the SYN, the data and the
// FIN), 16 bits each, and the serial in 32 bits: 20 bytes, not 28. A
// connection that used 65,535 or more either way, or whose serial needs more
// than 32 bits, is "wide": its ISNs and serial sit in Impl::tw_wide by record
// id until the record leaves the FIFO.
struct TwSlot {
  ConnKey key{};
  uint32_t id = 0;  // of its TwInfo in Impl::tw_ring
  // Every connection has one end on an ephemeral port (49152-65535), so a
  // used slot never has both ports 0.
  bool used() const { return (key.lport | key.rport) != 0; }
};
static_assert(sizeof(TwSlot) == 16);
struct TwInfo {
  uint32_t snd_nxt, rcv_nxt;
  uint32_t expiry;  // in kTwTick units (10 ms), rounded up; 0: dead (killed or set again later)
  uint16_t snd_used, rcv_used;  // snd_nxt - iss, rcv_nxt - irs; snd_used == kTwWide: see Impl::tw_wide
  uint32_t serial;              // the low half when wide
};
static_assert(sizeof(TwInfo) == 20);
constexpr uint16_t kTwWide = UINT16_MAX;
// A TIME-WAIT entry's numbers in full.
struct TwFull {
  uint32_t snd_nxt, rcv_nxt, iss, irs;
  uint64_t serial;
};
// TIME-WAIT clock: 10 ms ticks in 32 bits last 497 days of simulated time.
// An expiry is rounded up to a tick and compared with the current tick
// rounded down, so 2*MSL lasts 60 s to 60.01 s, never less.
constexpr int64_t kTwTick = 10'000;
inline uint32_t tw_ticks(int64_t us, bool up) {
  const int64_t t = up ? (us + kTwTick - 1) / kTwTick : us / kTwTick;
  return t >= int64_t{UINT32_MAX} ? UINT32_MAX : static_cast<uint32_t>(t);
}

}  // namespace

struct Network::Impl {
  struct HostRec {
    std::string name;
    Ipv4 addr = 0;
    bool router = false;
    bool up = true;
    uint16_t next_port = 49152;
    uint16_t next_udp_port = 49152;
    std::vector<LinkId> links;
    Rng isn;
    HostRec(std::string n, Ipv4 a, bool r, uint64_t seed)
        : name(std::move(n)), addr(a), router(r), isn(seed, "tcp.isn/" + name) {}
  };
  struct LinkRec {
    HostId a, b;
    LinkParams p;
    int64_t busy_until[2] = {0, 0};
    bool bad[2] = {false, false};
    Rng rng;
    LinkRec(HostId a_, HostId b_, const LinkParams& p_, uint64_t seed, const std::string& name)
        : a(a_), b(b_), p(p_), rng(seed, "net.link/" + name) {}
  };
  struct Hop {
    LinkId link;
    uint8_t dir;  // 0: a->b, 1: b->a
    HostId to;
  };
  struct Packet {
    Ipv4 src = 0, dst = 0;
    uint16_t sport = 0, dport = 0;
    uint8_t proto = 0, flags = 0;
    uint16_t wnd = 0;
    uint32_t seq = 0, ack = 0;
    uint32_t base_seq = 0, base_ack = 0;  // the ISNs, for relative numbers in the trace text
    HostId src_host = kNoHost, dst_host = kNoHost;
    uint64_t serial = 0;
    uint32_t next_free = UINT32_MAX;
    uint32_t src_conn = UINT32_MAX;  // the sending connection's slot (its peer learns it), or none
    bool live = false;
    EventId ev{};
    Bytes payload;
  };
  // A connection slot is two cache lines, aligned: an arriving segment, with
  // 10,000 connections open, finds it out of the cache, and arrive_cb asks
  // for both lines at once. The first holds what every arrival reads (the
  // 4-tuple check, state, sequence numbers); the second the handler, the
  // send buffer and the timer state. What fits in neither moved out:
  //   - the timer heap's key, tie-break order and the cause of the last
  //     arm() live in the heap's entries (Impl::timers); only the entry's
  //     position stays here;
  //   - the listener (TcpAcceptor) and out-of-order segments, needed at
  //     accept and after a loss, are in a parallel cold slab (ConnCold);
  //   - the route is cached per host pair by the network (route_for), not
  //     per connection;
  //   - the send buffer is one pointer (Bytes: size, capacity and the
  //     acknowledged-prefix offset live in its heap block);
  //   - fin_seq is snd_nxt - 1 once fin_sent (nothing is sent after the FIN),
  //     `passive` is "has an acceptor", the slot index is passed along, and
  //     the free-list link reuses `peer`.
  // Times stay 64-bit microseconds: an RTT sample is bounded by nothing but
  // the path (a slow link can queue a window for hours), so srtt, rttvar and
  // rtt_start cannot be narrowed without changing results.
  struct alignas(64) Conn {
    // ---- line 1
    ConnKey key{};
    uint32_t gen = 0;
    HostId lhost = kNoHost, rhost = kNoHost;
    St state = St::free;
    uint8_t dupacks = 0;
    uint8_t in_cb = 0;  // > 0 while the network calls this connection's handler
    bool fin_queued : 1 = false;
    bool fin_sent : 1 = false;
    bool fin_rcvd : 1 = false;
    bool ack_pending : 1 = false;
    bool rtt_timing : 1 = false;
    bool rtt_valid : 1 = false;
    bool app_closed : 1 = false;
    bool has_ooo : 1 = false;  // cold[i].ooo is allocated
    uint16_t retries = 0;
    uint16_t peer_wnd = 65535;  // as the peer's last segment said (a 16-bit field, no scaling)
    // The peer connection's slot, as its last segment said (a hint); while
    // the slot is free, the next free slot.
    uint32_t peer = UINT32_MAX;
    uint32_t heap_pos = UINT32_MAX;  // place in Impl::timers while a deadline is set
    uint32_t iss = 0, snd_una = 0, snd_nxt = 0;
    uint32_t irs = 0, rcv_nxt = 0;
    uint32_t rtt_seq = 0;
    // ---- line 2
    uint64_t serial = 0;
    TcpHandler* handler = nullptr;
    Bytes sbuf;  // unacknowledged bytes: data()[0] has sequence number snd_una (after the SYN)
    int64_t rto = 0, srtt = 0, rttvar = 0, rtt_start = 0;
    int64_t deadline = -1;  // retransmission / FIN-WAIT-2 deadline (us), -1 = none
  };
  static_assert(sizeof(Conn) == 128, "a connection slot is two cache lines");
  // The rarely used part of a connection slot, same index.
  struct ConnCold {
    TcpAcceptor* acceptor = nullptr;  // set on a passive open (so: "passive")
    std::unique_ptr<std::vector<OooSeg>> ooo;
  };
  static uint32_t fin_seq(const Conn& c) { return c.snd_nxt - 1; }  // valid once fin_sent

  Impl(Network& self_, Engine& e, Trace& t, uint64_t s, TcpParams p)
      : self(self_), engine(e), trace(t), seed(s), params(p) {
    engine.set_prefetch(&Impl::arrive_cb, &Impl::arrive_prefetch);
  }

  Network& self;
  Engine& engine;
  Trace& trace;
  uint64_t seed;
  TcpParams params;
  NetStats stats;
  uint64_t serial_counter = 0;

  std::vector<HostRec> hosts;
  std::vector<LinkRec> links;
  std::unordered_map<std::string, HostId> host_by_name;
  std::unordered_map<Ipv4, HostId> host_by_addr;
  std::unordered_map<uint64_t, std::vector<Hop>> routes;  // nodes: pointers stay valid until clear()
  uint32_t routes_gen = 0;  // bumped whenever routes is cleared
  std::unordered_map<uint64_t, TcpAcceptor*> listeners;  // host << 16 | port
  std::unordered_map<uint64_t, UdpReceiver*> udp_binds;

  Slab<Conn> conns;
  Slab<ConnCold> cold;  // same indices as conns
  uint32_t conn_free = UINT32_MAX;
  FlatTable<ConnSlot> conn_map;

  // TIME-WAIT entries expire lazily: a lookup ignores (and drops) an entry
  // past its expiry, and one sweep event, re-armed at most every quarter of
  // 2*MSL while entries remain, reclaims the rest. No per-entry event or queue.
  FlatTable<TwSlot> tw_map;
  std::deque<TwInfo> tw_ring;  // records in the order set (so of expiry); dead ones wait to reach the front
  uint32_t tw_head = 0;        // id of tw_ring.front()
  struct TwWide {
    uint32_t iss, irs;
    uint64_t serial;
  };
  std::unordered_map<uint32_t, TwWide> tw_wide;  // by record id, for wide records (rare)
  TwInfo& tw_info(const TwSlot& t) { return tw_ring[t.id - tw_head]; }
  TwFull tw_full(const TwSlot& t) {
    const TwInfo& r = tw_info(t);
    if (r.snd_used == kTwWide) {
      const TwWide& w = tw_wide.at(t.id);
      return TwFull{r.snd_nxt, r.rcv_nxt, w.iss, w.irs, w.serial};
    }
    return TwFull{r.snd_nxt, r.rcv_nxt, r.snd_nxt - r.snd_used, r.rcv_nxt - r.rcv_used, r.serial};
  }
  // Sets a new record for slot t (a fresh or a restarted 2*MSL).
  void tw_set(TwSlot& t, const TwFull& f, uint32_t expiry) {
    t.id = tw_head + static_cast<uint32_t>(tw_ring.size());
    const uint32_t snd_used = f.snd_nxt - f.iss, rcv_used = f.rcv_nxt - f.irs;
    TwInfo r{f.snd_nxt, f.rcv_nxt, expiry, static_cast<uint16_t>(snd_used), static_cast<uint16_t>(rcv_used),
             static_cast<uint32_t>(f.serial)};
    if (snd_used >= kTwWide || rcv_used >= kTwWide || f.serial > UINT32_MAX) {
      r.snd_used = kTwWide;
      tw_wide[t.id] = TwWide{f.iss, f.irs, f.serial};
    }
    tw_ring.push_back(r);
  }
  bool tw_sweep_armed = false;
  EventId tw_sweep_ev{};

  Slab<Packet> packets;

  // Heap buffers (send buffers, segment payloads) are lent from a pool and
  // returned as soon as they hold nothing: memory follows the bytes in
  // flight, not the largest message each connection or packet slot ever
  // carried. Bulk-sized buffers are freed, and so is a buffer returned while
  // its class already has 256 idle: 4,096 per class kept a burst's worth of
  // blocks idle for the whole run (at 10,000 concurrent one-line sessions,
  // about 8,700 blocks, 105 bytes per session), and glibc lends a freed
  // small chunk again about as fast as the pool (of some 600,000 lendings
  // there, 151,000 came from malloc with 4,096 idle, 262,000 with 512,
  // 293,000 with 64: no measurable change in speed).
  // Three classes: most segments and commands are short (a reply line, a
  // command), and std::string kept up to 15 bytes inline; a Bytes always
  // needs a block, so short contents take a small block instead of whatever
  // large block came back last. The two fixed capacities fill glibc's 64-
  // and 96-byte chunks exactly (it rounds a request plus its 8-byte header
  // up to 16): 12 + 44 + 8 and 12 + 76 + 8. An SMTP session's segments and
  // commands are mostly 6 to 36 bytes, then 60 and 65, then 127.
  static constexpr size_t kBufCap[2] = {44, 76};
  static unsigned buf_class(size_t n) { return n <= kBufCap[0] ? 0 : n <= kBufCap[1] ? 1 : 2; }
  std::vector<Bytes> buf_pool[3];  // [0], [1]: capacity kBufCap[0], kBufCap[1]; [2]: larger
  static constexpr size_t kPoolMax = 256, kPoolBufMax = 4096;
  void take_buf(Bytes& b, size_t need) {
    if (b.has_block()) return;
    const unsigned k = buf_class(need);
    std::vector<Bytes>& pool = buf_pool[k];
    if (pool.empty()) {
      b.reserve(k < 2 ? kBufCap[k] : need);
      return;
    }
    b = std::move(pool.back());  // in class 2 maybe smaller than need: the append grows it
    pool.pop_back();
  }
  void give_buf(Bytes& b) {
    if (!b.has_block()) return;
    std::vector<Bytes>& pool = buf_pool[buf_class(b.capacity())];
    if (b.capacity() <= kPoolBufMax && pool.size() < kPoolMax) {
      b.clear();
      pool.push_back(std::move(b));  // moves the block out, leaves b empty
    } else {
      Bytes dead(std::move(b));  // frees the block
    }
  }
  uint32_t packet_free = UINT32_MAX;
  DropHook drop_hook = nullptr;
  void* drop_ctx = nullptr;
  bool sending_retransmit = false;

  // ------------------------------------------------------------ helpers

  static uint64_t port_key(HostId h, uint16_t port) { return uint64_t{h} << 16 | port; }

  Conn* get(ConnId id) {
    if (id.index >= conns.size()) return nullptr;
    Conn& c = conns[id.index];
    if (c.gen != id.gen || c.state == St::free || c.app_closed) return nullptr;
    return &c;
  }
  const Conn* get(ConnId id) const { return const_cast<Impl*>(this)->get(id); }

  uint32_t alloc_packet() {
    uint32_t i;
    if (packet_free != UINT32_MAX) {
      i = packet_free;
      packet_free = packets[i].next_free;
    } else {
      i = packets.grow();
    }
    Packet& p = packets[i];
    p.payload.clear();
    p.next_free = UINT32_MAX;
    p.src_conn = UINT32_MAX;
    p.live = true;
    return i;
  }
  void free_packet(uint32_t i) {
    Packet& p = packets[i];
    if (!p.live) throw std::logic_error("network: packet freed twice");
    p.live = false;
    give_buf(p.payload);
    p.next_free = packet_free;
    packet_free = i;
  }

  // ------------------------------------------------------------ routing

  const std::vector<Hop>* find_route(HostId from, HostId to) {
    const uint64_t key = uint64_t{from} << 32 | to;
    auto it = routes.find(key);
    if (it != routes.end()) return &it->second;
    // Dijkstra by latency; a down link costs a large penalty, so a path that
    // avoids it wins, and a packet whose only path is down is lost on it.
    const int64_t kDown = int64_t{1} << 40;
    const size_t n = hosts.size();
    std::vector<int64_t> dist(n, std::numeric_limits<int64_t>::max());
    std::vector<uint32_t> hops(n, UINT32_MAX);
    std::vector<Hop> via(n, Hop{kNoLink, 0, kNoHost});
    using Item = std::tuple<int64_t, uint32_t, HostId>;
    std::priority_queue<Item, std::vector<Item>, std::greater<Item>> pq;
    dist[from] = 0;
    hops[from] = 0;
    pq.emplace(0, 0, from);
    while (!pq.empty()) {
      auto [d, h, u] = pq.top();
      pq.pop();
      if (d != dist[u] || h != hops[u]) continue;
      if (u == to) break;
      if (u != from && !hosts[u].router) continue;  // only routers forward
      for (LinkId l : hosts[u].links) {
        const LinkRec& lr = links[l];
        const HostId v = lr.a == u ? lr.b : lr.a;
        const int64_t nd = d + lr.p.latency.us + 1 + (lr.p.up ? 0 : kDown);
        if (nd < dist[v] || (nd == dist[v] && h + 1 < hops[v])) {
          dist[v] = nd;
          hops[v] = h + 1;
          via[v] = Hop{l, static_cast<uint8_t>(lr.a == u ? 0 : 1), v};
          pq.emplace(nd, h + 1, v);
        }
      }
    }
    std::vector<Hop> path;
    if (dist[to] != std::numeric_limits<int64_t>::max()) {
      for (HostId v = to; v != from;) {
        const Hop hop = via[v];
        path.push_back(hop);
        const LinkRec& lr = links[hop.link];
        v = hop.dir == 0 ? lr.a : lr.b;
      }
      std::reverse(path.begin(), path.end());
    }
    return &routes.emplace(key, std::move(path)).first->second;
  }

  // find_route() for a connection's segments without a hash lookup each
  // time: a small direct-mapped cache by host pair, emptied (by generation)
  // whenever the routing table is.
  struct RouteCacheEntry {
    uint64_t key = UINT64_MAX;
    uint32_t gen = 0;
    const std::vector<Hop>* path = nullptr;
  };
  // 1,024 entries (24 KB): 64 hosts talking to a mail server and a DNS
  // server are 256 pairs, which 64 entries held in 58 slots, so round-robin
  // traffic mostly missed.
  std::array<RouteCacheEntry, 1024> route_cache{};
  const std::vector<Hop>* route_for(HostId from, HostId to) {
    const uint64_t key = uint64_t{from} << 32 | to;
    RouteCacheEntry& e = route_cache[(key * 0x9E3779B97F4A7C15ULL) >> 54];
    if (e.key != key || e.gen != routes_gen || !e.path) {
      e.key = key;
      e.gen = routes_gen;
      e.path = find_route(from, to);
    }
    return e.path;
  }

  // ------------------------------------------------------------ packets

  // Decides the packet's fate and schedules its arrival (or reports its loss).
  // `dst_hint`: the receiving connection's slot if the sender knows it; it
  // travels in the arrival event's argument so that the arrival can fetch
  // the connection together with the packet (see arrive_cb).
  void transmit(uint32_t pi, const std::vector<Hop>* path = nullptr, uint32_t dst_hint = UINT32_MAX) {
    Packet& p = packets[pi];
    const bool is_tcp = p.proto == kProtoTcp;
    if (is_tcp) ++stats.segments_sent;
    else ++stats.datagrams_sent;
    const char* why = nullptr;
    LinkId lost_on = kNoLink;
    int64_t t = engine.now().us;
    if (drop_hook) {
      const std::string flags = is_tcp ? flag_text(p.flags) : std::string();
      const PacketView v{p.src_host, p.dst_host, is_tcp, flags, p.seq, p.ack, p.seq - p.base_seq, p.ack - p.base_ack,
                         p.payload.view(), sending_retransmit};
      if (drop_hook(drop_ctx, v)) why = "dropped by rule";
    }
    if (why) {
    } else if (p.dst_host == kNoHost) {
      why = "no host has this address";
    } else if (p.dst_host != p.src_host) {
      if (!path) path = find_route(p.src_host, p.dst_host);
      if (path->empty()) why = "no route to host";
      const int64_t bytes = static_cast<int64_t>(p.payload.size()) + (is_tcp ? 40 : 28);  // IPv4 + TCP/UDP headers
      for (const Hop& hop : *path) {
        LinkRec& l = links[hop.link];
        if (!l.p.up) {
          why = "link down";
          lost_on = hop.link;
          break;
        }
        if (hop.to != p.dst_host && !hosts[hop.to].up) {
          why = "router down";
          lost_on = hop.link;
          break;
        }
        // Gilbert-Elliott: move the chain one step per packet, then draw.
        double loss = l.p.loss;
        if (l.p.burst) {
          const Burst& b = *l.p.burst;
          l.bad[hop.dir] = l.bad[hop.dir] ? !l.rng.bernoulli(b.p_bad_to_good) : l.rng.bernoulli(b.p_good_to_bad);
          if (l.bad[hop.dir]) loss = std::max(loss, b.loss_in_bad);
        }
        if (loss > 0 && l.rng.bernoulli(loss)) {
          why = l.bad[hop.dir] && l.p.burst ? "burst loss" : "random loss";
          lost_on = hop.link;
          break;
        }
        int64_t start = std::max(t, l.busy_until[hop.dir]);
        const int64_t ser = l.p.bandwidth_bps > 0 ? (bytes * 8 * 1'000'000 + l.p.bandwidth_bps - 1) / l.p.bandwidth_bps : 0;
        l.busy_until[hop.dir] = start + ser;
        t = start + ser + l.p.latency.us;
        if (l.p.jitter.us > 0) t += static_cast<int64_t>(l.rng.uniform_int(0, static_cast<uint64_t>(l.p.jitter.us)));
        if (l.p.reorder > 0 && l.rng.bernoulli(l.p.reorder)) t += l.p.jitter.us > 0 ? l.p.jitter.us : l.p.latency.us;
      }
    }
    if (why) {
      lose(pi, why, lost_on);
      return;
    }
    p.ev = engine.schedule_at(SimTime{t}, &Impl::arrive_cb, this, uint64_t{dst_hint} << 32 | pi);
  }

  void lose(uint32_t pi, const char* why, LinkId on) {
    Packet& p = packets[pi];
    const bool is_tcp = p.proto == kProtoTcp;
    if (is_tcp) ++stats.segments_lost;
    else ++stats.datagrams_lost;
    if (trace.enabled(is_tcp ? Layer::tcp : Layer::net)) {
      Record r = packet_record(is_tcp ? Kind::segment_lost : Kind::datagram_lost, p);
      r.text += std::string(" lost: ") + why;
      if (on != kNoLink) r.text += " on link " + hosts[links[on].a].name + " - " + hosts[links[on].b].name;
      r.with("reason", why);
      trace.emit(std::move(r));
    }
    free_packet(pi);
  }

  // With 10,000 connections open, the packet and its connection were last
  // touched long ago and both miss the cache; asking for every line of both
  // at once overlaps those misses instead of paying them one after another
  // (packet, then the 4-tuple table, then the connection). The engine calls
  // this one event before the arrival runs (Engine::set_prefetch), so the
  // lines come while that event runs; arrive_cb asks again in case a later
  // insert went first.
  static void arrive_prefetch(const void* ctx, uint64_t arg) {
    const Impl* self = static_cast<const Impl*>(ctx);
    const auto pi = static_cast<uint32_t>(arg);
    const auto hint = static_cast<uint32_t>(arg >> 32);
    __builtin_prefetch(&self->packets[pi]);
    if (hint < self->conns.size()) {
      const char* c = reinterpret_cast<const char*>(&self->conns[hint]);
      for (size_t off = 0; off < sizeof(Conn); off += 64) __builtin_prefetch(c + off);
    }
  }
  static void arrive_cb(void* ctx, uint64_t arg) {
    Impl* self = static_cast<Impl*>(ctx);
    arrive_prefetch(self, arg);  // in case the engine's look-ahead missed it (a later insert ran first)
    self->arrive(static_cast<uint32_t>(arg), static_cast<uint32_t>(arg >> 32));
  }

  void arrive(uint32_t pi, uint32_t hint = UINT32_MAX) {
    Packet& p = packets[pi];
    if (!hosts[p.dst_host].up) {
      lose(pi, "host down", kNoLink);
      return;
    }
    if (p.proto == kProtoTcp) {
      ++stats.segments_delivered;
      if (trace.enabled(Layer::tcp)) trace.emit(packet_record(Kind::segment_delivered, p));
      tcp_input(pi, hint);  // consumes the packet
      return;
    } else {
      auto it = udp_binds.find(port_key(p.dst_host, p.dport));
      if (it == udp_binds.end()) {
        lose(pi, "port unreachable", kNoLink);
        return;
      }
      if (trace.enabled(Layer::net)) trace.emit(packet_record(Kind::datagram_delivered, p));
      // The packet stays allocated while the receiver reads it (it may send
      // datagrams meanwhile; slab slots never move).
      it->second->on_datagram(p.dst_host, p.dport, p.src, p.sport, p.payload.view());
      free_packet(pi);
    }
  }

  Record packet_record(Kind kind, const Packet& p) const {
    Record r;
    r.kind = kind;
    r.src = hosts[p.src_host].name;
    r.dst = p.dst_host != kNoHost ? hosts[p.dst_host].name : format_ipv4(p.dst);
    r.session = p.serial;
    std::string head = format_ipv4(p.src) + ":" + std::to_string(p.sport) + " > " + format_ipv4(p.dst) + ":" + std::to_string(p.dport);
    if (p.proto == kProtoTcp) {
      const std::string flags = flag_text(p.flags);
      const uint32_t rseq = p.seq - p.base_seq;
      const uint32_t rack = p.ack - p.base_ack;
      r.text = head + " [" + flags + "] Seq=" + std::to_string(rseq);
      if (p.flags & kAck) r.text += " Ack=" + std::to_string(rack);
      if (p.flags & kSyn) r.text += " Win=" + std::to_string(p.wnd) + " MSS=" + std::to_string(params.mss);
      r.text += " Len=" + std::to_string(p.payload.size());
      r.with("flags", flags)
          .with("seq", std::to_string(p.seq))
          .with("ack", std::to_string(p.ack))
          .with("len", std::to_string(p.payload.size()))
          .with("port", std::to_string(p.dport))
          .with("conn", format_ipv4(p.src) + ":" + std::to_string(p.sport) + ">" + format_ipv4(p.dst) + ":" +
                            std::to_string(p.dport));
    } else {
      r.text = head + " UDP Len=" + std::to_string(p.payload.size());
      r.with("len", std::to_string(p.payload.size())).with("port", std::to_string(p.dport));
    }
    r.wire = p.payload.view();
    return r;
  }

  // ------------------------------------------------------------ TCP: slots

  uint32_t alloc_conn() {
    uint32_t i;
    if (conn_free != UINT32_MAX) {
      i = conn_free;
      conn_free = conns[i].peer;
      conns[i].peer = UINT32_MAX;
    } else {
      i = conns.grow();
      cold.grow();
    }
    ++stats.connections_live;
    return i;
  }

  void free_conn(uint32_t i) {
    Conn& c = conns[i];
    if (ConnSlot* s = conn_map.find(c.key); s && s->index == i) conn_map.erase(s);
    timer_remove(c);
    give_buf(c.sbuf);
    const uint32_t gen = c.gen + 1;
    c.~Conn();
    new (&c) Conn();
    c.gen = gen;
    c.peer = conn_free;  // the free list's link
    cold[i] = ConnCold{};
    conn_free = i;
    --stats.connections_live;
  }

  ConnId cid(uint32_t i) const { return ConnId{i, conns[i].gen}; }
  TcpConn handle(uint32_t i) { return TcpConn(&self, cid(i)); }

  // While the network calls a connection's handler, the handler's sends and
  // close on that connection are queued; the caller runs output() once the
  // handler returns. So a reply leaves with the ACK of what it answers, and
  // "send; close" leaves as one segment with FIN, the way a stack's send
  // queue works, and no segment is sent from the middle of processing an
  // incoming one.
  struct InCallback {
    Impl& n;
    uint32_t i, gen;
    InCallback(Impl& net, uint32_t idx) : n(net), i(idx), gen(net.conns[idx].gen) { ++n.conns[i].in_cb; }
    ~InCallback() {
      Conn& c = n.conns[i];
      if (c.gen == gen && c.state != St::free) --c.in_cb;
    }
    InCallback(const InCallback&) = delete;
    InCallback& operator=(const InCallback&) = delete;
  };

  void init_rto(Conn& c) {
    c.rto = params.initial_rto.us;
    c.rtt_valid = false;
  }

  // ------------------------------------------------------------ TCP: records

  // `text` is a callable returning the record's text: nothing is formatted
  // when the tcp layer is off (benchmarks, the property tests).
  template <class Text>
  void conn_record(Kind kind, uint32_t i, Text&& text) {
    if (!trace.enabled(Layer::tcp)) return;
    const Conn& c = conns[i];
    const bool passive = cold[i].acceptor != nullptr;
    Record r;
    r.kind = kind;
    r.src = hosts[c.lhost].name;
    r.dst = c.rhost != kNoHost ? hosts[c.rhost].name : format_ipv4(c.key.raddr);
    r.session = c.serial;
    r.text = text();
    r.with("port", std::to_string(passive ? c.key.lport : c.key.rport))
        .with("conn", format_ipv4(c.key.laddr) + ":" + std::to_string(c.key.lport) + ">" + format_ipv4(c.key.raddr) + ":" +
                          std::to_string(c.key.rport));
    trace.emit(std::move(r));
  }
  std::string endpoint_text(const Conn& c) const {
    return format_ipv4(c.key.laddr) + ":" + std::to_string(c.key.lport) + " - " + format_ipv4(c.key.raddr) + ":" +
           std::to_string(c.key.rport);
  }

  // ------------------------------------------------------------ TCP: output

  // Sends one segment of connection c. seq/len select the data (from sbuf).
  void send_segment(uint32_t i, uint8_t flags, uint32_t seq, uint32_t len, bool retransmit, const char* reason = nullptr) {
    Conn& c = conns[i];
    if (!hosts[c.lhost].up) return;  // a down host sends nothing (its timers still run out)
    const uint32_t pi = alloc_packet();
    Packet& p = packets[pi];
    p.src = c.key.laddr;
    p.dst = c.key.raddr;
    p.sport = c.key.lport;
    p.dport = c.key.rport;
    p.proto = kProtoTcp;
    p.flags = flags;
    p.wnd = static_cast<uint16_t>(std::min<uint32_t>(params.window, 65535));
    p.seq = seq;
    p.ack = (flags & kAck) ? c.rcv_nxt : 0;
    p.base_seq = c.iss;
    p.base_ack = c.irs;
    p.src_host = c.lhost;
    p.dst_host = c.rhost;
    p.serial = c.serial;
    p.src_conn = i;
    if (len > 0) {
      const size_t off = seq - c.snd_una;
      take_buf(p.payload, len);
      p.payload.assign(std::string_view(c.sbuf.data() + off, len));
    }
    if (flags & kAck) c.ack_pending = false;
    if (retransmit) ++stats.retransmissions;
    if (trace.enabled(Layer::tcp)) {
      Record r = packet_record(retransmit ? Kind::segment_retransmit : Kind::segment_sent, p);
      if (reason) {
        r.text += std::string(" (") + reason + ")";
        r.with("reason", reason);
      }
      trace.emit(std::move(r));
    }
    const std::vector<Hop>* route = p.dst_host == kNoHost || p.dst_host == p.src_host ? nullptr : route_for(p.src_host, p.dst_host);
    sending_retransmit = retransmit;
    transmit(pi, route, c.peer);
    sending_retransmit = false;
  }

  // A bare segment not tied to a connection slot (RST to a closed port).
  void send_rst_for(const Packet& in) {
    const uint32_t pi = alloc_packet();
    Packet& p = packets[pi];
    const Packet& q = in;  // `in` lives in the pool too; alloc may not move it (deque)
    p.src = q.dst;
    p.dst = q.src;
    p.sport = q.dport;
    p.dport = q.sport;
    p.proto = kProtoTcp;
    p.src_host = q.dst_host;
    p.dst_host = q.src_host;
    p.serial = q.serial;
    p.wnd = 0;
    // RFC 9293 3.10.7.1: if the ACK bit is off, RST with seq 0 and
    // ack = SEG.SEQ + SEG.LEN; otherwise RST with seq = SEG.ACK.
    if (q.flags & kAck) {
      p.flags = kRst;
      p.seq = q.ack;
      p.ack = 0;
      p.base_seq = q.base_ack;
      p.base_ack = 0;
    } else {
      p.flags = kRst | kAck;
      p.seq = 0;
      p.ack = q.seq + static_cast<uint32_t>(q.payload.size()) + ((q.flags & kSyn) ? 1 : 0) + ((q.flags & kFin) ? 1 : 0);
      p.base_seq = 0;
      p.base_ack = q.base_seq;
    }
    if (trace.enabled(Layer::tcp)) {
      Record r = packet_record(Kind::segment_sent, p);
      r.text += " (no connection: reset)";
      trace.emit(std::move(r));
    }
    transmit(pi);
  }

  // ---- timers
  // Every connection with a deadline has one entry in a binary min-heap of
  // connection slots, ordered by (key, the order keys were set), and one
  // engine event waits for the earliest key. Entries are lazy: an ACK that
  // restarts the timer later, or stops it, only writes the deadline; the
  // entry is re-keyed or dropped when it comes up. So the common case costs
  // no heap work and nothing lingers in the engine's queue (an engine event
  // per connection, cancelled at each ACK, would stay there until its time).
  // An entry carries its key, its order among equal keys (the order they
  // were keyed) and the engine cause of the connection's last arm(), so
  // comparisons during a sift read the heap array only, and a connection
  // slot holds just its entry's position.
  struct Timer {
    int64_t key;     // the deadline as the heap knows it (<= the connection's deadline, or stale)
    uint64_t seq;    // order among equal keys
    uint64_t cause;  // engine cause of the last arm()
    uint32_t conn;
  };
  Slab<Timer> timers;  // chunked: no doubling, so about 32 bytes per armed connection
  uint64_t timer_counter = 0;
  EventId timer_ev{};
  int64_t timer_at = -1;  // time of timer_ev while pending

  static bool timer_less(const Timer& x, const Timer& y) { return x.key != y.key ? x.key < y.key : x.seq < y.seq; }
  void timer_place(size_t pos, const Timer& t) {
    timers[pos] = t;
    conns[t.conn].heap_pos = static_cast<uint32_t>(pos);
  }
  void timer_sift(size_t pos) {
    const Timer t = timers[pos];
    while (pos > 0) {
      const size_t parent = (pos - 1) / 2;
      if (!timer_less(t, timers[parent])) break;
      timer_place(pos, timers[parent]);
      pos = parent;
    }
    for (;;) {
      size_t child = 2 * pos + 1;
      if (child >= timers.size()) break;
      if (child + 1 < timers.size() && timer_less(timers[child + 1], timers[child])) ++child;
      if (!timer_less(timers[child], t)) break;
      timer_place(pos, timers[child]);
      pos = child;
    }
    timer_place(pos, t);
  }
  // Gives the entry at `pos` a new key, ordered after every key set before.
  void timer_rekey(size_t pos, int64_t key) {
    timers[pos].key = key;
    timers[pos].seq = ++timer_counter;
    timer_sift(pos);
  }
  void timer_remove(Conn& c) {
    if (c.heap_pos == UINT32_MAX) return;
    const size_t pos = c.heap_pos;
    c.heap_pos = UINT32_MAX;
    const Timer last = timers.back();
    timers.pop_back();
    if (pos < timers.size()) {
      timer_place(pos, last);
      timer_sift(pos);
    }
  }
  // The engine event must fire no later than the earliest key. A later
  // pending one stays: it fires, finds nothing due, and re-arms (rare: new
  // deadlines are RTOs from now, rarely earlier than all the others).
  void timer_schedule() {
    if (timers.empty()) return;
    const int64_t first = timers[0].key;
    if (engine.is_pending(timer_ev) && timer_at <= first) return;
    timer_at = first;
    timer_ev = engine.schedule_at(SimTime{first}, &Impl::timer_cb, this, 0);
  }

  void arm(uint32_t i, int64_t deadline) {
    Conn& c = conns[i];
    c.deadline = deadline;
    const uint64_t cause = engine.cause();
    if (c.heap_pos != UINT32_MAX) {
      timers[c.heap_pos].cause = cause;
      if (timers[c.heap_pos].key <= deadline) return;  // comes up first, re-keyed then
      timer_rekey(c.heap_pos, deadline);
    } else {
      timers.push_back(Timer{deadline, ++timer_counter, cause, i});
      c.heap_pos = static_cast<uint32_t>(timers.size() - 1);
      timer_sift(c.heap_pos);
    }
    timer_schedule();
  }
  void disarm(Conn& c) { c.deadline = -1; }  // the entry is dropped when it comes up

  static void timer_cb(void* ctx, uint64_t) {
    Impl* self = static_cast<Impl*>(ctx);
    self->timer_ev = EventId{};
    self->timer_at = -1;
    const int64_t now = self->engine.now().us;
    const uint64_t cause = self->engine.cause();
    // Each expiry may set, move or clear deadlines (its own and, through the
    // application, others'): take the earliest again every time.
    while (!self->timers.empty()) {
      const Timer top = self->timers[0];
      if (top.key > now) break;
      Conn& c = self->conns[top.conn];
      if (c.deadline < 0) {
        self->timer_remove(c);
      } else if (c.deadline > now) {
        self->timer_rekey(0, c.deadline);
      } else {
        self->timer_remove(c);
        c.deadline = -1;
        self->engine.set_cause(top.cause);
        self->expire(top.conn);
      }
    }
    self->engine.set_cause(cause);
    self->timer_schedule();
  }

  void start_rtt(Conn& c, uint32_t seq) {
    if (c.rtt_timing) return;
    c.rtt_timing = true;
    c.rtt_seq = seq;
    c.rtt_start = engine.now().us;
  }

  // RFC 6298 2.2 / 2.3, with G = 1 us (our clock granularity).
  void rtt_sample(Conn& c, int64_t r) {
    if (!c.rtt_valid) {
      c.srtt = r;
      c.rttvar = r / 2;
      c.rtt_valid = true;
    } else {
      const int64_t err = c.srtt > r ? c.srtt - r : r - c.srtt;
      c.rttvar = (3 * c.rttvar + err) / 4;  // beta = 1/4
      c.srtt = (7 * c.srtt + r) / 8;        // alpha = 1/8
    }
    c.rto = clamp_rto(c.srtt + std::max<int64_t>(1, 4 * c.rttvar));
  }
  int64_t clamp_rto(int64_t v) const { return std::clamp(v, params.min_rto.us, params.max_rto.us); }

  // Sends whatever the window allows, then FIN if queued, then a pure ACK if
  // one is still owed.
  void output(uint32_t i) {
    Conn& c = conns[i];
    if (c.state == St::syn_sent || c.state == St::syn_rcvd || c.state == St::free) return;
    const bool can_send = c.state == St::established || c.state == St::close_wait;
    if (can_send || c.state == St::fin_wait_1 || c.state == St::last_ack || c.state == St::closing) {
      const uint32_t data_end = c.snd_una + static_cast<uint32_t>(c.sbuf.size());
      const uint32_t wnd = std::max<uint32_t>(1, std::min<uint32_t>(c.peer_wnd, params.window));
      while (seq_lt(c.snd_nxt, data_end) && !c.fin_sent) {
        const uint32_t in_flight = c.snd_nxt - c.snd_una;
        if (in_flight >= wnd) break;
        uint32_t len = std::min({params.mss, data_end - c.snd_nxt, wnd - in_flight});
        const bool last = c.snd_nxt + len == data_end;
        // Closed with this data still queued: the FIN rides on the last
        // segment (as a real stack sets FIN on the tail of its send queue).
        const bool fin = last && c.fin_queued && can_send;
        const uint32_t seq = c.snd_nxt;
        c.snd_nxt += len;
        if (fin) {
          c.fin_sent = true;  // from here on fin_seq(c) == snd_nxt - 1
          c.snd_nxt += 1;
          c.state = c.state == St::established ? St::fin_wait_1 : St::last_ack;
        }
        start_rtt(c, seq);
        send_segment(i, static_cast<uint8_t>(kAck | (last ? kPsh : 0) | (fin ? kFin : 0)), seq, len, false);
        if (c.deadline < 0) arm(i, engine.now().us + c.rto);
      }
      if (c.fin_queued && !c.fin_sent && c.snd_nxt == data_end && (can_send)) {
        c.fin_sent = true;
        c.snd_nxt += 1;
        c.state = c.state == St::established ? St::fin_wait_1 : St::last_ack;
        send_segment(i, kFin | kAck, fin_seq(c), 0, false);
        if (c.deadline < 0) arm(i, engine.now().us + c.rto);
      }
    }
    if (c.ack_pending) send_segment(i, kAck, c.snd_nxt, 0, false);
  }

  // Retransmits the earliest unacknowledged segment (RFC 6298 5.4).
  void retransmit_first(uint32_t i, const char* reason) {
    Conn& c = conns[i];
    c.rtt_timing = false;  // Karn: no RTT sample from a retransmitted segment
    if (c.state == St::syn_sent) {
      send_segment(i, kSyn, c.iss, 0, true, reason);
      return;
    }
    if (c.state == St::syn_rcvd) {
      send_segment(i, kSyn | kAck, c.iss, 0, true, reason);
      return;
    }
    const uint32_t data_end = c.snd_una + static_cast<uint32_t>(c.sbuf.size());
    if (seq_lt(c.snd_una, data_end)) {
      const uint32_t len = std::min(params.mss, std::min(data_end, c.snd_nxt) - c.snd_una);
      if (len > 0) {
        const bool fin = c.fin_sent && c.snd_una + len == fin_seq(c);  // the FIN rode on this data
        send_segment(i, static_cast<uint8_t>(kAck | kPsh | (fin ? kFin : 0)), c.snd_una, len, true, reason);
        return;
      }
    }
    if (c.fin_sent && c.snd_una == fin_seq(c)) send_segment(i, kFin | kAck, fin_seq(c), 0, true, reason);
  }

  void expire(uint32_t i) {
    Conn& c = conns[i];
    if (c.state == St::time_wait) {
      free_conn(i);  // 2*MSL over
      return;
    }
    if (c.state == St::fin_wait_2) {
      // The peer acknowledged our FIN but never sent its own (Linux's
      // tcp_fin_timeout does the same): give up on the connection.
      conn_record(Kind::tcp_timeout, i, [&] { return "connection " + endpoint_text(c) + " timed out in FIN-WAIT-2: the peer never closed"; });
      finish(i, CloseReason::timeout);
      return;
    }
    const bool handshake = c.state == St::syn_sent || c.state == St::syn_rcvd;
    if (!handshake && c.snd_una == c.snd_nxt) return;  // nothing outstanding
    ++c.retries;
    const int limit = handshake ? params.syn_retries : params.data_retries;
    if (c.retries > limit) {
      conn_record(Kind::tcp_timeout, i, [&] { return
                  "connection " + endpoint_text(c) + " timed out after " + std::to_string(limit) + " retransmissions" +
                      (handshake ? " of the " + std::string(c.state == St::syn_sent ? "SYN" : "SYN-ACK") : ""); });
      finish(i, CloseReason::timeout);
      return;
    }
    // RFC 6298 5.5: back off the timer (RTO = RTO * 2, up to the maximum).
    c.rto = std::min(c.rto * 2, params.max_rto.us);
    c.dupacks = 0;
    retransmit_first(i, "timeout");
    arm(i, engine.now().us + c.rto);
  }

  // Ends connection i for the application with `why`, then frees the slot.
  void finish(uint32_t i, CloseReason why) {
    Conn& c = conns[i];
    TcpHandler* h = c.app_closed ? nullptr : c.handler;
    const ConnId id = cid(i);
    c.app_closed = true;
    c.handler = nullptr;
    free_conn(i);
    if (h) h->on_closed(TcpConn(&self, id), why);
  }

  // Both FINs are exchanged: the application is done with the connection.
  void closed_normally(uint32_t i, bool time_wait) {
    Conn& c = conns[i];
    conn_record(Kind::tcp_closed, i, [&] { return "connection " + endpoint_text(c) + " closed" + (time_wait ? " (TIME-WAIT)" : ""); });
    if (!time_wait) {
      finish(i, CloseReason::normal);
      return;
    }
    TcpHandler* h = c.app_closed ? nullptr : c.handler;
    const ConnId id = cid(i);
    const ConnKey key = c.key;
    const TwFull full{c.snd_nxt, c.rcv_nxt, c.iss, c.irs, c.serial};
    c.app_closed = true;
    c.handler = nullptr;
    free_conn(i);
    TwSlot* old = tw_map.find(key);
    if (old) tw_info(*old).expiry = 0;
    TwSlot& tw = old ? *old : tw_map.insert(key);
    const uint32_t expiry = tw_ticks(engine.now().us + params.time_wait.us, true);
    tw_set(tw, full, expiry);
    stats.time_wait = tw_map.size();
    arm_tw_sweep(int64_t{expiry} * kTwTick);
    if (h) h->on_closed(TcpConn(&self, id), CloseReason::normal);
  }

  void arm_tw_sweep(int64_t at) {
    if (tw_sweep_armed || tw_map.empty()) return;
    tw_sweep_armed = true;
    tw_sweep_ev = engine.schedule_at(SimTime{std::max(engine.now().us, at)}, &Impl::tw_sweep_cb, this, 0);
  }
  static void tw_sweep_cb(void* ctx, uint64_t) {
    Impl* self = static_cast<Impl*>(ctx);
    self->tw_sweep_armed = false;
    self->tw_sweep();
  }
  void tw_sweep() {
    const int64_t now = engine.now().us;
    const uint32_t now_t = tw_ticks(now, false);
    // Live records are in expiry order and dead ones have expiry 0: the
    // front run at or before now is every expired record.
    while (!tw_ring.empty() && tw_ring.front().expiry <= now_t) {
      if (tw_ring.front().snd_used == kTwWide) tw_wide.erase(tw_head);
      tw_ring.pop_front();
      ++tw_head;
    }
    const uint32_t head = tw_head;
    tw_map.sweep([head](const TwSlot& t) { return static_cast<int32_t>(t.id - head) < 0; },  // 2*MSL is over
                 [](const TwSlot&) {});
    stats.time_wait = tw_map.size();
    // Batch the next sweep: at the earliest expiry (the front record, live),
    // but no sooner than a quarter of 2*MSL from now (an entry past its
    // expiry is already ignored).
    if (!tw_map.empty()) arm_tw_sweep(std::max(int64_t{tw_ring.front().expiry} * kTwTick, now + params.time_wait.us / 4));
  }
  // The live TIME-WAIT entry for `key`, if any (an expired one is dropped).
  TwSlot* tw_find(const ConnKey& key) {
    TwSlot* t = tw_map.find(key);
    if (t && tw_info(*t).expiry <= tw_ticks(engine.now().us, false)) {
      tw_kill(t);
      return nullptr;
    }
    return t;
  }
  void tw_kill(TwSlot* tw) {
    tw_info(*tw).expiry = 0;
    tw_map.erase(tw);
    stats.time_wait = tw_map.size();
  }

  // A segment for a connection in TIME-WAIT (RFC 9293 3.10.7.4).
  void tw_input(TwSlot* tw, uint32_t pi) {
    Packet& p = packets[pi];
    if (p.flags & kRst) {
      tw_kill(tw);
    } else if ((p.flags & kSyn) && !(p.flags & kAck) && seq_gt(p.seq, tw_info(*tw).rcv_nxt)) {
      // A new SYN with a higher sequence number may reopen the connection.
      tw_kill(tw);
      tcp_input(pi);
      return;
    } else if ((p.flags & kFin) || !p.payload.empty() || (p.flags & kSyn)) {
      // The peer did not get our last ACK: acknowledge again, restart 2*MSL.
      const TwFull info = tw_full(*tw);
      tw_info(*tw).expiry = 0;
      tw_set(*tw, info, tw_ticks(engine.now().us + params.time_wait.us, true));  // at the back: the latest expiry
      const uint32_t qi = alloc_packet();
      Packet& q = packets[qi];
      q.src = tw->key.laddr;
      q.dst = tw->key.raddr;
      q.sport = tw->key.lport;
      q.dport = tw->key.rport;
      q.proto = kProtoTcp;
      q.flags = kAck;
      q.wnd = static_cast<uint16_t>(std::min<uint32_t>(params.window, 65535));
      q.seq = info.snd_nxt;
      q.ack = info.rcv_nxt;
      q.base_seq = info.iss;
      q.base_ack = info.irs;
      q.src_host = p.dst_host;
      q.dst_host = p.src_host;
      q.serial = info.serial;
      if (trace.enabled(Layer::tcp)) {
        Record r = packet_record(Kind::segment_sent, q);
        r.text += " (TIME-WAIT: acknowledging again)";
        trace.emit(std::move(r));
      }
      transmit(qi);
    }
    free_packet(pi);
  }

  // ------------------------------------------------------------ TCP: input

  void tcp_input(uint32_t pi, uint32_t hint = UINT32_MAX) {
    Packet& p = packets[pi];
    const ConnKey key{p.dst, p.src, p.dport, p.sport};
    // The hint names the connection the table would find, when it is right:
    // a live slot holding this 4-tuple is the one the table maps it to.
    if (hint < conns.size() && conns[hint].state != St::free && conns[hint].key == key) {
      segment_arrives(hint, pi);
      return;
    }
    const ConnSlot* it = conn_map.find(key);
    if (!it) {
      if (!tw_map.empty()) {
        if (TwSlot* tw = tw_find(key)) {
          tw_input(tw, pi);
          return;
        }
      }
      if ((p.flags & kSyn) && !(p.flags & (kAck | kRst))) {
        auto lit = listeners.find(port_key(p.dst_host, p.dport));
        if (lit != listeners.end()) {
          passive_open(pi, lit->second);
          return;
        }
      }
      if (!(p.flags & kRst)) send_rst_for(p);  // RFC 9293 3.10.7.1: closed port answers RST
      free_packet(pi);
      return;
    }
    segment_arrives(it->index, pi);
  }

  void passive_open(uint32_t pi, TcpAcceptor* acceptor) {
    const uint32_t i = alloc_conn();
    Packet& p = packets[pi];
    Conn& c = conns[i];
    c.key = ConnKey{p.dst, p.src, p.dport, p.sport};
    c.lhost = p.dst_host;
    c.rhost = p.src_host;
    cold[i].acceptor = acceptor;
    c.peer = p.src_conn;
    c.serial = p.serial;
    c.state = St::syn_rcvd;
    c.iss = static_cast<uint32_t>(hosts[c.lhost].isn.next_u64());
    c.snd_una = c.iss;
    c.snd_nxt = c.iss + 1;
    c.irs = p.seq;
    c.rcv_nxt = p.seq + 1;
    c.peer_wnd = p.wnd;
    init_rto(c);
    conn_map.insert(c.key).index = i;
    ++stats.connections_opened;
    free_packet(pi);
    start_rtt(c, c.iss);
    send_segment(i, kSyn | kAck, c.iss, 0, false);
    arm(i, engine.now().us + c.rto);
  }

  void segment_arrives(uint32_t i, uint32_t pi) {
    Conn* cp = &conns[i];
    Packet& p = packets[pi];
    cp->peer = p.src_conn;
    if (cp->handler) __builtin_prefetch(cp->handler);  // needed after the ACK processing
    const uint8_t flags = p.flags;
    const uint32_t seq = p.seq, ack = p.ack;

    if (cp->state == St::syn_sent) {
      Conn& c = *cp;
      if ((flags & kAck) && ack != c.iss + 1) {  // unacceptable ACK: RFC 9293 3.10.7.3
        if (!(flags & kRst)) send_rst_for(p);
        free_packet(pi);
        return;
      }
      if (flags & kRst) {
        free_packet(pi);
        if (!(flags & kAck)) return;
        conn_record(Kind::tcp_refused, i, [&] { return "connection to " + format_ipv4(c.key.raddr) + ":" + std::to_string(c.key.rport) +
                                              " refused (RST): nothing listens on port " + std::to_string(c.key.rport); });
        finish(i, CloseReason::refused);
        return;
      }
      if ((flags & kSyn) && (flags & kAck)) {
        c.irs = seq;
        c.rcv_nxt = seq + 1;
        c.snd_una = c.iss + 1;
        c.peer_wnd = p.wnd;
        free_packet(pi);
        if (c.rtt_timing) {
          rtt_sample(c, engine.now().us - c.rtt_start);
          c.rtt_timing = false;
        } else if (c.retries > 0) {
          // RFC 6298 5.7: the SYN was retransmitted; use a 3 s RTO for data.
          c.rto = clamp_rto(sec(3).us);
        }
        c.retries = 0;
        disarm(c);
        c.state = St::established;
        c.ack_pending = true;
        conn_record(Kind::tcp_established, i, [&] { return "connection " + endpoint_text(c) + " established"; });
        const uint32_t gen = c.gen;
        if (c.handler) {
          InCallback cb(*this, i);
          c.handler->on_connected(handle(i));
        }
        if (conns[i].gen != gen || conns[i].state == St::free) return;
        output(i);
        return;
      }
      free_packet(pi);
      return;
    }

    if (flags & kRst) {
      // RFC 5961 3.2 would demand an exact match; in-window is enough here.
      Conn& c = *cp;
      free_packet(pi);
      if (c.state == St::time_wait || c.state == St::syn_rcvd) {
        free_conn(i);
        return;
      }
      conn_record(Kind::tcp_reset, i, [&] { return "connection " + endpoint_text(c) + " reset by the peer"; });
      finish(i, CloseReason::reset);
      return;
    }

    if (flags & kSyn) {
      // A retransmitted SYN (our SYN-ACK was lost) or SYN-ACK (our ACK was lost).
      Conn& c = *cp;
      free_packet(pi);
      if (c.state == St::syn_rcvd) {
        send_segment(i, kSyn | kAck, c.iss, 0, true, "duplicate SYN");
      } else {
        c.ack_pending = true;
        output(i);
      }
      return;
    }

    if (!(flags & kAck)) {
      free_packet(pi);
      return;
    }

    if (cp->state == St::syn_rcvd) {
      Conn& c = *cp;
      if (ack != c.iss + 1) {
        send_rst_for(p);
        free_packet(pi);
        return;
      }
      if (c.rtt_timing) rtt_sample(c, engine.now().us - c.rtt_start);
      c.rtt_timing = false;
      c.snd_una = c.iss + 1;
      c.retries = 0;
      disarm(c);
      c.state = St::established;
      conn_record(Kind::tcp_established, i, [&] { return "connection " + endpoint_text(c) + " established"; });
      const uint32_t gen = c.gen;
      TcpHandler* h = nullptr;
      if (TcpAcceptor* acceptor = cold[i].acceptor) {
        InCallback cb(*this, i);
        h = acceptor->on_accept(handle(i));
      }
      if (conns[i].gen != gen || conns[i].state == St::free) {
        free_packet(pi);
        return;
      }
      if (!h) {
        free_packet(pi);
        abort_conn(i);
        return;
      }
      conns[i].handler = h;
      {
        InCallback cb(*this, i);
        h->on_connected(handle(i));
      }
      if (conns[i].gen != gen || conns[i].state == St::free) {
        free_packet(pi);
        return;
      }
      cp = &conns[i];
      // fall through: the ACK may carry data
    }

    Conn& c = *cp;
    const uint32_t gen = c.gen;
    const uint32_t len = static_cast<uint32_t>(p.payload.size());
    c.peer_wnd = p.wnd;

    // ---- ACK processing
    if (seq_gt(ack, c.snd_nxt)) {
      // Acknowledges something never sent: answer with an ACK, drop (RFC 9293 3.10.7.4).
      c.ack_pending = true;
    } else if (seq_gt(ack, c.snd_una)) {
      uint32_t acked = ack - c.snd_una;
      bool fin_acked = false;
      if (c.fin_sent && seq_gt(ack, fin_seq(c))) {
        fin_acked = true;
        acked -= 1;
      }
      c.snd_una = ack;
      if (c.sbuf.consume(acked)) give_buf(c.sbuf);
      // New data acknowledged: the backoff ends here. Strict RFC 6298 (5,
      // Karn) keeps a backed-off RTO until a fresh RTT sample, which only a
      // segment sent once can give. Stacks with TCP timestamps (RFC 7323; Linux,
      // the BSDs) get a valid sample from every such ACK, and Linux resets its
      // backoff there; this model has no timestamps and no NewReno, so the
      // strict rule left several losses in one window to serial timeouts whose
      // RTO kept doubling: a 10 MB transfer at 5% loss took 13 min 43 s
      // (0.1 Mbit/s) instead of 1 min 30 s. So the RTO is recomputed from
      // SRTT/RTTVAR, as a timestamped stack's sample would recompute it.
      if (c.rtt_timing && seq_gt(ack, c.rtt_seq)) {
        rtt_sample(c, engine.now().us - c.rtt_start);
        c.rtt_timing = false;
      } else if (c.rtt_valid) {
        c.rto = clamp_rto(c.srtt + std::max<int64_t>(1, 4 * c.rttvar));
      }
      c.retries = 0;
      c.dupacks = 0;
      // RFC 6298 5.2 / 5.3: stop the timer when all is acked, else restart it.
      if (c.snd_una == c.snd_nxt) disarm(c);
      else arm(i, engine.now().us + c.rto);
      if (fin_acked) {
        if (c.state == St::fin_wait_1) {
          c.state = St::fin_wait_2;
          arm(i, engine.now().us + params.time_wait.us);  // orphan guard if the peer never closes
        } else if (c.state == St::closing) {
          free_packet(pi);
          closed_normally(i, true);
          return;
        } else if (c.state == St::last_ack) {
          free_packet(pi);
          closed_normally(i, false);
          return;
        }
      }
    } else if (ack == c.snd_una && len == 0 && !(flags & kFin) && c.snd_una != c.snd_nxt) {
      // RFC 5681 3.2: the third duplicate ACK triggers a fast retransmit.
      if (++c.dupacks == 3 && params.fast_retransmit) retransmit_first(i, "3 duplicate ACKs");
    }

    // ---- data and FIN
    if (len > 0 || (flags & kFin)) {
      c.ack_pending = true;
      if (c.state == St::time_wait) {
        // The peer did not get our last ACK: re-acknowledge, restart 2*MSL.
        free_packet(pi);
        arm(i, engine.now().us + params.time_wait.us);
        output(i);
        return;
      }
      const bool fin = flags & kFin;
      if (seq_gt(seq, c.rcv_nxt)) {
        // Out of order: keep it (inside the window) for later; ACK what we have.
        if (seq_lt(seq, c.rcv_nxt + params.window)) {
          auto& ooo = cold[i].ooo;
          if (!ooo) ooo = std::make_unique<std::vector<OooSeg>>();
          c.has_ooo = true;
          bool dup = false;
          for (const OooSeg& s : *ooo) dup = dup || (s.seq == seq && s.data.size() == len);
          // Bounded: at most a window's worth of segments (plus slack for odd sizes).
          if (!dup && ooo->size() < params.window / std::max<uint32_t>(1, params.mss) * 2 + 8)
            ooo->push_back(OooSeg{seq, fin, std::string(p.payload.view())});
        }
        free_packet(pi);
      } else {
        // In order, or overlapping what we already have: take the new part.
        // Hand the packet's own bytes to the application (no copy); the
        // packet stays allocated until the callbacks return.
        const uint32_t skip = c.rcv_nxt - seq;
        const std::string_view data = skip < len ? p.payload.view().substr(skip) : std::string_view();
        const bool fin_now = fin && seq_le(seq + len, c.rcv_nxt + static_cast<uint32_t>(data.size()));
        const bool alive = deliver(i, data, fin_now && skip <= len);
        free_packet(pi);
        if (!alive) return;
        // Drain buffered segments that are now in order.
        for (;;) {
          if (conns[i].gen != gen || conns[i].state == St::free) return;
          Conn& cc = conns[i];
          if (!cc.has_ooo || cc.fin_rcvd) break;
          std::vector<OooSeg>& ooo = *cold[i].ooo;
          if (ooo.empty()) break;
          size_t k = 0;
          while (k < ooo.size() && seq_gt(ooo[k].seq, cc.rcv_nxt)) ++k;
          if (k == ooo.size()) break;
          OooSeg s = std::move(ooo[k]);
          ooo.erase(ooo.begin() + static_cast<std::ptrdiff_t>(k));
          const uint32_t sk = cc.rcv_nxt - s.seq;
          if (sk > s.data.size()) continue;  // entirely old
          if (!deliver(i, std::string_view(s.data).substr(sk), s.fin)) return;
        }
        if (conns[i].gen != gen || conns[i].state == St::free) return;
      }
    } else {
      free_packet(pi);
    }
    if (conns[i].gen == gen && conns[i].state != St::free) output(i);
  }

  // Hands in-order bytes (and a FIN) to the application. Returns false if the
  // connection is gone afterwards.
  bool deliver(uint32_t i, std::string_view data, bool fin) {
    Conn& c = conns[i];
    const uint32_t gen = c.gen;
    c.rcv_nxt += static_cast<uint32_t>(data.size());
    if (fin && !c.fin_rcvd) {
      c.fin_rcvd = true;
      c.rcv_nxt += 1;
    }
    if (!data.empty() && c.handler && !c.app_closed) {
      InCallback cb(*this, i);
      c.handler->on_data(handle(i), data);
      if (conns[i].gen != gen || conns[i].state == St::free) return false;
    }
    if (fin && conns[i].fin_rcvd) {
      Conn& cc = conns[i];
      if (cc.has_ooo) {
        cold[i].ooo.reset();
        cc.has_ooo = false;
      }
      switch (cc.state) {
        case St::established:
          cc.state = St::close_wait;
          if (cc.handler && !cc.app_closed) {
            InCallback cb(*this, i);
            cc.handler->on_peer_closed(handle(i));
            if (conns[i].gen != gen || conns[i].state == St::free) return false;
          }
          break;
        case St::fin_wait_1:
          cc.state = St::closing;
          break;
        case St::fin_wait_2:
          cc.ack_pending = true;
          output(i);
          closed_normally(i, true);
          return false;
        default: break;
      }
    }
    return true;
  }

  void abort_conn(uint32_t i) {
    Conn& c = conns[i];
    if (c.state != St::syn_sent && c.state != St::time_wait) {
      send_segment(i, kRst | kAck, c.snd_nxt, 0, false);
      conn_record(Kind::tcp_reset, i, [&] { return "connection " + endpoint_text(c) + " aborted (RST sent)"; });
    }
    c.app_closed = true;
    c.handler = nullptr;
    free_conn(i);
  }

  TcpConn open(HostId from, Ipv4 to, uint16_t port, TcpHandler* handler, uint64_t session) {
    if (from >= hosts.size()) throw std::invalid_argument("connect: no such host");
    HostRec& h = hosts[from];
    const uint32_t i = alloc_conn();
    Conn& c = conns[i];
    // An ephemeral port whose 4-tuple is free (IANA range 49152-65535).
    uint16_t lport = 0;
    for (int tries = 0; tries < 16384; ++tries) {
      const uint16_t cand = h.next_port;
      h.next_port = h.next_port == 65535 ? 49152 : static_cast<uint16_t>(h.next_port + 1);
      const ConnKey k{h.addr, to, cand, port};
      if (!conn_map.find(k) && !tw_find(k)) {
        lport = cand;
        break;
      }
    }
    if (lport == 0) {
      free_conn(i);
      throw std::runtime_error("connect: no free ephemeral port on " + h.name);
    }
    c.key = ConnKey{h.addr, to, lport, port};
    c.lhost = from;
    auto hit = host_by_addr.find(to);
    c.rhost = hit == host_by_addr.end() ? kNoHost : hit->second;
    c.handler = handler;
    c.serial = session ? session : ++serial_counter;
    c.state = St::syn_sent;
    c.iss = static_cast<uint32_t>(h.isn.next_u64());
    c.snd_una = c.iss;
    c.snd_nxt = c.iss + 1;
    init_rto(c);
    conn_map.insert(c.key).index = i;
    ++stats.connections_opened;
    conn_record(Kind::tcp_connect, i, [&] { return
                h.name + " opens a connection to " + format_ipv4(to) + ":" + std::to_string(port) + " from port " +
                    std::to_string(lport); });
    const ConnId id = cid(i);
    if (!h.up) {
      // A down host cannot send; the attempt simply times out.
      arm(i, engine.now().us + c.rto);
      return TcpConn(&self, id);
    }
    start_rtt(c, c.iss);
    send_segment(i, kSyn, c.iss, 0, false);
    arm(i, engine.now().us + c.rto);
    return TcpConn(&self, id);
  }

  void net_record(Kind kind, std::string src, std::string text) {
    if (!trace.enabled(Layer::net)) return;
    Record r;
    r.kind = kind;
    r.src = std::move(src);
    r.text = std::move(text);
    trace.emit(std::move(r));
  }
};

// ---------------------------------------------------------------- Network

Network::Network(Engine& engine, Trace& trace, uint64_t seed, TcpParams tcp)
    : impl_(std::make_unique<Impl>(*this, engine, trace, seed, tcp)) {}

Network::~Network() {
  // Pending engine events point at the pool; make them harmless.
  impl_->engine.cancel(impl_->timer_ev);
  for (uint32_t i = 0; i < impl_->packets.size(); ++i) impl_->engine.cancel(impl_->packets[i].ev);
  impl_->engine.cancel(impl_->tw_sweep_ev);
}

HostId Network::add_host(std::string_view name, std::string_view address, bool router) {
  auto a = parse_ipv4(address);
  if (!a) throw std::invalid_argument("host \"" + std::string(name) + "\": \"" + std::string(address) + "\" is not an IPv4 address");
  if (impl_->host_by_name.count(std::string(name))) throw std::invalid_argument("duplicate host name \"" + std::string(name) + "\"");
  if (impl_->host_by_addr.count(*a)) throw std::invalid_argument("address " + std::string(address) + " is already in use");
  const HostId id = static_cast<HostId>(impl_->hosts.size());
  impl_->hosts.emplace_back(std::string(name), *a, router, impl_->seed);
  impl_->host_by_name.emplace(std::string(name), id);
  impl_->host_by_addr.emplace(*a, id);
  return id;
}

LinkId Network::add_link(HostId a, HostId b, const LinkParams& params) {
  if (a >= impl_->hosts.size() || b >= impl_->hosts.size() || a == b) throw std::invalid_argument("add_link: bad ends");
  if (params.loss < 0 || params.loss > 1 || params.reorder < 0 || params.reorder > 1)
    throw std::invalid_argument("add_link: loss and reorder must be between 0 and 1");
  const LinkId id = static_cast<LinkId>(impl_->links.size());
  impl_->links.emplace_back(a, b, params, impl_->seed, impl_->hosts[a].name + "-" + impl_->hosts[b].name);
  impl_->hosts[a].links.push_back(id);
  impl_->hosts[b].links.push_back(id);
  impl_->routes.clear();
  ++impl_->routes_gen;
  return id;
}

void Network::build(const Scenario& sc) {
  const std::vector<std::string> addrs = scenario_addresses(sc);
  for (size_t k = 0; k < sc.hosts.size(); ++k) add_host(sc.hosts[k].name, addrs[k], sc.hosts[k].role == HostRole::router);
  std::unordered_map<std::string, bool> linked;
  for (const Link& l : sc.links) linked[l.a] = linked[l.b] = true;
  bool need_internet = false;
  for (const Host& h : sc.hosts) need_internet = need_internet || (!linked.count(h.name) && h.name != "internet");
  for (const Link& l : sc.links) need_internet = need_internet || l.a == "internet" || l.b == "internet";
  if (need_internet && find_host("internet") == kNoHost) add_host("internet", addrs.back(), true);
  for (const Link& l : sc.links) {
    const HostId a = find_host(l.a), b = find_host(l.b);
    if (a == kNoHost || b == kNoHost) throw std::invalid_argument("link between unknown hosts \"" + l.a + "\" and \"" + l.b + "\"");
    add_link(a, b, link_params(l));
  }
  LinkParams def;
  def.latency = sc.default_latency;
  def.bandwidth_bps = sc.default_bandwidth_bps;
  def.loss = sc.default_loss;
  for (const Host& h : sc.hosts)
    if (!linked.count(h.name) && h.name != "internet") add_link(find_host(h.name), find_host("internet"), def);
}

HostId Network::find_host(std::string_view name) const {
  auto it = impl_->host_by_name.find(std::string(name));
  return it == impl_->host_by_name.end() ? kNoHost : it->second;
}
HostId Network::host_by_address(Ipv4 a) const {
  auto it = impl_->host_by_addr.find(a);
  return it == impl_->host_by_addr.end() ? kNoHost : it->second;
}
LinkId Network::find_link(std::string_view a, std::string_view b) const {
  const HostId ha = find_host(a), hb = find_host(b);
  if (ha == kNoHost || hb == kNoHost) return kNoLink;
  for (LinkId l : impl_->hosts[ha].links) {
    const auto& lr = impl_->links[l];
    if ((lr.a == ha && lr.b == hb) || (lr.a == hb && lr.b == ha)) return l;
  }
  return kNoLink;
}
const std::string& Network::host_name(HostId h) const { return impl_->hosts.at(h).name; }
Ipv4 Network::host_address(HostId h) const { return impl_->hosts.at(h).addr; }
bool Network::host_is_up(HostId h) const { return impl_->hosts.at(h).up; }
size_t Network::host_count() const { return impl_->hosts.size(); }
size_t Network::link_count() const { return impl_->links.size(); }

std::vector<HostId> Network::route(HostId from, HostId to) const {
  std::vector<HostId> out;
  if (from >= impl_->hosts.size() || to >= impl_->hosts.size()) return out;
  out.push_back(from);
  if (from == to) return out;
  const auto* path = impl_->find_route(from, to);
  for (const auto& hop : *path) {
    if (!impl_->links[hop.link].p.up) return {};
    out.push_back(hop.to);
  }
  if (path->empty()) return {};
  return out;
}

void Network::set_host_up(HostId h, bool up) {
  auto& hr = impl_->hosts.at(h);
  if (hr.up == up) return;
  hr.up = up;
  impl_->net_record(up ? Kind::host_up : Kind::host_down, hr.name,
                    hr.name + " (" + format_ipv4(hr.addr) + ") is " +
                        (up ? "up again" : "down: it answers nothing; its connections are gone"));
  if (!up) {
    // The host lost its state: its connections vanish without a word on the
    // wire; local applications learn of it as a reset.
    for (uint32_t i = 0; i < impl_->conns.size(); ++i) {
      auto& c = impl_->conns[i];
      if (c.state != St::free && c.lhost == h) impl_->finish(i, CloseReason::reset);
    }
    Impl& I = *impl_;
    I.tw_map.sweep(
        [&I, a = hr.addr](const TwSlot& t) {
          if (t.key.laddr != a) return false;
          I.tw_info(t).expiry = 0;  // dead: its record waits to reach the ring's front
          return true;
        },
        [](const TwSlot&) {});
    impl_->stats.time_wait = impl_->tw_map.size();
  }
}

void Network::set_link_up(LinkId l, bool up) {
  auto& lr = impl_->links.at(l);
  if (lr.p.up == up) return;
  lr.p.up = up;
  impl_->routes.clear();
  ++impl_->routes_gen;
  impl_->net_record(up ? Kind::link_up : Kind::link_down, impl_->hosts[lr.a].name,
                    "link " + impl_->hosts[lr.a].name + " - " + impl_->hosts[lr.b].name +
                        (up ? " is up again" : " is down: it drops every packet"));
}

void Network::set_link_loss(LinkId l, double loss) {
  auto& lr = impl_->links.at(l);
  if (!(loss >= 0 && loss <= 1)) throw std::invalid_argument("set_link_loss: loss must be between 0 and 1");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g%% -> %g%%", lr.p.loss * 100, loss * 100);
  lr.p.loss = loss;
  impl_->net_record(Kind::link_changed, impl_->hosts[lr.a].name,
                    "link " + impl_->hosts[lr.a].name + " - " + impl_->hosts[lr.b].name + " loss " + buf);
}

const LinkParams& Network::link(LinkId l) const { return impl_->links.at(l).p; }

void Network::set_drop_hook(DropHook hook, void* ctx) {
  impl_->drop_hook = hook;
  impl_->drop_ctx = ctx;
}

bool Network::listen(HostId host, uint16_t port, TcpAcceptor* acceptor) {
  if (host >= impl_->hosts.size() || !acceptor) return false;
  return impl_->listeners.emplace(Impl::port_key(host, port), acceptor).second;
}
void Network::unlisten(HostId host, uint16_t port) { impl_->listeners.erase(Impl::port_key(host, port)); }

TcpConn Network::connect(HostId from, Ipv4 to, uint16_t port, TcpHandler* handler, uint64_t session) {
  return impl_->open(from, to, port, handler, session);
}
TcpConn Network::connect_host(HostId from, HostId to, uint16_t port, TcpHandler* handler, uint64_t session) {
  return impl_->open(from, host_address(to), port, handler, session);
}
uint64_t Network::next_serial() { return ++impl_->serial_counter; }

bool Network::bind_udp(HostId host, uint16_t port, UdpReceiver* receiver) {
  if (host >= impl_->hosts.size() || !receiver) return false;
  return impl_->udp_binds.emplace(Impl::port_key(host, port), receiver).second;
}
void Network::unbind_udp(HostId host, uint16_t port) { impl_->udp_binds.erase(Impl::port_key(host, port)); }

uint16_t Network::ephemeral_udp_port(HostId host) {
  auto& h = impl_->hosts.at(host);
  for (int tries = 0; tries < 16384; ++tries) {
    const uint16_t p = h.next_udp_port;
    h.next_udp_port = h.next_udp_port == 65535 ? 49152 : static_cast<uint16_t>(h.next_udp_port + 1);
    if (!impl_->udp_binds.count(Impl::port_key(host, p))) return p;
  }
  throw std::runtime_error("no free UDP port on " + h.name);
}

void Network::send_udp(HostId from, uint16_t from_port, Ipv4 to, uint16_t to_port, std::string_view payload) {
  auto& I = *impl_;
  if (from >= I.hosts.size() || !I.hosts[from].up) return;
  const uint32_t pi = I.alloc_packet();
  auto& p = I.packets[pi];
  p.src = I.hosts[from].addr;
  p.dst = to;
  p.sport = from_port;
  p.dport = to_port;
  p.proto = kProtoUdp;
  p.flags = 0;
  p.src_host = from;
  p.dst_host = host_by_address(to);
  p.serial = 0;
  I.take_buf(p.payload, payload.size());
  p.payload.assign(payload);
  if (I.trace.enabled(Layer::net)) I.trace.emit(I.packet_record(Kind::datagram_sent, p));
  I.transmit(pi);
}

size_t Network::memory_bytes() const {
  const auto& I = *impl_;
  auto heap = [](const std::string& str) { return str.capacity() > 15 ? str.capacity() + 1 : 0; };
  size_t n = I.conns.allocated() * sizeof(Impl::Conn) + I.packets.allocated() * sizeof(Impl::Packet) +
             I.conn_map.bytes() + I.tw_map.bytes();
  // The TIME-WAIT records: std::deque (libstdc++) keeps them in 512-byte
  // nodes, with a spare node and a map of node pointers.
  constexpr size_t kTwPerNode = std::max<size_t>(1, 512 / sizeof(TwInfo));
  const size_t tw_nodes = I.tw_ring.size() / kTwPerNode + 2;
  n += tw_nodes * (kTwPerNode * sizeof(TwInfo) + sizeof(void*));
  n += I.tw_wide.bucket_count() * sizeof(void*) +
       I.tw_wide.size() * (sizeof(void*) + sizeof(std::pair<const uint32_t, Impl::TwWide>));
  n += I.cold.allocated() * sizeof(Impl::ConnCold) + I.timers.allocated() * sizeof(Impl::Timer);
  for (uint32_t i = 0; i < I.conns.size(); ++i) {
    n += I.conns[i].sbuf.heap_bytes();
    if (const auto& ooo = I.cold[i].ooo) {
      n += sizeof(*ooo) + ooo->capacity() * sizeof(OooSeg);
      for (const OooSeg& o : *ooo) n += heap(o.data);
    }
  }
  for (uint32_t i = 0; i < I.packets.size(); ++i) n += I.packets[i].payload.heap_bytes();
  for (const auto& pool : I.buf_pool) {  // idle buffers waiting to be lent again
    n += pool.capacity() * sizeof(Bytes);
    for (const Bytes& b : pool) n += b.heap_bytes();
  }
  return n;
}

const TcpParams& Network::tcp_params() const { return impl_->params; }
const NetStats& Network::stats() const { return impl_->stats; }
Engine& Network::engine() { return impl_->engine; }
Trace& Network::trace() { return impl_->trace; }

bool Network::conn_valid(ConnId c) const { return impl_->get(c) != nullptr; }

size_t Network::conn_send(ConnId id, std::string_view bytes) {
  auto* c = impl_->get(id);
  if (!c || c->fin_queued || bytes.empty()) return 0;
  if (c->state != St::established && c->state != St::close_wait && c->state != St::syn_sent && c->state != St::syn_rcvd)
    return 0;
  impl_->take_buf(c->sbuf, c->sbuf.size() + bytes.size());
  c->sbuf.append(bytes);
  if (!c->in_cb) impl_->output(id.index);  // else the network sends when the handler returns
  return bytes.size();
}

void Network::conn_close(ConnId id) {
  auto* c = impl_->get(id);
  if (!c || c->fin_queued) return;
  c->fin_queued = true;
  // In SYN-SENT / SYN-RECEIVED the FIN waits for the handshake (RFC 9293
  // 3.10.4 queues it behind the data already handed to send()).
  if (!c->in_cb) impl_->output(id.index);
}

void Network::conn_abort(ConnId id) {
  if (!impl_->get(id)) return;
  impl_->abort_conn(id.index);
}

uint64_t Network::conn_serial(ConnId c) const {
  const auto* p = impl_->get(c);
  return p ? p->serial : 0;
}
HostId Network::conn_local_host(ConnId c) const {
  const auto* p = impl_->get(c);
  return p ? p->lhost : kNoHost;
}
HostId Network::conn_remote_host(ConnId c) const {
  const auto* p = impl_->get(c);
  return p ? p->rhost : kNoHost;
}
uint16_t Network::conn_local_port(ConnId c) const {
  const auto* p = impl_->get(c);
  return p ? p->key.lport : 0;
}
uint16_t Network::conn_remote_port(ConnId c) const {
  const auto* p = impl_->get(c);
  return p ? p->key.rport : 0;
}
Ipv4 Network::conn_remote_address(ConnId c) const {
  const auto* p = impl_->get(c);
  return p ? p->key.raddr : 0;
}
size_t Network::conn_unsent(ConnId c) const {
  const auto* p = impl_->get(c);
  return p ? p->sbuf.size() : 0;
}

// ---------------------------------------------------------------- TcpConn

bool TcpConn::valid() const { return net_ && net_->conn_valid(id_); }
size_t TcpConn::send(std::string_view bytes) const { return net_ ? net_->conn_send(id_, bytes) : 0; }
void TcpConn::close() const {
  if (net_) net_->conn_close(id_);
}
void TcpConn::abort() const {
  if (net_) net_->conn_abort(id_);
}
uint64_t TcpConn::serial() const { return net_ ? net_->conn_serial(id_) : 0; }
HostId TcpConn::local_host() const { return net_ ? net_->conn_local_host(id_) : kNoHost; }
HostId TcpConn::remote_host() const { return net_ ? net_->conn_remote_host(id_) : kNoHost; }
uint16_t TcpConn::local_port() const { return net_ ? net_->conn_local_port(id_) : 0; }
uint16_t TcpConn::remote_port() const { return net_ ? net_->conn_remote_port(id_) : 0; }
Ipv4 TcpConn::remote_address() const { return net_ ? net_->conn_remote_address(id_) : 0; }
size_t TcpConn::unsent_bytes() const { return net_ ? net_->conn_unsent(id_) : 0; }

}  // namespace smtplab
