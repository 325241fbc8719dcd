// sim/trace/trace.hpp: the one trace stream of a run.
//
// Everything observable is emitted here as a Record; the GUI, transcripts,
// exports, lessons and golden tests read nothing else. When attached to an
// engine, emit() stamps the simulated time and fills in the cause from the
// engine's ambient cause (see engine.hpp), then makes the new record the
// ambient cause, so records chain to what led to them without bookkeeping.
//
// Invariants: seq is 1-based and dense; times never decrease.
// Must never: depend on the GUI or on any protocol module.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/engine/engine.hpp"
#include "sim/trace/record.hpp"

namespace smtplab {

class Trace {
 public:
  using Sink = std::function<void(const Record&)>;

  Trace() = default;
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;
  Trace(Trace&&) = default;
  Trace& operator=(Trace&&) = default;

  // Stamps time and cause from this engine from now on.
  void attach(Engine& engine) { engine_ = &engine; }
  void detach() { engine_ = nullptr; }

  // Keep records in memory (default) or only count them and feed sinks
  // (benchmarks with millions of segments).
  void set_store(bool store) { store_ = store; }
  bool storing() const { return store_; }

  // Which layers are recorded at all (bit per Layer; default all). Hot paths
  // ask enabled() before building a record, so a benchmark that turns the
  // tcp layer off pays nothing for segment records.
  void set_layer_mask(uint32_t mask) { layer_mask_ = mask; }
  bool enabled(Layer l) const { return (layer_mask_ >> static_cast<unsigned>(l)) & 1u; }

  // Live consumers (e.g. the bridge prints a transcript as it happens).
  void add_sink(Sink sink) { sinks_.push_back(std::move(sink)); }

  // Appends a record; returns its seq.
  uint64_t emit(Record r);

  const std::vector<Record>& records() const { return records_; }
  uint64_t count() const { return next_seq_ - 1; }
  uint64_t count(Kind k) const { return per_kind_[static_cast<size_t>(k)]; }
  // The record with this seq (only when storing); nullptr if absent.
  const Record* find(uint64_t seq) const;

  // The chain of causes from `seq` back to a root, newest first.
  std::vector<const Record*> cause_chain(uint64_t seq) const;

 private:
  std::vector<Record> records_;
  std::vector<Sink> sinks_;
  Engine* engine_ = nullptr;
  uint64_t next_seq_ = 1;
  uint64_t per_kind_[kKindCount] = {};
  uint32_t layer_mask_ = ~0u;
  bool store_ = true;
};

}  // namespace smtplab
