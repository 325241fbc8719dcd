// gui/panel_queues.cpp: what happened to each message, each server's queue
// and each mailbox, at the cursor, derived from the mail-layer records (never
// from the agents' memory; the messages' fates from message_fates()).
//
//   queue:   message-queued adds; delivery-attempt counts; message-deferred
//            and retry-scheduled set the last error and next retry;
//            message-relayed / -delivered / -bounced / -expired remove.
//   mailbox: message-delivered adds (attr "mailbox"); message-fetched marks.
#include <imgui.h>

#include <algorithm>
#include <map>
#include <memory>

#include "gui/panel.hpp"
#include "gui/sequence_view.hpp"
#include "gui/widgets.hpp"
#include "sim/trace/fates.hpp"

namespace smtplab::gui {

namespace {

struct QueueEntry {
  std::string host, id, sender, rcpts, last_error, next;
  int attempts = 0;
};
struct MailboxEntry {
  std::string text;
  uint64_t seq = 0;
  bool fetched = false;
};

struct QueuesPanel final : Panel {
  uint64_t built_for = ~0ull;
  std::vector<size_t> mail_records;
  // What happened to each message up to the cursor (Controller::
  // fates_at_cursor), read again only when the run or the cursor moves.
  uint64_t fates_for = ~0ull;
  size_t fates_cursor = ~size_t{0};
  std::vector<MessageFate> fates;
  size_t fates_total = 0;
  static constexpr size_t kFatesShown = 200;

  void draw_fates(PanelContext& ctx) {
    const Controller& c = ctx.ctl;
    if (fates_for != c.generation() || fates_cursor != c.cursor()) {
      fates_for = c.generation();
      fates_cursor = c.cursor();
      fates = c.fates_at_cursor(kFatesShown);
      fates_total = c.messages_at_cursor();
    }
    widgets::section("Each message at the cursor");
    if (fates.empty()) ImGui::TextDisabled("no message written yet");
    const Palette& p = ctx.colors();
    for (size_t k = 0; k < fates.size(); ++k) {
      const MessageFate& m = fates[k];
      if (m.index >= 0) ImGui::TextWrapped("%lld: %s \"%s\"", static_cast<long long>(m.index), m.from.c_str(), m.subject.c_str());
      else ImGui::TextWrapped("from <%s>, received by %s", m.from.c_str(), m.host.c_str());
      ImGui::Indent();
      for (size_t j = 0; j < m.recipients.size(); ++j) {
        const RecipientFate& f = m.recipients[j];
        ImGui::PushID(static_cast<int>(k * 1000 + j));
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(fate_color(f, p)));
        const std::string head = f.address + ": " + std::string(fate_state_name(f.state)) +
                                 (f.deliveries.size() > 1 ? " (" + std::to_string(f.deliveries.size()) + " times)" : "") +
                                 (f.cut ? ", cut short" : "");
        // Wrapped text, not a Selectable: "alice@yahoo.test: delivered (2
        // times), cut short" is wider than the panel and a Selectable cuts it.
        ImGui::TextWrapped("%s", head.c_str());
        ImGui::PopStyleColor();
        if (f.record && ImGui::IsItemClicked()) ctx.post(cmd::Select{f.record, true});
        if (f.record && (ImGui::IsItemHovered() || c.selected() == f.record))
          ImGui::GetWindowDrawList()->AddRect(ImGui::GetItemRectMin(), ImGui::GetItemRectMax(),
                                              ImGui::GetColorU32(ImGuiCol_HeaderActive));
        if (ImGui::IsItemHovered() && f.record)
          ImGui::SetTooltip("Click: select the record that decided it (the inspector shows its cause chain)");
        ImGui::Indent();
        ImGui::TextWrapped("%s", describe(f).c_str());
        if (std::string n = describe_notice(f); !n.empty()) widgets::text_wrapped_disabled(n.c_str());
        ImGui::Unindent();
        ImGui::PopID();
      }
      ImGui::Unindent();
    }
    if (fates_total > fates.size())
      ImGui::TextDisabled("... and %zu more messages (smtplab run lists them all after the transcript)",
                          fates_total - fates.size());
  }

  std::string_view id() const override { return "queues"; }
  // "Queues & mailboxes" was cut to "Queues & m..." beside Inspector and
  // Lesson at 1600 px; the tab's tooltip says the rest.
  std::string_view title() const override { return "Queues"; }
  std::string_view tab_tip() const override {
    return "What happened to each message, each server's queue (recipients, attempts, next retry,\n"
           "last error) and each mailbox's messages, at the cursor";
  }
  Slot slot() const override { return Slot::right; }

  void draw(PanelContext& ctx) override {
    const Controller& c = ctx.ctl;
    if (built_for != c.generation()) {
      built_for = c.generation();
      mail_records.clear();
      for (size_t i = 0; i < c.size(); ++i)
        if (c.records()[i].layer() == Layer::mail) mail_records.push_back(i);
    }
    std::map<std::string, QueueEntry> queue;  // host + id
    std::map<std::string, std::vector<MailboxEntry>> boxes;
    for (size_t i : mail_records) {
      if (i > c.cursor()) break;
      const Record& r = c.records()[i];
      std::string qid(r.attr("msgid"));
      std::string key = r.src + "\n" + qid;
      switch (r.kind) {
        case Kind::message_queued: {
          QueueEntry& e = queue[key];
          e.host = r.src;
          e.id = qid;
          e.sender = std::string(r.attr("sender"));
          e.rcpts = std::string(r.attr("rcpt"));
          break;
        }
        case Kind::delivery_attempt:
          if (queue.count(key)) ++queue[key].attempts;
          break;
        case Kind::message_deferred:
          if (queue.count(key)) queue[key].last_error = r.attr("error").empty() ? r.text : std::string(r.attr("error"));
          break;
        case Kind::retry_scheduled:
          if (queue.count(key)) {
            // "next" is the retry time in microseconds (kinds.hpp conventions).
            std::string_view nx = r.attr("next");
            int64_t us = 0;
            bool num = !nx.empty() && std::all_of(nx.begin(), nx.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
            if (num) for (char ch : nx) us = us * 10 + (ch - '0');
            queue[key].next = num ? "at " + format_duration(SimTime{us}) : r.text;
          }
          break;
        case Kind::message_relayed:
        case Kind::message_expired:
        case Kind::message_bounced:
        case Kind::message_discarded:
          queue.erase(key);
          break;
        case Kind::message_delivered: {
          queue.erase(key);
          std::string box(r.attr("mailbox"));
          if (box.empty()) box = std::string(r.attr("rcpt"));
          boxes[r.src + ": " + box].push_back({r.text, r.seq, false});
          break;
        }
        case Kind::message_fetched:
          for (auto& [name, list] : boxes)
            if (name.find(std::string(r.attr("mailbox"))) != std::string::npos)
              for (auto& m : list) m.fetched = true;
          break;
        default:
          break;
      }
    }
    draw_fates(ctx);
    widgets::section("Mail queues at the cursor");
    if (queue.empty()) ImGui::TextDisabled("empty");
    // One block per queued message: a narrow panel reads better than a wide table.
    for (auto& [k, e] : queue) {
      ImGui::Text("%s  %s", e.host.c_str(), e.id.c_str());
      ImGui::Indent();
      if (!e.sender.empty()) ImGui::TextWrapped("from %s", e.sender.c_str());
      ImGui::TextWrapped("to %s", e.rcpts.c_str());
      ImGui::Text("attempts: %d", e.attempts);
      if (!e.next.empty()) ImGui::TextWrapped("next retry: %s", e.next.c_str());
      if (!e.last_error.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(ctx.colors().reply_temp));
        ImGui::TextWrapped("last error: %s", e.last_error.c_str());
        ImGui::PopStyleColor();
      }
      ImGui::Unindent();
    }
    widgets::section("Mailboxes at the cursor");
    if (boxes.empty()) ImGui::TextDisabled("nothing delivered yet");
    for (auto& [name, list] : boxes) {
      if (!ImGui::TreeNodeEx(name.c_str(), ImGuiTreeNodeFlags_DefaultOpen)) continue;
      for (const MailboxEntry& m : list) {
        ImGui::PushID(static_cast<int>(m.seq));
        std::string label = m.text + (m.fetched ? "  (fetched)" : "");
        if (ImGui::Selectable(label.c_str(), c.selected() == m.seq)) ctx.post(cmd::Select{m.seq, true});
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("Select to see the stored message (headers with the Received: chain, body) in the inspector");
        ImGui::PopID();
      }
      ImGui::TreePop();
    }
  }
};

}  // namespace

std::unique_ptr<Panel> make_queues_panel() { return std::make_unique<QueuesPanel>(); }

}  // namespace smtplab::gui
