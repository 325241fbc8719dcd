// gui/headless.hpp: an ImGui context with no window, for tests and the
// benchmark (TOOLCHAIN.md): display size set, font atlas built, no backend.
#pragma once

struct ImGuiContext;

namespace smtplab::gui {

class HeadlessImGui {
 public:
  HeadlessImGui(float width, float height, float font_size = 18.0f);
  ~HeadlessImGui();
  HeadlessImGui(const HeadlessImGui&) = delete;
  HeadlessImGui& operator=(const HeadlessImGui&) = delete;

  void new_frame(float dt = 1.0f / 60.0f);
  void end_frame();  // ImGui::Render()

 private:
  ImGuiContext* ctx_ = nullptr;
};

}  // namespace smtplab::gui
