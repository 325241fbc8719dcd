// sim/smtp/envelope.hpp: the SMTP envelope (RFC 5321 2.3.1) as plain data.
//
// What MAIL FROM and RCPT TO carry, with the ESMTP parameters that travel
// with them: SIZE (RFC 1870), BODY (RFC 6152), and the DSN parameters RET,
// ENVID, NOTIFY and ORCPT (RFC 3461). The server fills one per transaction
// and hands it to the host's policy with the message; the client sends one.
//
// Must never: depend on the trace, the engine or any transport.
// Invariants: addresses are stored without angle brackets and without any
// source route; the null reverse-path is the empty string.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace smtplab::smtp {

// RFC 3461 4.1: NOTIFY=NEVER or a comma list of SUCCESS, FAILURE, DELAY.
enum NotifyFlags : uint8_t {
  kNotifyUnset = 0,  // parameter absent: the MTA's default (failure, maybe delay)
  kNotifyNever = 1,
  kNotifySuccess = 2,
  kNotifyFailure = 4,
  kNotifyDelay = 8,
};

enum class DsnRet : uint8_t { unset, full, hdrs };        // RFC 3461 4.3
enum class BodyType : uint8_t { unset, seven_bit, eight_bit_mime };  // RFC 6152 / RFC 1652

struct Recipient {
  std::string address;  // "alice@yahoo.test" or "postmaster"; never empty
  uint8_t notify = kNotifyUnset;
  std::string orcpt;    // RFC 3461 4.2, as given: "rfc822;alice@yahoo.test" (xtext decoded)

  bool operator==(const Recipient&) const = default;
};

struct Envelope {
  std::string reverse_path;  // MAIL FROM mailbox; "" is the null reverse-path <> (bounces)
  std::vector<Recipient> recipients;
  int64_t size = -1;         // SIZE= declared by the client (RFC 1870), -1 when absent
  BodyType body = BodyType::unset;
  DsnRet ret = DsnRet::unset;
  std::string envid;         // RFC 3461 4.4 (xtext decoded)
  std::string auth;          // RFC 4954 5: AUTH= parameter of MAIL, "" when absent

  bool null_sender() const { return reverse_path.empty(); }
  void clear() { *this = Envelope{}; }
  bool operator==(const Envelope&) const = default;
};

// "SUCCESS,FAILURE" / "NEVER" / "" for a notify set.
std::string notify_to_string(uint8_t notify);

}  // namespace smtplab::smtp
