// sim/mail/mailbox.hpp: a stored mailbox (what POP3 and IMAP read).
//
// A mailbox is an ordered list of messages, each with a UID that is unique
// and strictly ascending within the mailbox (RFC 3501 2.3.1.1), a POP3
// unique-id (RFC 1939 7, UIDL) derived from it, and the flags both
// protocols share: \Seen and \Deleted (plus \Recent, which the first IMAP
// session to select the mailbox sees, then clears). Flags live here, not in
// a session, which is why \Seen set over IMAP on one device shows on another.
//
// Must never: renumber UIDs; reuse a UID after expunge; know about a protocol.
// Invariants: messages() is in ascending UID order; next_uid() > every UID.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/engine/time.hpp"

namespace smtplab::mail {

struct StoredMessage {
  uint32_t uid = 0;
  std::string data;         // the whole message, CR LF line endings, not dot-stuffed
  std::string return_path;  // envelope sender ("" for a bounce), for mbox From_ lines
  SimTime internal_date{0}; // when it was delivered (IMAP INTERNALDATE)
  bool seen = false;
  bool deleted = false;
  bool recent = true;
  std::string unique_id() const;  // POP3 UIDL: "<uidvalidity>.<uid>" style, printable 0x21-0x7E
  uint32_t uidvalidity = 1;
};

class Mailbox {
 public:
  explicit Mailbox(std::string address = {}, uint32_t uidvalidity = 1)
      : address_(std::move(address)), uidvalidity_(uidvalidity) {}

  const std::string& address() const { return address_; }
  uint32_t uidvalidity() const { return uidvalidity_; }
  uint32_t next_uid() const { return next_uid_; }

  // Stores a message (local delivery); returns its UID.
  uint32_t append(std::string data, SimTime when, std::string return_path = {});

  const std::vector<StoredMessage>& messages() const { return messages_; }
  size_t count() const { return messages_.size(); }
  int64_t total_bytes() const;  // sum of data sizes (quota check)
  size_t unseen_count() const;

  StoredMessage* find(uint32_t uid);
  const StoredMessage* find(uint32_t uid) const;
  // Index (0-based) of a UID, or -1.
  long index_of(uint32_t uid) const;

  bool set_seen(uint32_t uid, bool seen = true);
  bool set_deleted(uint32_t uid, bool deleted = true);
  // Removes one message (POP3 UPDATE state). Returns false when absent.
  bool remove(uint32_t uid);
  // Removes every \Deleted message (IMAP EXPUNGE); returns the removed UIDs.
  std::vector<uint32_t> expunge();
  void clear_recent();

  // Lock for exclusive access (RFC 1939 8: the POP3 server locks the maildrop).
  bool try_lock() { if (locked_) return false; locked_ = true; return true; }
  void unlock() { locked_ = false; }
  bool locked() const { return locked_; }

 private:
  std::string address_;
  std::vector<StoredMessage> messages_;
  uint32_t uidvalidity_ = 1;
  uint32_t next_uid_ = 1;
  bool locked_ = false;
};

}  // namespace smtplab::mail
