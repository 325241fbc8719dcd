// sim/bridge/maildir.hpp: writes delivered messages as Maildir files, so a
// real mail reader (mutt -f, a test script) can open what `smtplab serve`
// delivered.
//
// Layout: ROOT/<address>/{tmp,new,cur}/<unique>. A message is written to
// tmp/, flushed to disk, then renamed into new/ (the Maildir protocol: a
// reader never sees a half-written file). Unique names follow the classic
// "<seconds>.M<usec>P<pid>Q<counter>.<host>" form.
//
// Must never: write outside ROOT, whatever the address contains. Address
// local parts may legally hold '/', "..", control bytes or quotes (RFC 5321
// 4.1.2 quoted strings), so the folder name is an escaped form of the address.
// Invariants: folder names are lower-case, never empty, never "." or "..",
// and contain no '/' and no byte outside printable ASCII.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace smtplab::bridge {

// The folder name for a mailbox address: lower-cased; '/', '%', control and
// non-ASCII bytes become %XX; a leading '.' becomes %2E.
std::string maildir_folder_name(std::string_view address);

// "<seconds>.M<usec>P<pid>Q<counter>.<host>" with the host's '/' and ':'
// escaped as the Maildir convention asks (\057 and \072).
std::string maildir_unique_name(int64_t unix_seconds, int64_t usec, long pid, uint64_t counter, std::string_view host);

// Message text for a Maildir file: lines end with LF (the Maildir convention),
// a Return-Path and a Delivered-To header come first (RFC 5321 4.4: the final
// delivery MTA records the reverse-path in Return-Path).
std::string maildir_message_text(std::string_view reverse_path, std::string_view recipient, std::string_view content);

class MaildirWriter {
 public:
  // `sync`: fsync the file before renaming it into new/ (the durability the
  // Maildir protocol expects; off only for benchmarks that measure the wire).
  MaildirWriter(std::string root, std::string hostname, bool sync = true);

  // Creates ROOT itself; false (and `error`) when it cannot.
  bool prepare(std::string* error);

  // Writes one message for `recipient`; returns the path of the file in new/,
  // or "" with `error` set.
  std::string deliver(std::string_view recipient, std::string_view reverse_path, std::string_view content,
                      std::string* error);

  // Writes a message that already carries its delivery headers (the world's
  // local delivery adds Return-Path and Delivered-To): only CRLF -> LF.
  std::string deliver_prepared(std::string_view recipient, std::string_view content_crlf, std::string* error);

  uint64_t delivered() const { return counter_; }
  const std::string& root() const { return root_; }

 private:
  std::string write(std::string_view recipient, const std::string& text, std::string* error);

  std::string root_;
  std::string hostname_;
  bool sync_;
  long pid_;
  uint64_t counter_ = 0;
};

}  // namespace smtplab::bridge
