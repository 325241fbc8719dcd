// gui/sequence_model.cpp: which records the diagram shows, and where.
#include "gui/sequence_model.hpp"

#include <algorithm>
#include <cmath>

namespace smtplab::gui {

SeqFilter filter_from(const ViewSettings& s) { return SeqFilter{s.show_tcp, s.show_dns, s.show_notes, s.show_states}; }

bool is_message(const Record& r) {
  switch (r.kind) {
    case Kind::smtp_command: case Kind::smtp_reply: case Kind::smtp_data:
    case Kind::dns_query: case Kind::dns_answer:
    case Kind::pop3_command: case Kind::pop3_reply: case Kind::imap_command: case Kind::imap_response:
    case Kind::segment_sent: case Kind::segment_lost: case Kind::segment_retransmit:
    case Kind::datagram_sent: case Kind::datagram_lost:
      return !r.src.empty() && !r.dst.empty() && r.src != r.dst;
    default:
      return false;  // everything else happens at one host: a note on its lifeline
  }
}

bool in_diagram(const Record& r, const SeqFilter& f) {
  switch (r.layer()) {
    case Layer::engine:
      return false;  // run-start / run-end frame the diagram; they are in the event list
    case Layer::tcp:
      // A segment is drawn once, when sent; its arrival is in the event list.
      return f.tcp && r.kind != Kind::segment_delivered;
    case Layer::net:
      // Datagrams are DNS's transport: shown with the TCP layer. Host and
      // link state are shown as notes.
      if (r.kind == Kind::datagram_sent || r.kind == Kind::datagram_lost) return f.tcp;
      if (r.kind == Kind::datagram_delivered) return false;
      return f.notes;
    case Layer::dns:
      return f.dns;
    case Layer::smtp:
      if (r.kind == Kind::smtp_state) return f.states;
      if (r.kind == Kind::smtp_session_open || r.kind == Kind::smtp_session_end) return f.notes;
      return true;
    case Layer::pop3:
    case Layer::imap:
      if (r.kind == Kind::pop3_state || r.kind == Kind::imap_state) return f.states;
      return true;
    case Layer::mail:
    case Layer::fault:
      return f.notes;
  }
  return false;
}

std::string gap_label(int64_t gap_us) { return "... " + format_duration(SimTime{gap_us}) + " later ..."; }

void SeqModel::build(const TraceIndex& index, const SeqFilter& filter) {
  items_.clear();
  times_.clear();
  gaps_.clear();
  const std::vector<Record>* recs = index.size() ? &index.records() : nullptr;
  if (!recs) return;
  for (size_t i = 0; i < recs->size(); ++i) {
    const Record& r = (*recs)[i];
    if (!in_diagram(r, filter)) continue;
    if (!times_.empty() && r.t.us - times_.back() >= kGapUs) gaps_.push_back(static_cast<uint32_t>(items_.size()));
    items_.push_back(static_cast<uint32_t>(i));
    times_.push_back(r.t.us);
  }
}

double SeqModel::row_of(size_t item) const {
  size_t g = static_cast<size_t>(std::upper_bound(gaps_.begin(), gaps_.end(), static_cast<uint32_t>(item)) - gaps_.begin());
  return static_cast<double>(item + g);
}

size_t SeqModel::item_at_row(double row) const {
  // row_of is increasing in item: binary search.
  size_t lo = 0, hi = items_.size();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (row_of(mid) < row) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

size_t SeqModel::item_of_record(size_t record) const {
  return static_cast<size_t>(std::lower_bound(items_.begin(), items_.end(), static_cast<uint32_t>(record)) - items_.begin());
}

namespace {
void place(const TraceIndex& index, const Record& r, SeqItem& it) {
  it.from = index.lane_of(r, r.src);
  it.to = is_message(r) ? index.lane_of(r, r.dst) : it.from;
  if (it.from < 0) it.from = it.to;
  if (it.to < 0) it.to = it.from;
  it.type = (is_message(r) && it.from != it.to) ? SeqItemType::arrow : SeqItemType::note;
}
}  // namespace

std::vector<SeqItem> layout_visible(const SeqModel& model, const TraceIndex& index, const SeqViewport& vp) {
  std::vector<SeqItem> out;
  const size_t n = model.size();
  if (!n) return out;
  const std::vector<Record>& recs = index.records();
  const float min_px = std::max(1.0f, vp.min_px);

  if (vp.scale == TimeScale::rows) {
    const double row_px = std::max(0.01, vp.row_px);
    size_t i = model.item_at_row(std::floor(vp.row_top) - 1);
    // Fold several items into one mark when rows are thinner than min_px.
    const size_t stride = row_px >= min_px ? 1 : static_cast<size_t>(std::ceil(min_px / row_px));
    const auto& gaps = model.gaps();
    while (i < n) {
      double row = model.row_of(i);
      float y = static_cast<float>((row - vp.row_top) * row_px);
      if (y > vp.height + row_px) break;
      // The gap row sits just above its item.
      if (stride == 1 && std::binary_search(gaps.begin(), gaps.end(), static_cast<uint32_t>(i))) {
        SeqItem g;
        g.type = SeqItemType::gap;
        g.record = model.items()[i];
        g.y = static_cast<float>(y - row_px);
        g.gap_us = model.times()[i] - model.times()[i - 1];
        out.push_back(g);
      }
      SeqItem it;
      it.record = model.items()[i];
      it.y = y;
      if (stride == 1) {
        place(index, recs[it.record], it);
      } else {
        it.type = SeqItemType::fold;
        it.count = static_cast<uint32_t>(std::min(stride, n - i));
      }
      out.push_back(it);
      i += stride;
    }
    return out;
  }

  // Proportional: y = (t - t_top) * px_per_us.
  const double ppu = std::max(1e-15, vp.px_per_us);
  const auto& times = model.times();
  size_t i = static_cast<size_t>(std::lower_bound(times.begin(), times.end(), vp.t_top) - times.begin());
  const int64_t t_bottom = vp.t_top + static_cast<int64_t>(vp.height / ppu) + 1;
  const int64_t fold_us = static_cast<int64_t>(std::ceil(min_px / ppu));
  while (i < n && times[i] <= t_bottom) {
    // Everything within min_px below this item folds with it.
    size_t j = static_cast<size_t>(std::lower_bound(times.begin() + static_cast<long>(i), times.end(), times[i] + fold_us) -
                                   times.begin());
    if (j <= i) j = i + 1;
    SeqItem it;
    it.record = model.items()[i];
    it.y = static_cast<float>(static_cast<double>(times[i] - vp.t_top) * ppu);
    if (j - i == 1) {
      place(index, recs[it.record], it);
    } else {
      it.type = SeqItemType::fold;
      it.count = static_cast<uint32_t>(j - i);
    }
    out.push_back(it);
    i = j;
  }
  return out;
}

}  // namespace smtplab::gui
