// sim/mail/export.cpp: Maildir, mbox and .eml writers.
//
// Must never: write outside the given directory/file; produce names that
// depend on anything but the mailbox contents (deterministic exports).
#include "sim/mail/export.hpp"

#include <filesystem>
#include <fstream>

#include "sim/mail/message.hpp"

namespace smtplab::mail {

namespace fs = std::filesystem;

namespace {

std::string write_file(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return "cannot open " + path.string() + " for writing";
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return "cannot write " + path.string();
  return {};
}

// CR LF -> LF: the local convention of Maildir and mbox files on Unix.
std::string to_lf(std::string_view crlf) {
  std::string out;
  out.reserve(crlf.size());
  for (size_t i = 0; i < crlf.size(); ++i) {
    if (crlf[i] == '\r' && i + 1 < crlf.size() && crlf[i + 1] == '\n') continue;
    out.push_back(crlf[i]);
  }
  return out;
}

}  // namespace

std::string safe_name(std::string_view address) {
  std::string s;
  for (char c : address) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '@' || c == '.' ||
              c == '_' || c == '+' || c == '-';
    s.push_back(ok ? c : '_');
  }
  // "." and ".." (or an empty name) would escape or alias the parent directory.
  if (s.empty() || s.find_first_not_of('.') == std::string::npos) s = "_" + s;
  return s;
}

std::string maildir_filename(const StoredMessage& m) {
  // Maildir convention: time.unique.host; ours is unique by UID and fixed by the content.
  std::string name = std::to_string(unix_seconds(m.internal_date)) + ".S" + std::to_string(m.uidvalidity) + "_" +
                     std::to_string(m.uid) + ".smtplab";
  if (m.seen || m.deleted) {
    // Maildir "info" suffix ":2,<flags>", flags in ASCII order (S before T).
    name += ":2,";
    if (m.seen) name += "S";
    if (m.deleted) name += "T";
  }
  return name;
}

std::string write_maildir(const std::string& dir, const Mailbox& box) {
  std::error_code ec;
  fs::path root = fs::path(dir) / safe_name(box.address());
  for (const char* sub : {"tmp", "new", "cur"}) {
    fs::create_directories(root / sub, ec);
    if (ec) return "cannot create " + (root / sub).string() + ": " + ec.message();
  }
  for (const StoredMessage& m : box.messages()) {
    // Unseen (never looked at) mail goes to new/; anything flagged goes to cur/.
    const char* sub = (m.seen || m.deleted) ? "cur" : "new";
    std::string err = write_file(root / sub / maildir_filename(m), to_lf(m.data));
    if (!err.empty()) return err;
  }
  return {};
}

std::string mbox_quote(std::string_view message_crlf) {
  std::string lf = to_lf(message_crlf);
  std::string out;
  out.reserve(lf.size() + 16);
  size_t pos = 0;
  while (pos < lf.size()) {
    size_t nl = lf.find('\n', pos);
    size_t end = nl == std::string::npos ? lf.size() : nl;
    std::string_view line(lf.data() + pos, end - pos);
    // mboxrd: a line matching ^>*From  gets one more '>' (reversible, unlike mboxo).
    size_t k = 0;
    while (k < line.size() && line[k] == '>') ++k;
    if (line.substr(k).starts_with("From ")) out.push_back('>');
    out.append(line);
    out.push_back('\n');
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return out;
}

std::string mbox_unquote(std::string_view message_lf) {
  std::string out;
  size_t pos = 0;
  while (pos < message_lf.size()) {
    size_t nl = message_lf.find('\n', pos);
    size_t end = nl == std::string_view::npos ? message_lf.size() : nl;
    std::string_view line = message_lf.substr(pos, end - pos);
    size_t k = 0;
    while (k < line.size() && line[k] == '>') ++k;
    if (k > 0 && line.substr(k).starts_with("From ")) line.remove_prefix(1);
    out.append(line);
    if (nl != std::string_view::npos) out.push_back('\n');
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return out;
}

std::string to_mbox(const Mailbox& box) {
  std::string out;
  for (const StoredMessage& m : box.messages()) {
    std::string sender = m.return_path.empty() ? std::string("MAILER-DAEMON") : m.return_path;
    out += "From " + sender + " " + format_ctime(m.internal_date) + "\n";
    out += mbox_quote(m.data);
    out += "\n";  // a blank line separates messages
  }
  return out;
}

std::string write_mbox(const std::string& path, const Mailbox& box) {
  fs::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  return write_file(p, to_mbox(box));
}

std::string write_eml(const std::string& path, std::string_view message_data) {
  fs::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  return write_file(p, message_data);
}

std::string write_eml(const std::string& path, const StoredMessage& m) { return write_eml(path, std::string_view(m.data)); }

}  // namespace smtplab::mail
