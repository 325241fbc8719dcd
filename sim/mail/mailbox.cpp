// sim/mail/mailbox.cpp: the stored mailbox shared by POP3 and IMAP sessions.
//
// Must never: reuse or reorder UIDs (RFC 3501 2.3.1.1: strictly ascending).
#include "sim/mail/mailbox.hpp"

#include <algorithm>

namespace smtplab::mail {

std::string StoredMessage::unique_id() const {
  // RFC 1939 7: 1 to 70 characters in 0x21..0x7E, never reused for another
  // message: UIDVALIDITY plus UID gives exactly that.
  return std::to_string(uidvalidity) + "." + std::to_string(uid);
}

uint32_t Mailbox::append(std::string data, SimTime when, std::string return_path) {
  StoredMessage m;
  m.uid = next_uid_++;
  m.uidvalidity = uidvalidity_;
  m.data = std::move(data);
  m.return_path = std::move(return_path);
  m.internal_date = when;
  messages_.push_back(std::move(m));
  return messages_.back().uid;
}

int64_t Mailbox::total_bytes() const {
  int64_t n = 0;
  for (const StoredMessage& m : messages_) n += static_cast<int64_t>(m.data.size());
  return n;
}

size_t Mailbox::unseen_count() const {
  return static_cast<size_t>(std::count_if(messages_.begin(), messages_.end(), [](const StoredMessage& m) { return !m.seen; }));
}

long Mailbox::index_of(uint32_t uid) const {
  // UIDs ascend, so a binary search finds the message.
  auto it = std::lower_bound(messages_.begin(), messages_.end(), uid,
                             [](const StoredMessage& m, uint32_t u) { return m.uid < u; });
  if (it == messages_.end() || it->uid != uid) return -1;
  return static_cast<long>(it - messages_.begin());
}

StoredMessage* Mailbox::find(uint32_t uid) {
  long i = index_of(uid);
  return i < 0 ? nullptr : &messages_[static_cast<size_t>(i)];
}

const StoredMessage* Mailbox::find(uint32_t uid) const {
  long i = index_of(uid);
  return i < 0 ? nullptr : &messages_[static_cast<size_t>(i)];
}

bool Mailbox::set_seen(uint32_t uid, bool seen) {
  StoredMessage* m = find(uid);
  if (!m) return false;
  m->seen = seen;
  return true;
}

bool Mailbox::set_deleted(uint32_t uid, bool deleted) {
  StoredMessage* m = find(uid);
  if (!m) return false;
  m->deleted = deleted;
  return true;
}

bool Mailbox::remove(uint32_t uid) {
  long i = index_of(uid);
  if (i < 0) return false;
  messages_.erase(messages_.begin() + i);
  return true;
}

std::vector<uint32_t> Mailbox::expunge() {
  std::vector<uint32_t> gone;
  for (const StoredMessage& m : messages_)
    if (m.deleted) gone.push_back(m.uid);
  std::erase_if(messages_, [](const StoredMessage& m) { return m.deleted; });
  return gone;
}

void Mailbox::clear_recent() {
  for (StoredMessage& m : messages_) m.recent = false;
}

}  // namespace smtplab::mail
