// sim/agents/world.hpp: the simulated world built from a scenario.
//
// The world owns the hosts (user agents, mail servers, DNS routing), the
// network between them and the scheduled faults, all driven by one engine
// and reporting to one trace. It is built, started, run by the engine, and
// finished; nothing outside reaches into it while it runs, except a bridge
// (below) that feeds real bytes into one server's sessions.
//
// Faults (sim/faults/catalog.hpp) fire at their time with a fault-injected
// record that becomes the cause of what the fault does (host-down, link-
// changed...), and end at `until` with fault-cleared:
//   host-down/up, link-down/up, link-loss   -> the network (sim/net)
//   dns-failure                             -> MX routing answers nxdomain/servfail/timeout
//   smtp-reply/-delay/-disconnect/-shutdown,
//   drop-final-reply                        -> the server's SMTP fault hooks
//   mailbox-full, greylisting               -> the server's policy
//   no-dot-stuffing, bare-lf                -> the host's SMTP client
//
// For the bridge (sim/bridge, `smtplab serve`): mail_server(host) returns the
// simulated server of that host. Build a real-socket session with
//   smtp::ServerSession session(server->mx_config(), *server, info);
// (MailServer is the smtp::ServerPolicy): messages it accepts enter that
// host's queue and are delivered or relayed by the simulation. Call into the
// world only from the thread that runs the engine (e.g. between pacer steps).
//
// Must never: read a wall clock, draw randomness outside named streams, or
// keep observable state that is not also on the trace.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "sim/engine/engine.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab {

class Network;
namespace agents {
class MailServer;
class UserAgent;
class DirectoryMx;
class DnsMx;
class MxLookup;
class ConnRegistry;
struct Services;
}  // namespace agents

class World {
 public:
  World(const Scenario& scenario, Engine& engine, Trace& trace);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // Emits run-start, builds the network and the hosts, and schedules
  // everything the scenario asks for.
  void start();
  // Emits run-end (call after the engine has run).
  void finish();

  const Scenario& scenario() const { return scenario_; }

  // The mail server on this host, or nullptr.
  agents::MailServer* mail_server(std::string_view host);
  const std::vector<std::unique_ptr<agents::MailServer>>& mail_servers() const { return servers_; }
  agents::UserAgent* user_agent(std::string_view host);
  Network& network() { return *net_; }

 private:
  void build();
  void schedule_faults();
  void schedule_messages();
  void apply_fault(size_t index, bool on, uint64_t cause);

  Scenario scenario_;
  Engine& engine_;
  Trace& trace_;
  uint64_t next_queue_number_ = 1;
  uint64_t next_message_number_ = 1;
  std::unique_ptr<Network> net_;
  std::unique_ptr<agents::DirectoryMx> directory_;  // routing when the scenario has no DNS server
  std::unique_ptr<agents::DnsMx> dns_;              // routing through sim/dns otherwise
  std::unique_ptr<agents::Services> services_;
  std::vector<std::unique_ptr<agents::MailServer>> servers_;
  std::vector<std::unique_ptr<agents::UserAgent>> uas_;
  std::vector<double> saved_loss_;               // link-loss faults: loss before, to restore
  std::vector<uint64_t> fault_handles_;          // smtp-* faults: handle in ServerFaults
  std::unique_ptr<agents::ConnRegistry> conns_;  // last: connections die before the hosts they use
};

}  // namespace smtplab
