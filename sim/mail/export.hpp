// sim/mail/export.hpp: write mailboxes in formats real mail tools read.
//
//   Maildir: DIR/<address>/{tmp,new,cur}; unseen messages in new/, seen ones
//            in cur/ with the ":2,S" info suffix (plus T for \Deleted). File
//            names are deterministic ("<unix time>.S<uid>.smtplab") so two
//            runs of the same scenario write identical trees.
//   mbox:    "From <sender> <ctime>" lines, body lines starting with "From "
//            (after any '>') quoted with one more '>' (mboxrd), LF endings.
//   .eml:    one message, CR LF endings as on the wire (RFC 5322).
// Read back by Python's mailbox and email modules in the tests.
//
// Must never: write outside the directory or file it is given (addresses
// are sanitised into safe directory names).
#pragma once

#include <string>
#include <string_view>

#include "sim/mail/mailbox.hpp"

namespace smtplab::mail {

// Returns "" on success, else a message naming the file that failed.
std::string write_maildir(const std::string& dir, const Mailbox& box);
std::string maildir_filename(const StoredMessage& m);
// A directory name for an address: keeps [A-Za-z0-9@._+-], replaces the rest with '_'.
std::string safe_name(std::string_view address);

std::string to_mbox(const Mailbox& box);
std::string write_mbox(const std::string& path, const Mailbox& box);
// mboxrd From_ quoting of one message body (LF endings), and its inverse.
std::string mbox_quote(std::string_view message_crlf);
std::string mbox_unquote(std::string_view message_lf);

std::string write_eml(const std::string& path, const StoredMessage& m);
std::string write_eml(const std::string& path, std::string_view message_data);

}  // namespace smtplab::mail
