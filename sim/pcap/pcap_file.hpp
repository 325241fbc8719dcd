// sim/pcap/pcap_file.hpp: packets (sim/capture) into a pcap file through libpcap.
//
// A library of its own (smtplab_pcap), as sim/bridge is: smtplab_sim links
// no I/O library; the CLI (`run --pcap`) and the GUI (export) link this.
//
// The file's link type is LINKTYPE_RAW (each packet an IPv4 datagram, no
// Ethernet header); a packet's timestamp is its simulated time from the
// simulator's epoch (Mon, 23 Nov 2026 09:00:00 UTC, as the Date: headers),
// to the microsecond.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "sim/capture/packets.hpp"

namespace smtplab {

class PcapFile {
 public:
  PcapFile() = default;
  ~PcapFile();
  PcapFile(const PcapFile&) = delete;
  PcapFile& operator=(const PcapFile&) = delete;

  // Creates (or truncates) `path`; false with `error` set when it cannot.
  bool open(const std::string& path, std::string& error);
  void write(const Packet& p);
  // Flushes and closes; false with `error` set when writing failed.
  bool close(std::string& error);
  size_t written() const { return written_; }

 private:
  void* pcap_ = nullptr;    // pcap_t*
  void* dumper_ = nullptr;  // pcap_dumper_t*
  size_t written_ = 0;
  std::string path_;
};

// Every packet into a new file at `path`; false with `error` set when the
// file cannot be made or written.
bool write_pcap(const std::string& path, std::span<const Packet> packets, std::string& error);

}  // namespace smtplab
