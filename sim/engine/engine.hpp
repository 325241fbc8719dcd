// sim/engine/engine.hpp: the deterministic discrete-event engine.
//
// Events are ordered by (time, insertion sequence); ties run first in, first
// out. Cancelling marks the event's slot and the loop skips it (lazy delete).
// Cancelled keys that wait far in the future (a 5-minute SMTP timeout
// cancelled after a few milliseconds) are swept out in one O(n) pass once
// they number more than half the live events (and at least kSweepMin), so
// the queue and its slots stay within 1.5 times the live events, plus 256,
// whatever the program cancels.
// Time never goes backwards. There is no global engine: pass Engine& around,
// so a test can build as many as it likes.
//
// Hot path: schedule_at(t, fn, ctx, arg) stores a plain function pointer, a
// context pointer and a 64-bit argument in a recycled slot; there is no heap
// allocation and no type-erased callable per event. The lambda forms at() and
// after() allocate and are for convenience off the hot path.
//
// Causality: the engine carries one opaque 64-bit "cause" (the trace sequence
// number of the record that led here). Scheduling an event captures the
// current cause; running it restores that cause. The trace uses this to link
// every record to the record that made it happen, with no bookkeeping in the
// protocol code.
//
// Must never: know about any protocol, read a wall clock, or draw random numbers.
#pragma once

#include <cassert>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "sim/engine/queue.hpp"
#include "sim/engine/time.hpp"

namespace smtplab {

using EventFn = void (*)(void* ctx, uint64_t arg);
// A prefetch hint for events of one EventFn (BasicEngine::set_prefetch).
using PrefetchFn = void (*)(const void* ctx, uint64_t arg);

// Identifies a scheduled event for cancel(); stale ids are harmless.
struct EventId {
  uint32_t slot = UINT32_MAX;
  uint32_t gen = 0;
  bool valid() const { return slot != UINT32_MAX; }
};

template <class Queue>
class BasicEngine {
 public:
  static constexpr int kSlotBits = 28;
  static constexpr uint64_t kSlotMask = (uint64_t{1} << kSlotBits) - 1;

  BasicEngine() = default;
  BasicEngine(const BasicEngine&) = delete;
  BasicEngine& operator=(const BasicEngine&) = delete;
  ~BasicEngine() {
    for (Slot& s : slots_)
      if (s.state == kPending && s.owned) delete static_cast<Task*>(s.ctx);
  }

  SimTime now() const { return now_; }
  uint64_t executed() const { return executed_; }
  size_t pending() const { return live_; }
  // Keys in the queue: the pending events plus cancelled ones not yet swept.
  size_t queued() const { return queue_.size(); }
  static const char* queue_name() { return Queue::name(); }
  void reserve(size_t n) {
    queue_.reserve(n);
    slots_.reserve(n);
  }

  // A prefetch hint for events of `fn`: the engine calls pf(ctx, arg) with
  // the event's own context and argument one event before it runs, for pf
  // to prefetch what the event will read (a packet, a connection). At most
  // kMaxHints functions; a second call for the same fn replaces its hint.
  // A hint must only read and prefetch: it changes no outcome.
  void set_prefetch(EventFn fn, PrefetchFn pf) {
    size_t h = 0;
    while (h < hints_ && hint_fn_[h] != fn) ++h;
    if (h == hints_) {
      if (hints_ == kMaxHints) throw std::length_error("engine: too many prefetch hints");
      ++hints_;
    }
    hint_fn_[h] = fn;
    hint_pf_[h] = pf;
  }

  uint64_t cause() const { return cause_; }
  void set_cause(uint64_t c) { cause_ = c; }

  // The hot path: no allocation once slots have warmed up.
  EventId schedule_at(SimTime t, EventFn fn, void* ctx, uint64_t arg = 0) {
    return insert(t, fn, ctx, arg, false);
  }
  EventId schedule_in(SimTime d, EventFn fn, void* ctx, uint64_t arg = 0) {
    return insert(now_ + d, fn, ctx, arg, false);
  }

  // Binds a member function `void T::m(uint64_t)` with no allocation.
  template <auto Method, class T>
  EventId schedule_at(SimTime t, T* obj, uint64_t arg = 0) {
    return insert(t, &member_trampoline<Method, T>, obj, arg, false);
  }
  template <auto Method, class T>
  EventId schedule_in(SimTime d, T* obj, uint64_t arg = 0) {
    return insert(now_ + d, &member_trampoline<Method, T>, obj, arg, false);
  }

  // Convenience: any callable (allocates one small object per event).
  template <class F>
  EventId at(SimTime t, F&& f) {
    using Impl = TaskImpl<std::decay_t<F>>;
    auto task = std::make_unique<Impl>(std::forward<F>(f));
    const EventId id = insert(t, nullptr, task.get(), 0, true);  // may throw: task still owned here
    task.release();
    return id;
  }
  template <class F>
  EventId after(SimTime d, F&& f) {
    return at(now_ + d, std::forward<F>(f));
  }

  // Returns true if the event was pending and is now cancelled.
  bool cancel(EventId id) {
    if (!id.valid() || id.slot >= slots_.size()) return false;
    Slot& s = slots_[id.slot];
    if (s.gen != id.gen || s.state != kPending) return false;
    s.state = kCancelled;
    ++cancelled_;
    if (s.owned) {
      delete static_cast<Task*>(s.ctx);
      s.ctx = nullptr;
      s.owned = false;
    }
    --live_;
    return true;
  }
  bool is_pending(EventId id) const {
    return id.valid() && id.slot < slots_.size() && slots_[id.slot].gen == id.gen &&
           slots_[id.slot].state == kPending;
  }

  // Time of the next live event, if any.
  std::optional<SimTime> next_time() {
    if (!settle()) return std::nullopt;
    return SimTime{queue_.top().time};
  }

  // Runs exactly one live event. Returns false when none is left.
  bool step() {
    if (!settle()) return false;
    run_top();
    return true;
  }

  // Runs every event with time <= t, then sets the clock to t (if later).
  void run_until(SimTime t) {
    stopped_ = false;
    while (!stopped_ && settle() && queue_.top().time <= t.us) run_top();
    if (!stopped_ && t > now_) now_ = t;
  }

  // Runs until no event is left or stop() is called.
  void run() {
    stopped_ = false;
    while (!stopped_ && settle()) run_top();
  }

  void stop() { stopped_ = true; }

 private:
  enum : uint8_t { kFree, kPending, kCancelled };
  static constexpr size_t kSweepMin = 256;  // small queues keep plain lazy deletion

  struct Task {
    virtual ~Task() = default;
    virtual void run() = 0;
  };
  template <class F>
  struct TaskImpl final : Task {
    template <class G>
    explicit TaskImpl(G&& g) : f(std::forward<G>(g)) {}
    void run() override { f(); }
    F f;
  };

  // 40 bytes: one per pending (or cancelled, not yet swept) event, so it
  // counts per open connection. A free slot keeps the next free slot's
  // index in `arg`, which only a pending event uses.
  struct Slot {
    EventFn fn;
    void* ctx;
    uint64_t arg;  // the event's argument; when free, the next free slot
    uint64_t cause;
    uint32_t gen;
    uint8_t state;
    bool owned;
  };
  static_assert(sizeof(Slot) <= 40);

  template <auto Method, class T>
  static void member_trampoline(void* ctx, uint64_t arg) {
    (static_cast<T*>(ctx)->*Method)(arg);
  }

  EventId insert(SimTime t, EventFn fn, void* ctx, uint64_t arg, bool owned) {
    // RFC-free invariant of any DES: nothing may be scheduled in the past.
    if (t < now_) throw std::logic_error("event scheduled in the past");
    uint32_t slot;
    if (free_head_ != UINT32_MAX) {
      slot = free_head_;
      free_head_ = static_cast<uint32_t>(slots_[slot].arg);
    } else {
      if (slots_.size() > kSlotMask) throw std::length_error("too many pending events");
      slot = static_cast<uint32_t>(slots_.size());
      slots_.push_back(Slot{nullptr, nullptr, UINT32_MAX, 0, 0, kFree, false});
    }
    Slot& s = slots_[slot];
    s.fn = fn;
    s.ctx = ctx;
    s.arg = arg;
    s.cause = cause_;
    s.state = kPending;
    s.owned = owned;
    const QueueKey key{t.us, (next_seq_++ << kSlotBits) | slot};
    if (top_spent_) {
      // The running event's key is still on top: overwrite it in one sift.
      top_spent_ = false;
      const QueueKey* next = queue_.next_top();
      prefetch_slot(next && *next < key ? *next : key);
      queue_.replace_top(key);
    } else {
      queue_.push(key);
    }
    ++live_;
    return EventId{slot, s.gen};
  }

  // The next event's slot is a cache miss at a million pending events (it
  // was written when that event was scheduled, long ago); fetching it as soon
  // as the next top is known overlaps the miss with the sift.
  void prefetch_slot(const QueueKey& k) const {
    __builtin_prefetch(&slots_[static_cast<uint32_t>(k.order & kSlotMask)]);
  }

  void release(uint32_t slot) {
    Slot& s = slots_[slot];
    s.state = kFree;
    ++s.gen;
    s.arg = free_head_;
    free_head_ = slot;  // LIFO reuse keeps the slot array warm in cache
  }

  // Removes the key of the event that already ran, if no schedule reused it.
  void drop_spent() {
    if (top_spent_) {
      top_spent_ = false;
      if (const QueueKey* next = queue_.next_top()) prefetch_slot(*next);
      queue_.pop();
    }
  }

  // Drops cancelled events from the top; true if a live event is on top.
  bool settle() {
    drop_spent();
    if (cancelled_ >= kSweepMin && 2 * cancelled_ > live_) sweep();
    while (!queue_.empty()) {
      const uint32_t slot = static_cast<uint32_t>(queue_.top().order & kSlotMask);
      if (slots_[slot].state == kPending) return true;
      queue_.pop();
      release(slot);
      --cancelled_;
    }
    return false;
  }

  // Removes every cancelled key at once and frees its slot. Runs only from
  // settle(), when no spent key sits on top. Order among the live events is
  // (time, sequence) and does not depend on slots, so a sweep changes no
  // outcome. Amortised O(1) per cancel: a sweep of n keys follows at least
  // n / 3 cancels.
  void sweep() {
    queue_.remove_if([this](const QueueKey& k) {
      const uint32_t slot = static_cast<uint32_t>(k.order & kSlotMask);
      if (slots_[slot].state != kCancelled) return false;
      release(slot);
      return true;
    });
    cancelled_ = 0;
  }

  void run_top() {
    // The key stays on top, marked spent, while the handler runs: its first
    // schedule replaces it (pop + push in one pass); otherwise the next
    // settle() pops it.
    const QueueKey k = queue_.top();
    top_spent_ = true;
    const uint32_t slot = static_cast<uint32_t>(k.order & kSlotMask);
    Slot& s = slots_[slot];
    assert(k.time >= now_.us && "time never goes backwards");
    now_ = SimTime{k.time};
    cause_ = s.cause;
    const EventFn fn = s.fn;
    void* const ctx = s.ctx;
    const uint64_t arg = s.arg;
    const bool owned = s.owned;
    --live_;
    release(slot);  // before the call, so the handler's next schedule reuses it
    ++executed_;
    if (hints_) look_ahead();
    if (owned) {
      Task* task = static_cast<Task*>(ctx);
      task->run();
      delete task;
    } else {
      fn(ctx, arg);
    }
  }

  // A two-stage software pipeline over the next events, for when their
  // state is far out in memory (10,000 open connections). The running
  // event's key is still on top, so the next event is the smallest of the
  // root's children. Its slot was fetched one event ago (stage 1, below), so
  // its hint can read (ctx, arg) now and fetch what the event will read
  // (stage 2) while this event runs, instead of the event paying those
  // misses one after another when it starts. Then the slots of all the
  // root's children are fetched: the event after next is usually one.
  void look_ahead() {
    if (const QueueKey* next = queue_.next_top()) {
      const Slot& n = slots_[static_cast<uint32_t>(next->order & kSlotMask)];
      if (n.state == kPending)
        for (size_t h = 0; h < hints_; ++h)
          if (hint_fn_[h] == n.fn) {
            hint_pf_[h](n.ctx, n.arg);
            break;
          }
    }
    queue_.for_each_near_top([this](const QueueKey& k) { prefetch_slot(k); });
  }

  static constexpr size_t kMaxHints = 4;
  EventFn hint_fn_[kMaxHints] = {};
  PrefetchFn hint_pf_[kMaxHints] = {};
  size_t hints_ = 0;

  Queue queue_;
  std::vector<Slot> slots_;
  uint32_t free_head_ = UINT32_MAX;
  uint64_t next_seq_ = 0;
  uint64_t executed_ = 0;
  uint64_t cause_ = 0;
  size_t live_ = 0;
  size_t cancelled_ = 0;  // cancelled keys still in the queue
  bool top_spent_ = false;
  SimTime now_{0};
  bool stopped_ = false;
};

using Engine = BasicEngine<QuaternaryHeap>;

}  // namespace smtplab
