// gui/sequence_model.hpp: the sequence diagram as data, apart from drawing.
//
// SeqModel is built once per run and filter (O(n)): which records are in the
// diagram, their times, and where idle gaps are folded. A packet in flight
// (a TCP segment, a DNS datagram) is one item from its send to its arrival:
// the model pairs each send with the record of its delivery or loss, so the
// arrow slants down by the time it spent on the wire (time runs down), and a
// lost one ends in a cross where it was lost. The loss record itself is then
// not a second item; item_of_record maps it to the arrow. An application
// record (SMTP command or reply, DNS query or answer, POP3, IMAP) is recorded
// by its sender when it writes the bytes; its arrow ends when those bytes
// arrived, found from the trace alone (see app_arrivals), so a reply never
// seems to arrive before the packet that carried it. layout_visible() then
// produces only what a viewport shows, the way Tracy draws a timeline: find
// the first visible item with lower_bound, and when the next items would land
// within a few pixels, fold them into one "N events" mark found with another
// lower_bound. A frame therefore costs O(visible marks x log n), whatever the
// trace size. Tests read the items directly (arrows in order, gaps labelled).
//
// Must never: depend on ImGui or OpenGL (tests and the bench use it bare).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gui/trace_index.hpp"
#include "gui/view_settings.hpp"

namespace smtplab::gui {

struct SeqFilter {
  bool tcp = false, dns = true, notes = true, states = false;
  bool operator==(const SeqFilter&) const = default;
};
SeqFilter filter_from(const ViewSettings& s);

// Is this record drawn as an arrow (it goes from one host to another)?
bool is_message(const Record& r);
bool in_diagram(const Record& r, const SeqFilter& f);

// "... 30 min later ...": the label of a folded idle gap.
std::string gap_label(int64_t gap_us);

// What became of a message drawn as an arrow.
enum class Fate : uint8_t {
  instant,    // no flight recorded (an SMTP command, a DNS query record): horizontal at its time
  delivered,  // arrived at end time
  lost,       // lost; the cross is at end time, `lost_frac` of the way to the receiver
  in_flight,  // while building: sent, arrival not seen yet
  undelivered,  // application bytes went out but never all arrived (lost, peer down, run over):
                // horizontal at its time, dashed, a cross at the receiver
};

// When the bytes of each application record reached the other host.
// For every record that is_message() in the smtp, dns, pop3 or imap layer:
// follow its effects (records whose cause it is, at the same host and time,
// up to the packets sent: segment-sent / datagram-sent) to find the packets
// that carried it. A datagram arrives at its datagram-delivered (caused by
// it). TCP bytes arrive when the receiver has the stream in order up to the
// record's last byte: deliveries are replayed per direction, retransmissions
// and out-of-order segments included, so a reply carried by a segment that
// was lost and sent again arrives with the copy that got through.
// Records with no packet found (TCP not traced, a real-socket session) are
// left out; sent but never arrived: delivered == false.
struct AppArrival {
  uint32_t record = 0;   // index in the trace
  int64_t t = 0;         // arrival time (send time when !delivered)
  bool delivered = false;
};
std::vector<AppArrival> app_arrivals(const std::vector<Record>& recs);  // sorted by record

// The label a diagram shows for a record: for a packet, what a student
// reads (flags, Seq, Ack, Len, why it was lost) without the address header.
std::string_view diagram_label(const Record& r);

class SeqModel {
 public:
  static constexpr int64_t kGapUs = 1'000'000;  // idle time folded into a labelled row in the rows scale

  void build(const TraceIndex& index, const SeqFilter& filter);
  size_t size() const { return items_.size(); }
  const std::vector<uint32_t>& items() const { return items_; }  // record indices, time order
  const std::vector<int64_t>& times() const { return times_; }
  const std::vector<uint32_t>& gaps() const { return gaps_; }  // item positions preceded by a gap row

  // Rows scale: every item is one row; every gap adds a row before it.
  double row_of(size_t item) const;
  double total_rows() const { return static_cast<double>(items_.size() + gaps_.size()); }
  // The first item whose row is >= row.
  size_t item_at_row(double row) const;
  // The item position of a record index (first item at or after it).
  size_t item_of_record(size_t record) const;
  // The item that draws this record (a loss record maps to its packet's
  // arrow); size() when the record is not in the diagram.
  size_t item_drawing(size_t record) const;

  // Flight of item i: its end time (== times()[i] when instant), fate, and
  // where its end falls in the rows scale (a fractional row).
  int64_t end_time(size_t item) const { return ends_[item]; }
  Fate fate(size_t item) const { return static_cast<Fate>(fates_[item]); }
  double end_row(size_t item) const { return end_rows_[item]; }
  float lost_frac(size_t item) const { return fates_[item] == static_cast<uint8_t>(Fate::lost) ? lost_frac_[item] : 1.0f; }
  // The record index of the loss record merged into item i, or ~0u.
  uint32_t loss_record(size_t item) const;
  // The longest flight, so a viewport also draws arrows that started above it.
  int64_t max_flight_us() const { return max_flight_us_; }
  double max_flight_rows() const { return max_flight_rows_; }

 private:
  double row_at_time(int64_t us) const;  // fractional row where this time falls

  std::vector<uint32_t> items_;
  std::vector<int64_t> times_;
  std::vector<uint32_t> gaps_;
  std::vector<int64_t> ends_;
  std::vector<uint8_t> fates_;
  std::vector<double> end_rows_;
  std::vector<float> lost_frac_;
  std::vector<std::pair<uint32_t, uint32_t>> merged_;  // (loss record, item), sorted by record
  int64_t max_flight_us_ = 0;
  double max_flight_rows_ = 0;
};

enum class SeqItemType { arrow, note, fold, gap };

struct SeqItem {
  SeqItemType type = SeqItemType::arrow;
  size_t record = 0;   // record index (first one for a fold)
  int from = -1, to = -1;  // lifelines (note: from == to)
  float y = 0;         // pixels from the top of the diagram body
  float y_end = 0;     // arrow: where it arrives (== y when instant); lost: where the cross is
  Fate fate = Fate::instant;
  float end_frac = 1;  // lost: how far towards the receiver the cross is (0..1)
  uint32_t count = 1;  // fold: how many items
  bool beside = false; // fold: the rest of a crowd whose arrows are drawn (a "+N" beside them, not a bar)
  size_t first_item = 0;  // fold: the model item it starts at
  uint8_t rest = 0;       // fold beside: bit b set = item first_item + b is one the "+N" counts
  int64_t gap_us = 0;  // gap: idle time
};

struct SeqViewport {
  TimeScale scale = TimeScale::rows;
  float height = 600;    // pixels of diagram body
  double row_px = 30;    // rows scale: pixels per row
  double row_top = 0;    // rows scale: row at the top edge
  double px_per_us = 40e-6;  // proportional scale
  int64_t t_top = 0;     // proportional scale: time at the top edge
  float min_px = 4;      // items closer than this fold
};

std::vector<SeqItem> layout_visible(const SeqModel& model, const TraceIndex& index, const SeqViewport& vp);

// Proportional scale: the zoom (pixels per microsecond) at which the items
// around `item` (`around` on each side) come one line of `line_px` apart:
// the median of the non-zero time steps between them is one line. Items at
// one instant (steps of zero) are crowds the layout handles; 0 when there
// is no non-zero step.
double readable_px_per_us(const SeqModel& model, size_t item, size_t around, double line_px);

}  // namespace smtplab::gui
