// gui/trace_index.hpp: read-only indexes over one run's trace, for the panels.
//
// The trace is the only thing the GUI draws from (DESIGN.md). This index is
// built once per run (O(n)) so that every frame afterwards costs what is
// visible: record times sorted for lower_bound, the lifelines of the sequence
// diagram, where SMTP exchanges start, where failures happen.
//
// Must never: modify the trace, or read anything but the trace and the
// scenario it came from.
// Invariants: `times[i] == records[i].t.us`, non-decreasing; every index list
// is sorted ascending.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/scenario/scenario.hpp"
#include "sim/trace/record.hpp"

namespace smtplab::gui {

// One vertical line of the sequence diagram: a host, or one role of a host
// that is SMTP client in one session and server in another (a relay).
struct Lifeline {
  std::string host;
  std::string role;   // "", "client" or "server"
  std::string label;  // what the header shows
  HostRole host_role = HostRole::mail_server;
};

// Is this record a failure a teacher wants to jump to? (faults, losses,
// 4xx/5xx replies, timeouts, bounces ...)
bool is_failure(const Record& r);
// Is this record the start of an exchange (a command, a query, a connect)?
bool starts_exchange(const Record& r);
// The reply code of an smtp_reply (attr "code", else the text's first three digits); 0 if none.
int reply_code(const Record& r);

class TraceIndex {
 public:
  TraceIndex() = default;
  // `records` must outlive the index (it belongs to the controller's run).
  void build(const std::vector<Record>* records, const Scenario* scenario);

  const std::vector<Record>& records() const { return records_ ? *records_ : empty_; }
  size_t size() const { return records_ ? records_->size() : 0; }
  const std::vector<int64_t>& times() const { return times_; }
  int64_t end_time() const { return times_.empty() ? 0 : times_.back(); }

  // First record index with t >= us (size() if none).
  size_t lower_bound(int64_t us) const;
  // One past the last record index with t <= us.
  size_t upper_bound(int64_t us) const;
  // Index of the record with this seq, or size().
  size_t index_of_seq(uint64_t seq) const;

  const std::vector<Lifeline>& lifelines() const { return lifelines_; }
  // The lifeline where `host` appears in this record's session; -1 if the host has none.
  int lane_of(const Record& r, std::string_view host) const;

  const std::vector<size_t>& exchanges() const { return exchanges_; }
  const std::vector<size_t>& failures() const { return failures_; }
  const std::vector<std::string>& hosts() const { return hosts_; }

 private:
  int lane_for(std::string_view host, std::string_view role) const;

  const std::vector<Record>* records_ = nullptr;
  std::vector<Record> empty_;  // what records() returns before any run
  std::vector<int64_t> times_;
  std::vector<Lifeline> lifelines_;
  std::vector<std::string> hosts_;
  std::unordered_map<std::string, int> lane_by_key_;    // "host\nrole"
  std::unordered_map<uint64_t, std::string> session_client_;  // session -> client host
  std::vector<size_t> exchanges_;
  std::vector<size_t> failures_;
};

}  // namespace smtplab::gui
