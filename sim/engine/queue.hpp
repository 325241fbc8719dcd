// sim/engine/queue.hpp: priority queues of event keys for the engine.
//
// A key is 16 bytes: the event time, and one word holding the insertion
// sequence in its high bits and the payload slot in its low bits. Ordering by
// (time, order) therefore orders by (time, insertion sequence): ties run first
// in, first out. Payloads (callback, context, argument) live in the engine's
// slot array, so the heap moves only small keys.
//
// Every queue offers: push(key), top(), pop(), size(), empty(), clear(),
// reserve(n). The engine tests run against each implementation.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
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

// A 4-ary min-heap: half the depth of a binary heap, and the four children of
// a node share one 64-byte cache line, so large heaps take fewer misses.
class QuaternaryHeap {
 public:
  static constexpr const char* name() { return "4-ary heap"; }

  void reserve(size_t n) { keys_.reserve(n); }
  void clear() { keys_.clear(); }
  size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }
  const QueueKey& top() const { return keys_.front(); }

  void push(QueueKey k) {
    size_t i = keys_.size();
    keys_.push_back(k);
    while (i > 0) {
      const size_t parent = (i - 1) >> 2;
      if (!(k < keys_[parent])) break;
      keys_[i] = keys_[parent];
      i = parent;
    }
    keys_[i] = k;
  }

  void pop() {
    const QueueKey last = keys_.back();
    keys_.pop_back();
    const size_t n = keys_.size();
    if (n == 0) return;
    size_t i = 0;
    for (;;) {
      const size_t first = 4 * i + 1;
      if (first >= n) break;
      size_t best = first;
      const size_t end = first + 4 < n ? first + 4 : n;
      for (size_t c = first + 1; c < end; ++c)
        if (keys_[c] < keys_[best]) best = c;
      if (!(keys_[best] < last)) break;
      keys_[i] = keys_[best];
      i = best;
    }
    keys_[i] = last;
  }

 private:
  std::vector<QueueKey> keys_;
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
  void push(QueueKey k) {
    keys_.push_back(k);
    std::push_heap(keys_.begin(), keys_.end(), std::greater<QueueKey>{});
  }
  void pop() {
    std::pop_heap(keys_.begin(), keys_.end(), std::greater<QueueKey>{});
    keys_.pop_back();
  }

 private:
  std::vector<QueueKey> keys_;
};

}  // namespace smtplab
