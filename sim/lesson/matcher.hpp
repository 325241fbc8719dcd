// sim/lesson/matcher.hpp: evaluating record matchers and checks on a trace.
//
// The lesson checker, the terminal walk-through and the GUI lesson panel all
// ask these functions, so "where does this step pause" and "does this
// exercise pass" have one answer everywhere.
//
// Semantics (docs/lessons.md has the table):
// - a matcher holds for a record when every field it sets holds;
// - "after"/"before" compare with the FIRST record matching the anchor
//   (no such record: the relation fails); "within" bounds the time since it;
// - "caused_by" walks the record's cause chain (not the record itself);
// - "nth" picks the nth match where one record is meant (pause, reveal,
//   exists needs at least nth matches).
// Must never: modify the trace, or cost more than O(records x nesting).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/lesson/lesson.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab {

class MatchContext {
 public:
  // base_faults: how many faults the lesson's scenario has itself; fault
  // indices at or above it were added by the student (or a solution).
  MatchContext(const Trace& trace, size_t base_faults) : trace_(trace), base_faults_(base_faults) {}

  const Trace& trace() const { return trace_; }
  size_t base_faults() const { return base_faults_; }

  bool matches(const RecordMatcher& m, const Record& r);
  // The nth record (m.nth) with seq > after_seq that matches; nullptr if none.
  const Record* find(const RecordMatcher& m, uint64_t after_seq = 0);
  // Every matching record, in trace order.
  std::vector<const Record*> find_all(const RecordMatcher& m);
  // What happened to each message by the end of the trace, or by the time
  // `at` (the records up to it), each folded once.
  const std::vector<MessageFate>& fates(std::optional<SimTime> at = std::nullopt);

 private:
  bool matches_local(const RecordMatcher& m, const Record& r) const;
  const Record* anchor(const RecordMatcher& m);  // the first match, cached

  const Trace& trace_;
  size_t base_faults_;
  std::unordered_map<const RecordMatcher*, const Record*> anchors_;
  std::optional<std::vector<MessageFate>> fates_;
  std::map<SimTime, std::vector<MessageFate>> fates_at_;
};

struct CheckResult {
  bool ok = false;
  std::string why;  // for a failure: what was looked for and what was found
};

CheckResult evaluate(const Check& check, MatchContext& ctx);

}  // namespace smtplab
