// gui/panel_seeds.cpp: the run's random seed, and a sweep over many seeds.
//
// A run is a pure function of (scenario, seed, faults). The seed decides
// which packets a lossy link loses, which of two equal MXs is tried first
// and where TCP's sequence numbers start, so another seed is another, equally
// valid run. This tab sets the seed of the run on screen (cmd::SetSeed) and
// sweeps the current setup over seeds 1..N (cmd::Sweep, the same as
// `smtplab sweep`): each outcome of each recipient with its share of the
// runs and its seeds as buttons; a click watches that run.
#include <imgui.h>

#include <algorithm>
#include <cfloat>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "gui/panel.hpp"
#include "gui/sequence_view.hpp"
#include "gui/widgets.hpp"

namespace smtplab::gui {

namespace {

struct SeedsPanel final : Panel {
  uint64_t seed_input = 0, seed_shown = UINT64_MAX, seed_generation = UINT64_MAX;
  int sweep_count = 100;
  const SweepSummary* last_sweep = nullptr;  // the sweep whose count the input shows
  uint64_t last_running = 0;                 // the running sweep's count, once shown

  std::string_view id() const override { return "seeds"; }
  std::string_view title() const override { return "Seeds"; }
  std::string_view tab_tip() const override { return "the run's random seed, and a sweep over many seeds"; }
  Slot slot() const override { return Slot::left_bottom; }

  void seed_controls(PanelContext& ctx) {
    const Controller& c = ctx.ctl;
    if (seed_shown != c.seed() || seed_generation != c.generation()) {
      seed_shown = c.seed();
      seed_generation = c.generation();
      seed_input = seed_shown;
    }
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("Seed");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x * 0.5f);
    const bool entered = ImGui::InputScalar("##seed", ImGuiDataType_U64, &seed_input, nullptr, nullptr, "%llu",
                                            ImGuiInputTextFlags_EnterReturnsTrue);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("A run is a pure function of the scenario, this seed and the faults:\n"
                        "the same seed gives the same run; another loses other packets on a lossy link.");
    ImGui::SameLine();
    if ((ImGui::Button("Run") || entered) && seed_input != c.seed())
      ctx.post(cmd::SetSeed{std::min<uint64_t>(seed_input, INT64_MAX)});
    if (c.seed_overridden()) {
      widgets::text_wrapped_disabled(("the scenario's own is " + std::to_string(c.scenario().seed)).c_str());
      widgets::same_line_if_fits(ImGui::CalcTextSize("back to it").x + ImGui::GetStyle().FramePadding.x * 2);
      if (ImGui::SmallButton("back to it")) ctx.post(cmd::SetSeed{std::nullopt});
    } else {
      widgets::text_wrapped_disabled("(the scenario's own)");
    }
  }

  void sweep_controls(PanelContext& ctx) {
    ImGui::Separator();
    // A sweep made elsewhere (gui --sweep N) shows its own count, running or done.
    if (const SweepSummary* done = ctx.ctl.sweep_result(); done && done != last_sweep) {
      last_sweep = done;
      sweep_count = static_cast<int>(std::min<uint64_t>(done->seeds.count, kMaxLabSweep));
    }
    const uint64_t running = ctx.ctl.sweep_running() ? ctx.ctl.sweep_running()->total : 0;
    if (running != last_running) {
      last_running = running;
      if (running) sweep_count = static_cast<int>(std::min<uint64_t>(running, kMaxLabSweep));
    }
    ImGui::SetNextItemWidth(ImGui::CalcTextSize("100000").x + ImGui::GetStyle().FramePadding.x * 2);
    ImGui::InputInt("##count", &sweep_count, 0, 0);
    sweep_count = std::clamp(sweep_count, 1, static_cast<int>(kMaxLabSweep));
    ImGui::SameLine();
    const std::string label = "Sweep seeds 1-" + std::to_string(sweep_count);
    if (ImGui::Button(label.c_str())) ctx.post(cmd::Sweep{static_cast<uint64_t>(sweep_count)});
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Runs this setup (the scenario, its faults and yours) once per seed, as\n"
                        "`smtplab sweep` does, and counts how each message ended. 100 seeds take\n"
                        "about a tenth of a second for the scenarios shipped; the lab goes on\n"
                        "meanwhile. At most 10,000 here; `smtplab sweep` takes more.");
    // A sweep running: how far it has got, and a way to stop it.
    if (const auto run = ctx.ctl.sweep_running()) {
      char overlay[64];
      std::snprintf(overlay, sizeof overlay, "%llu of %llu seeds", static_cast<unsigned long long>(run->done),
                    static_cast<unsigned long long>(run->total));
      ImGui::ProgressBar(static_cast<float>(run->done) / static_cast<float>(std::max<uint64_t>(run->total, 1)),
                         ImVec2(-FLT_MIN, 0), overlay);
      if (ImGui::Button("Cancel")) ctx.post(cmd::CancelSweep{});
      ImGui::SameLine();
      ImGui::AlignTextToFramePadding();
      ImGui::TextDisabled("sweeping, %.1f s so far", run->seconds);
    }
  }

  // One outcome: its colour, share and label; a tooltip with its times; its
  // seeds as buttons (the current one lit), a click runs that seed.
  void outcome(PanelContext& ctx, const SweepRecipient& r, const SweepOutcome& o, size_t k) {
    const Palette& p = ctx.colors();
    const Controller& c = ctx.ctl;
    const double pct = 100.0 * static_cast<double>(o.seeds.size()) / static_cast<double>(std::max<uint64_t>(r.runs, 1));
    char share[48];
    // A rare outcome keeps a figure: "0.2%", not "0%".
    std::snprintf(share, sizeof share, pct < 1 ? "%.1f%% (%zu %s)" : "%.0f%% (%zu %s)", pct, o.seeds.size(),
                  o.seeds.size() == 1 ? "run" : "runs");
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(fate_color(o.state, o.deliveries, o.cut, p)));
    ImGui::TextWrapped("%s: %s", o.label().c_str(), share);
    ImGui::PopStyleColor();
    if (const auto t = o.times(); t && ImGui::IsItemHovered()) {
      const std::string tip = "from writing to " + std::string(fate_state_name(o.state)) + ": " +
                              format_duration(t->median) + " (median), " + format_duration(t->p90) + " (90%), " +
                              format_duration(t->least) + " to " + format_duration(t->most);
      ImGui::SetTooltip("%s", tip.c_str());
    }
    ImGui::Indent();
    // One row of seeds fits the panel; a rare outcome has few anyway.
    const size_t shown = std::min<size_t>(o.seeds.size(), 6);
    for (size_t i = 0; i < shown; ++i) {
      const uint64_t seed = o.seeds[i];
      const std::string text = std::to_string(seed);
      if (i > 0) widgets::same_line_if_fits(ImGui::CalcTextSize(text.c_str()).x + ImGui::GetStyle().FramePadding.x * 2);
      ImGui::PushID(static_cast<int>(k * 100 + i));
      const bool current = seed == c.seed();
      if (current) ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyle().Colors[ImGuiCol_ButtonActive]);
      if (ImGui::SmallButton(text.c_str()) && !current) ctx.post(cmd::SetSeed{seed});
      if (current) ImGui::PopStyleColor();
      if (ImGui::IsItemHovered()) ImGui::SetTooltip(current ? "the run on screen" : "watch the run with this seed");
      ImGui::PopID();
    }
    if (o.seeds.size() > shown) {
      const std::string more = "+" + std::to_string(o.seeds.size() - shown) + " more";
      widgets::same_line_if_fits(ImGui::CalcTextSize(more.c_str()).x);
      ImGui::TextDisabled("%s", more.c_str());
    }
    ImGui::Unindent();
  }

  void draw(PanelContext& ctx) override {
    const Controller& c = ctx.ctl;
    seed_controls(ctx);
    sweep_controls(ctx);
    const SweepSummary* s = c.sweep_result();
    if (!s) {
      if (!c.sweep_running())
        widgets::text_wrapped_disabled(
            "No sweep of this setup yet. Sweep, then click a seed to watch a run that ended another way.");
      return;
    }
    size_t k = 0;
    for (const SweepRecipient& r : s->recipients) {
      ImGui::Spacing();
      ImGui::TextWrapped("message %lld to %s", static_cast<long long>(r.message), r.address.c_str());
      for (const SweepOutcome& o : r.outcomes) outcome(ctx, r, o, k++);
    }
    if (!s->lost.empty())
      widgets::text_wrapped_disabled(("TCP segments lost per run: " + std::to_string(SweepSummary::median(s->lost)) +
                                      " (median), " + std::to_string(SweepSummary::most(s->lost)) + " at most")
                                         .c_str());
    for (const auto& [seed, why] : s->errors)
      ImGui::TextColored(ImVec4(1, 0.35f, 0.35f, 1), "seed %llu: %s", static_cast<unsigned long long>(seed), why.c_str());
  }
};

}  // namespace

std::unique_ptr<Panel> make_seeds_panel() { return std::make_unique<SeedsPanel>(); }

}  // namespace smtplab::gui
