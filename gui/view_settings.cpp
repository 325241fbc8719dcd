// gui/view_settings.cpp: reading and writing the view settings file.
#include "gui/view_settings.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace smtplab::gui {

using nlohmann::json;

std::string settings_path() {
  if (const char* p = std::getenv("SMTPLAB_GUI_CONFIG"); p && *p) return p;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/smtplab/gui.json";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/smtplab/gui.json";
  return "";
}

std::string settings_to_json(const ViewSettings& s) {
  json j;
  j["font_size"] = s.font_size;
  j["theme"] = s.theme == Theme::dark ? "dark" : "light";
  j["scale"] = s.scale == TimeScale::rows ? "rows" : "proportional";
  j["show_tcp"] = s.show_tcp;
  j["show_dns"] = s.show_dns;
  j["show_notes"] = s.show_notes;
  j["show_states"] = s.show_states;
  j["row_height"] = s.row_height;
  j["px_per_second"] = s.px_per_second;
  j["speed"] = s.speed;
  j["layer_mask"] = s.layer_mask;
  j["host_filter"] = s.host_filter;
  j["text_filter"] = s.text_filter;
  j["panels"] = s.panels;
  return j.dump(2) + "\n";
}

namespace {
template <class T>
void get(const json& j, const char* k, T& out, T lo, T hi, std::string& bad) {
  auto it = j.find(k);
  if (it == j.end()) return;
  try {
    T v = it->get<T>();
    if (v < lo || v > hi) throw std::out_of_range("range");
    out = v;
  } catch (const std::exception&) {
    bad += bad.empty() ? k : std::string(", ") + k;
  }
}
void get_bool(const json& j, const char* k, bool& out, std::string& bad) {
  auto it = j.find(k);
  if (it == j.end()) return;
  if (it->is_boolean()) out = it->get<bool>();
  else bad += bad.empty() ? k : std::string(", ") + k;
}
void get_str(const json& j, const char* k, std::string& out, std::string& bad) {
  auto it = j.find(k);
  if (it == j.end()) return;
  if (it->is_string() && it->get_ref<const std::string&>().size() < 256) out = it->get<std::string>();
  else bad += bad.empty() ? k : std::string(", ") + k;
}
}  // namespace

bool settings_from_json(const std::string& text, ViewSettings& s, std::string* warning) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    if (warning) *warning = "not a JSON object; using default settings";
    return false;
  }
  std::string bad;
  get(j, "font_size", s.font_size, 0.0f, 96.0f, bad);
  if (s.font_size > 0 && s.font_size < 8) s.font_size = 8;  // 0 means automatic
  std::string theme = s.theme == Theme::dark ? "dark" : "light";
  get_str(j, "theme", theme, bad);
  if (theme == "dark") s.theme = Theme::dark;
  else if (theme == "light") s.theme = Theme::light;
  else bad += ", theme";
  std::string scale = s.scale == TimeScale::rows ? "rows" : "proportional";
  get_str(j, "scale", scale, bad);
  if (scale == "rows") s.scale = TimeScale::rows;
  else if (scale == "proportional") s.scale = TimeScale::proportional;
  else bad += ", scale";
  get_bool(j, "show_tcp", s.show_tcp, bad);
  get_bool(j, "show_dns", s.show_dns, bad);
  get_bool(j, "show_notes", s.show_notes, bad);
  get_bool(j, "show_states", s.show_states, bad);
  get(j, "row_height", s.row_height, 0.05f, 10.0f, bad);
  get(j, "px_per_second", s.px_per_second, 1e-9, 1e9, bad);
  get(j, "speed", s.speed, 0.1, 1000.0, bad);
  get(j, "layer_mask", s.layer_mask, 0u, ~0u, bad);
  get_str(j, "host_filter", s.host_filter, bad);
  get_str(j, "text_filter", s.text_filter, bad);
  if (auto w = j.find("panels"); w != j.end() && w->is_object()) {
    for (auto it = w->begin(); it != w->end() && s.panels.size() < 64; ++it) {
      if (it.value().is_boolean()) s.panels[it.key()] = it.value().get<bool>();
      else bad += ", panels/" + it.key();
    }
  }
  if (!bad.empty() && warning) *warning = "ignored bad values for: " + bad;
  return true;
}

bool load_settings(const std::string& path, ViewSettings& s, std::string* warning) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::is_regular_file(path, ec)) return false;
  if (std::filesystem::file_size(path, ec) > 1 << 20) {
    if (warning) *warning = path + ": larger than 1 MiB; using default settings";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string w;
  bool ok = settings_from_json(ss.str(), s, &w);
  if (!w.empty() && warning) *warning = path + ": " + w;
  return ok;
}

bool save_settings(const std::string& path, const ViewSettings& s, std::string* error) {
  if (path.empty()) return false;
  std::error_code ec;
  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      if (error) *error = "cannot write " + tmp;
      return false;
    }
    out << settings_to_json(s);
    if (!out) {
      if (error) *error = "cannot write " + tmp;
      return false;
    }
  }
  std::filesystem::rename(tmp, path, ec);  // atomic: never a half-written file
  if (ec) {
    if (error) *error = "cannot replace " + path + ": " + ec.message();
    return false;
  }
  return true;
}

}  // namespace smtplab::gui
