// sim/mail/dsn.cpp: building and reading RFC 3464 delivery status notifications.
//
// Must never: produce a DSN that asks for a DSN (it goes out from <>, with
// Auto-Submitted: auto-replied, RFC 3834 5); crash on a malformed report.
#include "sim/mail/dsn.hpp"

#include <utility>

#include "sim/mail/mime.hpp"

namespace smtplab::mail {

namespace {

std::string one_line(std::string_view s) {
  // A multi-line SMTP reply becomes one field value (RFC 3464 2.3.6 allows folding; we join).
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\r') continue;
    if (c == '\n') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
      continue;
    }
    out.push_back(c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string strip_type(std::string_view v) {
  // "rfc822; a@b" -> "a@b", "dns; mx.test" -> "mx.test", "smtp; 550 ..." -> "550 ..."
  size_t semi = v.find(';');
  if (semi != std::string_view::npos) v.remove_prefix(semi + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  return std::string(v);
}

std::string headers_text(const Message& m) {
  std::string s;
  for (const Header& h : m.headers) s += fold_header(h.name, h.value);
  return s;
}

// The blank-line separated groups of a message/delivery-status body.
std::vector<std::vector<Header>> field_groups(std::string_view body) {
  std::vector<std::vector<Header>> groups;
  std::string current;
  auto flush = [&] {
    if (current.empty()) return;
    Message g = parse_message(current + "\r\n");
    if (!g.headers.empty()) groups.push_back(std::move(g.headers));
    current.clear();
  };
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t nl = body.find('\n', pos);
    size_t end = nl == std::string_view::npos ? body.size() : nl;
    std::string_view line = body.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) flush();
    else {
      current.append(line);
      current += "\r\n";
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  flush();
  return groups;
}

std::string field(const std::vector<Header>& g, std::string_view name) {
  for (const Header& h : g)
    if (iequals(h.name, name)) return h.value;
  return {};
}

}  // namespace

std::string_view dsn_action_name(DsnAction a) {
  switch (a) {
    case DsnAction::failed: return "failed";
    case DsnAction::delayed: return "delayed";
    case DsnAction::delivered: return "delivered";
    case DsnAction::relayed: return "relayed";
    case DsnAction::expanded: return "expanded";
  }
  return "failed";
}

std::string explain_status(std::string_view status) {
  // RFC 3463 3.x: class.subject.detail. Keep the list to what a student meets.
  struct Row {
    std::string_view code;  // subject.detail
    std::string_view text;
  };
  static constexpr Row kRows[] = {
      {"1.1", "the mailbox does not exist (bad destination mailbox address)"},
      {"1.2", "the destination domain does not exist or does not accept mail"},
      {"1.3", "the destination address is not a valid address"},
      {"1.0", "there is a problem with the address"},
      {"2.1", "the mailbox is disabled and not accepting messages"},
      {"2.2", "the mailbox is full"},
      {"2.3", "the message is larger than this mailbox accepts"},
      {"2.0", "there is a problem with the mailbox"},
      {"3.4", "the message is too big for the receiving system"},
      {"3.0", "the receiving mail system has a problem"},
      {"4.1", "the receiving server did not answer"},
      {"4.2", "the connection to the receiving server broke"},
      {"4.4", "no route to the destination could be found (DNS)"},
      {"4.6", "a mail loop was detected (too many Received: hops)"},
      {"4.7", "the message stayed in the queue too long and expired"},
      {"4.0", "there was a network or routing problem"},
      {"5.0", "the SMTP conversation failed"},
      {"5.5", "the SMTP conversation failed (protocol error)"},
      {"6.3", "the message needed a conversion (e.g. 8-bit to 7-bit) that was not allowed"},
      {"6.0", "there is a problem with the message content"},
      {"7.1", "delivery is not authorised: the server refused the message (e.g. relaying denied)"},
      {"7.0", "a security or policy rule refused the message"},
  };
  std::string_view s = status;
  size_t dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0) return "unknown status";
  std::string cls(s.substr(0, dot));
  std::string_view rest = s.substr(dot + 1);
  std::string prefix = cls == "2" ? "success: " : cls == "4" ? "temporary failure: " : cls == "5" ? "permanent failure: " : "";
  for (const Row& r : kRows)
    if (rest == r.code) return prefix + std::string(r.text);
  size_t dot2 = rest.find('.');
  std::string subject_generic = std::string(rest.substr(0, dot2)) + ".0";
  for (const Row& r : kRows)
    if (subject_generic == r.code) return prefix + std::string(r.text);
  return prefix + "other or undefined status";
}

Message build_dsn(const DsnSpec& spec) {
  bool any_failed = false;
  for (const DsnRecipient& r : spec.recipients) any_failed = any_failed || r.action == DsnAction::failed;

  Message m;
  m.add("Date", format_rfc5322_date(spec.now));
  m.add("From", "Mail Delivery System <MAILER-DAEMON@" + spec.reporting_mta + ">");
  m.add("To", spec.to.empty() ? std::string("undisclosed-recipients:;") : "<" + spec.to + ">");
  m.add("Subject", any_failed ? "Undelivered Mail Returned to Sender" : "Delayed Mail (still being retried)");
  m.add("Message-ID", make_message_id(spec.now, spec.sequence, spec.reporting_mta));
  m.add("Auto-Submitted", "auto-replied");  // RFC 3834 5: machines must not answer this
  m.add("MIME-Version", "1.0");
  std::string boundary = make_boundary(spec.reporting_mta + "|dsn|" + std::to_string(spec.sequence) + "|" +
                                       std::to_string(spec.now.us));
  m.add("Content-Type", "multipart/report; report-type=delivery-status; boundary=" + quote_param(boundary));

  // Part 1: for a person. Name the recipient, quote the server, say what it means.
  std::string human = "This is the mail system at host " + spec.reporting_mta + ".\n\n";
  if (any_failed)
    human += "I'm sorry to have to inform you that your message could not be delivered\n"
             "to one or more recipients. It is attached below (headers only).\n";
  else
    human += "Your message has not been delivered yet to one or more recipients.\n"
             "The mail system will keep trying; you do not need to send it again.\n";
  for (const DsnRecipient& r : spec.recipients) {
    std::string status = r.status.empty() ? (r.action == DsnAction::delayed ? "4.0.0" : "5.0.0") : r.status;
    human += "\n<" + r.recipient + ">: " + std::string(dsn_action_name(r.action)) + ", status " + status + "\n";
    human += "    Meaning: " + explain_status(status) + ".\n";
    if (!r.diagnostic.empty()) {
      human += "    The server " + (r.remote_mta.empty() ? std::string("we talked to") : r.remote_mta) + " said:\n";
      human += "        " + one_line(r.diagnostic) + "\n";
    } else if (!r.remote_mta.empty()) {
      human += "    Remote server: " + r.remote_mta + "\n";
    }
    if (!r.reason.empty()) human += "    What happened: " + r.reason + "\n";
    if (r.action == DsnAction::failed)
      human += "    This is permanent: the message will not be retried for this recipient.\n";
    if (r.action == DsnAction::delayed && r.will_retry_until)
      human += "    Will keep retrying until " + format_rfc5322_date(*r.will_retry_until) + ".\n";
  }
  PartSpec p1 = text_part(human, true);
  p1.headers.insert(p1.headers.begin(), Header{"Content-Description", "Notification"});

  // Part 2: RFC 3464 2.2 per-message fields, then 2.3 per-recipient fields.
  std::string ds = "Reporting-MTA: dns; " + spec.reporting_mta + "\r\n";
  if (!spec.original_envid.empty()) ds += "Original-Envelope-Id: " + spec.original_envid + "\r\n";
  ds += "Arrival-Date: " + format_rfc5322_date(spec.arrival) + "\r\n";
  for (const DsnRecipient& r : spec.recipients) {
    ds += "\r\n";
    if (!r.original.empty()) ds += "Original-Recipient: rfc822; " + r.original + "\r\n";
    ds += "Final-Recipient: rfc822; " + r.recipient + "\r\n";
    ds += "Action: " + std::string(dsn_action_name(r.action)) + "\r\n";
    ds += "Status: " + (r.status.empty() ? std::string(r.action == DsnAction::delayed ? "4.0.0" : "5.0.0") : r.status) + "\r\n";
    if (!r.remote_mta.empty()) ds += "Remote-MTA: dns; " + r.remote_mta + "\r\n";
    if (!r.diagnostic.empty()) ds += fold_header("Diagnostic-Code", "smtp; " + one_line(r.diagnostic));
    else if (!r.reason.empty()) ds += fold_header("Diagnostic-Code", "X-smtplab; " + one_line(r.reason));
    if (r.last_attempt) ds += "Last-Attempt-Date: " + format_rfc5322_date(*r.last_attempt) + "\r\n";
    if (r.will_retry_until) ds += "Will-Retry-Until: " + format_rfc5322_date(*r.will_retry_until) + "\r\n";
  }
  PartSpec p2;
  p2.headers.push_back(Header{"Content-Description", "Delivery report"});
  p2.headers.push_back(Header{"Content-Type", "message/delivery-status"});
  p2.body = ds;

  // Part 3: the original headers (RFC 6522 3: text/rfc822-headers when the body is not returned).
  PartSpec p3;
  p3.headers.push_back(Header{"Content-Description", "Undelivered Message Headers"});
  p3.headers.push_back(Header{"Content-Type", "text/rfc822-headers"});
  p3.body = spec.original ? headers_text(*spec.original) : std::string("\r\n");
  if (spec.original && needs_8bitmime(*spec.original))
    p3.headers.push_back(Header{"Content-Transfer-Encoding", "8bit"});

  m.body = multipart_body({p1, p2, p3}, boundary);
  return m;
}

bool is_dsn(const Message& m) {
  auto ct = m.get("Content-Type");
  if (!ct) return false;
  ContentType c = parse_content_type(*ct);
  return c.type == "multipart" && c.subtype == "report" && iequals(c.param("report-type"), "delivery-status");
}

std::optional<ParsedDsn> parse_dsn(const Message& m, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<ParsedDsn> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (!is_dsn(m)) return fail("not a multipart/report; report-type=delivery-status message");
  MimePart root = parse_mime(m);
  if (root.parts.size() < 2) return fail("a delivery report needs at least 2 parts, found " + std::to_string(root.parts.size()));
  ParsedDsn d;
  bool have_status = false;
  for (const MimePart& p : root.parts) {
    ContentType ct = p.content_type();
    if (ct.full() == "message/delivery-status" && !have_status) {
      have_status = true;
      auto groups = field_groups(p.decoded());
      if (groups.empty()) return fail("message/delivery-status part is empty");
      d.reporting_mta = strip_type(field(groups[0], "Reporting-MTA"));
      d.arrival_date = field(groups[0], "Arrival-Date");
      for (size_t i = 1; i < groups.size(); ++i) {
        ParsedDsn::Rcpt r;
        r.final_recipient = strip_type(field(groups[i], "Final-Recipient"));
        r.action = field(groups[i], "Action");
        r.status = field(groups[i], "Status");
        r.remote_mta = strip_type(field(groups[i], "Remote-MTA"));
        r.diagnostic = strip_type(field(groups[i], "Diagnostic-Code"));
        if (r.final_recipient.empty() || r.action.empty() || r.status.empty())
          return fail("recipient block " + std::to_string(i) + " lacks Final-Recipient, Action or Status (RFC 3464 2.3)");
        d.recipients.push_back(std::move(r));
      }
    } else if (ct.full() == "text/plain" && d.human_text.empty()) {
      d.human_text = p.decoded();
    } else if (ct.full() == "text/rfc822-headers" || ct.full() == "message/rfc822") {
      d.returned_headers = p.body;
    }
  }
  if (!have_status) return fail("no message/delivery-status part");
  if (d.reporting_mta.empty()) return fail("no Reporting-MTA field (RFC 3464 2.2.2)");
  if (d.recipients.empty()) return fail("no per-recipient fields");
  return d;
}

}  // namespace smtplab::mail
