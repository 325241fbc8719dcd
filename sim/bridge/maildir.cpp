// sim/bridge/maildir.cpp: Maildir delivery (tmp, fsync, rename into new).
#include "sim/bridge/maildir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace smtplab::bridge {

namespace {

const char kHex[] = "0123456789ABCDEF";

void append_escape(std::string& out, unsigned char c) {
  out += '%';
  out += kHex[c >> 4];
  out += kHex[c & 15];
}

bool make_dir(const std::string& path, std::string* error) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return true;
    if (error) *error = path + ": exists and is not a directory";
    return false;
  }
  if (error) *error = "cannot create " + path + ": " + std::strerror(errno);
  return false;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

std::string maildir_folder_name(std::string_view address) {
  std::string out;
  out.reserve(address.size());
  for (unsigned char c : address) {
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
    if (c <= 0x20 || c >= 0x7f || c == '/' || c == '%' || c == '\\')
      append_escape(out, c);
    else
      out += static_cast<char>(c);
  }
  if (out.empty()) return "%00";
  // "." and ".." (and any hidden-file name) must not reach the file system as is.
  if (out.front() == '.') out.replace(0, 1, "%2E");
  return out;
}

std::string maildir_unique_name(int64_t unix_seconds, int64_t usec, long pid, uint64_t counter, std::string_view host) {
  std::string h;
  for (char c : host) {
    if (c == '/')
      h += "\\057";
    else if (c == ':')
      h += "\\072";
    else
      h += c;
  }
  if (h.empty()) h = "localhost";
  return std::to_string(unix_seconds) + ".M" + std::to_string(usec) + "P" + std::to_string(pid) + "Q" +
         std::to_string(counter) + "." + h;
}

std::string maildir_message_text(std::string_view reverse_path, std::string_view recipient, std::string_view content) {
  std::string out;
  out.reserve(content.size() + reverse_path.size() + recipient.size() + 40);
  out += "Return-Path: <";
  out += reverse_path;
  out += ">\nDelivered-To: ";
  out += recipient;
  out += '\n';
  // CRLF -> LF. A bare CR or LF is kept as it is: the SMTP server decided
  // what to do with those (RFC 5321 2.3.8), the Maildir keeps its decision.
  for (size_t i = 0; i < content.size(); ++i) {
    if (content[i] == '\r' && i + 1 < content.size() && content[i + 1] == '\n') continue;
    out += content[i];
  }
  return out;
}

MaildirWriter::MaildirWriter(std::string root, std::string hostname, bool sync)
    : root_(std::move(root)), hostname_(std::move(hostname)), sync_(sync), pid_(static_cast<long>(::getpid())) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

bool MaildirWriter::prepare(std::string* error) {
  if (root_.empty()) {
    if (error) *error = "empty Maildir path";
    return false;
  }
  return make_dir(root_, error);
}

std::string MaildirWriter::deliver(std::string_view recipient, std::string_view reverse_path, std::string_view content,
                                   std::string* error) {
  return write(recipient, maildir_message_text(reverse_path, recipient, content), error);
}

std::string MaildirWriter::deliver_prepared(std::string_view recipient, std::string_view content_crlf,
                                            std::string* error) {
  std::string text;
  text.reserve(content_crlf.size());
  for (size_t i = 0; i < content_crlf.size(); ++i) {
    if (content_crlf[i] == '\r' && i + 1 < content_crlf.size() && content_crlf[i + 1] == '\n') continue;
    text += content_crlf[i];
  }
  return write(recipient, text, error);
}

std::string MaildirWriter::write(std::string_view recipient, const std::string& text, std::string* error) {
  const std::string box = root_ + "/" + maildir_folder_name(recipient);
  for (const std::string& d : {box, box + "/tmp", box + "/new", box + "/cur"})
    if (!make_dir(d, error)) return {};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  const std::string name = maildir_unique_name(us / 1000000, us % 1000000, pid_, ++counter_, hostname_);
  const std::string tmp = box + "/tmp/" + name;
  const std::string dst = box + "/new/" + name;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (error) *error = "cannot create " + tmp + ": " + std::strerror(errno);
    return {};
  }
  bool ok = write_all(fd, text);
  if (ok && sync_) ok = ::fsync(fd) == 0;
  const int saved = errno;
  if (::close(fd) != 0) ok = false;
  if (!ok) {
    if (error) *error = "cannot write " + tmp + ": " + std::strerror(saved ? saved : errno);
    ::unlink(tmp.c_str());
    return {};
  }
  if (::rename(tmp.c_str(), dst.c_str()) != 0) {
    if (error) *error = "cannot move " + tmp + " into new/: " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return {};
  }
  return dst;
}

}  // namespace smtplab::bridge
