// sim/faults/catalog.hpp: the vocabulary of faults, as data.
//
// One table says, for every fault type, what it does, which scenario keys it
// takes and which it requires. The scenario loader validates against it, the
// JSON Schema lists the same names, and the GUI's failure panel builds its
// controls from it. A fault fires as a scheduled event and leaves a
// fault-injected record (and fault-cleared when it has an "until").
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace smtplab {

enum class FaultTarget { host, mail_server, user_agent, link, domain };

struct FaultType {
  std::string_view name;
  std::string_view description;
  FaultTarget target;
  std::vector<std::string_view> required;  // besides "type" and "at"
  std::vector<std::string_view> optional;
};

std::span<const FaultType> fault_catalog();
const FaultType* find_fault_type(std::string_view name);

// The SMTP verbs a reply fault can hit; "EOD" is the end of data (the final ".").
std::span<const std::string_view> fault_verbs();

}  // namespace smtplab
