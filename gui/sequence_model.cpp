// gui/sequence_model.cpp: which records the diagram shows, and where.
#include "gui/sequence_model.hpp"

#include <algorithm>
#include <utility>
#include <cmath>
#include <deque>
#include <map>
#include <unordered_map>

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

std::string_view diagram_label(const Record& r) {
  std::string_view t = r.text;
  if (r.layer() != Layer::tcp && r.kind != Kind::datagram_sent && r.kind != Kind::datagram_lost) return t;
  // "192.0.2.1:49152 > 192.0.2.2:25 [SYN] Seq=0 ..." -> "[SYN] Seq=0 ..."
  size_t gt = t.find(" > ");
  if (gt == std::string_view::npos) return t;
  size_t sp = t.find(' ', gt + 3);
  return sp == std::string_view::npos ? t : t.substr(sp + 1);
}

namespace {
bool is_send(Kind k) { return k == Kind::segment_sent || k == Kind::segment_retransmit || k == Kind::datagram_sent; }
bool is_arrival(Kind k) {
  return k == Kind::segment_delivered || k == Kind::segment_lost || k == Kind::datagram_delivered || k == Kind::datagram_lost;
}
bool is_loss(Kind k) { return k == Kind::segment_lost || k == Kind::datagram_lost; }
// Sends and their arrivals share session, hosts and text (a loss appends " lost: why").
std::string flight_key(const Record& r) {
  std::string_view text = r.text;
  if (is_loss(r.kind)) text = text.substr(0, text.find(" lost: "));
  std::string k = std::to_string(r.session);
  k += '\n';
  k += r.src;
  k += '\n';
  k += r.dst;
  k += '\n';
  k += text;
  return k;
}
}  // namespace

namespace {
bool is_app_message(const Record& r) {
  switch (r.kind) {
    case Kind::smtp_command: case Kind::smtp_reply: case Kind::smtp_data:
    case Kind::dns_query: case Kind::dns_answer:
    case Kind::pop3_command: case Kind::pop3_reply: case Kind::imap_command: case Kind::imap_response:
      return is_message(r);
    default:
      return false;
  }
}
// A decimal attribute modulo 2^32: TCP sequence numbers wrap, so offsets
// are computed in uint32 arithmetic relative to the ISN.
uint32_t attr_u32(const Record& r, std::string_view key) {
  uint32_t v = 0;
  for (char c : r.attr(key))
    if (c >= '0' && c <= '9') v = v * 10u + static_cast<uint32_t>(c - '0');
  return v;
}
}  // namespace

std::vector<AppArrival> app_arrivals(const std::vector<Record>& recs) {
  std::vector<AppArrival> out;
  const size_t n = recs.size();
  if (n == 0 || n >= UINT32_MAX) return out;
  auto index_of_seq = [&](uint64_t seq) -> size_t {
    if (seq >= 1 && seq <= n && recs[seq - 1].seq == seq) return static_cast<size_t>(seq - 1);
    auto it = std::lower_bound(recs.begin(), recs.end(), seq, [](const Record& r, uint64_t q) { return r.seq < q; });
    return it != recs.end() && it->seq == seq ? static_cast<size_t>(it - recs.begin()) : n;
  };
  // Effects of every record (the records it caused), as one flat array.
  std::vector<uint32_t> first(n + 1, 0), parent(n, UINT32_MAX);
  for (size_t i = 0; i < n; ++i) {
    if (!recs[i].cause) continue;
    const size_t p = index_of_seq(recs[i].cause);
    if (p < i) {
      parent[i] = static_cast<uint32_t>(p);
      ++first[p + 1];
    }
  }
  for (size_t i = 0; i < n; ++i) first[i + 1] += first[i];
  std::vector<uint32_t> effects(first[n]);
  {
    std::vector<uint32_t> fill(first.begin(), first.end() - 1);
    for (size_t i = 0; i < n; ++i)
      if (parent[i] != UINT32_MAX) effects[fill[parent[i]]++] = static_cast<uint32_t>(i);
  }
  // One direction of a TCP connection: its ISN, how far the receiver has
  // the stream in order (relative to the ISN), segments that arrived ahead
  // of a hole, and records waiting for their last byte (end -> out index).
  struct Dir {
    bool have_isn = false;
    uint32_t isn = 0, edge = 1;
    std::map<uint32_t, uint32_t> ahead;
    std::multimap<uint32_t, uint32_t> waiting;
  };
  struct Conn {
    std::string a;  // the host that sent first: direction 0
    Dir d[2];
  };
  std::unordered_map<uint64_t, Conn> conns;
  auto dir_of = [&](const Record& r) -> Dir& {
    Conn& c = conns[r.session];
    if (c.a.empty()) c.a = r.src;
    return c.d[r.src == c.a ? 0 : 1];
  };
  std::vector<uint32_t> stack;
  for (size_t i = 0; i < n; ++i) {
    const Record& r = recs[i];
    const bool tcp_seg = r.layer() == Layer::tcp && r.session != 0 &&
                         (is_send(r.kind) || r.kind == Kind::segment_delivered);
    if (tcp_seg && is_send(r.kind)) {
      Dir& d = dir_of(r);
      if (!d.have_isn) {  // the SYN (or SYN,ACK) opens the direction
        const bool syn = r.attr("flags").find("SYN") != std::string_view::npos;
        d.isn = attr_u32(r, "seq") - (syn ? 0u : 1u);
        d.have_isn = true;
      }
      continue;
    }
    if (tcp_seg) {  // segment-delivered: the receiver's stream grows
      Dir& d = dir_of(r);
      const uint32_t len = attr_u32(r, "len");
      if (!d.have_isn || len == 0) continue;
      const uint32_t a = attr_u32(r, "seq") - d.isn;
      if (a > d.edge) {
        uint32_t& e = d.ahead[a];
        e = std::max(e, a + len);
        continue;
      }
      d.edge = std::max(d.edge, a + len);
      while (!d.ahead.empty() && d.ahead.begin()->first <= d.edge) {
        d.edge = std::max(d.edge, d.ahead.begin()->second);
        d.ahead.erase(d.ahead.begin());
      }
      while (!d.waiting.empty() && d.waiting.begin()->first <= d.edge) {
        AppArrival& arr = out[d.waiting.begin()->second];
        arr.t = r.t.us;
        arr.delivered = true;
        d.waiting.erase(d.waiting.begin());
      }
      continue;
    }
    if (!is_app_message(r)) continue;
    // The packets that carried r: its effects at the same host and time
    // (the sender's own callback), through other records it led to (a
    // pipelined RCPT after MAIL, a state change) up to the sends towards
    // r.dst. A burst of segments chains one to the next; a datagram is one.
    bool have_tcp = false;
    uint32_t start = 0, end = 0;
    Dir* dir = nullptr;
    size_t dgram = n;
    auto consider = [&](size_t k) {
      const Record& e = recs[k];
      if (e.dst != r.dst || (r.session && e.session && e.session != r.session)) return false;
      if (e.kind == Kind::datagram_sent) {
        if (dgram == n) dgram = k;
        return false;  // one datagram per query or answer: do not walk past it
      }
      if (e.layer() != Layer::tcp || !e.session) return false;
      Dir& d = dir_of(e);
      const uint32_t len = attr_u32(e, "len");
      if (!d.have_isn || len == 0) return true;
      const uint32_t a = attr_u32(e, "seq") - d.isn;
      start = have_tcp ? std::min(start, a) : a;
      end = have_tcp ? std::max(end, a + len) : a + len;
      have_tcp = true;
      dir = &d;
      return true;
    };
    stack.assign(1, static_cast<uint32_t>(i));
    for (size_t visited = 0; !stack.empty() && visited < 256 && dgram == n; ++visited) {
      const uint32_t u = stack.back();
      stack.pop_back();
      for (uint32_t k = first[u]; k < first[u + 1]; ++k) {
        const size_t c = effects[k];
        const Record& e = recs[c];
        if (e.t.us != r.t.us || e.src != r.src || is_arrival(e.kind)) continue;
        if (is_send(e.kind) && !consider(c)) continue;
        stack.push_back(static_cast<uint32_t>(c));
      }
    }
    // A record emitted with an explicit cause may hide its packets from the
    // walk: the next sends of the same host, time and connection carry it.
    for (size_t j = i + 1; !have_tcp && dgram == n && j < n && j < i + 256 && recs[j].t.us == r.t.us; ++j)
      if (recs[j].src == r.src && is_send(recs[j].kind)) consider(j);
    if (dgram < n) {
      AppArrival arr{static_cast<uint32_t>(i), r.t.us, false};
      for (uint32_t k = first[dgram]; k < first[dgram + 1]; ++k)
        if (recs[effects[k]].kind == Kind::datagram_delivered) {
          arr.t = recs[effects[k]].t.us;
          arr.delivered = true;
          break;
        }
      out.push_back(arr);
    } else if (have_tcp) {
      // More bytes than the burst (a full window): the rest goes out later.
      end = std::max(end, start + static_cast<uint32_t>(r.wire.size()));
      out.push_back(AppArrival{static_cast<uint32_t>(i), r.t.us, false});
      dir->waiting.emplace(end, static_cast<uint32_t>(out.size() - 1));
    }
  }
  return out;
}

void SeqModel::build(const TraceIndex& index, const SeqFilter& filter) {
  items_.clear();
  times_.clear();
  gaps_.clear();
  ends_.clear();
  fates_.clear();
  end_rows_.clear();
  lost_frac_.clear();
  merged_.clear();
  max_flight_us_ = 0;
  max_flight_rows_ = 0;
  const std::vector<Record>* recs = index.size() ? &index.records() : nullptr;
  if (!recs) return;
  // Packets waiting for their arrival record, FIFO per identical packet.
  std::unordered_map<std::string, std::deque<uint32_t>> waiting;
  // Flights that arrived, per sender and receiver: where a loss on a link
  // happened is drawn half way along a typical flight between the two.
  std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> flights;  // sum, count
  std::vector<uint32_t> link_losses;
  const std::vector<AppArrival> arrivals = app_arrivals(*recs);
  auto arr = arrivals.begin();
  for (size_t i = 0; i < recs->size(); ++i) {
    const Record& r = (*recs)[i];
    if (filter.tcp && is_arrival(r.kind) && !waiting.empty()) {
      auto it = waiting.find(flight_key(r));
      if (it != waiting.end() && !it->second.empty()) {
        const uint32_t item = it->second.front();
        it->second.pop_front();
        if (it->second.empty()) waiting.erase(it);
        ends_[item] = r.t.us;
        if (is_loss(r.kind)) {
          fates_[item] = static_cast<uint8_t>(Fate::lost);
          merged_.emplace_back(static_cast<uint32_t>(i), item);
          // Lost on arrival (host down, port unreachable): at the receiver.
          // Lost on a link: decided when sent, drawn half way (see flights).
          const std::string_view why = r.attr("reason");
          const bool at_receiver = why == "host down" || why == "port unreachable";
          lost_frac_[item] = at_receiver ? 1.0f : 0.5f;
          if (!at_receiver) link_losses.push_back(item);
        } else {
          fates_[item] = static_cast<uint8_t>(Fate::delivered);
          auto& f = flights[{r.src, r.dst}];
          f.first += r.t.us - times_[item];
          f.second += 1;
        }
        continue;  // drawn by its packet's arrow
      }
    }
    if (!in_diagram(r, filter)) continue;
    if (!times_.empty() && r.t.us - times_.back() >= kGapUs) gaps_.push_back(static_cast<uint32_t>(items_.size()));
    const uint32_t item = static_cast<uint32_t>(items_.size());
    items_.push_back(static_cast<uint32_t>(i));
    times_.push_back(r.t.us);
    ends_.push_back(r.t.us);
    lost_frac_.push_back(0.5f);
    if (is_send(r.kind) && is_message(r)) {
      fates_.push_back(static_cast<uint8_t>(Fate::in_flight));
      waiting[flight_key(r)].push_back(item);
    } else {
      fates_.push_back(static_cast<uint8_t>(is_loss(r.kind) ? Fate::lost : Fate::instant));
      // An application record ends where its bytes arrived.
      while (arr != arrivals.end() && arr->record < i) ++arr;
      if (arr != arrivals.end() && arr->record == i) {
        if (arr->delivered) {
          fates_.back() = static_cast<uint8_t>(Fate::delivered);
          ends_.back() = std::max(arr->t, r.t.us);
        } else {
          fates_.back() = static_cast<uint8_t>(Fate::undelivered);
        }
      }
    }
  }
  // No arrival recorded (the run ended first): drawn at its send time only.
  for (auto& [key, q] : waiting)
    for (uint32_t item : q) fates_[item] = static_cast<uint8_t>(Fate::instant);
  int64_t all_sum = 0, all_n = 0;
  for (auto& [k, f] : flights) {
    all_sum += f.first;
    all_n += f.second;
  }
  for (uint32_t item : link_losses) {
    const Record& r = (*recs)[items_[item]];
    auto it = flights.find({r.src, r.dst});
    const int64_t typical = it != flights.end() ? it->second.first / it->second.second : all_n ? all_sum / all_n : 0;
    ends_[item] = std::max(ends_[item], times_[item] + typical / 2);
  }
  std::sort(merged_.begin(), merged_.end());
  end_rows_.resize(items_.size());
  for (size_t i = 0; i < items_.size(); ++i) {
    const double start = row_of(i);
    end_rows_[i] = ends_[i] == times_[i] ? start : std::max(start, row_at_time(ends_[i]));
    max_flight_rows_ = std::max(max_flight_rows_, end_rows_[i] - start);
    max_flight_us_ = std::max(max_flight_us_, ends_[i] - times_[i]);
  }
}

double SeqModel::row_at_time(int64_t us) const {
  const size_t n = times_.size();
  const size_t k = static_cast<size_t>(std::lower_bound(times_.begin(), times_.end(), us) - times_.begin());
  if (k == 0) return 0;
  if (k == n) return row_of(n - 1) + 1;
  if (times_[k] == us) return row_of(k);
  const double f = static_cast<double>(us - times_[k - 1]) / static_cast<double>(times_[k] - times_[k - 1]);
  return row_of(k - 1) + f * (row_of(k) - row_of(k - 1));
}

size_t SeqModel::item_drawing(size_t record) const {
  auto m = std::lower_bound(merged_.begin(), merged_.end(), std::make_pair(static_cast<uint32_t>(record), 0u));
  if (m != merged_.end() && m->first == record) return m->second;
  size_t i = item_of_record(record);
  return i < items_.size() && items_[i] == record ? i : items_.size();
}

uint32_t SeqModel::loss_record(size_t item) const {
  if (fates_[item] != static_cast<uint8_t>(Fate::lost)) return ~0u;
  for (const auto& m : merged_)  // rare: only when asked for a lost arrow
    if (m.second == item) return m.first;
  return ~0u;
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
void place(const SeqModel& model, size_t item, const TraceIndex& index, const Record& r, SeqItem& it) {
  it.from = index.lane_of(r, r.src);
  it.to = is_message(r) ? index.lane_of(r, r.dst) : it.from;
  if (it.from < 0) it.from = it.to;
  if (it.to < 0) it.to = it.from;
  it.type = (is_message(r) && it.from != it.to) ? SeqItemType::arrow : SeqItemType::note;
  it.fate = model.fate(item);
  it.end_frac = model.lost_frac(item);
}
// Flights that started above the viewport but land inside it are drawn
// too; looking back is bounded so a frame stays O(visible).
constexpr size_t kLookBackItems = 256;
// Proportional scale: a crowd of at most this many items (closer together
// than min_px) still shows its arrows; a larger one is one folded mark.
constexpr size_t kCrowdArrows = 8;
}  // namespace

std::vector<SeqItem> layout_visible(const SeqModel& model, const TraceIndex& index, const SeqViewport& vp) {
  std::vector<SeqItem> out;
  const size_t n = model.size();
  if (!n) return out;
  const std::vector<Record>& recs = index.records();
  const float min_px = std::max(1.0f, vp.min_px);

  if (vp.scale == TimeScale::rows) {
    const double row_px = std::max(0.01, vp.row_px);
    // Fold several items into one mark when rows are thinner than min_px.
    const size_t stride = row_px >= min_px ? 1 : static_cast<size_t>(std::ceil(min_px / row_px));
    const size_t first = model.item_at_row(std::floor(vp.row_top) - 1);
    size_t i = first;
    if (stride == 1 && model.max_flight_rows() > 0) {
      const size_t back = model.item_at_row(std::floor(vp.row_top) - 1 - std::ceil(model.max_flight_rows()));
      i = std::max(back, first > kLookBackItems ? first - kLookBackItems : 0);
    }
    const auto& gaps = model.gaps();
    while (i < n) {
      double row = model.row_of(i);
      float y = static_cast<float>((row - vp.row_top) * row_px);
      if (y > vp.height + row_px) break;
      if (i < first) {  // above the viewport: only a flight that lands in it
        if (model.end_row(i) < vp.row_top - 1) {
          ++i;
          continue;
        }
      } else if (stride == 1 && std::binary_search(gaps.begin(), gaps.end(), static_cast<uint32_t>(i))) {
        // The gap row sits just above its item.
        SeqItem g;
        g.type = SeqItemType::gap;
        g.record = model.items()[i];
        g.y = static_cast<float>(y - row_px);
        g.y_end = g.y;
        g.gap_us = model.times()[i] - model.times()[i - 1];
        out.push_back(g);
      }
      SeqItem it;
      it.record = model.items()[i];
      it.y = y;
      it.y_end = stride == 1 ? static_cast<float>((model.end_row(i) - vp.row_top) * row_px) : y;
      if (stride == 1) {
        place(model, i, index, recs[it.record], it);
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
  const size_t first = static_cast<size_t>(std::lower_bound(times.begin(), times.end(), vp.t_top) - times.begin());
  size_t i = first;
  if (model.max_flight_us() > 0) {
    const size_t back = static_cast<size_t>(
        std::lower_bound(times.begin(), times.end(), vp.t_top - model.max_flight_us()) - times.begin());
    i = std::max(back, first > kLookBackItems ? first - kLookBackItems : 0);
  }
  const int64_t t_bottom = vp.t_top + static_cast<int64_t>(vp.height / ppu) + 1;
  const int64_t fold_us = static_cast<int64_t>(std::ceil(min_px / ppu));
  auto y_of = [&](int64_t t) { return static_cast<float>(static_cast<double>(t - vp.t_top) * ppu); };
  while (i < n && times[i] <= t_bottom) {
    if (i < first) {  // above the viewport: only a flight that lands in it, never folded
      if (model.end_time(i) >= vp.t_top && model.fate(i) != Fate::instant) {
        SeqItem it;
        it.record = model.items()[i];
        it.y = y_of(times[i]);
        it.y_end = y_of(model.end_time(i));
        place(model, i, index, recs[it.record], it);
        out.push_back(it);
      }
      ++i;
      continue;
    }
    // Everything within min_px below this item folds with it.
    size_t j = static_cast<size_t>(std::lower_bound(times.begin() + static_cast<long>(i), times.end(), times[i] + fold_us) -
                                   times.begin());
    if (j <= i) j = i + 1;
    // Item k as the layout draws it (arrow or note), and a folded mark at i.
    auto placed = [&](size_t k) {
      SeqItem it;
      it.record = model.items()[k];
      it.y = y_of(times[k]);
      place(model, k, index, recs[it.record], it);
      it.y_end = y_of(model.end_time(k));
      return it;
    };
    auto fold = [&](uint32_t count, bool beside, uint8_t rest) {
      SeqItem it;
      it.type = SeqItemType::fold;
      it.record = model.items()[i];
      it.y = it.y_end = y_of(times[i]);
      it.count = count;
      it.beside = beside;
      it.first_item = i;
      it.rest = rest;
      out.push_back(it);
    };
    if (j - i == 1) {
      out.push_back(placed(i));
    } else if (j - i <= kCrowdArrows) {
      // A small crowd, typically one instant: a reply and the state change it
      // causes, or pipelined replies in one segment. Its arrows are the
      // story, so each is drawn (one per pair of lifelines; a second arrow
      // on the same pair would lie on the first); the rest is counted in a
      // "+N" beside them.
      static_assert(kCrowdArrows <= 8, "SeqItem::rest has one bit per record of a crowd");
      uint32_t rest = 0;
      uint8_t rest_bits = 0;
      std::pair<int, int> pairs[kCrowdArrows];
      size_t npairs = 0;
      for (size_t k = i; k < j; ++k) {
        const SeqItem it = placed(k);
        const std::pair<int, int> pair{it.from, it.to};
        if (it.type != SeqItemType::arrow || std::find(pairs, pairs + npairs, pair) != pairs + npairs) {
          ++rest;
          rest_bits = static_cast<uint8_t>(rest_bits | 1u << (k - i));
          continue;
        }
        pairs[npairs++] = pair;
        out.push_back(it);
      }
      if (rest) fold(rest, npairs > 0, rest_bits);
    } else {
      fold(static_cast<uint32_t>(j - i), false, 0);
    }
    i = j;
  }
  return out;
}

double readable_px_per_us(const SeqModel& model, size_t item, size_t around, double line_px) {
  const auto& times = model.times();
  if (times.size() < 2) return 0;
  item = std::min(item, times.size() - 1);
  const size_t lo = item > around ? item - around : 0;
  const size_t hi = std::min(times.size() - 1, item + around);
  std::vector<int64_t> steps;
  for (size_t k = lo; k < hi; ++k)
    if (times[k + 1] > times[k]) steps.push_back(times[k + 1] - times[k]);
  if (steps.empty()) return 0;
  auto mid = steps.begin() + static_cast<long>(steps.size() / 2);
  std::nth_element(steps.begin(), mid, steps.end());
  return line_px / static_cast<double>(*mid);
}

}  // namespace smtplab::gui
