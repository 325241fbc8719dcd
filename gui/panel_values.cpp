// gui/panel_values.cpp: "What if": one value of the scenario, compared.
//
// How much loss before mail stops getting through? Does a longer latency
// change anything? One run cannot say (another seed loses other packets);
// this tab sweeps the setup on screen once per value of one setting, over
// the same seeds (cmd::CompareValues, as `smtplab sweep --set
// POINTER=V1,V2,...`), and draws per recipient one bar per value: each
// outcome's share in its colour. A click on a part of a bar watches a run
// that ended that way: that value (cmd::SetValue) and that seed.
#include <imgui.h>

#include <algorithm>
#include <cfloat>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "gui/panel.hpp"
#include "gui/sequence_view.hpp"
#include "gui/value_candidates.hpp"
#include "gui/widgets.hpp"

namespace smtplab::gui {

namespace {

// A row's label, and the row's input starting at `label_w` beside it.
void row_label(const char* text, float label_w) {
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted(text);
  ImGui::SameLine(label_w + ImGui::GetStyle().WindowPadding.x);
}

struct ValuesPanel final : Panel {
  std::string text_for;  // the scenario text the candidates were read from
  std::vector<ValueCandidate> candidates;
  nlohmann::json file_doc;  // text_for, parsed: the file's own values
  int chosen = -1;            // into candidates; -1: none yet, or a pointer typed in (`typed`)
  bool typed = false;         // "another value ...": the pointer is edited by hand
  char pointer[256] = "";     // the setting's pointer, editable
  char values[512] = "";      // "0, 0.1, 0.2"
  int seeds = 100;
  std::string error;          // why the values do not parse
  const Controller::Comparison* shown = nullptr;  // the comparison the inputs follow

  std::string_view id() const override { return "values"; }
  std::string_view title() const override { return "What if"; }
  std::string_view tab_tip() const override {
    return "compare the values of one setting (a link's loss, a latency ...) over many seeds";
  }
  Slot slot() const override { return Slot::left_bottom; }

  void choose(int k) {
    chosen = k;
    typed = false;
    const ValueCandidate& c = candidates[static_cast<size_t>(k)];
    std::snprintf(pointer, sizeof pointer, "%s", c.pointer.c_str());
    std::snprintf(values, sizeof values, "%s", c.suggestion.c_str());
    error.clear();
  }

  void refresh(const Controller& c) {
    const std::string& text = c.scenario_text().empty() ? std::string(default_scenario_text()) : c.scenario_text();
    if (text == text_for) return;
    text_for = text;
    candidates = value_candidates(text);
    file_doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    chosen = -1;
    typed = false;
    pointer[0] = values[0] = '\0';
    // A loss: the what-if most lessons start from. A link's that the file
    // sets, else the network's, else a link's that it does not.
    const auto rank = [](const ValueCandidate& k) {
      const bool link = k.pointer.rfind("/links/", 0) == 0 && k.pointer.ends_with("/loss");
      if (link && !k.current.is_null()) return 0;
      if (k.pointer == "/network/loss") return 1;
      return link ? 2 : 3;
    };
    for (size_t k = 0; k < candidates.size(); ++k)
      if (rank(candidates[k]) < 3 && (chosen < 0 || rank(candidates[k]) < rank(candidates[static_cast<size_t>(chosen)])))
        chosen = static_cast<int>(k);
    if (chosen < 0 && !candidates.empty()) chosen = 0;
    if (chosen >= 0) choose(chosen);
  }

  void controls(PanelContext& ctx) {
    const Controller& c = ctx.ctl;
    // A comparison made elsewhere (gui --set P=V1,V2 --sweep N) shows its own.
    if (const Controller::Comparison* done = c.comparison(); done && done != shown) {
      shown = done;
      std::snprintf(pointer, sizeof pointer, "%s", done->pointer.c_str());
      std::string list;
      for (const nlohmann::json& v : done->values) list += (list.empty() ? "" : ", ") + Setting::value_text(v);
      std::snprintf(values, sizeof values, "%s", list.c_str());
      if (!done->sweeps.empty()) seeds = static_cast<int>(done->sweeps.front().seeds.count);
      chosen = -1;
      for (size_t k = 0; k < candidates.size(); ++k)
        if (candidates[k].pointer == done->pointer) chosen = static_cast<int>(k);
      typed = chosen < 0;
    }
    const float label_w = ImGui::CalcTextSize("Pointer ").x;
    row_label("Setting", label_w);
    ImGui::SetNextItemWidth(-FLT_MIN);
    const std::string preview = chosen >= 0 ? candidates[static_cast<size_t>(chosen)].label
                                : typed      ? std::string("another value, by its JSON pointer")
                                             : std::string("(choose one)");
    if (ImGui::BeginCombo("##setting", preview.c_str())) {
      for (size_t k = 0; k < candidates.size(); ++k) {
        ImGui::PushID(static_cast<int>(k));
        if (ImGui::Selectable(candidates[k].label.c_str(), chosen == static_cast<int>(k))) choose(static_cast<int>(k));
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", candidates[k].pointer.c_str());
        ImGui::PopID();
      }
      // Any other value of the file (a recipient, a host's name), by its pointer.
      if (ImGui::Selectable("another value, by its JSON pointer ...", typed)) {
        typed = true;
        chosen = -1;
        error.clear();
      }
      ImGui::EndCombo();
    }
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("The value to vary: %s\n(a JSON pointer into the scenario file, as `--set` takes it)",
                        pointer[0] ? pointer : "none yet");
    if (typed) {
      row_label("Pointer", label_w);
      ImGui::SetNextItemWidth(-FLT_MIN);
      if (ImGui::InputTextWithHint("##pointer", "/messages/0/to", pointer, sizeof pointer)) error.clear();
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("A JSON pointer (RFC 6901) into the scenario file: /links/0/latency,\n"
                          "/messages/0/to, /hosts/3/name ... as `smtplab sweep --set` takes it.");
    }
    row_label("Values", label_w);
    ImGui::SetNextItemWidth(-FLT_MIN);
    if (ImGui::InputText("##values", values, sizeof values)) error.clear();
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Values separated by commas, as `smtplab sweep --set POINTER=V1,V2` takes them:\n"
                        "numbers (0.1), durations (20ms), true/false.");
    row_label("Seeds", label_w);
    ImGui::SetNextItemWidth(ImGui::CalcTextSize("100000").x + ImGui::GetStyle().FramePadding.x * 2);
    ImGui::InputInt("##seeds", &seeds, 0, 0);
    seeds = std::clamp(seeds, 1, static_cast<int>(kMaxLabSweep));
    ImGui::SameLine();
    if (ImGui::Button("Compare")) {
      std::string why;
      const std::optional<Setting> s = parse_setting(std::string(pointer) + "=" + values, &why);
      if (!s) error = why;
      else ctx.post(cmd::CompareValues{s->pointer, s->values, static_cast<uint64_t>(seeds)});
    }
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Runs this setup with each value, seeds 1-%d each (at most %llu runs in all),\n"
                        "and shows how each message ended per value. The lab goes on meanwhile.",
                        seeds, static_cast<unsigned long long>(kMaxLabSweep));
    // Values that do not parse, or that the scenario format refuses.
    if (const std::string& why = error.empty() ? c.compare_error() : error; !why.empty()) {
      ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 0.35f, 0.35f, 1));
      ImGui::TextWrapped("%s", why.c_str());
      ImGui::PopStyleColor();
    }
    if (const auto run = c.compare_running()) {
      char overlay[96];
      std::snprintf(overlay, sizeof overlay, "value %zu of %zu: %llu of %llu seeds", run->value + 1, run->values,
                    static_cast<unsigned long long>(run->done), static_cast<unsigned long long>(run->seeds));
      const float whole = static_cast<float>(run->values) * static_cast<float>(std::max<uint64_t>(run->seeds, 1));
      ImGui::ProgressBar((static_cast<float>(run->value) * static_cast<float>(run->seeds) + static_cast<float>(run->done)) / whole,
                         ImVec2(-FLT_MIN, 0), overlay);
      if (ImGui::Button("Cancel")) ctx.post(cmd::CancelCompare{});
      ImGui::SameLine();
      ImGui::AlignTextToFramePadding();
      ImGui::TextDisabled("comparing, %.1f s so far", run->seconds);
    }
  }

  // One value's bar for one recipient: each outcome's share in its colour,
  // its share written in it when it fits; hovering names it, a click
  // watches its first seed with this value.
  void bar(PanelContext& ctx, const Controller::Comparison& cmp, size_t v, const SweepRecipient& r, float x_bar) {
    const Palette& p = ctx.colors();
    const Controller& c = ctx.ctl;
    const bool on_screen = c.value() && c.value()->pointer == cmp.pointer && c.value()->value == cmp.values[v];
    const std::string name = Setting::value_text(cmp.values[v]);
    ImGui::AlignTextToFramePadding();
    if (on_screen) {  // lit as the seed on screen is in the Seeds tab
      const ImVec2 at = ImGui::GetCursorScreenPos(), size = ImGui::CalcTextSize(name.c_str());
      const float pad = ImGui::GetStyle().FramePadding.x * 0.5f;
      ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(at.x - pad, at.y), ImVec2(at.x + size.x + pad, at.y + ImGui::GetFrameHeight()),
                                                ImGui::GetColorU32(ImGuiCol_ButtonActive), ImGui::GetStyle().FrameRounding);
    }
    ImGui::TextUnformatted(name.c_str());
    if (on_screen && ImGui::IsItemHovered()) ImGui::SetTooltip("the value of the run on screen");
    ImGui::SameLine(x_bar);
    const float w = std::max(ImGui::GetContentRegionAvail().x, 20.0f), h = ImGui::GetFrameHeight();
    const ImVec2 at = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("##bar", ImVec2(w, h));
    const bool hovered = ImGui::IsItemHovered(), clicked = ImGui::IsItemClicked();
    const float mx = ImGui::GetIO().MousePos.x;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const double runs = static_cast<double>(std::max<uint64_t>(r.runs, 1));
    float x = at.x;
    for (const SweepOutcome& o : r.outcomes) {
      const double share = static_cast<double>(o.seeds.size()) / runs;
      const float x1 = o.seeds.size() == r.runs ? at.x + w : x + static_cast<float>(share) * w;
      if (x1 <= x) continue;
      const ImU32 fill = fate_color(o.state, o.deliveries, o.cut, p);
      dl->AddRectFilled(ImVec2(x, at.y + 1), ImVec2(x1, at.y + h - 1), fill);
      // Black on a light fill (the dark theme's), white on a dark one (the light theme's).
      const ImVec4 f = ImGui::ColorConvertU32ToFloat4(fill);
      const ImU32 ink = 0.2126f * f.x + 0.7152f * f.y + 0.0722f * f.z > 0.45f ? IM_COL32(0, 0, 0, 255) : IM_COL32(255, 255, 255, 255);
      if (x > at.x) dl->AddLine(ImVec2(x, at.y), ImVec2(x, at.y + h), ImGui::GetColorU32(ImGuiCol_WindowBg), 2.0f);
      char pct[16];
      std::snprintf(pct, sizeof pct, share < 0.01 ? "%.1f%%" : "%.0f%%", 100 * share);
      // The share, and the median time when it fits: a value may change
      // how long mail takes and not whether it arrives.
      const auto times = o.times();
      const std::string median = times ? format_duration(times->median) : std::string();
      for (const std::string& text : {times ? std::string(pct) + ", median " + median : std::string(),
                                      times ? std::string(pct) + ", " + median : std::string(), std::string(pct)}) {
        const ImVec2 tw = ImGui::CalcTextSize(text.c_str());
        if (text.empty() || tw.x + ImGui::GetFontSize() * 0.75f >= x1 - x) continue;
        dl->AddText(ImVec2(x + 3, at.y + (h - tw.y) / 2), ink, text.c_str());
        break;
      }
      if (hovered && mx >= x && mx < x1) {
        std::string tip = cmp.pointer + " = " + name + ": " + o.label() + " in " + pct + " of the runs (" +
                          std::to_string(o.seeds.size()) + " of " + std::to_string(r.runs) + ")";
        if (times)
          tip += "\nfrom writing to " + std::string(fate_state_name(o.state)) + ": " + median + " (median), " +
                 format_duration(times->p90) + " (90%)";
        tip += "\nclick: watch it (seed " + std::to_string(o.seeds.front()) + ")";
        ImGui::SetTooltip("%s", tip.c_str());
        if (clicked) {
          ctx.post(cmd::SetValue{cmp.pointer, cmp.values[v]});
          ctx.post(cmd::SetSeed{o.seeds.front()});
        }
      }
      x = x1;
    }
  }

  void results(PanelContext& ctx, const Controller::Comparison& cmp) {
    const Controller& c = ctx.ctl;
    ImGui::Separator();
    // The value on screen is lit in the bars; one line leads back.
    if (c.value() && c.value()->pointer == cmp.pointer) {
      // Any pointer's, a typed one's too (a recipient), not only a candidate's.
      std::string own = "none";
      try {
        const nlohmann::json::json_pointer at(cmp.pointer);
        if (file_doc.contains(at)) own = Setting::value_text(file_doc.at(at));
      } catch (const nlohmann::json::exception&) {  // not in this file's shape: "none"
      }
      if (ImGui::SmallButton(("back to the file's value (" + own + ")").c_str()))
        ctx.post(cmd::SetValue{cmp.pointer, std::nullopt});
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("The run on screen has %s = %s; this runs the scenario as written.", cmp.pointer.c_str(),
                          Setting::value_text(c.value()->value).c_str());
    }
    float x_bar = 0;
    for (const nlohmann::json& v : cmp.values)
      x_bar = std::max(x_bar, ImGui::CalcTextSize(Setting::value_text(v).c_str()).x);
    x_bar += ImGui::GetStyle().WindowPadding.x + ImGui::GetStyle().ItemSpacing.x * 2;
    // Every recipient of any value's runs (a value may change who is sent
    // to), each with one bar per value.
    const auto keys = compared_recipients(cmp.sweeps);
    for (size_t n = 0; n < keys.size(); ++n) {
      const auto& [message, address] = keys[n];
      ImGui::Spacing();
      ImGui::TextWrapped("message %lld to %s", static_cast<long long>(message), address.c_str());
      for (size_t v = 0; v < cmp.sweeps.size(); ++v) {
        const auto& rs = cmp.sweeps[v].recipients;
        const auto it = std::find_if(rs.begin(), rs.end(), [&](const SweepRecipient& r) {
          return r.message == message && r.address == address;
        });
        ImGui::PushID(static_cast<int>(v * 1000 + n));
        if (it != rs.end()) bar(ctx, cmp, v, *it, x_bar);
        else ImGui::TextDisabled("%s: not sent to", Setting::value_text(cmp.values[v]).c_str());
        ImGui::PopID();
      }
    }
    // TCP's losses per value: the cause, beside the effect.
    std::string lost;
    for (const SweepSummary& s : cmp.sweeps)
      lost += (lost.empty() ? "" : ", ") + std::to_string(SweepSummary::median(s.lost));
    widgets::text_wrapped_disabled(("TCP segments lost per run (median), per value: " + lost).c_str());
    for (size_t v = 0; v < cmp.sweeps.size(); ++v)
      for (const auto& [seed, why] : cmp.sweeps[v].errors)
        ImGui::TextColored(ImVec4(1, 0.35f, 0.35f, 1), "%s, seed %llu: %s", Setting::value_text(cmp.values[v]).c_str(),
                           static_cast<unsigned long long>(seed), why.c_str());
  }

  void draw(PanelContext& ctx) override {
    const Controller& c = ctx.ctl;
    refresh(c);
    controls(ctx);
    if (const Controller::Comparison* cmp = c.comparison()) results(ctx, *cmp);
    else if (!c.compare_running())
      widgets::text_wrapped_disabled(
          "What if one value were another? Choose a setting and a few values, then Compare: each value runs "
          "over the same seeds, and a click on a bar watches a run that ended that way.");
  }
};

}  // namespace

std::unique_ptr<Panel> make_values_panel() { return std::make_unique<ValuesPanel>(); }

}  // namespace smtplab::gui
