// gui/window.cpp: GLFW window, OpenGL 3.3 context (glad), ImGui backends,
// font atlas rebuilds, drag and drop, and screenshots (glReadPixels +
// stb_image_write).
//
// Everything the lab shows is drawn by GuiApp; this file only moves pixels
// and events. Must never: hold UI logic (it cannot be tested headless).
#include "gui/window.hpp"

#include <glad/gl.h>
// glad first: it provides the GL declarations GLFW would otherwise include.
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <stb/stb_image_write.h>

#include <cfloat>
#include <chrono>
#include <cstdlib>
#include <ostream>
#include <vector>

#include "gui/gui_app.hpp"
#include "gui/sequence_model.hpp"

namespace smtplab::gui {

bool display_available() {
  const char* x = std::getenv("DISPLAY");
  const char* w = std::getenv("WAYLAND_DISPLAY");
  return (x && *x) || (w && *w);
}

namespace {

void on_drop(GLFWwindow* w, int count, const char** paths) {
  auto* app = static_cast<GuiApp*>(glfwGetWindowUserPointer(w));
  if (app && count > 0 && paths && paths[0]) app->controller().post(cmd::OpenFile{paths[0]});  // the first file
}

bool write_png(const std::string& path, int w, int h, std::ostream& err) {
  std::vector<unsigned char> px(static_cast<size_t>(w) * static_cast<size_t>(h) * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, w, h, GL_RGB, GL_UNSIGNED_BYTE, px.data());
  // OpenGL rows go bottom-up; PNG rows top-down.
  std::vector<unsigned char> flipped(px.size());
  const size_t stride = static_cast<size_t>(w) * 3;
  for (int y = 0; y < h; ++y)
    std::copy_n(px.begin() + static_cast<long>(static_cast<size_t>(h - 1 - y) * stride), stride,
                flipped.begin() + static_cast<long>(static_cast<size_t>(y) * stride));
  if (!stbi_write_png(path.c_str(), w, h, 3, flipped.data(), static_cast<int>(stride))) {
    err << "smtplab gui: cannot write " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace

int run_window(const WindowOptions& opt, std::ostream& err) {
  if (!glfwInit()) {
    err << "smtplab gui: cannot open a window (no display, or GLFW failed to start)\n";
    return 1;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GL_TRUE);
  const bool shot = !opt.screenshot.empty();
  if (shot) glfwWindowHint(GLFW_RESIZABLE, GLFW_FALSE);
  int w = opt.width, h = opt.height;
  if (w <= 0 || h <= 0) {
    w = 1280;
    h = 800;
    if (GLFWmonitor* m = glfwGetPrimaryMonitor()) {
      if (const GLFWvidmode* mode = glfwGetVideoMode(m)) {
        // The whole screen in screenshot mode; most of it otherwise.
        w = shot ? mode->width : std::max(1280, mode->width * 9 / 10);
        h = shot ? mode->height : std::max(720, mode->height * 9 / 10);
        w = std::min(w, mode->width);
        h = std::min(h, mode->height);
      }
    }
  }
  GLFWwindow* window = glfwCreateWindow(w, h, "smtplab: SMTP lab", nullptr, nullptr);
  if (!window) {
    err << "smtplab gui: cannot create an OpenGL 3.3 window\n";
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(shot ? 0 : 1);
  if (!gladLoadGL(glfwGetProcAddress)) {
    err << "smtplab gui: cannot load OpenGL 3.3 functions\n";
    glfwDestroyWindow(window);
    glfwTerminate();
    return 1;
  }

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // the layout is fixed; view settings live in gui.json
  int rc = 0;
  {
    // Screenshots never touch the user's settings; a test may name a settings
    // file to read (a theme, a scale) with $SMTPLAB_GUI_CONFIG.
    const char* cfg = std::getenv("SMTPLAB_GUI_CONFIG");
    GuiApp app(/*persist=*/!shot, /*load_only=*/shot && cfg && *cfg);
    glfwSetWindowUserPointer(window, &app);
    ImGui_ImplGlfw_InitForOpenGL(window, true);
    glfwSetDropCallback(window, on_drop);
    ImGui_ImplOpenGL3_Init("#version 330 core");

    const bool opened = opt.scenario_text.empty() ? app.controller().open(opt.scenario_path)
                                                  : app.controller().open_text(opt.scenario_text, opt.scenario_source);
    if (!opened) {
      for (const ScenarioError& e : app.controller().errors()) err << e.format() << "\n";
      if (shot) rc = 2;
      // Interactive: show the built-in scenario, and the file's errors in
      // the Scenarios panel (the failing open runs again as a command).
      if (!shot && app.controller().open("")) app.controller().post(cmd::OpenFile{opt.scenario_path});
    }
    if (rc == 0 && !opt.lesson.empty()) {
      std::string why;
      if (!app.open_lesson(opt.lesson, &why)) {
        err << "smtplab gui: --lesson " << opt.lesson << ": " << why << "\n";
        if (shot) rc = 2;
      }
      app.controller().apply_pending();  // the lesson's scenario and first pause
    }
    for (const Fault& f : opt.faults)
      if (rc == 0) app.controller().apply(cmd::InjectFault{f});
    if (rc == 0 && opt.seed) app.controller().apply(cmd::SetSeed{*opt.seed});
    if (rc == 0 && !opt.compare_values.empty()) {
      app.controller().apply(cmd::CompareValues{opt.compare_pointer, opt.compare_values, opt.sweep});
      if (shot) app.controller().wait_compare();  // a screenshot shows the comparison done
      app.set_panel_open("values", true);
      app.focus_panel("values");
    } else if (rc == 0 && opt.sweep) {
      app.controller().apply(cmd::Sweep{opt.sweep});
      if (shot) app.controller().wait_sweep();  // a screenshot shows the sweep done
      app.set_panel_open("seeds", true);
      app.focus_panel("seeds");
    }
    if (opt.at) {
      app.controller().post(cmd::Seek{opt.at->us});
    }
    float xs = 1, ys = 1;
    glfwGetWindowContentScale(window, &xs, &ys);
    float font_size = 0;
    auto last = std::chrono::steady_clock::now();
    int frame = 0;
    bool seeked = false;
    while (rc == 0 && !glfwWindowShouldClose(window) && !app.quit_requested()) {
      glfwPollEvents();
      int fw = 0, fh = 0;
      glfwGetFramebufferSize(window, &fw, &fh);
      // Font atlas at the wanted pixel size (crisp text, no scaling blur).
      float want = app.wanted_font_size(static_cast<float>(fh) / std::max(1.0f, ys)) * std::max(1.0f, ys);
      if (want != font_size) {
        font_size = want;
        ImGui_ImplOpenGL3_DestroyFontsTexture();
        app.set_fonts(build_fonts(io, font_size));
        ImGui_ImplOpenGL3_CreateFontsTexture();
      }
      auto now = std::chrono::steady_clock::now();
      double dt = shot ? 1.0 / 30 : std::chrono::duration<double>(now - last).count();
      last = now;
      ImGui_ImplOpenGL3_NewFrame();
      ImGui_ImplGlfw_NewFrame();
      // A screenshot shows the lab, not whatever the virtual pointer hovers,
      // unless it was asked to hover somewhere (--hover).
      if (shot)
        io.MousePos = opt.hover ? ImVec2(static_cast<float>(opt.hover->first), static_cast<float>(opt.hover->second))
                                : ImVec2(-FLT_MAX, -FLT_MAX);
      if (io.KeyCtrl && ImGui::IsKeyPressed(GLFW_KEY_Q)) glfwSetWindowShouldClose(window, GLFW_TRUE);
      ImGui::NewFrame();
      app.frame(dt);
      if (opt.at && !seeked) {
        // After the seek: select the last protocol record at or before the
        // cursor (what the diagram highlights), so the inspector explains it.
        seeked = true;
        const Controller& c = app.controller();
        const SeqFilter filter = filter_from(app.settings());
        for (size_t i = c.cursor() + 1; i-- > 0 && c.size();) {
          const Record& r = c.records()[i];
          if (in_diagram(r, filter) && (is_message(r) || is_failure(r))) {
            app.controller().post(cmd::Select{c.records()[i].seq, false});
            break;
          }
        }
      }
      ImGui::Render();
      glViewport(0, 0, fw, fh);
      const ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
      glClearColor(bg.x, bg.y, bg.z, 1);
      glClear(GL_COLOR_BUFFER_BIT);
      ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
      ++frame;
      if (shot && frame >= std::max(1, opt.frames)) {
        rc = write_png(opt.screenshot, fw, fh, err) ? 0 : 1;
        break;
      }
      glfwSwapBuffers(window);
    }
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
  }  // GuiApp saves the settings here
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return rc;
}

}  // namespace smtplab::gui
