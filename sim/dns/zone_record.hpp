// sim/dns/zone_record.hpp: one resource record in zone-file text form.
//
// Teachers write records the way the trace prints them (RFC 1035 5.1 master
// file syntax, a subset): "yahoo.test. 3600 IN MX 10 mx.yahoo.test.".
// TTL and class are optional (default TTL 3600, class IN). Supported types:
// A, MX, CNAME. Names are stored lower-case and fully qualified with the
// trailing dot; a null MX (RFC 7505) has preference 0 and target ".".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smtplab {

enum class RrType : uint16_t { A = 1, CNAME = 5, MX = 15 };

struct ZoneRecord {
  std::string name;  // "yahoo.test."
  uint32_t ttl = 3600;
  RrType type = RrType::A;
  uint16_t preference = 0;  // MX
  std::string target;       // MX exchange or CNAME target, fully qualified
  std::string address;      // A: dotted quad

  // "yahoo.test. 3600 IN MX 10 mx.yahoo.test."
  std::string to_text() const;
};

std::string_view rr_type_name(RrType t);

// Makes "Yahoo.Test" into "yahoo.test." (lower case, trailing dot).
std::string fqdn(std::string_view name);
// Appends fqdn(name) to `out`: no temporary, so a reused string allocates nothing.
void append_fqdn(std::string& out, std::string_view name);
// fq == fqdn(name), for `fq` already fully qualified, without building fqdn(name).
bool is_fqdn_of(std::string_view fq, std::string_view name);

// Parses one record. `origin` completes relative names ("mx" in zone
// "yahoo.test." is "mx.yahoo.test."; "@" is the origin itself).
std::optional<ZoneRecord> parse_zone_record(std::string_view text, std::string_view origin, std::string* error);

bool is_valid_ipv4(std::string_view s);
// A host name: labels of letters, digits and hyphens, dot-separated.
bool is_valid_hostname(std::string_view s);

}  // namespace smtplab
