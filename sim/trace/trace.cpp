// sim/trace/trace.cpp: the trace store and the kind vocabulary tables.
#include "sim/trace/trace.hpp"

#include <array>
#include <stdexcept>

namespace smtplab {

namespace {

struct KindInfo {
  Layer layer;
  std::string_view name;
  std::string_view description;
};

constexpr KindInfo kKinds[] = {
#define SMTPLAB_KIND_INFO(id, layer, name, desc) {Layer::layer, name, desc},
    SMTPLAB_TRACE_KINDS(SMTPLAB_KIND_INFO)
#undef SMTPLAB_KIND_INFO
};
static_assert(sizeof(kKinds) / sizeof(kKinds[0]) == kKindCount);

constexpr std::array<std::string_view, kLayerCount> kLayerNames{"engine", "net",  "tcp",  "dns", "smtp",
                                                                 "pop3",   "imap", "mail", "fault"};

}  // namespace

Layer layer_of(Kind k) { return kKinds[static_cast<size_t>(k)].layer; }
std::string_view kind_name(Kind k) { return kKinds[static_cast<size_t>(k)].name; }
std::string_view kind_description(Kind k) { return kKinds[static_cast<size_t>(k)].description; }

std::optional<Kind> kind_from_name(std::string_view name) {
  for (int i = 0; i < kKindCount; ++i)
    if (kKinds[i].name == name) return static_cast<Kind>(i);
  return std::nullopt;
}

std::string_view layer_name(Layer l) { return kLayerNames[static_cast<size_t>(l)]; }

std::optional<Layer> layer_from_name(std::string_view name) {
  for (int i = 0; i < kLayerCount; ++i)
    if (kLayerNames[static_cast<size_t>(i)] == name) return static_cast<Layer>(i);
  return std::nullopt;
}

uint64_t Trace::emit(Record r) {
  if (!enabled(r.layer())) return 0;
  r.seq = next_seq_++;
  if (engine_) {
    r.t = engine_->now();
    if (r.cause == 0) r.cause = engine_->cause();
    engine_->set_cause(r.seq);
  }
  if (r.cause >= r.seq) r.cause = 0;  // a cause is always an earlier record
  ++per_kind_[static_cast<size_t>(r.kind)];
  for (const Sink& sink : sinks_) sink(r);
  const uint64_t seq = r.seq;
  if (store_) {
    if (!records_.empty() && r.t < records_.back().t) throw std::logic_error("trace time went backwards");
    records_.push_back(std::move(r));
  }
  return seq;
}

const Record* Trace::find(uint64_t seq) const {
  if (seq == 0 || records_.empty()) return nullptr;
  // Dense seqs when storing from the start; fall back to a search otherwise.
  const uint64_t first = records_.front().seq;
  if (seq >= first && seq - first < records_.size() && records_[seq - first].seq == seq) return &records_[seq - first];
  for (const Record& r : records_)
    if (r.seq == seq) return &r;
  return nullptr;
}

std::vector<const Record*> Trace::cause_chain(uint64_t seq) const {
  std::vector<const Record*> chain;
  for (const Record* r = find(seq); r != nullptr; r = r->cause ? find(r->cause) : nullptr) {
    chain.push_back(r);
    if (chain.size() > records_.size()) break;  // defensive: causes always point backwards
  }
  return chain;
}

}  // namespace smtplab
