// gui/headless.cpp: the windowless ImGui context (see headless.hpp).
#include "gui/headless.hpp"

#include <imgui.h>

#include "gui/gui_app.hpp"

namespace smtplab::gui {

HeadlessImGui::HeadlessImGui(float width, float height, float font_size) {
  ctx_ = ImGui::CreateContext();
  ImGui::SetCurrentContext(ctx_);
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;
  io.LogFilename = nullptr;
  io.DisplaySize = ImVec2(width, height);
  build_fonts(io, font_size);
  unsigned char* px = nullptr;
  int w = 0, h = 0;
  io.Fonts->GetTexDataAsRGBA32(&px, &w, &h);
  io.Fonts->SetTexID(reinterpret_cast<ImTextureID>(static_cast<intptr_t>(1)));
}

HeadlessImGui::~HeadlessImGui() { ImGui::DestroyContext(ctx_); }

void HeadlessImGui::new_frame(float dt) {
  ImGui::SetCurrentContext(ctx_);
  ImGui::GetIO().DeltaTime = dt;
  ImGui::NewFrame();
}

void HeadlessImGui::end_frame() { ImGui::Render(); }

}  // namespace smtplab::gui
