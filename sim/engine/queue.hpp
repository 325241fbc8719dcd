// sim/engine/queue.hpp: priority queues of event keys for the engine.
//
// A key is 16 bytes: the event time, and one word holding the insertion
// sequence in its high bits and the payload slot in its low bits. Ordering by
// (time, order) therefore orders by (time, insertion sequence): ties run first
// in, first out. Payloads (callback, context, argument) live in the engine's
// slot array, so the heap moves only small keys.
//
// Every queue offers: push(key), top(), pop(), replace_top(key) (= pop then
// push), remove_if(pred) (drops every key the predicate names and restores
// heap order in O(n)), size(), empty(), clear(), reserve(n). The engine tests
// run against each implementation.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <functional>
#include <vector>

namespace smtplab {

struct QueueKey {
  int64_t time;
  uint64_t order;  // (sequence << kSlotBits) | slot

  friend bool operator<(const QueueKey& a, const QueueKey& b) {
    return a.time < b.time || (a.time == b.time && a.order < b.order);
  }
  friend bool operator>(const QueueKey& a, const QueueKey& b) { return b < a; }
};

// A 4-ary min-heap laid out for the cache: keys are 16 bytes, the storage is
// 64-byte aligned and the root sits at index 3, so the four children of any
// node (indices 4p-8 .. 4p-5) fill exactly one cache line. Half the depth of
// a binary heap and one line per level: at a million pending events this is
// what beats a plain binary heap. Pops are bottom-up (Floyd): the hole sinks
// to a leaf along the smaller children without comparing against the moved
// element, which then rises the usual short distance.
class QuaternaryHeap {
 public:
  static constexpr const char* name() { return "4-ary heap"; }

  QuaternaryHeap() = default;
  QuaternaryHeap(const QuaternaryHeap&) = delete;
  QuaternaryHeap& operator=(const QuaternaryHeap&) = delete;
  ~QuaternaryHeap() { std::free(data_); }

  void reserve(size_t n) {
    if (n + kRoot > cap_) grow(n + kRoot);
  }
  void clear() { end_ = kRoot; }
  size_t size() const { return end_ - kRoot; }
  bool empty() const { return end_ == kRoot; }
  const QueueKey& top() const { return data_[kRoot]; }

  // The key that becomes the top after pop() (the smallest child of the
  // root, one cached line), or nullptr if the top is alone. Lets the engine
  // fetch the next event's payload while the sift runs.
  const QueueKey* next_top() const {
    const size_t first = 4 * kRoot - 8;
    if (first >= end_) return nullptr;
    const size_t last = std::min(first + 4, end_);
    size_t best = first;
    for (size_t c = first + 1; c < last; ++c)
      if (less(data_[c], data_[best])) best = c;
    return &data_[best];
  }

  // Calls f(key) for each child of the root: the candidates for the top
  // after the next pop and the one after (one cached line).
  template <class F>
  void for_each_near_top(F f) const {
    const size_t first = 4 * kRoot - 8;
    const size_t last = std::min(first + 4, end_);
    for (size_t c = first; c < last; ++c) f(data_[c]);
  }

  void push(QueueKey k) {
    if (end_ >= cap_) grow(cap_ * 2);
    sift_up(end_++, k);
  }

  // pop() followed by push(k), in one pass from the root down: a handler
  // that schedules its successor (the common case) costs one sift, not two.
  void replace_top(QueueKey k) {
    size_t hole = kRoot;
    for (;;) {
      const size_t first = 4 * hole - 8;
      size_t best;
      prefetch_grandchildren(first);
      if (first + 4 <= end_) {
        const size_t a = first + static_cast<size_t>(less(data_[first + 1], data_[first]));
        const size_t b = first + 2 + static_cast<size_t>(less(data_[first + 3], data_[first + 2]));
        best = a ^ ((a ^ b) & (size_t{0} - static_cast<size_t>(less(data_[b], data_[a]))));
      } else if (first < end_) {
        best = first;
        for (size_t c = first + 1; c < end_; ++c)
          if (less(data_[c], data_[best])) best = c;
      } else {
        break;
      }
      if (!less(data_[best], k)) break;
      data_[hole] = data_[best];
      hole = best;
    }
    data_[hole] = k;
  }

  // Drops every key for which drop(key) is true, then rebuilds the heap
  // bottom-up (Floyd): O(n) for n keys, whatever was dropped.
  template <class Pred>
  void remove_if(Pred drop) {
    size_t out = kRoot;
    for (size_t i = kRoot; i < end_; ++i)
      if (!drop(data_[i])) data_[out++] = data_[i];
    end_ = out;
    if (end_ - kRoot < 2) return;
    for (size_t p = (end_ - 1 + 8) / 4 + 1; p-- > kRoot;) sift_down(p, data_[p]);
  }

  void pop() {
    const QueueKey last = data_[--end_];
    if (end_ == kRoot) return;
    // Sink the hole at the root down to a leaf along the smallest children.
    size_t hole = kRoot;
    for (;;) {
      const size_t first = 4 * hole - 8;
      prefetch_grandchildren(first);
      if (first + 4 <= end_) {
        // Branch-free selection: which child is smallest is a coin toss for
        // random times, so a branch here would mispredict half the time.
        const size_t a = first + static_cast<size_t>(less(data_[first + 1], data_[first]));
        const size_t b = first + 2 + static_cast<size_t>(less(data_[first + 3], data_[first + 2]));
        const size_t best = a ^ ((a ^ b) & (size_t{0} - static_cast<size_t>(less(data_[b], data_[a]))));
        data_[hole] = data_[best];
        hole = best;
      } else if (first < end_) {
        size_t best = first;
        for (size_t c = first + 1; c < end_; ++c)
          if (less(data_[c], data_[best])) best = c;
        data_[hole] = data_[best];
        hole = best;
      } else {
        break;
      }
    }
    sift_up(hole, last);
  }

 private:
  static constexpr size_t kRoot = 3;

  // While the four children of `first`'s parent are compared, fetch the four
  // lines holding their children (the next level): at a million keys each
  // level below the cached top is a cache miss, and this overlaps them.
  void prefetch_grandchildren(size_t first) const {
    const size_t g = 4 * first - 8;
    if (g < end_) {
      const QueueKey* p = data_ + g;
      __builtin_prefetch(p);
      __builtin_prefetch(p + 4);
      __builtin_prefetch(p + 8);
      __builtin_prefetch(p + 12);
    }
  }

  static __uint128_t wide(const QueueKey& k) {
    // Bias the signed time so unsigned order matches (time, order) order.
    return (static_cast<__uint128_t>(static_cast<uint64_t>(k.time) ^ (uint64_t{1} << 63)) << 64) | k.order;
  }
  static bool less(const QueueKey& a, const QueueKey& b) { return wide(a) < wide(b); }

  // Places k at or below hole i (top-down, comparing against k at each level).
  void sift_down(size_t hole, QueueKey k) {
    for (;;) {
      const size_t first = 4 * hole - 8;
      if (first >= end_) break;
      const size_t last = std::min(first + 4, end_);
      size_t best = first;
      for (size_t c = first + 1; c < last; ++c)
        if (less(data_[c], data_[best])) best = c;
      if (!less(data_[best], k)) break;
      data_[hole] = data_[best];
      hole = best;
    }
    data_[hole] = k;
  }

  void sift_up(size_t i, QueueKey k) {
    const __uint128_t wk = wide(k);
    while (i > kRoot) {
      const size_t parent = (i + 8) / 4;
      if (!(wk < wide(data_[parent]))) break;
      data_[i] = data_[parent];
      i = parent;
    }
    data_[i] = k;
  }

  void grow(size_t want) {
    size_t cap = cap_ ? cap_ : 64;
    while (cap < want) cap *= 2;
    auto* fresh = static_cast<QueueKey*>(std::aligned_alloc(64, cap * sizeof(QueueKey)));
    if (!fresh) throw std::bad_alloc();
    if (data_) std::memcpy(fresh, data_, end_ * sizeof(QueueKey));
    std::free(data_);
    data_ = fresh;
    cap_ = cap;
  }

  QueueKey* data_ = nullptr;
  size_t end_ = kRoot;
  size_t cap_ = 0;
};

// The textbook binary heap (std::push_heap / std::pop_heap): the reference
// implementation the tests compare against.
class BinaryHeap {
 public:
  static constexpr const char* name() { return "binary heap"; }

  void reserve(size_t n) { keys_.reserve(n); }
  void clear() { keys_.clear(); }
  size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }
  const QueueKey& top() const { return keys_.front(); }
  const QueueKey* next_top() const {
    if (keys_.size() < 2) return nullptr;
    if (keys_.size() == 2 || keys_[1] < keys_[2]) return &keys_[1];
    return &keys_[2];
  }
  template <class F>
  void for_each_near_top(F f) const {
    for (size_t c = 1; c < std::min<size_t>(keys_.size(), 3); ++c) f(keys_[c]);
  }
  void push(QueueKey k) {
    keys_.push_back(k);
    std::push_heap(keys_.begin(), keys_.end(), std::greater<QueueKey>{});
  }
  void pop() {
    std::pop_heap(keys_.begin(), keys_.end(), std::greater<QueueKey>{});
    keys_.pop_back();
  }
  void replace_top(QueueKey k) {
    pop();
    push(k);
  }
  template <class Pred>
  void remove_if(Pred drop) {
    std::erase_if(keys_, drop);
    std::make_heap(keys_.begin(), keys_.end(), std::greater<QueueKey>{});
  }

 private:
  std::vector<QueueKey> keys_;
};

}  // namespace smtplab
